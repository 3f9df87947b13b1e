/* ceilings_cpu.c — measuring the CPU's ceilings (see ceilings.h) over
 * OpenMP's threads, the roofs of a CPU run's roofline. A ceiling is the best
 * of the configurations below (ceilings_settle); each configuration's figure
 * is the fastest of CPU_REPS runs after one untimed, on the monotonic clock
 * (time_fastest says why not the median). About 2 s on two cores.
 *
 *   copy   dram_copy_gbps: a buffer of twice the last-level cache (at least
 *          256 MiB, at most 2 GiB) copied into another, each thread its own
 *          contiguous share; by memcpy (glibc streams a copy this large past
 *          the caches) and, on x86-64, by 16-byte non-temporal stores
 *          (SSE2's movntdq). Bytes read + written over the time, as on the
 *          GPU: the reads a cached store makes first are not counted.
 *   fma    fp32_tflops: CHAINS independent chains of fused multiply-adds
 *          per thread, at each vector width the CPU has: on x86-64 AVX-512
 *          and AVX2 with FMA where the CPU reports them (functions compiled
 *          for that target alone and chosen at run time, so the build keeps
 *          its baseline), and the baseline the compiler vectorizes for (where
 *          it has no FMA, as x86-64's SSE2, a multiply and an add: 2 FLOPs
 *          all the same). An FMA counted as 2 FLOPs.
 */
#include "measure/ceilings.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <omp.h>

#include "core/clock.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define CEILINGS_X86 1
#else
#define CEILINGS_X86 0
#endif

enum { CPU_REPS = 5, CHAINS = 12 };

#define COPY_MIN_BYTES ((size_t)256 << 20)
#define COPY_MAX_BYTES ((size_t)2 << 30)
#define FMA_RUN_SECONDS 0.03

/* The seconds of the fastest of CPU_REPS runs of run(arg) after one
 * untimed: on a CPU other processes only ever slow a run (a thread taken
 * off its core holds up the whole parallel region), so the fastest is
 * the nearest the hardware's figure. */
static double time_fastest(void (*run)(void *arg), void *arg)
{
    double best = INFINITY;
    run(arg);
    for (int i = 0; i < CPU_REPS; i++) {
        const double start = monotonic_seconds();
        run(arg);
        best = fmin(best, monotonic_seconds() - start);
    }
    return best;
}

/* "2 threads": how many run each configuration. */
static void threads_text(char *out, size_t len)
{
    const int n = omp_get_max_threads();
    snprintf(out, len, "%d thread%s", n, n > 1 ? "s" : "");
}

/* ---- the copy ------------------------------------------------------------------ */

struct copy {
    char *src, *dst;
    size_t bytes;
};

/* This thread's share of c: [*lo, *hi), 64-byte aligned. */
static void share(const struct copy *c, size_t *lo, size_t *hi)
{
    const size_t n = (size_t)omp_get_num_threads(), i = (size_t)omp_get_thread_num();
    *lo = c->bytes / 64 * i / n * 64;
    *hi = i + 1 == n ? c->bytes : c->bytes / 64 * (i + 1) / n * 64;
}

static void copy_memcpy(void *arg)
{
    const struct copy *c = arg;
#pragma omp parallel
    {
        size_t lo, hi;
        share(c, &lo, &hi);
        memcpy(c->dst + lo, c->src + lo, hi - lo);
    }
}

#if CEILINGS_X86
static void copy_stream(void *arg)
{
    const struct copy *c = arg;
#pragma omp parallel
    {
        size_t lo, hi;
        share(c, &lo, &hi);
        const __m128i *s = (const __m128i *)(c->src + lo);
        __m128i *d = (__m128i *)(c->dst + lo);
        for (size_t k = 0; k < (hi - lo) / 16; k++) _mm_stream_si128(&d[k], _mm_load_si128(&s[k]));
    }
    _mm_sfence();
}
#endif

/* Twice the last-level cache, so that the copy is DRAM's. */
static size_t copy_bytes(void)
{
    long cache = sysconf(_SC_LEVEL3_CACHE_SIZE);
    if (cache <= 0) cache = sysconf(_SC_LEVEL2_CACHE_SIZE);
    size_t bytes = cache > 0 ? 2 * (size_t)cache : 0;
    if (bytes < COPY_MIN_BYTES) bytes = COPY_MIN_BYTES;
    if (bytes > COPY_MAX_BYTES) bytes = COPY_MAX_BYTES;
    return bytes / 64 * 64;
}

static void measure_copy(struct ceiling_trials *t)
{
    struct copy c = {NULL, NULL, copy_bytes()};
    c.src = aligned_alloc(64, c.bytes);
    c.dst = aligned_alloc(64, c.bytes);
    if (!c.src || !c.dst) {
        char why[96];
        snprintf(why, sizeof why, "cannot allocate 2 x %zu MiB", c.bytes >> 20);
        ceilings_add_trial(t, CEILING_DRAM_COPY, "", 0, why);
        free(c.src);
        free(c.dst);
        return;
    }
    /* The source's pages written first (an untouched page reads as the one
     * zero page, from the caches), each by the thread that copies it; the
     * destination's are touched by the untimed first run. */
#pragma omp parallel
    {
        size_t lo, hi;
        share(&c, &lo, &hi);
        memset(c.src + lo, 0x5A, hi - lo);
    }
    static const struct {
        const char *name;
        void (*run)(void *arg);
    } ways[] = {
        {"memcpy", copy_memcpy},
#if CEILINGS_X86
        {"16-byte non-temporal stores", copy_stream},
#endif
    };
    char threads[24];
    threads_text(threads, sizeof threads);
    for (size_t w = 0; w < sizeof ways / sizeof ways[0]; w++) {
        char config[sizeof t->trial[0].config];
        snprintf(config, sizeof config, "%s, 2 x %zu MiB, %s", ways[w].name, c.bytes >> 20,
                 threads);
        const double seconds = time_fastest(ways[w].run, &c);
        ceilings_add_trial(t, CEILING_DRAM_COPY, config, 2.0 * c.bytes / seconds / 1e9, NULL);
    }
    free(c.src);
    free(c.dst);
}

/* ---- the FMA peak -------------------------------------------------------------- */

/* A chain's step; without a hardware FMA in the build's baseline, a
 * multiply and an add. */
#ifdef __FP_FAST_FMAF
#define CHAIN_STEP(a, scale, add) fmaf(a, scale, add)
#else
#define CHAIN_STEP(a, scale, add) ((a) * (scale) + (add))
#endif

/* Each runs CHAINS chains of a vector's lanes for `iters` steps and
 * returns their sum, so that the compiler keeps them. */
enum { BASELINE_LANES = 4 }; /* the baseline's vectors: SSE2's, NEON's */

static float chains_baseline(long iters)
{
    enum { WIDTH = BASELINE_LANES };
    float a[CHAINS * WIDTH];
    for (int k = 0; k < CHAINS * WIDTH; k++) a[k] = k * 1e-3f;
    for (long i = 0; i < iters; i++)
        for (int k = 0; k < CHAINS * WIDTH; k++) a[k] = CHAIN_STEP(a[k], 0.999f, 1e-3f);
    float s = 0;
    for (int k = 0; k < CHAINS * WIDTH; k++) s += a[k];
    return s;
}

#if CEILINGS_X86
/* NAME: the chains in vectors VEC of LANES floats, compiled for ISA alone. */
#define CHAINS_IN(name, isa, vec, lanes, set1, fmadd, store)                                        \
    __attribute__((target(isa))) static float name(long iters)                                      \
    {                                                                                               \
        const vec scale = set1(0.999f), add = set1(1e-3f);                                          \
        vec a[CHAINS];                                                                              \
        for (int k = 0; k < CHAINS; k++) a[k] = set1(k * 1e-3f);                                    \
        for (long i = 0; i < iters; i++)                                                            \
            for (int k = 0; k < CHAINS; k++) a[k] = fmadd(a[k], scale, add);                        \
        float s = 0, lane[lanes];                                                                   \
        for (int k = 0; k < CHAINS; k++) {                                                          \
            store(lane, a[k]);                                                                      \
            for (int j = 0; j < lanes; j++) s += lane[j];                                           \
        }                                                                                           \
        return s;                                                                                   \
    }
CHAINS_IN(chains_avx2, "avx2,fma", __m256, 8, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_storeu_ps)
CHAINS_IN(chains_avx512, "avx512f", __m512, 16, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_storeu_ps)
#undef CHAINS_IN

static int has_avx512(void) { return __builtin_cpu_supports("avx512f"); }
static int has_avx2_fma(void)
{
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#endif

struct fma_run {
    float (*chains)(long iters);
    long iters;
};

/* Keeps the chains' sums: what a compiler may not drop. */
static volatile float fma_sink;

static void run_fma(void *arg)
{
    const struct fma_run *r = arg;
    float total = 0;
#pragma omp parallel reduction(+ : total)
    total += r->chains(r->iters);
    fma_sink = total;
}

static void measure_fma(struct ceiling_trials *t)
{
    /* available: NULL where the build's baseline has it. */
    static const struct {
        const char *name;
        float (*chains)(long iters);
        int lanes;
        int (*available)(void);
    } ways[] = {
#if CEILINGS_X86
        {"AVX-512", chains_avx512, 16, has_avx512},
        {"AVX2 and FMA", chains_avx2, 8, has_avx2_fma},
        {"SSE2, a multiply and an add", chains_baseline, BASELINE_LANES, NULL},
#elif defined(__FP_FAST_FMAF)
        {"the build's vectors", chains_baseline, BASELINE_LANES, NULL},
#else
        {"the build's vectors, a multiply and an add", chains_baseline, BASELINE_LANES, NULL},
#endif
    };
    char threads[24];
    threads_text(threads, sizeof threads);
    for (size_t w = 0; w < sizeof ways / sizeof ways[0]; w++) {
        if (ways[w].available && !ways[w].available()) continue;
        /* Runs long enough to time: iters doubled until one lasts
         * FMA_RUN_SECONDS, from a run of a millisecond or more (a first
         * run slowed by another process would stop the doubling early). */
        struct fma_run r = {ways[w].chains, 1 << 18};
        for (;;) {
            const double start = monotonic_seconds();
            run_fma(&r);
            if (monotonic_seconds() - start >= FMA_RUN_SECONDS) break;
            r.iters *= 2;
        }
        const double seconds = time_fastest(run_fma, &r);
        char config[sizeof t->trial[0].config];
        snprintf(config, sizeof config, "fp32 FMA chains, %s, %d x %d lanes per thread, %s",
                 ways[w].name, CHAINS, ways[w].lanes, threads);
        const double flops = 2.0 * CHAINS * ways[w].lanes * (double)r.iters * omp_get_max_threads();
        ceilings_add_trial(t, CEILING_FP32, config, flops / seconds / 1e12, NULL);
    }
}

int ceilings_measure_cpu(struct ceilings *c, struct ceiling_trials *trials)
{
    trials->count = 0;
    measure_copy(trials);
    measure_fma(trials);
    return ceilings_settle(c, trials);
}
