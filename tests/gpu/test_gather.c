/* test_gather.c — the `gather` method, every version (kernels/gather.cu),
 * against a gather on the CPU: bit-exact, since a gather only moves bytes.
 *
 * On the CPU (always): the list of versions (attn/gathers.h) starts with
 * the built-in ones, and the method's variants are its names then `copy`;
 * gather_expert_key draws k distinct keys in [0, N) per expert.
 * On the GPU: every version × dtype × d × awkward shape (k = 1, k = N, m = 1,
 * m·k > N, every key repeated, B·H > 1, tails of every block size), run
 * through the registry on the CUDA backend (harness/measure/backend.h) with fresh
 * seeded K and V; KE and VE are compared with K and V rows picked by the
 * exported indices (for `copy`: row r mod N), the indices with
 * gather_expert_key.
 *
 * With --plugin PATH a plugin's gather versions (the example:
 * build/attn/examples/libattn_gather_rows.so) are loaded first: on the GPU
 * they are checked as the built-in ones are, through the method's variants.
 *
 * Exits 77 (skipped) where there is no GPU, after the CPU checks. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gpu_test.h"
#include "measure/backend.h"
#include "attn/cuda/cuda_methods.h"
#include "attn/gathers.h"
#include "attn/method_call.h"
#include "kernels/gather.h"
#include "attn/registry.h"

/* The shapes: B, H, N, m, k. */
static const struct {
    int B, H;
    int64_t N, m, k;
} shapes[] = {
    {1, 2, 1000, 16, 1},      /* k = 1 */
    {1, 1, 1000, 1, 1000},    /* m = 1, k = N */
    {1, 2, 1000, 64, 100},    /* m·k > N: rows repeat across experts */
    {1, 1, 97, 97, 97},       /* every key gathered 97 times, odd N */
    {2, 3, 1000, 7, 333},     /* B·H = 6, m·k = 2331: a tail in every block size */
    {1, 8, 4096, 64, 64},     /* the suite's shape, small */
    {1, 2, 65536, 256, 257},  /* 65 sorted tiles a head, a 256-row tail */
};

/* The list, its names and the variants agree; every expert's keys
 * distinct, in range. */
static void check_on_cpu(void)
{
    char what[200];
    static const char *const names[] = {GATHER_BUILTIN_NAMES, NULL};
    const struct attn_gather_version *const *all = attn_gather_all();
    int count = 0, ok = attn_cuda_gather.variants == (const char *const *)attn_gather_variants;
    for (; ok && names[count]; count++)
        ok = all[count] == gather_builtin_versions[count] && names[count] &&
             strcmp(all[count]->name, names[count]) == 0 &&
             strcmp(attn_cuda_gather.variants[count], names[count]) == 0 &&
             attn_gather_find(names[count]) == all[count] && all[count]->launch &&
             all[count]->abi_version == ATTN_ABI_VERSION;
    /* Then the plugins' versions (--plugin), then copy. */
    int total = count;
    for (; ok && all[total]; total++)
        ok = attn_cuda_gather.variants[total] &&
             strcmp(attn_cuda_gather.variants[total], all[total]->name) == 0;
    ok = ok && count > 0 && !gather_builtin_versions[count] &&
         strcmp(attn_cuda_gather.variants[total], "copy") == 0 &&
         !attn_cuda_gather.variants[total + 1] && !attn_gather_find("copy") &&
         !attn_gather_find("fused") && !attn_gather_find("x");
    snprintf(what, sizeof what, "the %d built-in versions and %d of plugins are the list and "
             "the method's variants, then copy", count, total - count);
    gpu_test_verdict(ok, what, NULL);

    const int64_t more[][3] = {{1, 1, 1}, {2, 1, 2}, {1000, 1000, 1}, {1 << 20, 16, 1024},
                               {1 << 20, 1024, 1024}, {1 << 14, 1024, 1024}, {1024, 16, 1024}};
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes + sizeof more / sizeof *more; s++) {
        const size_t n_shapes = sizeof shapes / sizeof *shapes;
        const int64_t N = s < n_shapes ? shapes[s].N : more[s - n_shapes][0];
        const int64_t m = s < n_shapes ? shapes[s].m : more[s - n_shapes][1];
        const int64_t k = s < n_shapes ? shapes[s].k : more[s - n_shapes][2];
        unsigned char *seen = calloc((size_t)N, 1);
        int64_t bad = 0;
        /* Every expert of small shapes, a spread of them for large m. */
        const int64_t step = m > 64 ? m / 61 : 1;
        for (int64_t h = 0; h < 2 && seen; h++)
            for (int64_t j = 0; j < m; j += step) {
                for (int64_t t = 0; t < k; t++) {
                    int32_t key = gather_expert_key(7 + h, h, j, t, N, m, k);
                    if (key < 0 || key >= N || seen[key]) bad++;
                    else seen[key] = 1;
                }
                for (int64_t t = 0; t < k; t++) {
                    int32_t key = gather_expert_key(7 + h, h, j, t, N, m, k);
                    if (key >= 0 && key < N) seen[key] = 0;
                }
            }
        snprintf(what, sizeof what,
                 "gather_expert_key N=%" PRId64 " m=%" PRId64 " k=%" PRId64
                 ": distinct keys in [0, N)%s",
                 N, m, k, seen ? "" : " (out of memory)");
        gpu_test_verdict(seen && bad == 0, what, NULL);
        free(seen);
    }
}

/* One run of `variant` on shape s, checked; one verdict. */
static void check_on_gpu(struct backend *b, const char *variant, enum attn_dtype dtype, int d,
                         int s, uint64_t seed)
{
    char what[400], why[512] = "";
    const struct attn_problem p = {shapes[s].B, shapes[s].H, shapes[s].N, d, dtype, ATTN_CUDA,
                                   seed};
    const struct attn_params a = {.m = shapes[s].m, .k = shapes[s].k, .s_r = 1,
                                  .variant = variant};
    const struct attn_method *m = attn_method_find("gather", ATTN_CUDA);
    const int heads = p.B * p.H;
    const int64_t mk = a.m * a.k, n_in = (int64_t)heads * p.N * d, n_out = heads * mk * d;
    const size_t elem = attn_dtype_size(dtype), row = (size_t)d * elem;
    const int is_copy = strcmp(variant, "copy") == 0;
    snprintf(what, sizeof what,
             "%-8s %-4s d=%-3d B=%d H=%d N=%-5" PRId64 " m=%-4" PRId64 " k=%-4" PRId64, variant,
             attn_dtype_name(dtype), d, p.B, p.H, p.N, a.m, a.k);

    void *k_dev = NULL, *v_dev = NULL, *o_dev = NULL, *work = NULL, *state = NULL;
    void *k_host = malloc((size_t)n_in * elem), *v_host = malloc((size_t)n_in * elem);
    void *ke_host = malloc((size_t)n_out * elem), *ve_host = malloc((size_t)n_out * elem);
    int32_t *keys = malloc((size_t)heads * (size_t)mk * sizeof(int32_t));
    int ok = 0;
    const char *bad = m ? attn_method_validate(m, &p, &a, why, sizeof why) : "no method gather";
    if (bad) {
        snprintf(why, sizeof why, "validate: %s", bad);
        goto done;
    }
    k_dev = b->alloc((size_t)n_in * elem);
    v_dev = b->alloc((size_t)n_in * elem);
    o_dev = b->alloc((size_t)n_in * elem);
    work = b->alloc(attn_method_workspace_bytes(m, &p, &a));
    state = calloc(1, m->state_size);
    if (!k_host || !v_host || !ke_host || !ve_host || !keys || !k_dev || !v_dev || !o_dev ||
        !work || !state) {
        snprintf(why, sizeof why, "out of memory");
        goto done;
    }
    if (b->fill_inputs(b, k_dev, &p, ATTN_INPUTS_IID, 1) ||
        b->fill_inputs(b, v_dev, &p, ATTN_INPUTS_IID, 2) || b->sync(b, why, sizeof why)) {
        snprintf(why, sizeof why, "filling K and V failed");
        goto done;
    }
    if (attn_method_setup(m, state, &p, &a, work, why, sizeof why)) goto done;
    const struct attn_tensors t = {NULL, k_dev, v_dev, o_dev};
    int rc = attn_method_run(m, state, &t, b->stream);
    if (rc) {
        snprintf(why, sizeof why, "run returned %d", rc);
        goto done;
    }
    if (b->sync(b, why, sizeof why)) goto done;
    struct attn_selection sel = {keys, NULL};
    void *ke_dev, *ve_dev;
    attn_cuda_gather_outputs(&p, &a, work, &ke_dev, &ve_dev);
    if (attn_method_export_selection(m, state, &sel) ||
        b->copy_to_host(b, ke_host, ke_dev, (size_t)n_out * elem) ||
        b->copy_to_host(b, ve_host, ve_dev, (size_t)n_out * elem)) {
        snprintf(why, sizeof why, "copying the outputs back failed");
        goto done;
    }
    attn_random_fill_host(k_host, dtype, seed, 1, n_in);
    attn_random_fill_host(v_host, dtype, seed, 2, n_in);
    int64_t wrong = 0;
    for (int h = 0; h < heads; h++)
        for (int64_t r = 0; r < mk; r++) {
            const int64_t at = (int64_t)h * mk + r;
            const int32_t want = gather_expert_key(seed, h, r / a.k, r % a.k, p.N, a.m, a.k);
            if (keys[at] != want) {
                if (!wrong++)
                    snprintf(why, sizeof why, "head %d row %" PRId64 ": index %" PRId32
                             ", gather_expert_key says %" PRId32, h, r, keys[at], want);
                continue;
            }
            const int64_t src = (int64_t)h * p.N + (is_copy ? r % p.N : want);
            const char *kin = (const char *)k_host + (size_t)src * row;
            const char *vin = (const char *)v_host + (size_t)src * row;
            if (memcmp((const char *)ke_host + (size_t)at * row, kin, row) ||
                memcmp((const char *)ve_host + (size_t)at * row, vin, row)) {
                if (!wrong++)
                    snprintf(why, sizeof why, "head %d row %" PRId64 " (key %" PRId32
                             ") differs from the CPU's gather", h, r, want);
            }
        }
    ok = wrong == 0;
    if (wrong) {
        size_t used = strlen(why);
        snprintf(why + used, sizeof why - used, "; %" PRId64 " of %" PRId64 " rows wrong", wrong,
                 (int64_t)heads * mk);
    }
done:
    if (m) attn_method_teardown(m, state);
    void *dev[] = {k_dev, v_dev, o_dev, work};
    for (size_t i = 0; i < 4; i++)
        if (dev[i]) b->release(dev[i]);
    free(state);
    free(k_host), free(v_host), free(ke_host), free(ve_host), free(keys);
    if (!ok) {
        size_t used = strlen(what);
        snprintf(what + used, sizeof what - used, "  %s", why);
    }
    gpu_test_verdict(ok, what, NULL);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        char why[1024];
        if (strcmp(argv[i], "--plugin") == 0 && i + 1 < argc) {
            if (attn_plugin_load(argv[++i], why, sizeof why)) {
                printf("FAIL %s\n", why);
                return 1;
            }
        } else {
            fprintf(stderr, "usage: test_gather [--plugin PATH]\n");
            return 2;
        }
    }
    check_on_cpu();
    const int cpu_failed = gpu_test_summary(" on the CPU");
    struct device_info info;
    int exit_status;
    struct backend *b = gpu_test_open(&info, &exit_status);
    if (!b) return cpu_failed ? 1 : exit_status;
    const uint64_t seed = gpu_test_seed();
    const enum attn_dtype dtypes[] = {ATTN_FP32, ATTN_FP16, ATTN_BF16};
    const int dims[] = {64, 128};
    for (const char *const *v = attn_cuda_gather.variants; *v; v++)
        for (int t = 0; t < 3; t++)
            for (int di = 0; di < 2; di++)
                for (int s = 0; s < (int)(sizeof shapes / sizeof *shapes); s++)
                    check_on_gpu(b, *v, dtypes[t], dims[di], s, seed + (uint64_t)s);
    b->shutdown(b);
    return gpu_test_summary("");
}
