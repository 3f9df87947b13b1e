/* inputs.h — the generated inputs of every run and check, one element at a
 * time (docs/inputs.md has each distribution's definition and its purpose).
 *
 * Element i of tensor `which` (0 = Q, 1 = K, 2 = V, each [B,H,N,d]) is a pure
 * function of (distribution, seed, which, N, d, i): counter-based integer
 * hashes, then arithmetic in double precision, then one rounding to float
 * (and the caller's to the storage dtype). So the CPU (harness/core/inputs.c) and
 * the GPU (kernels/inputs_fill.cu) compute the very same bits without a copy
 * of gigabytes between them — provided both round every operation the same:
 * only +, -, *, / and sqrt, which IEEE rounds exactly on both, and never a
 * fused multiply-add, which would round once where the other side rounds
 * twice. On the device inputs_mul/inputs_add are the explicitly rounded
 * intrinsics, which nvcc never fuses; on the host the project is built as
 * ISO C11, where GCC does not contract, and clang contracts only within one
 * expression, which inputs_mul/inputs_add keep apart. No libm call (cos): its
 * last bits differ between glibc and CUDA, so the image's waves use a
 * polynomial of their own.
 *
 * Callable from C and CUDA; includes nothing of the project but attn.h. */
#ifndef KERNELS_INPUTS_H
#define KERNELS_INPUTS_H

#include <math.h>
#include <stdint.h>

#include "attn.h"

#if defined(__CUDACC__)
#define ATTN_INPUTS_FN __host__ __device__ static inline
#else
#define ATTN_INPUTS_FN static inline
#endif

/* The generated distributions; their names are harness/core/inputs_spec.c's. */
enum attn_inputs {
    ATTN_INPUTS_IID = 0,       /* attn_random_value: uniform, unit variance */
    ATTN_INPUTS_CLUSTERED = 1, /* Q, K near a few shared centres, Zipf-sized clusters */
    ATTN_INPUTS_IMAGE = 2,     /* smooth low-frequency waves over a W x W grid of tokens */
    ATTN_INPUTS_RISING = 3,    /* every query's scores grow along the keys */
    ATTN_INPUTS_COUNT
};

/* clustered: centres per (batch, head); image: waves per channel. */
enum { ATTN_INPUTS_CLUSTERS = 8, ATTN_INPUTS_WAVES = 3 };

/* Independent hash streams, one per use, so that no two draws share bits. */
enum {
    INPUTS_STREAM_CENTRE = 16,
    INPUTS_STREAM_CLUSTER = 17,   /* + which */
    INPUTS_STREAM_NOISE = 20,     /* + which */
    INPUTS_STREAM_WAVE = 24,      /* + which */
    INPUTS_STREAM_AMPLITUDE = 28, /* + which */
    INPUTS_STREAM_SIGN = 32,
    INPUTS_STREAM_MAGNITUDE = 33,
};

ATTN_INPUTS_FN double inputs_mul(double a, double b)
{
#if defined(__CUDA_ARCH__)
    return __dmul_rn(a, b);
#else
    return a * b;
#endif
}

ATTN_INPUTS_FN double inputs_add(double a, double b)
{
#if defined(__CUDA_ARCH__)
    return __dadd_rn(a, b);
#else
    return a + b;
#endif
}

/* splitmix64's finalizer: a bijection that mixes every bit. */
ATTN_INPUTS_FN uint64_t inputs_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* 64 random bits for (seed, stream, a, b). */
ATTN_INPUTS_FN uint64_t attn_inputs_bits(uint64_t seed, uint64_t stream, uint64_t a, uint64_t b)
{
    uint64_t z = inputs_mix(seed * 0x9E3779B97F4A7C15ull + stream * 0xD1B54A32D192ED03ull);
    z = inputs_mix(z + a * 0x94D049BB133111EBull + 0x2545F4914F6CDD1Dull);
    return inputs_mix(z ^ (b * 0xBF58476D1CE4E5B9ull + 0x632BE59BD9B4E019ull));
}

/* Uniform on [0, 1): 53 bits, exact. */
ATTN_INPUTS_FN double attn_inputs_uniform(uint64_t seed, uint64_t stream, uint64_t a, uint64_t b)
{
    return (double)(attn_inputs_bits(seed, stream, a, b) >> 11) * (1.0 / 9007199254740992.0);
}

/* Uniform on [-sqrt 3, sqrt 3): mean 0, variance 1. */
ATTN_INPUTS_FN double attn_inputs_unit(uint64_t seed, uint64_t stream, uint64_t a, uint64_t b)
{
    double u = attn_inputs_uniform(seed, stream, a, b);
    return inputs_mul(inputs_add(inputs_mul(2.0, u), -1.0), 1.7320508075688772);
}

/* clustered: the cluster of token n of head bh in tensor `which` (0 = Q,
 * 1 = K), j in [0, ATTN_INPUTS_CLUSTERS) with probability proportional to
 * 1/(j+1) (Zipf, s = 1): integer weights 840/(j+1), 840 being the least
 * common multiple of 1..8, so that the draw is exact. */
ATTN_INPUTS_FN int attn_inputs_cluster(uint64_t seed, int which, int64_t bh, int64_t n)
{
    const uint64_t total = 2283; /* 840 + 420 + 280 + 210 + 168 + 140 + 120 + 105 */
    uint64_t r = attn_inputs_bits(seed, INPUTS_STREAM_CLUSTER + (uint64_t)which, (uint64_t)bh,
                                  (uint64_t)n) % total;
    for (int j = 0; j < ATTN_INPUTS_CLUSTERS - 1; j++) {
        uint64_t weight = 840 / (uint64_t)(j + 1);
        if (r < weight) return j;
        r -= weight;
    }
    return ATTN_INPUTS_CLUSTERS - 1;
}

/* image: the grid's width W = ceil(sqrt(N)); token n sits at row n / W,
 * column n % W. */
ATTN_INPUTS_FN int64_t attn_inputs_image_width(int64_t N)
{
    int64_t w = (int64_t)sqrt((double)N);
    while (w * w < N) w++; /* settled in integers: the same W everywhere */
    while (w > 1 && (w - 1) * (w - 1) >= N) w--;
    return w;
}

/* cos(2 pi t) from + and * alone: t reduced to [0, 1/4] by the cosine's
 * symmetries, then its Taylor series to x^16 (error below 1e-12 on
 * [0, pi/2]). */
ATTN_INPUTS_FN double inputs_cos_turns(double t)
{
    t = inputs_add(t, -(double)(int64_t)t); /* t >= 0: its fraction, exactly */
    if (t > 0.5) t = inputs_add(1.0, -t);
    double sign = 1.0;
    if (t > 0.25) {
        t = inputs_add(0.5, -t);
        sign = -1.0;
    }
    const double x = inputs_mul(6.283185307179586, t);
    const double x2 = inputs_mul(x, x);
    /* (-1)^k / (2k)! for k = 8 down to 1 */
    const double c[8] = {4.779477332387385e-14, -1.1470745597729725e-11, 2.08767569878681e-09,
                         -2.755731922398589e-07, 2.48015873015873e-05, -0.001388888888888889,
                         0.041666666666666664, -0.5};
    double p = c[0];
    for (int k = 1; k < 8; k++) p = inputs_add(inputs_mul(p, x2), c[k]);
    return inputs_mul(sign, inputs_add(inputs_mul(p, x2), 1.0));
}

/* clustered: C = 8 centres per (batch, head), unit-variance uniform vectors
 * shared by Q and K; each token of Q and of K picks a cluster
 * (attn_inputs_cluster), the same for all its channels; its value is the
 * centre's plus noise of standard deviation 0.3, scaled by 1/sqrt(1.09) to
 * unit variance. V is iid. */
ATTN_INPUTS_FN double inputs_clustered(uint64_t seed, int which, int64_t bh, int64_t n, int c,
                                       int64_t N)
{
    const int j = attn_inputs_cluster(seed, which, bh, n);
    const double centre =
        attn_inputs_unit(seed, INPUTS_STREAM_CENTRE, (uint64_t)(bh * ATTN_INPUTS_CLUSTERS + j),
                         (uint64_t)c);
    const double noise = attn_inputs_unit(seed, INPUTS_STREAM_NOISE + (uint64_t)which,
                                          (uint64_t)(bh * N + n), (uint64_t)c);
    return inputs_mul(inputs_add(centre, inputs_mul(0.3, noise)), 0.9578262852211513);
}

/* image: per (batch, head, tensor, channel) three waves
 * a cos(2 pi ((fx col + fy row) / W + phi)) with integer frequencies fx, fy
 * in [0, 3] (not both 0), phase phi uniform in [0, 1) turns and amplitude a
 * uniform in [0.5, 1.5], plus noise of standard deviation 0.2; scaled by
 * 1/sqrt(3 * 13/24 + 0.04) to unit variance. Neighbouring tokens (a
 * column or a row apart) are alike, as a ViT's patches are. Q, K and V
 * alike (V's waves its own). */
ATTN_INPUTS_FN double inputs_image(uint64_t seed, int which, int64_t bh, int64_t n, int c, int d,
                                   int64_t N)
{
    const int64_t W = attn_inputs_image_width(N), row = n / W, col = n % W;
    const uint64_t channel = (uint64_t)(bh * d + c);
    double sum = 0.0;
    for (int w = 0; w < ATTN_INPUTS_WAVES; w++) {
        const uint64_t bits =
            attn_inputs_bits(seed, INPUTS_STREAM_WAVE + (uint64_t)which, channel, (uint64_t)w);
        int64_t fx = (int64_t)(bits & 3), fy = (int64_t)((bits >> 2) & 3);
        if (fx == 0 && fy == 0) fx = 1;
        const double phase = (double)(bits >> 11) * (1.0 / 9007199254740992.0);
        const double amplitude = inputs_add(
            0.5, attn_inputs_uniform(seed, INPUTS_STREAM_AMPLITUDE + (uint64_t)which, channel,
                                     (uint64_t)w));
        const double turns =
            inputs_add((double)((fx * col + fy * row) % W) / (double)W, phase);
        sum = inputs_add(sum, inputs_mul(amplitude, inputs_cos_turns(turns)));
    }
    const double noise = attn_inputs_unit(seed, INPUTS_STREAM_NOISE + (uint64_t)which,
                                          (uint64_t)(bh * N + n), (uint64_t)c);
    return inputs_mul(inputs_add(sum, inputs_mul(0.2, noise)), 0.7749842582921285);
}

/* rising: per (batch, head) a sign u_c = +-1 for each channel c < d/2.
 * Q: q_c = u_c m (m uniform in sqrt(24/13) [0.5, 1.5], drawn per element)
 * for c < d/2, 0 above. K: k_c = u_c sqrt(3) t(n) for c < d/2, with t
 * rising from -1 at n = 0 to 1 at n = N-1, and unit noise above. So
 * q . k_n = sqrt(3) t(n) sum_c m_c: non-decreasing along n for every query
 * and for every mean of queries (a landmark), strictly while the dtype can
 * tell t(n) from t(n+1); rounding is monotone, so the stored values keep
 * the order. Mean square 1 per tensor (Q: 2 on half the channels). V is
 * iid. */
ATTN_INPUTS_FN double inputs_rising(uint64_t seed, int which, int64_t bh, int64_t n, int c, int d,
                                    int64_t N)
{
    const int half = d / 2;
    if (c >= half)
        return which == 0 ? 0.0
                          : attn_inputs_unit(seed, INPUTS_STREAM_NOISE + 1, (uint64_t)(bh * N + n),
                                             (uint64_t)c);
    const double u =
        (attn_inputs_bits(seed, INPUTS_STREAM_SIGN, (uint64_t)bh, (uint64_t)c) & 1) ? 1.0 : -1.0;
    if (which == 0) {
        const double m = inputs_add(0.5, attn_inputs_uniform(seed, INPUTS_STREAM_MAGNITUDE,
                                                             (uint64_t)(bh * N + n), (uint64_t)c));
        return inputs_mul(u, inputs_mul(1.3587324409735149, m));
    }
    const double t = N > 1 ? (double)(2 * n - (N - 1)) / (double)(N - 1) : 0.0;
    return inputs_mul(u, inputs_mul(1.7320508075688772, t));
}

/* Element i of tensor `which` of a [B,H,N,d] problem under `kind`, as float
 * (the caller rounds it to the storage dtype, to nearest even). iid is
 * attn_random_value itself, so that results drawn before the other
 * distributions existed stay comparable; so is V but for image. */
ATTN_INPUTS_FN float attn_inputs_value(enum attn_inputs kind, uint64_t seed, int which, int64_t N,
                                       int d, int64_t i)
{
    if (kind == ATTN_INPUTS_IID || (which == 2 && kind != ATTN_INPUTS_IMAGE))
        return attn_random_value(seed, which, i);
    const int64_t token = i / d, bh = token / N, n = token % N;
    const int c = (int)(i % d);
    double x = 0.0;
    switch (kind) {
    case ATTN_INPUTS_CLUSTERED: x = inputs_clustered(seed, which, bh, n, c, N); break;
    case ATTN_INPUTS_IMAGE: x = inputs_image(seed, which, bh, n, c, d, N); break;
    case ATTN_INPUTS_RISING: x = inputs_rising(seed, which, bh, n, c, d, N); break;
    default: break;
    }
    return (float)x;
}

#endif
