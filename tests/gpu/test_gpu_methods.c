/* test_gpu_methods.c — every CUDA method against the double reference
 * (harness/check/check.c: poisoned output, fresh seeded inputs, the bounds of
 * docs/correctness.md, selection validity for topk and mita).
 *
 *   test_gpu_methods            every method × variant × dtype × N ∈ {2^10,
 *                               2^12, 2^14} × d ∈ {64, 128} (× s_r ∈ {1, 2, 3}
 *                               for mita), full's partial tiles, the
 *                               selection's edges and mita's expert tile
 *                               edges (below), then the awkward shapes of
 *                               `attnbench check`
 *   test_gpu_methods --small    the partial tiles up to N = 1000, the expert
 *                               tile edges up to N = 6000 in bf16 and the
 *                               awkward shapes only (for compute-sanitizer)
 *   ... --methods topk,mita     only these methods (either form); METHOD:VARIANT
 *                               entries (full:flash_wgmma) only that variant
 *
 * First, without a device, the version full:flash picks by d, dtype and compute
 * capability (flash_attn_default_version); then exits 77 (skipped) where there
 * is no GPU. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gpu_test.h"
#include "measure/backend.h"
#include "check/check.h"
#include "attn/method_call.h"
#include "core/inputs.h"
#include "attn/reference.h"
#include "attn/registry.h"
#include "kernels/flash_attn.h"
#include "kernels/portable.h"
#include "kernels/softmax.h"

static int passed, failed;

static void report(const struct sweep_point *p, const struct check_result *r)
{
    printf("%-4s %-8s %-10s %-4s %-9s B=%d H=%d N=%-6" PRId64 " d=%-3d m=%-5" PRId64
           " k=%-5" PRId64 " s_r=%d err=%.2e%s%s\n",
           r->passed ? "ok" : "FAIL", p->method, p->variant[0] ? p->variant : "-",
           attn_dtype_name(p->problem.dtype), p->inputs[0] ? p->inputs : "iid", p->problem.B, p->problem.H, p->problem.N,
           p->problem.d, p->params.m, p->params.k, p->params.s_r, r->rel_error,
           r->passed ? "" : "  ", r->message);
    fflush(stdout);
    r->passed ? passed++ : failed++;
}

/* The point of method m's `variant` on `inputs` ("": iid) at `problem` with `params`. */
static struct sweep_point point_of(const struct attn_method *m, const char *variant,
                                   const char *inputs, struct attn_problem problem,
                                   struct attn_params params)
{
    struct sweep_point p = {0};
    snprintf(p.method, sizeof p.method, "%s", m->name);
    snprintf(p.variant, sizeof p.variant, "%s", variant);
    snprintf(p.inputs, sizeof p.inputs, "%s", inputs);
    p.uses = m->uses;
    p.problem = problem;
    p.params = params;
    return p;
}

/* Checks point p against the reference on b and reports it. */
static void check_and_report(struct sweep_point *p, struct backend *b)
{
    struct check_result r;
    check_point(p, b, &r);
    report(p, &r);
}

/* Full attention's tiles cut short: N = 1, 63, 65, 1000 and 4097 against the 64- and
 * 128-row query tiles and 32-, 64- and 128-key tiles of flash_attn.cu's versions, at d = 256
 * also N = 80, 81 and 160 against flash_wgmma_bn80's 80-key tiles and at d = 128 N = 176, 177
 * and 352 against flash_wgmma_bn176's (one whole tile, a last tile of one key, two tiles),
 * B = 2 and H = 3 (each head's rows and keys must stay in its own plane), fp16 and bf16,
 * d = 64, 128 and 256 (the wgmma versions but _ov), every variant. A variant the device or the
 * build cannot run (the wgmma versions off sm_90a, the others at d = 256) prints a line that
 * says so, counted neither way. */
static void check_full_partial_tiles(const struct attn_method *m, struct backend *b,
                                     uint64_t seed, int small, const char *only)
{
    /* N, and the one d it is for (0: every d): bn80's lengths only at its d = 256, which only
     * the wgmma versions run, so that they cost no other variant a run; bn176's at d = 128. */
    static const struct {
        int64_t N;
        int d;
    } lengths[] = {{1, 0},     {63, 0},    {65, 0},    {80, 256},  {81, 256},  {160, 256},
                   {176, 128}, {177, 128}, {352, 128}, {1000, 0},  {4097, 0}};
    const enum attn_dtype dtypes[] = {ATTN_FP16, ATTN_BF16};
    for (const char *const *v = m->variants; v && *v; v++)
        for (int t = 0; t < 2 && gpu_test_listed(only, m->name, *v); t++)
            for (int d = 64; d <= 256; d *= 2)
                for (size_t i = 0; i < sizeof lengths / sizeof *lengths; i++) {
                    const int64_t N = lengths[i].N;
                    if ((small && N > 1000) || (lengths[i].d && lengths[i].d != d)) continue;
                    struct sweep_point p = point_of(
                        m, *v, "",
                        (struct attn_problem){2, 3, N, d, dtypes[t], ATTN_CUDA,
                                              seed + (uint64_t)N},
                        (struct attn_params){0});
                    struct attn_params a = {.variant = *v};
                    char why[256];
                    if (attn_method_validate(m, &p.problem, &a, why, sizeof why)) {
                        printf("skip %-8s %-10s %-4s d=%d: %s\n", m->name, *v,
                               attn_dtype_name(dtypes[t]), d, why);
                        break; /* the same reason at every N */
                    }
                    check_and_report(&p, b);
                }
}

/* The edges of topk_select.cu's one-pass selection and of the paths beside it, for topk and
 * mita (every variant), bf16: the longest key ranges a block's shared memory holds (16-row
 * blocks, topk's: 2432 keys at d = 64, 1408 at d = 128; 8-row blocks, mita's 64 landmarks at
 * H = 2: 4864 and 2816) and one key more (the chunked path), the longest its 16-warp blocks
 * hold (1280 keys at d = 64; 2560 in 8-row blocks) and one more (8 warps), k = 256 (the one
 * pass's largest)
 * and 257, k = N = 256 (every key selected: the register search's start), k = 300 and 600
 * over 4096 keys (topk's selection at two warpgroups, whose scratch leaves four no room); iid,
 * clustered (imbalanced routes, a landmark's keys from one cluster) and rising (every score
 * grows along the keys) inputs. --small keeps N <= 1024. */
static void check_selection_edges(const struct attn_method *m, struct backend *b, uint64_t seed,
                                  int small, const char *only)
{
    static const struct {
        int64_t N;
        int d;
        int64_t k;
    } edges[] = {{2432, 64, 64}, {2433, 64, 64}, {1408, 128, 64}, {1409, 128, 64},
                 {4864, 64, 64}, {4865, 64, 64}, {2816, 128, 64}, {2817, 128, 64},
                 {1280, 64, 64}, {1281, 64, 64}, {2560, 64, 64}, {2561, 64, 64},
                 {1024, 64, 256}, {1024, 64, 257}, {256, 64, 256},  {4096, 64, 300},
                 {4096, 128, 600}};
    static const enum attn_inputs kinds[] = {ATTN_INPUTS_IID, ATTN_INPUTS_CLUSTERED,
                                             ATTN_INPUTS_RISING};
    for (const char *const *v = m->variants; v && *v; v++)
        for (size_t i = 0; i < sizeof edges / sizeof *edges && gpu_test_listed(only, m->name, *v); i++)
            for (size_t j = 0; j < sizeof kinds / sizeof *kinds; j++) {
                if (small && edges[i].N > 1024) continue;
                if (!check_supports(m, *v, ATTN_BF16, edges[i].d)) continue;
                struct sweep_point p =
                    point_of(m, *v, inputs_kind_name(kinds[j]),
                             (struct attn_problem){1, 2, edges[i].N, edges[i].d, ATTN_BF16,
                                                   ATTN_CUDA, seed + (uint64_t)edges[i].N},
                             (struct attn_params){.m = 64, .k = edges[i].k, .s_r = 1});
                check_and_report(&p, b);
            }
}

/* mita's expert tiles of 128 entries (N past 32 entries an expert) at the edges of their
 * kernels (gathered_attention.cu): on an sm_90a device, attend_expert_runs holds a run's key
 * tiles in shared memory (m + k <= 256 at d = 64, <= 128 at d = 128; at d = 64 two tiles are
 * one 128-key step) where runs average 16 items (N >= 2048 m), and attend_expert_tiles_wgmma
 * gathers them for every item elsewhere. At N = 6000 (attend_expert_tiles_wgmma, and
 * attend_expert_runs at N >= 2048 m, the same shapes again): partial key tiles
 * (m = 100, k = 37: a pair, then a partial tile alone; m = 37, k = 100: a partial tile paired
 * with one of the other scale), a full run slot (m = k = 128 at d = 64), more tiles than a slot
 * (k = 200) with and without the shared block (s_r = 1, 2), one tile a run (s_r = 2, k = 50),
 * N not a multiple of the tiles; and many items a block (H = 16, N = 4096 and, in runs of ~20
 * items, N = 40960 at m = 16: the producers run whole runs ahead of the consumers).
 * And s_r = 2 by expert pairs (attend_pairs: N >= 64 m², the
 * shared block and both experts in a slot — d = 64, and d = 128 for route_only at k <= 64;
 * the partials elsewhere): the one-block sort (N = 4096, m = 8), the three-kernel sort with
 * partial key tiles (N = 20000, m = 16, k = 37), route_only, two experts of two tiles each
 * (k = 100: two 128-key steps at d = 64), and MiTA's own shape, m = k = 64 at N = 2^18 (2016
 * pair buckets). And the three-kernel sort over many experts: m = 3100 at N = 17000 (the
 * scatter's shared memory past 48 KB). bf16 and fp16, both d; --small (compute-sanitizer)
 * bf16 and N <= 6000 only. */
static void check_expert_tile_edges(const struct attn_method *m, struct backend *b, uint64_t seed,
                                    int small, const char *only)
{
    static const struct {
        int H;
        int64_t N, m, k;
        int s_r;
        const char *variant;
    } edges[] = {{2, 6000, 100, 37, 1, ""},  {2, 6000, 37, 100, 1, ""},
                 {2, 6000, 128, 128, 1, ""}, {2, 6000, 64, 200, 1, ""},
                 {2, 6000, 64, 200, 2, ""},  {2, 6000, 64, 50, 2, ""},
                 {16, 4096, 64, 64, 1, ""},  {2, 4096, 8, 64, 2, ""},
                 {2, 204800, 100, 37, 1, ""}, {2, 204800, 37, 100, 1, ""},
                 {2, 262144, 128, 128, 1, ""}, {16, 40960, 16, 64, 1, ""},
                 {2, 20000, 16, 37, 2, ""},  {2, 20000, 16, 64, 2, "route_only"},
                 {2, 20000, 16, 100, 2, "route_only"}, {1, 262144, 64, 64, 2, ""},
                 {1, 17000, 3100, 8, 1, "route_only"}};
    static const enum attn_dtype dtypes[] = {ATTN_BF16, ATTN_FP16};
    for (size_t i = 0; i < sizeof edges / sizeof *edges; i++)
        for (int t = 0; t < (small ? 1 : 2) && gpu_test_listed(only, m->name, edges[i].variant); t++)
            for (int d = 64; d <= 128 && !(small && edges[i].N > 6000); d += 64) {
                if (!check_supports(m, edges[i].variant, dtypes[t], d)) continue;
                struct sweep_point p = point_of(
                    m, edges[i].variant, "iid",
                    (struct attn_problem){1, edges[i].H, edges[i].N, d, dtypes[t], ATTN_CUDA, seed + i},
                    (struct attn_params){.m = edges[i].m, .k = edges[i].k, .s_r = edges[i].s_r});
                check_and_report(&p, b);
            }
}

/* The output passes over many tiles a block, at lengths whose query tiles outnumber by far
 * what the blocks keep in flight, so that their buffers of Q tiles wrap round many times, with
 * a last tile of 37 rows in each head: linear's (N = 130597: 2041 64-row tiles a head, ~6 a
 * block of the wave; N/512 = 255 is odd, so the sampled rows fall on every row position of a
 * tile) and agent's and nystrom's, N queries over m = 64 resident keys (kernels/softmax.cu,
 * the fused kernel's resident case), and agent's over m = 37, a key tile partly past its
 * keys (masked, read as zeros). Nyström's G V takes K̃ on the way where its windows allow
 * (softmax_attention_fused_windows): at B·H = 2, m = 16 and N = 2^18 + 37 each window of
 * 16386 or 16387 keys is cut in chunks that start and end inside key tiles (checked to take
 * that path); at B·H = 8, m = 64 and N = 2^16 + 37 it depends on the device's wave of blocks
 * (on 132 SMs landmarks(K) runs first). */
static void check_long_heads(const struct attn_method *m, struct backend *b, uint64_t seed,
                             int small, const char *only)
{
    static const struct {
        const char *method;
        int H;
        int64_t N, m;
        int windows; /* nystrom: 1 when G V must take K̃ on the way */
    } shapes[] = {{"linear", 1, 130597, 0, 0},
                  {"agent", 4, (1 << 16) + 37, 64, 0},
                  {"nystrom", 4, (1 << 16) + 37, 64, 0},
                  {"nystrom", 1, (1 << 18) + 37, 16, 1},
                  {"agent", 4, (1 << 16) + 37, 37, 0}};
    static const enum attn_dtype dtypes[] = {ATTN_BF16, ATTN_FP16};
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
        if (small || strcmp(m->name, shapes[i].method) != 0 ||
            !gpu_test_listed(only, m->name, NULL))
            continue;
        for (int t = 0; t < 2; t++)
            for (int d = 64; d <= 128; d += 64) {
                if (!check_supports(m, "", dtypes[t], d)) continue;
                if (shapes[i].windows) {
                    const int64_t mm = shapes[i].m;
                    const int got = softmax_attention_fused_windows_workspace_bytes(
                                        mm, shapes[i].N, mm, d, dtypes[t], ATTN_FP32,
                                        2 * shapes[i].H) > 0;
                    printf("%-4s nystrom B=2 H=%d N=%" PRId64 " m=%" PRId64
                           " d=%d %s: K̃ %s G V\n",
                           got ? "ok" : "FAIL", shapes[i].H, shapes[i].N, mm, d,
                           attn_dtype_name(dtypes[t]), got ? "on the way of" : "not on the way of");
                    got ? passed++ : failed++;
                }
                const struct attn_problem problem = {
                    2, shapes[i].H, shapes[i].N, d, dtypes[t], ATTN_CUDA, seed};
                struct sweep_point p =
                    point_of(m, "", "iid", problem, (struct attn_params){.m = shapes[i].m});
                check_and_report(&p, b);
            }
    }
}

/* The version `flash` runs, the fastest measured of each d (kernels/NOTES.md): on a compute
 * capability 9.0 device with the sm_90a image the wgmma ones by d, elsewhere mma.sync for
 * bf16/fp16 and the CUDA cores for fp32. A pure function of its arguments and the build. */
static void check_default_versions(void)
{
    char why[200];
    const int sm90a = flash_attn_version_runs_on("flash_wgmma", 90, why, sizeof why);
    /* Under ATTNBENCH_PORTABLE_KERNELS (the test gpu-methods-portable) no sm_90a version may
     * run, so that the methods below take the path of GPUs other than the H100/H200. */
    if (attn_portable_kernels_forced()) {
        printf("%-4s ATTNBENCH_PORTABLE_KERNELS=%s: flash_wgmma %s\n", sm90a ? "FAIL" : "ok",
               getenv("ATTNBENCH_PORTABLE_KERNELS"), sm90a ? "still runs" : why);
        sm90a ? failed++ : passed++;
    }
    const struct {
        int d, dtype, cc;
        const char *want;
    } cases[] = {{64, ATTN_BF16, 90, sm90a ? "flash_wgmma_ov" : "flash_w4"},
                 {128, ATTN_FP16, 90, sm90a ? "flash_wgmma_fa3" : "flash_w4"},
                 {256, ATTN_BF16, 90, sm90a ? "flash_wgmma_fa3" : NULL},
                 {64, ATTN_FP32, 90, "flash_simt"},
                 {64, ATTN_BF16, 80, "flash_w4"},
                 {256, ATTN_BF16, 80, NULL}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *got = flash_attn_default_version(cases[i].d, cases[i].dtype, cases[i].cc);
        const int ok = got && cases[i].want ? strcmp(got, cases[i].want) == 0 : got == cases[i].want;
        printf("%-4s default flash version d=%d %s cc=%d: %s (want %s)\n", ok ? "ok" : "FAIL",
               cases[i].d, attn_dtype_name(cases[i].dtype), cases[i].cc, got ? got : "none",
               cases[i].want ? cases[i].want : "none");
        ok ? passed++ : failed++;
    }
}

int main(int argc, char **argv)
{
    int small = 0;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--small") == 0) {
            small = 1;
        } else if (strcmp(argv[i], "--methods") == 0 && i + 1 < argc) {
            only = argv[++i];
        } else {
            fprintf(stderr, "usage: test_gpu_methods [--small] [--methods LIST]\n");
            return 2;
        }
    }
    small = small || gpu_test_sanitized();
    check_default_versions();
    struct device_info info;
    int exit_status;
    struct backend *b = gpu_test_open(&info, &exit_status);
    if (!b) return failed ? 1 : exit_status;
    const uint64_t seed = gpu_test_seed();
    const enum attn_dtype dtypes[] = {ATTN_FP32, ATTN_FP16, ATTN_BF16};
    const int dims[] = {64, 128};
    for (const struct attn_method *const *m = attn_method_all(); *m; m++) {
        /* gather is not attention: test_gather.c checks it. */
        if ((*m)->backend != ATTN_CUDA || !attn_reference_known((*m)->name) ||
            !gpu_test_listed(only, (*m)->name, NULL))
            continue;
        static const char *const no_variant[] = {"", NULL};
        const char *const *variants = (*m)->variants && (*m)->variants[0] ? (*m)->variants
                                                                           : no_variant;
        /* The sizes of the issue: N = 2^10, 2^12, 2^14 at m = k = 64; for methods with
         * routes, s_r = 1, 2 and 3 (mita's routing keeps lists of 1, 2 and 4). The
         * structured inputs (docs/inputs.md) at N = 2^12. */
        const int n_routes = (*m)->uses & ATTN_USES_S_R ? 3 : 1;
        for (const char *const *v = variants; *v && !small; v++)
            for (int t = 0; t < 3 && gpu_test_listed(only, (*m)->name, *v); t++)
                for (int di = 0; di < 2; di++)
                    for (int kind = 0; kind < ATTN_INPUTS_COUNT; kind++)
                    for (int64_t N = 1 << 10; N <= 1 << 14; N <<= 2)
                        for (int s_r = 1; s_r <= n_routes; s_r++) {
                        if (!check_supports(*m, *v, dtypes[t], dims[di])) continue;
                        if (kind != ATTN_INPUTS_IID && N != 1 << 12) continue;
                        struct sweep_point p = point_of(
                            *m, *v, inputs_kind_name((enum attn_inputs)kind),
                            (struct attn_problem){1, 2, N, dims[di], dtypes[t], ATTN_CUDA,
                                                  seed + (uint64_t)N},
                            (struct attn_params){.m = 64, .k = 64, .s_r = s_r});
                        check_and_report(&p, b);
                    }
        if (strcmp((*m)->name, "full") == 0) check_full_partial_tiles(*m, b, seed, small, only);
        if (strcmp((*m)->name, "topk") == 0 || strcmp((*m)->name, "mita") == 0)
            check_selection_edges(*m, b, seed, small, only);
        if (strcmp((*m)->name, "mita") == 0) check_expert_tile_edges(*m, b, seed, small, only);
        check_long_heads(*m, b, seed, small, only);
        /* The awkward shapes, every dtype, both head dimensions. */
        for (int di = 0; di < 2; di++) {
            struct sweep_point cases[64];
            int n = check_cases(*m, dtypes, 3, dims[di], cases, 64);
            for (int i = 0; i < n; i++) {
                if (!gpu_test_listed(only, cases[i].method, cases[i].variant)) continue;
                cases[i].problem.seed += seed;
                check_and_report(&cases[i], b);
            }
        }
    }
    b->shutdown(b);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
