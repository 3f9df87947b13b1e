/* suite.c — the `.suite` format, command-line overrides of its keys, the
 * expansion of a suite into sweep points, and where suites are found.
 *
 * A file and the command line share one path: every key is set by
 * set_value(), which writes a bare message on error; the caller prefixes it
 * with "PATH:LINE: " or "--key 'value': ". A failed set_value() leaves the
 * suite as it was. */
#include "sweep/suite.h"
#include "core/errors.h"
#include "core/stats.h"
#include "core/text_file.h"

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

/* No sweep comes near 2^40 tokens: core/axes.c says why. */
#define SUITE_VALUE_MAX (INT64_C(1) << 40)

#define NUMBER_SYNTAX "need an integer such as 64 or 2^10, or a doubling range such as 2^10..2^14"

/* The keys of a suite file: the name and description, the methods, every
 * axis of core/axes.h, then the settings. A key is an index into this
 * order; the axes' keys come from their table. */
enum { KEY_NAME, KEY_DESCRIBE, KEY_METHODS, KEY_AXIS0 };
enum {
    KEY_BACKEND = KEY_AXIS0 + AXIS_COUNT, KEY_REPS, KEY_WARMUP, KEY_BUDGET, KEY_TIMEOUT, KEY_SEED,
    KEY_MAX_NOISE, KEY_MIN_SAMPLES, KEY_MAX_SAMPLES, KEY_MIN_TIME, KEY_TIMING, KEY_ZIP, KEY_VERIFY,
    KEY_COUNT
};

static const char *key_name(int key)
{
    static const char *const fixed[] = {"name", "describe", "methods"};
    static const char *const settings[] = {"backend",     "reps",        "warmup",
                                           "budget",      "timeout",     "seed",
                                           "max_noise",   "min_samples", "max_samples",
                                           "min_time",    "timing",      "zip",
                                           "verify"};
    if (key < KEY_AXIS0) return fixed[key];
    if (key < KEY_BACKEND) return AXES[key - KEY_AXIS0].key;
    return settings[key - KEY_BACKEND];
}

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
        if (v > SUITE_VALUE_MAX / base) return NUMBER_TOO_LARGE; /* before it could overflow */
        v *= base;
    }
    *out = v;
    return NUMBER_OK;
}

/* An integer list into `out` (untouched on error): values in [1, max],
 * each at most once. `key` names the list in messages. */
static int parse_int_list(const char *key, const char *text, int64_t max,
                          struct suite_values *out, char *err, size_t err_len)
{
    struct suite_values list = {.count = 0};
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

int suite_parse_int_list(const char *text, struct suite_values *out, char *err, size_t err_len)
{
    return parse_int_list("value", text, SUITE_VALUE_MAX, out, err, err_len);
}

static int parse_axis_values(const struct axis *axis, const char *text, struct suite_values *out,
                             char *err, size_t err_len);

/* The `@axis=v+v` of a methods entry (`at`: the text after '@') into m. */
static int parse_only(struct span item, struct span at, struct suite_method *m, char *err,
                      size_t err_len)
{
    const char *eq = memchr(at.p, '=', at.n);
    char key[SUITE_NAME_LEN], values[512];
    const struct axis *axis = NULL;
    if (eq && span_str((struct span){at.p, (size_t)(eq - at.p)}, key, sizeof key) == 0)
        axis = axis_find(key);
    if (!eq || !axis || strcmp(axis->key, key) != 0 || eq + 1 == at.p + at.n ||
        span_str((struct span){eq + 1, (size_t)(at.p + at.n - eq - 1)}, values, sizeof values) != 0)
        return harness_fail(err, err_len,
                            "'%.*s': need name:variant@axis=value+value after '@' (an axis key "
                            "such as d, dtype or seqlen; e.g. full:flash_wgmma_bn80@d=256)",
                            (int)item.n, item.p);
    for (char *c = values; *c; c++)
        if (*c == '+') *c = ' ';
    struct suite_values list;
    char msg[256];
    if (parse_axis_values(axis, values, &list, msg, sizeof msg) != 0)
        return harness_fail(err, err_len, "'%.*s': %s", (int)item.n, item.p, msg);
    m->only_set = 1;
    m->only_axis = (int)(axis - AXES);
    m->only_count = list.count;
    memcpy(m->only, list.values, (size_t)list.count * sizeof list.values[0]);
    return 0;
}

static int parse_methods(const char *text, struct suite *s, char *err, size_t err_len)
{
    struct suite_method list[SUITE_MAX_VALUES];
    int count = 0;
    struct span whole;
    while (next_item(&text, &whole)) {
        /* name:variant, then what restricts it (@axis=values) */
        const char *at = memchr(whole.p, '@', whole.n);
        const struct span item = {whole.p, at ? (size_t)(at - whole.p) : whole.n};
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
        memset(m, 0, sizeof *m);
        if (span_str(name, m->name, sizeof m->name) != 0 ||
            span_str(variant, m->variant, sizeof m->variant) != 0)
            return harness_fail(err, err_len, "'%.*s' is too long (at most %d characters a part)",
                        (int)item.n, item.p, SUITE_NAME_LEN - 1);
        if (at && parse_only(whole, (struct span){at + 1, (size_t)(whole.p + whole.n - at - 1)}, m,
                             err, err_len) != 0)
            return -1;
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

static const char *backend_name(int i) { return attn_backend_name((enum attn_backend)i); }

/* "unknown backend 'tpu' (known: cpu, cuda)" */
static int unknown_name(const char *key, struct span item, const char *(*name)(int), int count,
                        char *err, size_t err_len)
{
    int n = snprintf(err, err_len, "unknown %s '%.*s' (known:", key, (int)item.n, item.p);
    for (int i = 0; i < count && n >= 0 && (size_t)n < err_len; i++)
        n += snprintf(err + n, err_len - (size_t)n, "%s %s", i ? "," : "", name(i));
    if (n >= 0 && (size_t)n < err_len) snprintf(err + n, err_len - (size_t)n, ")");
    return -1;
}

/* A list of a named axis's values ("bf16 fp16") into `out` (untouched on
 * error), each at most once. */
static int parse_named_list(const struct axis *axis, const char *text, struct suite_values *out,
                            char *err, size_t err_len)
{
    struct suite_values list = {.count = 0};
    struct span item;
    while (next_item(&text, &item)) {
        char word[POINT_TEXT_LEN];
        int64_t v;
        if (span_str(item, word, sizeof word) != 0)
            return harness_fail(err, err_len, "'%.20s...' is too long for '%s' (at most %zu characters)",
                                item.p, axis->key, sizeof word - 1);
        if (axis_parse_name(axis, word, &v, err, err_len) != 0) return -1;
        for (int i = 0; i < list.count; i++)
            if (list.values[i] == v)
                return harness_fail(err, err_len, "'%s' is listed twice in '%s'", word, axis->key);
        if (list.count == SUITE_MAX_VALUES) /* a text axis's words are not a closed list */
            return harness_fail(err, err_len, "more than %d values for '%s'", SUITE_MAX_VALUES,
                                axis->key);
        list.values[list.count++] = v;
    }
    if (list.count == 0) return harness_fail(err, err_len, "empty list for '%s'", axis->key);
    *out = list;
    return 0;
}

/* An axis's list, as its suite line gives it: names, or integers and ranges. */
static int parse_axis_values(const struct axis *axis, const char *text, struct suite_values *out,
                             char *err, size_t err_len)
{
    return axis->name_of ? parse_named_list(axis, text, out, err, err_len)
                         : parse_int_list(axis->key, text, axis->max, out, err, err_len);
}

/* An axis's values as a suite file writes them, `sep` between them. */
static void write_values(FILE *f, const struct axis *a, const int64_t *values, int count, char sep)
{
    for (int i = 0; i < count; i++) {
        if (i) fputc(sep, f);
        if (a->name_of) fputs(a->name_of(values[i]), f);
        else fprintf(f, "%" PRId64, values[i]);
    }
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

/* reps, warmup, min_samples, max_samples: a number in [min, max]. */
static int parse_count(const char *key, const char *text, int min, int max, int *out, char *err,
                       size_t err_len)
{
    struct span item;
    int64_t v;
    if (one_item(key, text, &item, err, err_len) != 0) return -1;
    enum number_status st = parse_number(item.p, item.n, &v);
    if (st == NUMBER_BAD)
        return harness_fail(err, err_len, "'%.*s' is not a number (need an integer such as 10)",
                    (int)item.n, item.p);
    if (st == NUMBER_TOO_LARGE || v > max)
        return harness_fail(err, err_len, "%s=%.*s (need <= %d)", key, (int)item.n, item.p, max);
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

/* A number of one item, in [0, +inf): seconds (budget, timeout, min_time) or a
 * percentage (max_noise, which may end in '%'). `unit` says which in messages. */
static int parse_amount(const char *key, const char *text, const char *unit, double *out,
                        char *err, size_t err_len)
{
    struct span item;
    char word[64];
    if (one_item(key, text, &item, err, err_len) != 0) return -1;
    char *end = word;
    double v = 0;
    if (span_str(item, word, sizeof word) == 0) v = strtod(word, &end);
    if (end != word && *end == '%' && !strcmp(unit, "percent")) end++;
    if (end == word || *end || !isfinite(v))
        return harness_fail(err, err_len, "%s '%.*s' is not a number (need %s, e.g. %s)", key,
                            (int)item.n, item.p, unit, !strcmp(unit, "percent") ? "1%" : "30");
    if (v < 0) return harness_fail(err, err_len, "%s=%g (need >= 0 %s; 0: none)", key, v, unit);
    *out = v;
    return 0;
}

static int parse_timing(const char *text, struct suite *s, char *err, size_t err_len)
{
    struct span item;
    char word[16];
    if (one_item("timing", text, &item, err, err_len) != 0) return -1;
    for (int i = 0; i < TIMING_MODE_COUNT; i++)
        if (span_str(item, word, sizeof word) == 0 && !strcmp(word, timing_mode_name(i))) {
            s->timing = (enum timing_mode)i;
            return 0;
        }
    return harness_fail(err, err_len, "unknown timing '%.*s' (known: events, graph)", (int)item.n,
                        item.p);
}

/* `verify yes|no`: every point's output against the reference (run --verify). */
static int parse_verify(const char *text, struct suite *s, char *err, size_t err_len)
{
    struct span item;
    char word[8];
    if (one_item("verify", text, &item, err, err_len) != 0) return -1;
    if (span_str(item, word, sizeof word) == 0 && (!strcmp(word, "yes") || !strcmp(word, "no"))) {
        s->verify = !strcmp(word, "yes");
        return 0;
    }
    return harness_fail(err, err_len, "verify '%.*s': need yes or no", (int)item.n, item.p);
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

/* `zip seqlen+B H+d`: each item a group of axes joined by '+' that take their
 * i-th values together (suite_expand). Replaces the groups given before. */
static int parse_zip(const char *text, struct suite *s, char *err, size_t err_len)
{
    int zip[AXIS_COUNT] = {0}, groups = 0;
    struct span item;
    for (const char *cursor = text; next_item(&cursor, &item);) {
        groups++;
        int members = 0;
        for (size_t at = 0; at < item.n;) {
            size_t n = 0;
            while (at + n < item.n && item.p[at + n] != '+') n++;
            char name[SUITE_NAME_LEN];
            const struct axis *axis = NULL;
            if (n > 0 && n < sizeof name) {
                memcpy(name, item.p + at, n);
                name[n] = '\0';
                axis = axis_find(name);
            }
            if (!axis)
                return harness_fail(err, err_len, "zip: '%.*s' is not an axis (a group is axes "
                                    "joined by '+', such as seqlen+B)", (int)n, item.p + at);
            const int a = (int)(axis - AXES);
            if (zip[a])
                return harness_fail(err, err_len, "zip: %s is in more than one group, or twice "
                                    "in one", axis->key);
            zip[a] = groups;
            members++;
            at += n + 1;
        }
        if (members < 2)
            return harness_fail(err, err_len, "zip: '%.*s' is one axis; a group joins two or "
                                "more, such as seqlen+B", (int)item.n, item.p);
    }
    if (!groups) return harness_fail(err, err_len, "no value for 'zip'");
    memcpy(s->zip, zip, sizeof zip);
    return 0;
}

static int set_value(struct suite *s, int key, const char *value, char *err, size_t err_len)
{
    if (key >= KEY_AXIS0 && key < KEY_BACKEND)
        return parse_axis_values(&AXES[key - KEY_AXIS0], value, &s->axes[key - KEY_AXIS0], err,
                                 err_len);
    const char *name = key_name(key);
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
    case KEY_BACKEND: return parse_backend(value, s, err, err_len);
    /* A row keeps every sample: at most STATS_MAX_SAMPLES of them. */
    case KEY_REPS: return parse_count(name, value, 1, STATS_MAX_SAMPLES, &s->reps, err, err_len);
    case KEY_WARMUP: return parse_count(name, value, 0, INT_MAX, &s->warmup, err, err_len);
    case KEY_BUDGET: return parse_amount(name, value, "seconds", &s->budget_s, err, err_len);
    case KEY_TIMEOUT: return parse_amount(name, value, "seconds", &s->timeout_s, err, err_len);
    case KEY_SEED: return parse_seed(value, &s->seed, err, err_len);
    case KEY_MAX_NOISE: return parse_amount(name, value, "percent", &s->max_noise_pct, err, err_len);
    case KEY_MIN_SAMPLES:
        return parse_count(name, value, 1, STATS_MAX_SAMPLES, &s->min_samples, err, err_len);
    case KEY_MAX_SAMPLES:
        return parse_count(name, value, 1, STATS_MAX_SAMPLES, &s->max_samples, err, err_len);
    case KEY_MIN_TIME: return parse_amount(name, value, "seconds", &s->min_time_s, err, err_len);
    case KEY_TIMING: return parse_timing(value, s, err, err_len);
    case KEY_ZIP: return parse_zip(value, s, err, err_len);
    case KEY_VERIFY: return parse_verify(value, s, err, err_len);
    }
    return harness_fail(err, err_len, "internal: key %d has no parser", key);
}

/* The key called `word`, or -1 with a message listing the known keys. */
static int find_key(const char *word, char *err, size_t err_len)
{
    for (int i = 0; i < KEY_COUNT; i++)
        if (strcmp(key_name(i), word) == 0) return i;
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
    const struct suite_values one = {.count = 1}; /* a single 0: fp32, official */
    for (int i = 0; i < AXIS_COUNT; i++) s->axes[i] = one;
    s->axes[AXIS_N] = (struct suite_values){.values = {1024, 2048, 4096}, .count = 3};
    s->axes[AXIS_B].values[0] = 1;
    s->axes[AXIS_H].values[0] = 8;
    s->axes[AXIS_D].values[0] = 64;
    s->axes[AXIS_M].values[0] = 64;
    s->axes[AXIS_K].values[0] = 64;
    s->axes[AXIS_S_R].values[0] = 1;
    s->axes[AXIS_DTYPE].values[0] = ATTN_FP32;
    s->axes[AXIS_SHARED_SCALE].values[0] = ATTN_SHARED_OFFICIAL;
    s->backend = ATTN_CPU;
    s->backend_set = 0;
    s->reps = 10;
    s->warmup = 2;
    s->budget_s = 0;
    s->timeout_s = 0;
    s->max_noise_pct = 0;
    s->min_samples = TIMING_MIN_SAMPLES;
    s->max_samples = STATS_MAX_SAMPLES;
    s->min_time_s = 0;
    s->timing = TIMING_EVENTS;
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
        if (rc == 0) rc = set_value(s, key, value, msg, sizeof msg);
        if (rc != 0) return harness_fail(err, err_len, "%s:%ld: %s", origin, lineno, msg);
    }
    /* Every other key has a default; the methods are the one choice a suite
     * cannot leave to them (an empty file ran every method unasked). */
    if (!seen[KEY_METHODS]) {
        int any = 0;
        for (int k = 0; k < KEY_COUNT; k++) any |= seen[k];
        return harness_fail(err, err_len,
                    "%s: %s: a suite names the methods it runs, e.g. 'methods full linear mita' "
                    "(the other keys have defaults: README.md, \"Suite files\")",
                    origin, any ? "no 'methods' line" : "the suite is empty");
    }
    char msg[1024];
    if (suite_check(s, msg, sizeof msg) != 0)
        return harness_fail(err, err_len, "%s: %s", origin, msg);
    /* A method restricted to values the file's axis does not list would have no
     * point (a typo: @d=265); one left without points by a flag (--d 64) is not
     * an error. */
    for (int i = 0; i < s->method_count; i++) {
        const struct suite_method *m = &s->methods[i];
        int any = !m->only_set;
        for (int v = 0; v < m->only_count && !any; v++)
            for (int j = 0; j < s->axes[m->only_axis].count; j++)
                any |= s->axes[m->only_axis].values[j] == m->only[v];
        if (!any) {
            const struct axis *a = &AXES[m->only_axis];
            char listed[256] = "";
            FILE *lf = fmemopen(listed, sizeof listed, "w");
            if (lf) {
                write_values(lf, a, s->axes[m->only_axis].values, s->axes[m->only_axis].count, ' ');
                fclose(lf);
            }
            return harness_fail(err, err_len,
                                "%s: methods: %s%s%s runs only at %s values the suite does not "
                                "list (its %s: %s), so it would have no point",
                                origin, m->name, m->variant[0] ? ":" : "", m->variant, a->key,
                                a->key, listed);
        }
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

    char *text = NULL;
    size_t len = 0;
    if (read_text_file(path, &text, &len, err, err_len) != 0) return -1;
    int rc = parse_lines(text, path, s, err, err_len);
    free(text);
    return rc;
}

int suite_set(struct suite *s, const char *key, const char *value, char *err, size_t err_len)
{
    char msg[1024];
    const int k = find_key(key, msg, sizeof msg);
    if (k < 0 || set_value(s, k, value, msg, sizeof msg) != 0)
        return harness_fail(err, err_len, "--%s '%s': %s", key, value, msg);
    return 0;
}

const char *suite_flag_key(const char *flag)
{
    /* --max-noise and --max_noise alike: a dash in a flag is a key's '_'. */
    char key[SUITE_NAME_LEN];
    if (strncmp(flag, "--", 2) != 0 || strlen(flag + 2) >= sizeof key) return NULL;
    for (size_t i = 0; i <= strlen(flag + 2); i++) key[i] = flag[2 + i] == '-' ? '_' : flag[2 + i];
    for (int k = KEY_METHODS; k < KEY_COUNT; k++)
        if (strcmp(key, key_name(k)) == 0) return key_name(k);
    return NULL;
}

int suite_check(const struct suite *s, char *err, size_t err_len)
{
    for (int a = 0; a < AXIS_COUNT; a++)
        for (int b = a + 1; b < AXIS_COUNT; b++)
            if (s->zip[a] && s->zip[a] == s->zip[b] && s->axes[a].count != s->axes[b].count)
                return harness_fail(err, err_len, "%s and %s are zipped (they take their i-th "
                                    "values together) but %s has %d value%s and %s %d",
                                    AXES[a].key, AXES[b].key, AXES[a].key, s->axes[a].count,
                                    s->axes[a].count == 1 ? "" : "s", AXES[b].key,
                                    s->axes[b].count);
    return 0;
}

/* lead[a]: the axis whose counter digit axis a follows: a itself, or for a
 * zipped axis the last of its group in `order` (so that N, zipped, stays
 * the innermost digit). */
static void zip_leads(const struct suite *s, const int *order, int *lead)
{
    for (int a = 0; a < AXIS_COUNT; a++) {
        lead[a] = a;
        for (int o = 0; o < AXIS_COUNT; o++)
            if (s->zip[a] && s->zip[order[o]] == s->zip[a]) lead[a] = order[o];
    }
}

/* 1 when the method runs at the point: unrestricted, or the point's value of
 * its axis is one of its values. */
static int method_runs_at(const struct suite_method *m, const struct sweep_point *p)
{
    if (!m->only_set) return 1;
    const int64_t v = AXES[m->only_axis].get(p);
    for (int i = 0; i < m->only_count; i++)
        if (m->only[i] == v) return 1;
    return 0;
}

long suite_expand(const struct suite *s, struct sweep_point **points)
{
    /* The digits of a mixed-radix counter, outermost first: the methods,
     * the axes in table order, and the x axis (N) innermost, so that each
     * (method, shape) series runs N in ascending order. A zipped group is
     * one digit: its lead's. */
    int order[AXIS_COUNT], n_order = 0;
    for (int a = 0; a < AXIS_COUNT; a++)
        if (!AXES[a].is_x) order[n_order++] = a;
    for (int a = 0; a < AXIS_COUNT; a++)
        if (AXES[a].is_x) order[n_order++] = a;
    int lead[AXIS_COUNT];
    zip_leads(s, order, lead);
    long total = s->method_count > 0 ? s->method_count : 0;
    for (int a = 0; a < AXIS_COUNT && total > 0; a++) {
        int count = s->axes[a].count;
        if (lead[a] != a) continue; /* the lead's digit counts for it */
        if (count <= 0) total = 0;
        else if (total > LONG_MAX / (long)sizeof(struct sweep_point) / count) return -1;
        else total *= count;
    }
    *points = NULL;
    if (total == 0) return 0;
    struct sweep_point *out = calloc((size_t)total, sizeof *out);
    if (!out) return -1;
    long kept = 0; /* the points of restricted methods (name@axis=...) off their values are not */
    for (long i = 0; i < total; i++) {
        struct sweep_point *p = &out[kept];
        memset(p, 0, sizeof *p);
        long rest = i;
        for (int o = AXIS_COUNT - 1; o >= 0; o--) {
            const int digit_axis = order[o];
            if (lead[digit_axis] != digit_axis) continue;
            const long digit = rest % s->axes[digit_axis].count;
            for (int a = 0; a < AXIS_COUNT; a++)
                if (lead[a] == digit_axis) AXES[a].set(p, s->axes[a].values[digit]);
            rest /= s->axes[digit_axis].count;
        }
        const struct suite_method *m = &s->methods[rest];
        memcpy(p->method, m->name, sizeof p->method);
        memcpy(p->variant, m->variant, sizeof p->variant);
        p->problem.backend = s->backend;
        p->problem.seed = s->seed;
        /* Until the harness looks the method up, every parameter counts, so
         * that no point loses a value it might use. */
        p->uses = ATTN_USES_M | ATTN_USES_K | ATTN_USES_S_R | ATTN_USES_SHARED_SCALE |
                  ATTN_USES_GATHER;
        kept += method_runs_at(m, p);
    }
    if (kept == 0) {
        free(out);
        return 0;
    }
    *points = out;
    return kept;
}

void suite_write(FILE *f, const struct suite *s)
{
    fprintf(f, "name         %s\n", s->name);
    if (s->description[0]) fprintf(f, "describe     %s\n", s->description);
    fprintf(f, "methods     ");
    for (int i = 0; i < s->method_count; i++) {
        const struct suite_method *m = &s->methods[i];
        fprintf(f, " %s%s%s", m->name, m->variant[0] ? ":" : "", m->variant);
        if (m->only_set) {
            fprintf(f, "@%s=", AXES[m->only_axis].key);
            write_values(f, &AXES[m->only_axis], m->only, m->only_count, '+');
        }
    }
    fputc('\n', f);
    for (int a = 0; a < AXIS_COUNT; a++) {
        fprintf(f, "%-12s ", AXES[a].key);
        write_values(f, &AXES[a], s->axes[a].values, s->axes[a].count, ' ');
        fputc('\n', f);
    }
    if (s->backend_set) fprintf(f, "backend      %s\n", attn_backend_name(s->backend));
    fprintf(f, "reps         %d\nwarmup       %d\nbudget       %.17g\ntimeout      %.17g\n"
               "seed         %" PRIu64 "\n",
            s->reps, s->warmup, s->budget_s, s->timeout_s, s->seed);
    fprintf(f, "max_noise    %.17g\nmin_samples  %d\nmax_samples  %d\nmin_time     %.17g\n"
               "timing       %s\n",
            s->max_noise_pct, s->min_samples, s->max_samples, s->min_time_s,
            timing_mode_name(s->timing));
    int groups = 0;
    for (int a = 0; a < AXIS_COUNT; a++) groups = s->zip[a] > groups ? s->zip[a] : groups;
    if (groups) fprintf(f, "zip         ");
    for (int g = 1; g <= groups; g++) {
        const char *join = " ";
        for (int a = 0; a < AXIS_COUNT; a++)
            if (s->zip[a] == g) fprintf(f, "%s%s", join, AXES[a].key), join = "+";
    }
    if (groups) fputc('\n', f);
    /* Written only when set: a suite without it hashes as before. */
    if (s->verify) fprintf(f, "verify       yes\n");
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
