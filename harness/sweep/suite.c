/* suite.c — the `.suite` format, command-line overrides of its keys, the
 * expansion of a suite into sweep points, and where suites are found.
 *
 * A file and the command line share one path: every key is set by
 * set_value(), which writes a bare message on error; the caller prefixes it
 * with "PATH:LINE: " or "--key 'value': ". A failed set_value() leaves the
 * suite as it was. */
#include "sweep/suite.h"
#include "core/errors.h"

#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* No sweep comes near 2^40 tokens (a 256 TiB fp32 tensor at d=64): a larger
 * value is a typo, and refusing it keeps every product of sizes in int64. */
#define SUITE_VALUE_MAX (INT64_C(1) << 40)

#define NUMBER_SYNTAX "need an integer such as 64 or 2^10, or a doubling range such as 2^10..2^14"

enum suite_key {
    KEY_NAME, KEY_DESCRIBE, KEY_METHODS, KEY_SEQLEN, KEY_B, KEY_H, KEY_D, KEY_DTYPE, KEY_M,
    KEY_K, KEY_S_R, KEY_SHARED_SCALE, KEY_BACKEND, KEY_REPS, KEY_WARMUP, KEY_BUDGET, KEY_SEED,
    KEY_COUNT
};

static const char *const key_names[KEY_COUNT] = {
    [KEY_NAME] = "name",       [KEY_DESCRIBE] = "describe", [KEY_METHODS] = "methods",
    [KEY_SEQLEN] = "seqlen",   [KEY_B] = "B",               [KEY_H] = "H",
    [KEY_D] = "d",             [KEY_DTYPE] = "dtype",       [KEY_M] = "m",
    [KEY_K] = "k",             [KEY_S_R] = "s_r",           [KEY_SHARED_SCALE] = "shared_scale",
    [KEY_BACKEND] = "backend", [KEY_REPS] = "reps",         [KEY_WARMUP] = "warmup",
    [KEY_BUDGET] = "budget",   [KEY_SEED] = "seed",
};

/* ---- values ------------------------------------------------------------- */

/* A piece of a value: items are separated by commas and blanks. */
struct span {
    const char *p;
    size_t n;
};

static int next_item(const char **cursor, struct span *item)
{
    const char *c = *cursor;
    while (*c == ',' || isspace((unsigned char)*c)) c++;
    item->p = c;
    item->n = 0;
    if (!*c) return 0;
    while (*c && *c != ',' && !isspace((unsigned char)*c)) c++;
    item->n = (size_t)(c - item->p);
    *cursor = c;
    return 1;
}

/* Copies an item into a string; -1 when it does not fit. */
static int span_str(struct span s, char *out, size_t out_len)
{
    if (s.n >= out_len) return -1;
    memcpy(out, s.p, s.n);
    out[s.n] = '\0';
    return 0;
}

enum number_status { NUMBER_OK = 0, NUMBER_BAD = -1, NUMBER_TOO_LARGE = -2 };

static enum number_status parse_digits(const char *p, size_t n, int64_t *out)
{
    if (n == 0) return NUMBER_BAD;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)p[i])) return NUMBER_BAD;
        v = v * 10 + (p[i] - '0');
        if (v > SUITE_VALUE_MAX) return NUMBER_TOO_LARGE;
    }
    *out = v;
    return NUMBER_OK;
}

/* "64" or "2^10" (any base^exponent), at most SUITE_VALUE_MAX. */
static enum number_status parse_number(const char *p, size_t n, int64_t *out)
{
    const char *caret = memchr(p, '^', n);
    if (!caret) return parse_digits(p, n, out);
    int64_t base, exponent;
    enum number_status st = parse_digits(p, (size_t)(caret - p), &base);
    if (st == NUMBER_OK) st = parse_digits(caret + 1, n - (size_t)(caret - p) - 1, &exponent);
    if (st != NUMBER_OK) return st;
    if (base <= 1) { /* the loop below would not end */
        *out = exponent == 0 ? 1 : base;
        return NUMBER_OK;
    }
    int64_t v = 1;
    for (int64_t e = 0; e < exponent; e++) {
        v *= base;
        if (v > SUITE_VALUE_MAX) return NUMBER_TOO_LARGE;
    }
    *out = v;
    return NUMBER_OK;
}

/* An integer list into `out` (untouched on error): values in [1, max],
 * each at most once. `key` names the list in messages. */
static int parse_int_list(const char *key, const char *text, int64_t max,
                          struct suite_int_axis *out, char *err, size_t err_len)
{
    struct suite_int_axis list = {.count = 0};
    struct span item;
    while (next_item(&text, &item)) {
        const char *dots = NULL;
        for (size_t i = 0; i + 1 < item.n; i++)
            if (item.p[i] == '.' && item.p[i + 1] == '.') {
                dots = item.p + i;
                break;
            }
        int64_t lo, hi;
        enum number_status st;
        if (dots) {
            st = parse_number(item.p, (size_t)(dots - item.p), &lo);
            if (st == NUMBER_OK) st = parse_number(dots + 2, item.n - (size_t)(dots - item.p) - 2, &hi);
        } else {
            st = parse_number(item.p, item.n, &lo);
            hi = lo;
        }
        if (st == NUMBER_BAD)
            return harness_fail(err, err_len, "'%.*s' is not a number (" NUMBER_SYNTAX ")", (int)item.n,
                        item.p);
        if (st == NUMBER_TOO_LARGE)
            return harness_fail(err, err_len, "'%.*s' is too large (need <= 2^40)", (int)item.n, item.p);
        if (lo > hi)
            return harness_fail(err, err_len, "'%.*s' is an empty range (need start <= end)", (int)item.n,
                        item.p);
        /* lo >= 1 before doubling, or the range would never end. */
        for (int64_t v = lo; v <= hi; v *= 2) {
            if (v < 1) return harness_fail(err, err_len, "%s=%" PRId64 " (need >= 1)", key, v);
            if (v > max)
                return harness_fail(err, err_len, "%s=%" PRId64 " (need <= %" PRId64 ")", key, v, max);
            for (int i = 0; i < list.count; i++)
                if (list.values[i] == v)
                    return harness_fail(err, err_len, "%" PRId64 " is listed twice in '%s'", v, key);
            if (list.count == SUITE_MAX_VALUES)
                return harness_fail(err, err_len, "more than %d values for '%s'", SUITE_MAX_VALUES, key);
            list.values[list.count++] = v;
        }
    }
    if (list.count == 0) return harness_fail(err, err_len, "empty list for '%s'", key);
    *out = list;
    return 0;
}

int suite_parse_int_list(const char *text, struct suite_int_axis *out, char *err, size_t err_len)
{
    return parse_int_list("value", text, SUITE_VALUE_MAX, out, err, err_len);
}

static int parse_methods(const char *text, struct suite *s, char *err, size_t err_len)
{
    struct suite_method list[SUITE_MAX_VALUES];
    int count = 0;
    struct span item;
    while (next_item(&text, &item)) {
        const char *colon = memchr(item.p, ':', item.n);
        struct span name = {item.p, colon ? (size_t)(colon - item.p) : item.n};
        struct span variant = {colon ? colon + 1 : item.p + item.n,
                               colon ? item.n - name.n - 1 : 0};
        if (name.n == 0 || (colon && (variant.n == 0 || memchr(variant.p, ':', variant.n))))
            return harness_fail(err, err_len,
                        "'%.*s' is not a method (need name or name:variant, e.g. mita:route_only)",
                        (int)item.n, item.p);
        if (count == SUITE_MAX_VALUES)
            return harness_fail(err, err_len, "more than %d values for 'methods'", SUITE_MAX_VALUES);
        struct suite_method *m = &list[count];
        if (span_str(name, m->name, sizeof m->name) != 0 ||
            span_str(variant, m->variant, sizeof m->variant) != 0)
            return harness_fail(err, err_len, "'%.*s' is too long (at most %d characters a part)",
                        (int)item.n, item.p, SUITE_NAME_LEN - 1);
        for (int i = 0; i < count; i++)
            if (strcmp(list[i].name, m->name) == 0 && strcmp(list[i].variant, m->variant) == 0)
                return harness_fail(err, err_len, "'%.*s' is listed twice in 'methods'", (int)item.n,
                            item.p);
        count++;
    }
    if (count == 0) return harness_fail(err, err_len, "empty list for 'methods'");
    memcpy(s->methods, list, (size_t)count * sizeof list[0]);
    s->method_count = count;
    return 0;
}

/* Adapters, so that one message lists the names that attn/common.c knows. */
static const char *dtype_name(int i) { return attn_dtype_name((enum attn_dtype)i); }
static const char *shared_scale_name(int i)
{
    return attn_shared_scale_name((enum attn_shared_scale)i);
}
static const char *backend_name(int i) { return attn_backend_name((enum attn_backend)i); }

/* "unknown dtype 'fp8' (known: fp32, fp16, bf16)" */
static int unknown_name(const char *key, struct span item, const char *(*name)(int), int count,
                        char *err, size_t err_len)
{
    int n = snprintf(err, err_len, "unknown %s '%.*s' (known:", key, (int)item.n, item.p);
    for (int i = 0; i < count && n >= 0 && (size_t)n < err_len; i++)
        n += snprintf(err + n, err_len - (size_t)n, "%s %s", i ? "," : "", name(i));
    if (n >= 0 && (size_t)n < err_len) snprintf(err + n, err_len - (size_t)n, ")");
    return -1;
}

static int parse_dtypes(const char *text, struct suite *s, char *err, size_t err_len)
{
    enum { MAX = sizeof s->dtypes / sizeof s->dtypes[0] };
    enum attn_dtype list[MAX];
    int count = 0;
    struct span item;
    while (next_item(&text, &item)) {
        char word[16];
        enum attn_dtype t;
        if (span_str(item, word, sizeof word) != 0 || attn_dtype_parse(word, &t) != 0)
            return unknown_name("dtype", item, dtype_name, MAX, err, err_len);
        for (int i = 0; i < count; i++)
            if (list[i] == t) return harness_fail(err, err_len, "'%s' is listed twice in 'dtype'", word);
        list[count++] = t; /* distinct known names: never more than MAX */
    }
    if (count == 0) return harness_fail(err, err_len, "empty list for 'dtype'");
    memcpy(s->dtypes, list, (size_t)count * sizeof list[0]);
    s->dtype_count = count;
    return 0;
}

static int parse_shared_scales(const char *text, struct suite *s, char *err, size_t err_len)
{
    enum { MAX = sizeof s->shared_scales / sizeof s->shared_scales[0] };
    enum attn_shared_scale list[MAX];
    int count = 0;
    struct span item;
    while (next_item(&text, &item)) {
        char word[16];
        enum attn_shared_scale v;
        if (span_str(item, word, sizeof word) != 0 || attn_shared_scale_parse(word, &v) != 0)
            return unknown_name("shared_scale", item, shared_scale_name, MAX, err, err_len);
        for (int i = 0; i < count; i++)
            if (list[i] == v)
                return harness_fail(err, err_len, "'%s' is listed twice in 'shared_scale'", word);
        list[count++] = v;
    }
    if (count == 0) return harness_fail(err, err_len, "empty list for 'shared_scale'");
    memcpy(s->shared_scales, list, (size_t)count * sizeof list[0]);
    s->shared_scale_count = count;
    return 0;
}

/* A setting's single item; a message when there is none or more than one. */
static int one_item(const char *key, const char *text, struct span *item, char *err,
                    size_t err_len)
{
    if (!next_item(&text, item)) return harness_fail(err, err_len, "no value for '%s'", key);
    struct span extra;
    if (next_item(&text, &extra))
        return harness_fail(err, err_len, "'%s' takes one value, got another: '%.*s'", key, (int)extra.n,
                    extra.p);
    return 0;
}

/* reps, warmup: a number in [min, INT_MAX]. */
static int parse_count(const char *key, const char *text, int min, int *out, char *err,
                       size_t err_len)
{
    struct span item;
    int64_t v;
    if (one_item(key, text, &item, err, err_len) != 0) return -1;
    enum number_status st = parse_number(item.p, item.n, &v);
    if (st == NUMBER_BAD)
        return harness_fail(err, err_len, "'%.*s' is not a number (need an integer such as 10)",
                    (int)item.n, item.p);
    if (st == NUMBER_TOO_LARGE || v > INT_MAX)
        return harness_fail(err, err_len, "%s=%.*s (need <= %d)", key, (int)item.n, item.p, INT_MAX);
    if (v < min) return harness_fail(err, err_len, "%s=%" PRId64 " (need >= %d)", key, v, min);
    *out = (int)v;
    return 0;
}

/* Any 64-bit value: seeds are not sizes. */
static int parse_seed(const char *text, uint64_t *out, char *err, size_t err_len)
{
    struct span item;
    if (one_item("seed", text, &item, err, err_len) != 0) return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < item.n; i++) {
        if (!isdigit((unsigned char)item.p[i]))
            return harness_fail(err, err_len, "seed '%.*s' is not a number (need an integer >= 0)",
                        (int)item.n, item.p);
        unsigned digit = (unsigned)(item.p[i] - '0');
        if (v > (UINT64_MAX - digit) / 10)
            return harness_fail(err, err_len, "seed %.*s is too large (need < 2^64)", (int)item.n, item.p);
        v = v * 10 + digit;
    }
    *out = v;
    return 0;
}

static int parse_budget(const char *text, double *out, char *err, size_t err_len)
{
    struct span item;
    char word[64];
    if (one_item("budget", text, &item, err, err_len) != 0) return -1;
    char *end = word;
    double v = 0;
    if (span_str(item, word, sizeof word) == 0) v = strtod(word, &end);
    if (end == word || *end || !isfinite(v))
        return harness_fail(err, err_len, "budget '%.*s' is not a number (need seconds, e.g. 30)",
                    (int)item.n, item.p);
    if (v < 0) return harness_fail(err, err_len, "budget=%g (need >= 0 seconds; 0: no budget)", v);
    *out = v;
    return 0;
}

static int parse_name(const char *text, struct suite *s, char *err, size_t err_len)
{
    struct span item;
    if (one_item("name", text, &item, err, err_len) != 0) return -1;
    if (span_str(item, s->name, sizeof s->name) != 0)
        return harness_fail(err, err_len, "name '%.*s' is too long (at most %d characters)", (int)item.n,
                    item.p, SUITE_NAME_LEN - 1);
    return 0;
}

static int parse_backend(const char *text, struct suite *s, char *err, size_t err_len)
{
    struct span item;
    char word[16];
    enum attn_backend b;
    if (one_item("backend", text, &item, err, err_len) != 0) return -1;
    if (span_str(item, word, sizeof word) != 0 || attn_backend_parse(word, &b) != 0)
        return unknown_name("backend", item, backend_name, 2, err, err_len);
    s->backend = b;
    s->backend_set = 1;
    return 0;
}

static int set_value(struct suite *s, enum suite_key key, const char *value, char *err,
                     size_t err_len)
{
    const char *name = key_names[key];
    switch (key) {
    case KEY_NAME: return parse_name(value, s, err, err_len);
    case KEY_DESCRIBE:
        if (!*value) return harness_fail(err, err_len, "no value for 'describe'");
        if (snprintf(s->description, sizeof s->description, "%s", value) >=
            (int)sizeof s->description)
            return harness_fail(err, err_len, "description is too long (at most %zu characters)",
                        sizeof s->description - 1);
        return 0;
    case KEY_METHODS: return parse_methods(value, s, err, err_len);
    case KEY_SEQLEN: return parse_int_list(name, value, SUITE_VALUE_MAX, &s->seqlen, err, err_len);
    case KEY_B: return parse_int_list(name, value, INT_MAX, &s->B, err, err_len);
    case KEY_H: return parse_int_list(name, value, INT_MAX, &s->H, err, err_len);
    case KEY_D: return parse_int_list(name, value, INT_MAX, &s->d, err, err_len);
    case KEY_DTYPE: return parse_dtypes(value, s, err, err_len);
    case KEY_M: return parse_int_list(name, value, SUITE_VALUE_MAX, &s->m, err, err_len);
    case KEY_K: return parse_int_list(name, value, SUITE_VALUE_MAX, &s->k, err, err_len);
    case KEY_S_R: return parse_int_list(name, value, INT_MAX, &s->s_r, err, err_len);
    case KEY_SHARED_SCALE: return parse_shared_scales(value, s, err, err_len);
    case KEY_BACKEND: return parse_backend(value, s, err, err_len);
    case KEY_REPS: return parse_count(name, value, 1, &s->reps, err, err_len);
    case KEY_WARMUP: return parse_count(name, value, 0, &s->warmup, err, err_len);
    case KEY_BUDGET: return parse_budget(value, &s->budget_s, err, err_len);
    case KEY_SEED: return parse_seed(value, &s->seed, err, err_len);
    case KEY_COUNT: break;
    }
    return harness_fail(err, err_len, "internal: key %d has no parser", (int)key);
}

static const char *key_name(int i) { return key_names[i]; }

/* The key called `word`, or -1 with a message listing the known keys. */
static int find_key(const char *word, char *err, size_t err_len)
{
    for (int i = 0; i < KEY_COUNT; i++)
        if (strcmp(key_names[i], word) == 0) return i;
    return unknown_name("key", (struct span){word, strlen(word)}, key_name, KEY_COUNT, err,
                        err_len);
}

/* ---- the suite ------------------------------------------------------------ */

void suite_init_defaults(struct suite *s)
{
    static const char *const methods[] = {"full", "linear", "agent", "nystrom", "topk", "mita"};
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "default");
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        snprintf(s->methods[i].name, sizeof s->methods[i].name, "%s", methods[i]);
    s->method_count = (int)(sizeof methods / sizeof methods[0]);
    s->seqlen = (struct suite_int_axis){.values = {1024, 2048, 4096}, .count = 3};
    s->B = (struct suite_int_axis){.values = {1}, .count = 1};
    s->H = (struct suite_int_axis){.values = {8}, .count = 1};
    s->d = (struct suite_int_axis){.values = {64}, .count = 1};
    s->m = (struct suite_int_axis){.values = {64}, .count = 1};
    s->k = (struct suite_int_axis){.values = {64}, .count = 1};
    s->s_r = (struct suite_int_axis){.values = {1}, .count = 1};
    s->dtypes[0] = ATTN_FP32;
    s->dtype_count = 1;
    s->shared_scales[0] = ATTN_SHARED_OFFICIAL;
    s->shared_scale_count = 1;
    s->backend = ATTN_CPU;
    s->backend_set = 0;
    s->reps = 10;
    s->warmup = 2;
    s->budget_s = 0;
    s->seed = 1;
}

/* Applies each line of `text` to `s`, which holds the defaults. */
static int parse_lines(const char *text, const char *origin, struct suite *s, char *err,
                       size_t err_len)
{
    int seen[KEY_COUNT] = {0};
    long lineno = 0;
    for (const char *p = text; *p;) {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        char line[4096], msg[1024];
        lineno++;
        if (n >= sizeof line)
            return harness_fail(err, err_len, "%s:%ld: line is longer than %zu characters", origin,
                        lineno, sizeof line - 1);
        memcpy(line, p, n);
        line[n] = '\0';
        p += eol ? n + 1 : n;

        char *hash = strchr(line, '#');
        if (hash) *hash = '\0';
        char *word = line;
        while (isspace((unsigned char)*word)) word++;
        if (!*word) continue;
        char *value = word;
        while (*value && !isspace((unsigned char)*value)) value++;
        if (*value) *value++ = '\0';
        while (isspace((unsigned char)*value)) value++;
        for (char *end = value + strlen(value); end > value && isspace((unsigned char)end[-1]);)
            *--end = '\0';

        const int key = find_key(word, msg, sizeof msg);
        int rc = key < 0 ? -1 : 0;
        if (rc == 0 && seen[key]++) rc = harness_fail(msg, sizeof msg, "'%s' given twice", word);
        if (rc == 0) rc = set_value(s, (enum suite_key)key, value, msg, sizeof msg);
        if (rc != 0) return harness_fail(err, err_len, "%s:%ld: %s", origin, lineno, msg);
    }
    return 0;
}

int suite_parse_text(const char *text, const char *origin, struct suite *s, char *err,
                     size_t err_len)
{
    suite_init_defaults(s);
    return parse_lines(text, origin ? origin : "<text>", s, err, err_len);
}

int suite_parse_file(const char *path, struct suite *s, char *err, size_t err_len)
{
    suite_init_defaults(s);
    if (snprintf(s->path, sizeof s->path, "%s", path) >= (int)sizeof s->path)
        return harness_fail(err, err_len, "%s: path is too long (at most %zu characters)", path,
                    sizeof s->path - 1);
    /* A suite without a `name` line is called after its file: seqlen.suite is "seqlen". */
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    int stem = dot && dot != base ? (int)(dot - base) : (int)strlen(base);
    snprintf(s->name, sizeof s->name, "%.*s", stem, base);

    FILE *f = fopen(path, "rb");
    if (!f) return harness_fail(err, err_len, "%s: cannot open: %s", path, strerror(errno));
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *grown = realloc(text, cap);
            if (!grown) {
                free(text);
                fclose(f);
                return harness_fail(err, err_len, "%s: out of memory", path);
            }
            text = grown;
        }
        size_t got = fread(text + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0) break;
    }
    int read_error = ferror(f);
    fclose(f);
    text[len] = '\0';
    int rc = read_error ? harness_fail(err, err_len, "%s: cannot read", path)
                        : parse_lines(text, path, s, err, err_len);
    free(text);
    return rc;
}

int suite_set(struct suite *s, const char *key, const char *value, char *err, size_t err_len)
{
    char msg[1024];
    const int k = find_key(key, msg, sizeof msg);
    if (k < 0 || set_value(s, (enum suite_key)k, value, msg, sizeof msg) != 0)
        return harness_fail(err, err_len, "--%s '%s': %s", key, value, msg);
    return 0;
}

long suite_expand(const struct suite *s, struct sweep_point **points)
{
    /* The digits of a mixed-radix counter, outermost first: the order of suite.h. */
    enum { METHOD, DTYPE, B, H, D, M, K, S_R, SHARED_SCALE, SEQLEN, AXES };
    const int counts[AXES] = {
        [METHOD] = s->method_count, [DTYPE] = s->dtype_count, [B] = s->B.count,
        [H] = s->H.count,           [D] = s->d.count,         [M] = s->m.count,
        [K] = s->k.count,           [S_R] = s->s_r.count,     [SHARED_SCALE] = s->shared_scale_count,
        [SEQLEN] = s->seqlen.count,
    };
    long total = 1;
    for (int a = 0; a < AXES; a++) {
        if (counts[a] <= 0) total = 0;
        else if (total > LONG_MAX / (long)sizeof(struct sweep_point) / counts[a]) return -1;
        else total *= counts[a];
    }
    *points = NULL;
    if (total == 0) return 0;
    struct sweep_point *out = calloc((size_t)total, sizeof *out);
    if (!out) return -1;
    for (long i = 0; i < total; i++) {
        int at[AXES];
        long rest = i;
        for (int a = AXES - 1; a >= 0; a--) {
            at[a] = (int)(rest % counts[a]);
            rest /= counts[a];
        }
        struct sweep_point *p = &out[i];
        const struct suite_method *m = &s->methods[at[METHOD]];
        memcpy(p->method, m->name, sizeof p->method);
        memcpy(p->variant, m->variant, sizeof p->variant);
        p->problem = (struct attn_problem){
            .B = (int)s->B.values[at[B]],
            .H = (int)s->H.values[at[H]],
            .N = s->seqlen.values[at[SEQLEN]],
            .d = (int)s->d.values[at[D]],
            .dtype = s->dtypes[at[DTYPE]],
            .backend = s->backend,
            .seed = s->seed,
        };
        p->params = (struct attn_params){
            .m = s->m.values[at[M]],
            .k = s->k.values[at[K]],
            .s_r = (int)s->s_r.values[at[S_R]],
            .variant = NULL,
            .shared_scale = s->shared_scales[at[SHARED_SCALE]],
        };
        /* Until the harness looks the method up, every parameter counts, so
         * that no point loses a value it might use. */
        p->uses = ATTN_USES_M | ATTN_USES_K | ATTN_USES_S_R | ATTN_USES_SHARED_SCALE;
    }
    *points = out;
    return total;
}

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int suite_find(const char *name_or_path, char *path, size_t path_len)
{
    if (is_file(name_or_path))
        return snprintf(path, path_len, "%s", name_or_path) < (int)path_len ? 0 : -1;
    size_t n = strlen(name_or_path);
    const char *ext = n >= 6 && strcmp(name_or_path + n - 6, ".suite") == 0 ? "" : ".suite";
    const char *const folders[] = {getenv("ATTNBENCH_SUITES"), ATTN_SOURCE_DIR "/suites"};
    for (size_t i = 0; i < sizeof folders / sizeof folders[0]; i++) {
        if (!folders[i] || !*folders[i]) continue;
        int len = snprintf(path, path_len, "%s/%s%s", folders[i], name_or_path, ext);
        if (len >= 0 && (size_t)len < path_len && is_file(path)) return 0;
    }
    return -1;
}
