/* common.c — helpers shared by every method: names of enums, dtype
 * conversion, the seeded inputs (docs/correctness.md, "Inputs") and the
 * validation rules of docs/methods.md. */
#include "attn.h"
#include "attn/attn_nvtx.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

size_t attn_dtype_size(enum attn_dtype t) { return t == ATTN_FP32 ? 4 : 2; }

static const char *const dtype_names[] = {"fp32", "fp16", "bf16"};
static const char *const backend_names[] = {"cpu", "cuda"};
static const char *const shared_scale_names[] = {"official", "paper"};

/* Index of `s` in `names`, or -1. */
static int lookup(const char *const *names, int count, const char *s)
{
    for (int i = 0; i < count; i++)
        if (strcmp(names[i], s) == 0) return i;
    return -1;
}

const char *attn_dtype_name(enum attn_dtype t) { return dtype_names[t]; }
const char *attn_backend_name(enum attn_backend b) { return backend_names[b]; }
const char *attn_shared_scale_name(enum attn_shared_scale s) { return shared_scale_names[s]; }

int attn_dtype_parse(const char *s, enum attn_dtype *out)
{
    int i = lookup(dtype_names, 3, s);
    if (i < 0) return -1;
    *out = (enum attn_dtype)i;
    return 0;
}

int attn_backend_parse(const char *s, enum attn_backend *out)
{
    int i = lookup(backend_names, 2, s);
    if (i < 0) return -1;
    *out = (enum attn_backend)i;
    return 0;
}

int attn_shared_scale_parse(const char *s, enum attn_shared_scale *out)
{
    int i = lookup(shared_scale_names, 2, s);
    if (i < 0) return -1;
    *out = (enum attn_shared_scale)i;
    return 0;
}

int64_t attn_tensor_elems(const struct attn_problem *p)
{
    return (int64_t)p->B * p->H * p->N * p->d;
}

const char *attn_variant_of(const struct attn_method *m, const struct attn_params *a)
{
    if (!m->variants || !m->variants[0]) return a->variant ? NULL : "default";
    if (!a->variant) return m->variants[0];
    for (const char *const *v = m->variants; *v; v++)
        if (strcmp(*v, a->variant) == 0) return *v;
    return NULL;
}

const char *attn_validate_common(const struct attn_method *m, const struct attn_problem *p,
                                 const struct attn_params *a, char *why, size_t why_len)
{
    if (p->B < 1 || p->H < 1 || p->N < 1 || p->d < 1) {
        snprintf(why, why_len, "B=%d H=%d N=%" PRId64 " d=%d: every size must be >= 1", p->B,
                 p->H, p->N, p->d);
        return why;
    }
    if (!attn_variant_of(m, a) && !(m->variants && m->variants[0])) {
        snprintf(why, why_len, "%s has no variant '%s' (it has no variants)", m->name, a->variant);
        return why;
    }
    if (!attn_variant_of(m, a)) {
        int n = snprintf(why, why_len, "%s has no variant '%s' (have:", m->name, a->variant);
        for (const char *const *v = m->variants; v && *v && n < (int)why_len; v++)
            n += snprintf(why + n, why_len - n, " %s", *v);
        if (n < (int)why_len) snprintf(why + n, why_len - n, ")");
        return why;
    }
    if ((m->uses & ATTN_USES_M) && (a->m < 1 || a->m > p->N)) {
        snprintf(why, why_len, "m=%" PRId64 " with N=%" PRId64 " (need 1 <= m <= N)", a->m, p->N);
        return why;
    }
    if ((m->uses & ATTN_USES_K) && (a->k < 1 || a->k > p->N)) {
        snprintf(why, why_len, "k=%" PRId64 " with N=%" PRId64 " (need 1 <= k <= N)", a->k, p->N);
        return why;
    }
    if ((m->uses & ATTN_USES_S_R) && (a->s_r < 1 || a->s_r > a->m)) {
        snprintf(why, why_len, "s_r=%d with m=%" PRId64 " (need 1 <= s_r <= m)", a->s_r, a->m);
        return why;
    }
    return NULL;
}

/* ---- storage types ---- */

uint16_t attn_float_to_bf16(float x)
{
    uint32_t u;
    memcpy(&u, &x, 4);
    if (isnan(x)) return (uint16_t)((u >> 16) | 0x40);
    u += 0x7FFFu + ((u >> 16) & 1u); /* round to nearest even */
    return (uint16_t)(u >> 16);
}

float attn_bf16_to_float(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float x;
    memcpy(&x, &u, 4);
    return x;
}

uint16_t attn_float_to_fp16(float x)
{
    uint32_t u;
    memcpy(&u, &x, 4);
    uint32_t sign = (u >> 16) & 0x8000u;
    uint32_t absu = u & 0x7FFFFFFFu;
    if (absu >= 0x7F800000u) /* inf or nan */
        return (uint16_t)(sign | 0x7C00u | (absu > 0x7F800000u ? 0x200u : 0));
    if (absu >= 0x477FF000u) return (uint16_t)(sign | 0x7C00u); /* overflow to inf */
    if (absu < 0x38800000u) { /* subnormal half: round |x| * 2^24 to an integer */
        float f;
        memcpy(&f, &absu, 4);
        return (uint16_t)(sign | (uint32_t)lrintf(f * 16777216.0f));
    }
    uint32_t mant = absu & 0x7FFFFFu;
    uint32_t exp = (absu >> 23) - 112u; /* rebias 127 -> 15 */
    uint32_t h = (exp << 10) | (mant >> 13);
    uint32_t rest = mant & 0x1FFFu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) h++; /* may carry into exp: fine */
    return (uint16_t)(sign | h);
}

float attn_fp16_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1Fu, mant = h & 0x3FFu;
    float x;
    if (exp == 0) {
        x = ldexpf((float)mant, -24);
    } else if (exp == 31) {
        uint32_t u = 0x7F800000u | (mant << 13);
        memcpy(&x, &u, 4);
    } else {
        uint32_t u = ((exp + 112u) << 23) | (mant << 13);
        memcpy(&x, &u, 4);
    }
    uint32_t u;
    memcpy(&u, &x, 4);
    u |= sign;
    memcpy(&x, &u, 4);
    return x;
}

void attn_random_fill_host(void *dst, enum attn_dtype dtype, uint64_t seed, int which, int64_t n)
{
    switch (dtype) {
    case ATTN_FP32:
        for (int64_t i = 0; i < n; i++) ((float *)dst)[i] = attn_random_value(seed, which, i);
        break;
    case ATTN_FP16:
        for (int64_t i = 0; i < n; i++)
            ((uint16_t *)dst)[i] = attn_float_to_fp16(attn_random_value(seed, which, i));
        break;
    case ATTN_BF16:
        for (int64_t i = 0; i < n; i++)
            ((uint16_t *)dst)[i] = attn_float_to_bf16(attn_random_value(seed, which, i));
        break;
    }
}

void attn_to_float(const void *src, enum attn_dtype dtype, float *dst, int64_t n)
{
    switch (dtype) {
    case ATTN_FP32: memcpy(dst, src, (size_t)n * sizeof(float)); break;
    case ATTN_FP16:
        for (int64_t i = 0; i < n; i++) dst[i] = attn_fp16_to_float(((const uint16_t *)src)[i]);
        break;
    case ATTN_BF16:
        for (int64_t i = 0; i < n; i++) dst[i] = attn_bf16_to_float(((const uint16_t *)src)[i]);
        break;
    }
}

void attn_to_double(const void *src, enum attn_dtype dtype, double *dst, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        float x;
        switch (dtype) {
        case ATTN_FP32: x = ((const float *)src)[i]; break;
        case ATTN_FP16: x = attn_fp16_to_float(((const uint16_t *)src)[i]); break;
        default: x = attn_bf16_to_float(((const uint16_t *)src)[i]); break;
        }
        dst[i] = x;
    }
}

/* ---- the steps of attn_nvtx.h --------------------------------------------- */

/* Deeper nesting than this is still counted, so that pops stay paired; the
 * steps beyond it are filed under the deepest one kept. */
enum { STEP_DEPTH_KEPT = 8 };
static _Thread_local const char *step_names[STEP_DEPTH_KEPT];
static _Thread_local int step_depth;

void attn_step_push(const char *name)
{
    if (step_depth < STEP_DEPTH_KEPT) step_names[step_depth] = name;
    step_depth++;
}

void attn_step_pop(void)
{
    if (step_depth > 0) step_depth--;
}

const char *attn_step_current(void)
{
    if (step_depth == 0) return "";
    return step_names[(step_depth < STEP_DEPTH_KEPT ? step_depth : STEP_DEPTH_KEPT) - 1];
}

static int steps_recorded;

void attn_steps_set_recorded(int on) { steps_recorded = on; }

int attn_steps_recorded(void) { return steps_recorded; }
