/* test_verify_gpu.c — `run --verify` on the GPU: each point is measured as
 * `attnbench run --verify` measures it (measure_point, with its check of
 * the output, measure/verify.c), for every CUDA method that computes a
 * definition, every variant and dtype it runs, at sizes where only sampled
 * rows can be checked; every row must be `ok` and verified `ok` (or `oom`,
 * full:naive's N x N scores).
 *
 *   test_verify_gpu            N = 2^16 (B=1 H=4 d=64) and N = 2^16 + 77
 *                              (B=2 H=3 d=128), m = k = 64
 *   test_verify_gpu --large    N = 2^20, B=1 H=32 d=128 bf16: B·H·N·d = 2^32
 *                              elements, beyond 32-bit indexing; the
 *                              sub-quadratic methods only (minutes)
 *   ... --methods mita,linear  only these methods
 *
 * Exits 77 (skipped) where there is no GPU. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "gpu_test.h"
#include "attn/method_call.h"
#include "attn/registry.h"
#include "check/check.h"
#include "config.h" // HAVE_CUPTI: the kernels column
#include "measure/measure.h"

static int passed, failed;

/* Measures and verifies one point; an `ok` row verified `ok` passes, and
 * so does `oom` (the point does not fit: nothing to verify). */
static void measure_and_verify(struct sweep_point *pt, struct backend *b,
                               const struct device_info *info, const struct measure_options *mo)
{
    static struct result_row row; /* large for the stack */
    memset(&row, 0, sizeof row);
    measure_point(pt, b, info, mo, &row);
    /* Outside compute-sanitizer the kernels column is asked for too: every ok row names
     * what it launched (a build without CUPTI leaves it empty). */
    const int named = !mo->kernel_names || !HAVE_CUPTI || row.kernels[0];
    const int ok = (!strcmp(row.status, "ok") && !strcmp(row.verify, "ok") && named) ||
                   !strcmp(row.status, "oom");
    printf("%-4s %-8s %-10s %-4s B=%d H=%d N=%-8" PRId64 " d=%-3d %-14.14s verify %-5.40s "
           "error %.2e in %.1f s\n",
           ok ? "ok" : "FAIL", pt->method, pt->variant[0] ? pt->variant : "-",
           attn_dtype_name(pt->problem.dtype), pt->problem.B, pt->problem.H, pt->problem.N,
           pt->problem.d, row.status, row.verify[0] ? row.verify : "-", row.verify_error,
           row.verify_s);
    if (row.kernels[0]) printf("     kernels: %s\n", row.kernels);
    fflush(stdout);
    ok ? passed++ : failed++;
}

int main(int argc, char **argv)
{
    int large = 0;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--large") == 0) {
            large = 1;
        } else if (strcmp(argv[i], "--methods") == 0 && i + 1 < argc) {
            only = argv[++i];
        } else {
            fprintf(stderr, "usage: %s [--large] [--methods LIST]\n", argv[0]);
            return 2;
        }
    }
    struct device_info info;
    int exit_status;
    struct backend *b = gpu_test_open(&info, &exit_status);
    if (!b) return exit_status;
    printf("run --verify's check on %s\n", info.name);
    /* One warm-up and three samples: the check, not the times, is tested. */
    const struct measure_options mo = {
        .timing = timing_rules_for(ATTN_CUDA, 1, 3, 0, TIMING_MIN_SAMPLES, STATS_MAX_SAMPLES, 0,
                                   TIMING_EVENTS, 0),
        .verify = 1,
        .kernel_names = !gpu_test_sanitized(),
    };

    static const struct shape {
        int B, H;
        int64_t N;
        int d;
    } shapes[] = {{1, 4, 1 << 16, 64}, {2, 3, (1 << 16) + 77, 128}},
      sanitized_shapes[] = {{1, 4, 1 << 10, 64}, {2, 3, (1 << 10) + 77, 128}},
      large_shape = {1, 32, 1 << 20, 128};
    /* Under compute-sanitizer a kernel runs 10-100x slower (racecheck and initcheck did not
     * finish in 400 s at 2^12, nor racecheck in 280 s at 2^10 with every variant: 13 of 74
     * points): shapes 64x smaller, each method's first variant only, bf16 and fp32. What this
     * test checks is run --verify's logic; the kernels' own edges, every variant's, are
     * test_gpu_methods --small's. */
    const int small = gpu_test_sanitized();
    const enum attn_dtype dtypes[] = {ATTN_BF16, ATTN_FP16, ATTN_FP32};
    static const char *const default_only[] = {"", NULL};
    for (const struct attn_method *const *m = attn_method_all(); *m; m++) {
        const char *computes = attn_method_computes(*m);
        if ((*m)->backend != ATTN_CUDA || !computes || !gpu_test_listed(only, (*m)->name, NULL)) continue;
        /* The quadratic methods would take minutes a run at 2^20. */
        if (large && (!strcmp(computes, "full") || !strcmp(computes, "topk"))) continue;
        const char *const *variants = (*m)->variants ? (*m)->variants : default_only;
        for (const char *const *v = variants; *v && (v == variants || !small); v++)
            for (size_t s = 0; s < (large ? 1 : sizeof shapes / sizeof *shapes); s++)
                for (size_t t = 0; t < (large ? 1 : sizeof dtypes / sizeof *dtypes); t++) {
                    if (small && dtypes[t] == ATTN_FP16) continue;
                    const struct shape *shape = small ? &sanitized_shapes[s] : &shapes[s];
                    const int d = large ? large_shape.d : shape->d;
                    if (!check_supports(*m, *v, dtypes[t], d)) continue;
                    struct sweep_point pt = {0};
                    snprintf(pt.method, sizeof pt.method, "%s", (*m)->name);
                    snprintf(pt.variant, sizeof pt.variant, "%s", *v);
                    pt.uses = (*m)->uses;
                    pt.problem = large ? (struct attn_problem){large_shape.B, large_shape.H,
                                                               large_shape.N, d, dtypes[t],
                                                               ATTN_CUDA, 7}
                                       : (struct attn_problem){shape->B, shape->H,
                                                               shape->N, d, dtypes[t],
                                                               ATTN_CUDA, 7 + s};
                    pt.params = (struct attn_params){.m = 64, .k = 64, .s_r = 1};
                    measure_and_verify(&pt, b, &info, &mo);
                }
    }
    b->shutdown(b);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
