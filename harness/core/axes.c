/* axes.c — the table of sweep axes (axes.h). */
#include "core/axes.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/inputs.h"

/* No sweep comes near 2^40 tokens (a 256 TiB fp32 tensor at d=64): a larger
 * value is a typo, and refusing it keeps every product of sizes in int64. */
#define AXIS_SIZE_MAX (INT64_C(1) << 40)

static const char *dtype_name(int64_t v) { return attn_dtype_name((enum attn_dtype)v); }
static const char *scale_name(int64_t v) { return attn_shared_scale_name((enum attn_shared_scale)v); }

/* Where each axis keeps its value in a point. */
static int64_t get_dtype(const struct sweep_point *p) { return p->problem.dtype; }
static void set_dtype(struct sweep_point *p, int64_t v) { p->problem.dtype = (enum attn_dtype)v; }
static int64_t get_B(const struct sweep_point *p) { return p->problem.B; }
static void set_B(struct sweep_point *p, int64_t v) { p->problem.B = (int)v; }
static int64_t get_H(const struct sweep_point *p) { return p->problem.H; }
static void set_H(struct sweep_point *p, int64_t v) { p->problem.H = (int)v; }
static int64_t get_N(const struct sweep_point *p) { return p->problem.N; }
static void set_N(struct sweep_point *p, int64_t v) { p->problem.N = v; }
static int64_t get_d(const struct sweep_point *p) { return p->problem.d; }
static void set_d(struct sweep_point *p, int64_t v) { p->problem.d = (int)v; }
static int64_t get_m(const struct sweep_point *p) { return p->params.m; }
static void set_m(struct sweep_point *p, int64_t v) { p->params.m = v; }
static int64_t get_k(const struct sweep_point *p) { return p->params.k; }
static void set_k(struct sweep_point *p, int64_t v) { p->params.k = v; }
static int64_t get_s_r(const struct sweep_point *p) { return p->params.s_r; }
static void set_s_r(struct sweep_point *p, int64_t v) { p->params.s_r = (int)v; }
static int64_t get_scale(const struct sweep_point *p) { return p->params.shared_scale; }
static void set_scale(struct sweep_point *p, int64_t v)
{
    p->params.shared_scale = (enum attn_shared_scale)v;
}

/* ---- text axes ------------------------------------------------------------ */

/* The words of each text axis that this process has seen; a value is an
 * index, and word 0 the default. Words are never removed: a value stays
 * valid for the life of the process, and in the workers it forks. */
static struct text_words {
    char **word;
    int64_t count, cap;
} words[AXIS_COUNT];

static const char *const text_defaults[AXIS_COUNT] = {
    [AXIS_INPUTS] = "iid",
    [AXIS_GATHER] = "fused",
};

static int append_word(struct text_words *w, const char *word)
{
    if (w->count == w->cap) {
        int64_t cap = w->cap ? 2 * w->cap : 8;
        char **grown = realloc(w->word, (size_t)cap * sizeof *grown);
        if (!grown) return -1;
        w->word = grown;
        w->cap = cap;
    }
    if (!(w->word[w->count] = strdup(word))) return -1;
    w->count++;
    return 0;
}

/* The value of `word` on text axis `id`, appended when new; -1 when out of
 * memory. "" is the default. */
static int64_t text_value(enum axis_id id, const char *word)
{
    struct text_words *w = &words[id];
    if (w->count == 0 && append_word(w, text_defaults[id]) != 0) return -1;
    if (!*word) return 0;
    for (int64_t i = 0; i < w->count; i++)
        if (strcmp(w->word[i], word) == 0) return i;
    return append_word(w, word) == 0 ? w->count - 1 : -1;
}

/* The word of a value; the default for one never handed out. */
static const char *text_word(enum axis_id id, int64_t v)
{
    if (text_value(id, "") != 0 || v < 0 || v >= words[id].count) return text_defaults[id];
    return words[id].word[v];
}

/* A value that text_value() could not store (out of memory) falls back to
 * the default: such a process could not measure a point anyway. */
static int64_t text_get(enum axis_id id, const char *word)
{
    int64_t v = text_value(id, word);
    return v < 0 ? 0 : v;
}

static void text_set(char *field, size_t len, enum axis_id id, int64_t v)
{
    snprintf(field, len, "%s", text_word(id, v));
}

static const char *inputs_word(int64_t v) { return text_word(AXIS_INPUTS, v); }
static int64_t get_inputs(const struct sweep_point *p) { return text_get(AXIS_INPUTS, p->inputs); }
static void set_inputs(struct sweep_point *p, int64_t v)
{
    text_set(p->inputs, sizeof p->inputs, AXIS_INPUTS, v);
}
static int check_inputs(const char *word, char *err, size_t err_len)
{
    struct inputs_spec spec;
    return inputs_spec_parse(word, &spec, err, err_len);
}

static const char *gather_word(int64_t v) { return text_word(AXIS_GATHER, v); }
static int64_t get_gather(const struct sweep_point *p) { return text_get(AXIS_GATHER, p->gather); }
static void set_gather(struct sweep_point *p, int64_t v)
{
    text_set(p->gather, sizeof p->gather, AXIS_GATHER, v);
}
/* Any name a method's could be: the gather versions are MiTA's to know
 * (its validate() refuses one it lacks, as an invalid row). */
static int check_gather(const char *word, char *err, size_t err_len)
{
    size_t n = strspn(word, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.");
    if (n == 0 || word[n] || n > ATTN_NAME_MAX)
        return harness_fail(err, err_len,
                            "gather '%s' is not a name (need 1 to %d letters, digits, '_', '-' "
                            "or '.', e.g. fused or vec16)",
                            word, ATTN_NAME_MAX);
    return 0;
}

const struct axis AXES[AXIS_COUNT] = {
    [AXIS_DTYPE] = {.key = "dtype", .column = "dtype", .meaning = "fp32, fp16, bf16",
                    .name_of = dtype_name, .name_count = 3, .get = get_dtype, .set = set_dtype},
    [AXIS_B] = {.key = "B", .column = "B", .meaning = "batch", .max = INT_MAX, .get = get_B,
                .set = set_B},
    [AXIS_H] = {.key = "H", .column = "H", .meaning = "heads", .max = INT_MAX, .get = get_H,
                .set = set_H},
    [AXIS_N] = {.key = "seqlen", .column = "N", .meaning = "sequence lengths N",
                .max = AXIS_SIZE_MAX, .is_x = 1, .get = get_N, .set = set_N},
    [AXIS_D] = {.key = "d", .column = "d", .meaning = "head dimension", .max = INT_MAX,
                .get = get_d, .set = set_d},
    [AXIS_M] = {.key = "m", .column = "m", .meaning = "landmarks / experts",
                .uses = ATTN_USES_M, .max = AXIS_SIZE_MAX, .get = get_m, .set = set_m},
    [AXIS_K] = {.key = "k", .column = "k", .meaning = "keys per expert / per query",
                .uses = ATTN_USES_K, .max = AXIS_SIZE_MAX, .get = get_k, .set = set_k},
    [AXIS_S_R] = {.key = "s_r", .column = "s_r",
                  .meaning = "routed experts per query", .uses = ATTN_USES_S_R, .max = INT_MAX,
                  .get = get_s_r, .set = set_s_r},
    [AXIS_SHARED_SCALE] = {.key = "shared_scale", .column = "shared_scale",
                           .meaning = "official (s^2 on the shared expert) or paper (s)",
                           .uses = ATTN_USES_SHARED_SCALE, .name_of = scale_name,
                           .name_count = 2, .get = get_scale, .set = set_scale},
    [AXIS_INPUTS] = {.key = "inputs", .column = "inputs",
                     .meaning = "iid, clustered, image, rising or file:PATH (docs/inputs.md)",
                     .name_of = inputs_word, .check_word = check_inputs, .get = get_inputs,
                     .set = set_inputs},
    [AXIS_GATHER] = {.key = "gather", .column = "gather",
                     .meaning = "mita's gather version: fused (read in place) or a kernel's name",
                     .uses = ATTN_USES_GATHER, .name_of = gather_word, .check_word = check_gather,
                     .get = get_gather, .set = set_gather},
};

const struct axis *axis_find(const char *name)
{
    for (int i = 0; i < AXIS_COUNT; i++)
        if (strcmp(AXES[i].key, name) == 0 || strcmp(AXES[i].column, name) == 0) return &AXES[i];
    return NULL;
}

int axis_used_by(const struct axis *a, const struct sweep_point *p)
{
    return a->uses == 0 || (p->uses & a->uses) != 0;
}

void axis_format(const struct axis *a, const struct sweep_point *p, char *cell, size_t len)
{
    cell[0] = '\0';
    if (!axis_used_by(a, p)) return;
    int64_t v = a->get(p);
    if (a->name_of) snprintf(cell, len, "%s", a->name_of(v));
    else snprintf(cell, len, "%lld", (long long)v);
}

int axis_parse_name(const struct axis *a, const char *word, int64_t *value, char *err,
                    size_t err_len)
{
    if (a->check_word) {
        if (a->check_word(word, err, err_len) != 0) return -1;
        *value = text_value((enum axis_id)(a - AXES), word);
        return *value < 0 ? harness_fail(err, err_len, "out of memory") : 0;
    }
    for (int i = 0; i < a->name_count; i++)
        if (strcmp(a->name_of(i), word) == 0) {
            *value = i;
            return 0;
        }
    int n = snprintf(err, err_len, "unknown %s '%s' (known:", a->key, word);
    for (int i = 0; i < a->name_count && n >= 0 && (size_t)n < err_len; i++)
        n += snprintf(err + n, err_len - (size_t)n, "%s %s", i ? "," : "", a->name_of(i));
    if (n >= 0 && (size_t)n < err_len) snprintf(err + n, err_len - (size_t)n, ")");
    return -1;
}

void axis_normalize(struct sweep_point *p)
{
    for (int i = 0; i < AXIS_COUNT; i++)
        if (!axis_used_by(&AXES[i], p)) AXES[i].set(p, 0);
}
