/* test_mita_gather.c — MiTA with its gather as a step of its own
 * (params.gather names a gather version, attn/cuda/mita.c): under every
 * version of the list (attn/gathers.h; with --plugin, a plugin's too) the
 * output equals the fused MiTA's bit for bit, the selections too, and the
 * reference check passes (harness/check: poisoned output, the selection
 * valid, the output against the double reference with that selection).
 * Cases: fp32, fp16, bf16 × d ∈ {64, 128} × s_r ∈ {1, 2, 3} × shared and
 * route_only × both shared scales, N not a multiple of m, m·k > N.
 *
 * The graph MiTA replays (cuda_method.h): replayed on new inputs and captured again on other
 * tensors, the output stays a fresh state's, bit for bit.
 *
 * Profiled (CUPTI; skipped, saying why, where the counters cannot be read):
 * with vec16 the run has a step "gather" holding the gather kernel and a
 * gather_dram_bytes of its own; fused has neither (gather_dram_bytes 0).
 * top-k's kernels sit in its steps "select" and "attend".
 *
 * On the CPU (always): the CUDA MiTA's validate() names the known versions
 * for an unknown one (copy is not a gather), refuses m·k past int32 for a
 * version and not for fused; its workspace and byte model grow by K_E and
 * V_E.
 *
 *   test_mita_gather [--small] [--gathers LIST] [--plugin PATH]
 *     --small   the two smallest shapes only, not profiled (for
 *               compute-sanitizer)
 *     --gathers only these versions (comma-separated; the graph replay runs
 *               with fused): one sanitizer run split over processes
 *     --plugin  load a plugin of gather versions first (the example:
 *               build/attn/examples/libattn_gather_rows.so)
 *
 * Exits 77 (skipped) where there is no GPU, after the CPU checks. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gpu_test.h"
#include "attn/cuda/cuda_methods.h"
#include "attn/gathers.h"
#include "attn/method_call.h"
#include "attn/registry.h"
#include "check/check.h"
#include "measure/backend.h"
#include "measure/profile.h"

/* The shapes: B, H, N, m, k, s_r, shared scale. */
static const struct {
    int B, H;
    int64_t N, m, k;
    int s_r;
    enum attn_shared_scale scale;
} shapes[] = {
    {1, 2, 300, 7, 5, 1, ATTN_SHARED_OFFICIAL},    /* N % m != 0, k below a tile */
    {2, 1, 257, 32, 100, 2, ATTN_SHARED_PAPER},    /* m·k > N: rows repeat, s_r = 2 */
    {1, 2, 1000, 16, 64, 1, ATTN_SHARED_PAPER},    /* a whole key tile per expert */
    {1, 1, 1000, 24, 130, 3, ATTN_SHARED_OFFICIAL},/* s_r = 3, a partial third key tile */
    {1, 8, 4100, 64, 64, 2, ATTN_SHARED_OFFICIAL}, /* the suite's m, k, H; N % 64 != 0 */
    {1, 2, 4096, 8, 64, 2, ATTN_SHARED_OFFICIAL},  /* s_r = 2 by expert pairs (sm_90a, d = 64:
                                                      N = 64 m²), K_E and V_E of both experts */
};

/* validate() of the CUDA MiTA: NULL, or its message contains `needle`. */
static void expect_validate(const char *what, const struct attn_problem *p,
                            const struct attn_params *a, const char *needle)
{
    char why[512];
    const char *bad = attn_method_validate(&attn_cuda_mita, p, a, why, sizeof why);
    const int ok = needle ? bad && strstr(bad, needle) : !bad;
    gpu_test_verdict(ok, what, ok ? NULL : bad ? bad : "accepted");
}

static void check_on_cpu(void)
{
    const struct attn_problem p = {1, 8, 1 << 14, 64, ATTN_BF16, ATTN_CUDA, 1};
    struct attn_params a = {.m = 64, .k = 64, .s_r = 1};
    char known[512], what[200];
    expect_validate("mita gather=NULL", &p, &a, NULL);
    a.gather = "fused";
    expect_validate("mita gather=fused", &p, &a, NULL);
    for (const struct attn_gather_version *const *g = attn_gather_all(); *g; g++) {
        a.gather = (*g)->name;
        snprintf(what, sizeof what, "mita gather=%s", (*g)->name);
        expect_validate(what, &p, &a, NULL);
    }
    snprintf(what, sizeof what, "gather=bogus: no such gather version (known: %s)",
             attn_gather_names(known, sizeof known));
    a.gather = "bogus";
    expect_validate("mita gather=bogus lists the known versions", &p, &a, what);
    a.gather = "copy";
    expect_validate("mita gather=copy (not a gather)", &p, &a,
                    "gather=copy: no such gather version");

    /* m·k = 2^32 rows per head: past the gather kernels' int32, fine fused. */
    const struct attn_problem huge = {1, 1, (int64_t)1 << 30, 64, ATTN_BF16, ATTN_CUDA, 1};
    struct attn_params h = {.m = (int64_t)1 << 24, .k = 256, .s_r = 1, .gather = "fused"};
    expect_validate("mita m·k = 2^32 fused", &huge, &h, NULL);
    h.gather = "vec16";
    expect_validate("mita m·k = 2^32 gather=vec16", &huge, &h,
                    "gather=vec16: m·k=4294967296 rows per head, the gather kernels take at most");

    /* Every shape of the GPU part runs at all (fused and vec16 alike). */
    const enum attn_dtype dtypes[] = {ATTN_FP32, ATTN_FP16, ATTN_BF16};
    int runnable = 1;
    char why[512];
    for (int sh = 0; sh < (int)(sizeof shapes / sizeof *shapes); sh++)
        for (int t = 0; t < 3; t++)
            for (int d = 64; d <= 128; d += 64)
                for (const char *const *v = attn_cuda_mita.variants; *v; v++) {
                    const struct attn_problem q = {shapes[sh].B, shapes[sh].H, shapes[sh].N, d,
                                                   dtypes[t], ATTN_CUDA, 1};
                    const struct attn_params b = {.m = shapes[sh].m, .k = shapes[sh].k,
                                                  .s_r = shapes[sh].s_r, .variant = *v,
                                                  .shared_scale = shapes[sh].scale,
                                                  .gather = "vec16"};
                    const char *bad = attn_method_validate(&attn_cuda_mita, &q, &b, why,
                                                           sizeof why);
                    if (bad && runnable) {
                        runnable = 0;
                        snprintf(what, sizeof what, "shape %d, %s, d=%d, %s: %s", sh,
                                 attn_dtype_name(dtypes[t]), d, *v, bad);
                    }
                }
    gpu_test_verdict(runnable, "mita gather=vec16 accepts every shape of the GPU part",
                     runnable ? NULL : what);

    /* K_E and V_E in the workspace and in the byte model. */
    a.gather = "fused";
    const double fused_ws = (double)attn_method_workspace_bytes(&attn_cuda_mita, &p, &a);
    const double fused_bytes = attn_method_bytes(&attn_cuda_mita, &p, &a);
    a.gather = "vec16";
    const double rows = 8.0 * 64 * 64, row_bytes = 64 * 2;
    const double ws = (double)attn_method_workspace_bytes(&attn_cuda_mita, &p, &a);
    const double bytes = attn_method_bytes(&attn_cuda_mita, &p, &a);
    snprintf(what, sizeof what, "mita gather=vec16: workspace +%.0f bytes (K_E, V_E: %.0f)",
             ws - fused_ws, 2 * rows * row_bytes);
    gpu_test_verdict(ws >= fused_ws + 2 * rows * row_bytes &&
                         ws < fused_ws + 2 * rows * row_bytes + 4096,
                     what, NULL);
    snprintf(what, sizeof what,
             "mita gather=vec16: byte model +%.0f (6 m k d sizeof + 4 m k a head)",
             bytes - fused_bytes);
    gpu_test_verdict(bytes - fused_bytes == rows * (6 * row_bytes + 4), what, NULL);
}

/* Everything one run of MiTA on the GPU gives back. */
struct mita_output {
    void *o;                /* [B,H,N,d] in the dtype, host */
    int32_t *keys, *routes; /* the selection */
};

static void output_free(struct mita_output *out)
{
    free(out->o), free(out->keys), free(out->routes);
    memset(out, 0, sizeof *out);
}

/* One run of the CUDA MiTA at (p, a), its output and selection copied back.
 * 0, or -1 with a message. */
static int run_mita(struct backend *b, const struct attn_problem *p, const struct attn_params *a,
                    struct mita_output *out, char *why, size_t why_len)
{
    const struct attn_method *m = &attn_cuda_mita;
    const int64_t n = attn_tensor_elems(p), heads = (int64_t)p->B * p->H;
    const size_t bytes = (size_t)n * attn_dtype_size(p->dtype);
    void *dev[5] = {0}, *state = calloc(1, m->state_size);
    int rc = -1;
    out->o = malloc(bytes);
    out->keys = malloc((size_t)(heads * a->m * a->k) * sizeof(int32_t));
    out->routes = malloc((size_t)(heads * p->N * a->s_r) * sizeof(int32_t));
    for (int i = 0; i < 4; i++) dev[i] = b->alloc(bytes);
    dev[4] = b->alloc(attn_method_workspace_bytes(m, p, a));
    if (!state || !out->o || !out->keys || !out->routes || !dev[0] || !dev[1] || !dev[2] ||
        !dev[3] || !dev[4]) {
        snprintf(why, why_len, "out of memory");
        goto done;
    }
    for (int which = 0; which < 3; which++)
        if (b->fill_inputs(b, dev[which], p, ATTN_INPUTS_IID, which)) {
            snprintf(why, why_len, "filling the inputs failed");
            goto done;
        }
    if (b->poison(b, dev[3], bytes) || attn_method_setup(m, state, p, a, dev[4], why, why_len))
        goto done;
    const struct attn_tensors t = {dev[0], dev[1], dev[2], dev[3]};
    const int err = attn_method_run(m, state, &t, b->stream);
    if (err) {
        snprintf(why, why_len, "run returned %d", err);
        goto done;
    }
    struct attn_selection sel = {out->keys, out->routes};
    if (b->sync(b, why, why_len)) goto done;
    if (b->copy_to_host(b, out->o, dev[3], bytes) || attn_method_export_selection(m, state, &sel)) {
        snprintf(why, why_len, "copying the output back failed");
        goto done;
    }
    rc = 0;
done:
    attn_method_teardown(m, state);
    for (int i = 0; i < 5; i++)
        if (dev[i]) b->release(dev[i]);
    free(state);
    return rc;
}

/* `gather` against fused at one point: outputs and selections equal bit for
 * bit, and the reference check passes. */
static void check_on_gpu(struct backend *b, const char *gather, const char *variant,
                         enum attn_dtype dtype, int d, int s, uint64_t seed)
{
    char what[300], why[640] = "";
    const struct attn_problem p = {shapes[s].B, shapes[s].H, shapes[s].N, d, dtype, ATTN_CUDA,
                                   seed};
    struct attn_params a = {.m = shapes[s].m, .k = shapes[s].k, .s_r = shapes[s].s_r,
                            .variant = variant, .shared_scale = shapes[s].scale};
    snprintf(what, sizeof what,
             "%-9s %-10s %-4s d=%-3d B=%d H=%d N=%-4" PRId64 " m=%-2" PRId64 " k=%-3" PRId64
             " s_r=%d %s",
             gather, variant, attn_dtype_name(dtype), d, p.B, p.H, p.N, a.m, a.k, a.s_r,
             attn_shared_scale_name(a.shared_scale));
    if (!check_supports(&attn_cuda_mita, variant, dtype, d)) return;

    struct sweep_point pt = {0};
    snprintf(pt.method, sizeof pt.method, "mita");
    snprintf(pt.variant, sizeof pt.variant, "%s", variant);
    pt.uses = attn_cuda_mita.uses;
    pt.problem = p;
    pt.params = a;
    pt.params.variant = NULL;
    pt.params.gather = gather;
    struct check_result r;
    check_point(&pt, b, &r);
    if (!r.passed) {
        snprintf(why, sizeof why, "reference check: %.600s", r.message);
        gpu_test_verdict(0, what, why);
        return;
    }

    struct mita_output fused = {0}, gathered = {0};
    a.gather = "fused";
    int ok = run_mita(b, &p, &a, &fused, why, sizeof why) == 0;
    a.gather = gather;
    ok = ok && run_mita(b, &p, &a, &gathered, why, sizeof why) == 0;
    if (ok) {
        const int64_t n = attn_tensor_elems(&p), heads = (int64_t)p.B * p.H;
        const size_t elem = attn_dtype_size(dtype);
        int64_t differ = 0, first = -1;
        for (int64_t i = 0; i < n; i++)
            if (memcmp((const char *)fused.o + i * elem, (const char *)gathered.o + i * elem,
                       elem)) {
                if (first < 0) first = i;
                differ++;
            }
        const int same_keys = !memcmp(fused.keys, gathered.keys,
                                      (size_t)(heads * a.m * a.k) * sizeof(int32_t));
        const int same_routes = !memcmp(fused.routes, gathered.routes,
                                        (size_t)(heads * p.N * a.s_r) * sizeof(int32_t));
        ok = differ == 0 && same_keys && same_routes;
        if (!same_keys || !same_routes)
            snprintf(why, sizeof why, "the selection differs from fused's (%s)",
                     same_keys ? "routes" : "experts");
        else if (differ)
            snprintf(why, sizeof why,
                     "%" PRId64 " of %" PRId64 " output elements differ from fused's (the first: "
                     "element %" PRId64 ")",
                     differ, n, first);
    }
    output_free(&fused);
    output_free(&gathered);
    if (ok) snprintf(why, sizeof why, "err=%.2e", r.rel_error);
    gpu_test_verdict(ok, what, why);
}

/* MiTA replays its launches as a CUDA graph (attn/cuda/cuda_method.h, forward_graph): one
 * state run on tensors A (captured), on A refilled with other inputs (replayed), then on
 * other tensors B holding those inputs (captured again) gives, each time, bit for bit the
 * output of a fresh state on those inputs. */
static void check_graph_replay(struct backend *b, uint64_t seed)
{
    const struct attn_method *m = &attn_cuda_mita;
    struct attn_problem p = {1, 2, 1000, 64, ATTN_BF16, ATTN_CUDA, seed};
    const struct attn_params a = {.m = 16, .k = 32, .s_r = 2, .gather = "fused"};
    const size_t bytes = (size_t)attn_tensor_elems(&p) * attn_dtype_size(p.dtype);
    char why[640] = "";
    void *dev[9] = {0}, *state = calloc(1, m->state_size);
    unsigned char *got = malloc(bytes);
    struct mita_output fresh = {0};
    int ok = 0, set_up = 0;
    for (int i = 0; i < 8; i++) dev[i] = b->alloc(bytes);
    dev[8] = b->alloc(attn_method_workspace_bytes(m, &p, &a));
    int have = state && got;
    for (int i = 0; i < 9; i++) have = have && dev[i];
    if (!have) {
        snprintf(why, sizeof why, "out of memory");
        goto done;
    }
    const struct attn_tensors ta = {dev[0], dev[1], dev[2], dev[3]};
    const struct attn_tensors tb = {dev[4], dev[5], dev[6], dev[7]};
    if (attn_method_setup(m, state, &p, &a, dev[8], why, sizeof why)) goto done;
    set_up = 1;
    /* Three runs: A with the first inputs, A with the second, B with the second. */
    const struct attn_tensors *runs[] = {&ta, &ta, &tb};
    const uint64_t seeds[] = {seed, seed + 1, seed + 1};
    for (int r = 0; r < 3; r++) {
        struct attn_problem filled = p;
        filled.seed = seeds[r];
        void *const *q_k_v = runs[r] == &ta ? &dev[0] : &dev[4];
        for (int which = 0; which < 3; which++)
            if (b->fill_inputs(b, q_k_v[which], &filled, ATTN_INPUTS_IID, which)) {
                snprintf(why, sizeof why, "filling the inputs failed");
                goto done;
            }
        if (b->poison(b, runs[r]->o, bytes) || attn_method_run(m, state, runs[r], b->stream) ||
            b->sync(b, why, sizeof why)) {
            if (!why[0]) snprintf(why, sizeof why, "run %d failed", r + 1);
            goto done;
        }
        if (r == 0) continue;
        p.seed = seeds[r];
        if (b->copy_to_host(b, got, runs[r]->o, bytes) ||
            run_mita(b, &p, &a, &fresh, why, sizeof why)) {
            if (!why[0]) snprintf(why, sizeof why, "copying the output back failed");
            goto done;
        }
        if (memcmp(got, fresh.o, bytes)) {
            snprintf(why, sizeof why, "run %d (%s) differs from a fresh state's output", r + 1,
                     r == 1 ? "replayed on new inputs" : "captured again on other tensors");
            goto done;
        }
        output_free(&fresh);
    }
    ok = 1;
done:
    if (set_up) attn_method_teardown(m, state);
    for (int i = 0; i < 9; i++)
        if (dev[i]) b->release(dev[i]);
    free(state), free(got);
    output_free(&fresh);
    gpu_test_verdict(ok, "mita graph: replayed on new inputs, captured again on other tensors",
                     ok ? NULL : why);
}

/* The profiling pass of `attnbench run --profile` (measure/profile.h) on
 * one run of `m` at bf16 B=1 H=8 N=2^14 d=64 m=k=64 into *row; 0 when it
 * ran (row.has_counters says whether counters were read), else why. */
static int profile_one(struct backend *b, const struct attn_method *m, const char *gather,
                       struct result_row *row, char *why, size_t why_len)
{
    const struct attn_problem p = {1, 8, 1 << 14, 64, ATTN_BF16, ATTN_CUDA, 3};
    const struct attn_params a = {.m = 64, .k = 64, .s_r = 1, .gather = gather};
    const size_t bytes = (size_t)attn_tensor_elems(&p) * 2;
    const size_t ws = attn_method_workspace_bytes(m, &p, &a);
    void *dev[5] = {b->alloc(bytes), b->alloc(bytes), b->alloc(bytes), b->alloc(bytes),
                    b->alloc(ws ? ws : 1)};
    void *state = calloc(1, m->state_size ? m->state_size : 1);
    int ok = state && dev[0] && dev[1] && dev[2] && dev[3] && dev[4];
    for (int which = 0; ok && which < 3; which++)
        ok = !b->fill_inputs(b, dev[which], &p, ATTN_INPUTS_IID, which);
    ok = ok && !attn_method_setup(m, state, &p, &a, dev[4], why, why_len);
    if (ok) {
        const struct attn_tensors t = {dev[0], dev[1], dev[2], dev[3]};
        profile_point(b, m, state, &t, 4 * bytes + ws, row);
    } else if (!why[0]) {
        snprintf(why, why_len, "out of memory or filling failed");
    }
    attn_method_teardown(m, state);
    for (int i = 0; i < 5; i++)
        if (dev[i]) b->release(dev[i]);
    free(state);
    return ok ? 0 : -1;
}

/* MiTA profiled: the step "gather" and gather_dram_bytes with a gather
 * version, neither fused. */
static void check_profiled(struct backend *b, const char *gather)
{
    static struct result_row row;
    memset(&row, 0, sizeof row);
    char what[200], why[512] = "";
    snprintf(what, sizeof what, "profiled mita gather=%s N=16384", gather);
    int ok = !profile_one(b, &attn_cuda_mita, gather, &row, why, sizeof why);
    if (ok && !row.has_counters) {
        printf("skip %s: %s\n", what, row.profile_note);
        return;
    }
    int gather_launches = 0;
    for (int i = 0; ok && i < row.step_count; i++)
        if (!strcmp(row.steps[i].step, "gather")) gather_launches += row.steps[i].launches;
    const int fused = attn_gather_is_fused(gather);
    if (ok) {
        ok = fused ? gather_launches == 0 && row.gather_dram_bytes == 0
                   : gather_launches >= 1 && row.gather_dram_bytes > 0;
        snprintf(why, sizeof why, "step gather: %d launches, gather_dram_bytes %.0f (model %.0f)",
                 gather_launches, row.gather_dram_bytes,
                 8.0 * 64 * 64 * (4 * 64 * 2 + 4));
    }
    gpu_test_verdict(ok, what, why);
}

/* top-k profiled: its kernels filed under the steps "select" and "attend"
 * (attn/cuda/topk.c), none outside them. */
static void check_profiled_topk(struct backend *b)
{
    static struct result_row row;
    memset(&row, 0, sizeof row);
    char why[512] = "";
    const char *what = "profiled topk N=16384: steps select and attend";
    int ok = !profile_one(b, &attn_cuda_topk, NULL, &row, why, sizeof why);
    if (ok && !row.has_counters) {
        printf("skip %s: %s\n", what, row.profile_note);
        return;
    }
    int select = 0, attend = 0, other = 0;
    for (int i = 0; ok && i < row.step_count; i++) {
        const int n = row.steps[i].launches;
        if (!strcmp(row.steps[i].step, "select")) select += n;
        else if (!strcmp(row.steps[i].step, "attend")) attend += n;
        else other += n;
    }
    if (ok) {
        ok = select >= 1 && attend >= 1 && other == 0;
        snprintf(why, sizeof why, "launches: select %d, attend %d, elsewhere %d", select, attend,
                 other);
    }
    gpu_test_verdict(ok, what, why);
}

int main(int argc, char **argv)
{
    int small = 0;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        char why[1024];
        if (strcmp(argv[i], "--small") == 0) {
            small = 1;
        } else if (strcmp(argv[i], "--gathers") == 0 && i + 1 < argc) {
            only = argv[++i];
        } else if (strcmp(argv[i], "--plugin") == 0 && i + 1 < argc) {
            if (attn_plugin_load(argv[++i], why, sizeof why)) {
                printf("FAIL %s\n", why);
                return 1;
            }
        } else {
            fprintf(stderr, "usage: test_mita_gather [--small] [--gathers LIST] [--plugin PATH]\n");
            return 2;
        }
    }
    small = small || gpu_test_sanitized();
    check_on_cpu();
    const int cpu_failed = gpu_test_summary(" on the CPU");
    struct device_info info;
    int exit_status;
    struct backend *b = gpu_test_open(&info, &exit_status);
    if (!b) return cpu_failed ? 1 : exit_status;
    const uint64_t seed = gpu_test_seed();
    const enum attn_dtype dtypes[] = {ATTN_FP32, ATTN_FP16, ATTN_BF16};
    const int dims[] = {64, 128};
    const int n_shapes = small ? 2 : (int)(sizeof shapes / sizeof *shapes);
    if (!small) { /* CUPTI and compute-sanitizer do not share a process */
        check_profiled(b, "fused");
        check_profiled(b, "vec16");
        check_profiled_topk(b);
    }
    if (gpu_test_listed(only, "fused", NULL)) check_graph_replay(b, seed);
    for (const struct attn_gather_version *const *g = attn_gather_all(); *g; g++) {
        if (!gpu_test_listed(only, (*g)->name, NULL)) continue;
        for (const char *const *v = attn_cuda_mita.variants; *v; v++)
            for (int t = 0; t < 3; t++)
                for (int di = 0; di < 2; di++)
                    for (int s = 0; s < n_shapes; s++)
                        check_on_gpu(b, (*g)->name, *v, dtypes[t], dims[di], s,
                                     seed + (uint64_t)s);
    }
    b->shutdown(b);
    return gpu_test_summary("");
}
