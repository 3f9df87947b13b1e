/* merge.c — joining shards' results files (see merge.h). */
#include "sweep/merge.h"
#include "core/errors.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "results/csv.h"

/* At most this many lines for one kind of problem; then a count. */
#define REPORT_LIMIT 20

static int column_count(const char *const *names)
{
    int n = 0;
    while (names[n]) n++;
    return n;
}

/* The first column where `t`'s header differs from `want` (the header of
 * `want_origin`), as "PATH: header differs from ORIGIN at column 7 ('N' vs
 * 'd')". */
static int check_header(const char *path, const struct csv_table *t, const char *const *want,
                        int want_count, const char *want_origin, char *err, size_t err_len)
{
    int n = t->ncols > want_count ? t->ncols : want_count;
    for (int c = 0; c < n; c++) {
        const char *got = c < t->ncols ? t->header[c] : "(none)";
        const char *expected = c < want_count ? want[c] : "(none)";
        if (strcmp(got, expected) != 0)
            return harness_fail(err, err_len, "%s: header differs from %s at column %d ('%s' vs '%s')",
                        path, want_origin, c + 1, got, expected);
    }
    return 0;
}

static int check_our_header(const char *path, const struct csv_table *t, char *err,
                            size_t err_len)
{
    return check_header(path, t, csv_columns(), column_count(csv_columns()),
                        "the header this attnbench writes", err, err_len);
}

int merge_check_rows(const char *path, const struct csv_table *t, const char *suite_hash,
                     char *err, size_t err_len)
{
    if (t->ncols == 0) return 0; /* a new file: nothing to agree with */
    int rc = check_our_header(path, t, err, err_len);
    int hash = csv_column(t, "suite_hash");
    for (long r = 0; r < t->nrows && rc == 0; r++)
        if (strcmp(t->rows[r][hash], suite_hash) != 0)
            rc = harness_fail(err, err_len,
                      "%s, row %ld: suite_hash %s, but this run's is %s (rows of another suite "
                      "definition: write to another file)",
                      path, r + 1, t->rows[r][hash], suite_hash);
    return rc;
}


/* ---- the rows -------------------------------------------------------------- */

struct row_ref {
    int input;
    long row;
    char key[CSV_KEY_LEN];
    long plan_index;           /* the point's place in the suite; LONG_MAX when unknown */
};

static int by_key(const void *a, const void *b)
{
    const struct row_ref *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c) return c;
    if (x->input != y->input) return x->input - y->input;
    return (x->row > y->row) - (x->row < y->row);
}

static int by_output_order(const void *a, const void *b)
{
    const struct row_ref *x = a, *y = b;
    if (x->plan_index != y->plan_index) return x->plan_index < y->plan_index ? -1 : 1;
    if (x->input != y->input) return x->input - y->input;
    return (x->row > y->row) - (x->row < y->row);
}

/* The suite's points' keys, sorted, with their order in the suite and
 * whether the output must hold them (those of the shard asked for). */
struct plan_key {
    char key[CSV_KEY_LEN];
    long index;
    int expected;
};

static int plan_key_cmp(const void *a, const void *b)
{
    return strcmp(((const struct plan_key *)a)->key, ((const struct plan_key *)b)->key);
}

/* Writes the rows in `order` under our header to a temporary file, then
 * renames it over `path`: a reader never sees half a merge. */
static int write_output(const char *path, struct csv_table *tables, const struct row_ref *order,
                        long count, char *err, size_t err_len)
{
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.merging-%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) return harness_fail(err, err_len, "%s: cannot write: %s", tmp, strerror(errno));
    const int ncols = column_count(csv_columns());
    for (int c = 0; c < ncols; c++) {
        if (c) fputc(',', f);
        csv_write_field(f, csv_columns()[c]);
    }
    fputc('\n', f);
    for (long i = 0; i < count; i++) {
        char **cells = tables[order[i].input].rows[order[i].row];
        for (int c = 0; c < ncols; c++) {
            if (c) fputc(',', f);
            csv_write_field(f, cells[c]);
        }
        fputc('\n', f);
    }
    int bad = ferror(f);
    if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return harness_fail(err, err_len, "%s: cannot write: %s", path, strerror(e));
    }
    return 0;
}

static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

/* ---- merging ----------------------------------------------------------------- */

struct merge_state {
    const struct merge_options *opt;
    FILE *report;
    struct csv_table *tables;
    struct row_ref *refs;
    long nrefs;
    struct plan_key *suite_keys; /* NULL without a suite */
    long nsuite_keys;
    char suite_hash[17];        /* of the first row */
    const char *hash_origin;    /* its file */
    struct shard_spec split;    /* the N of the rows' "I/N" labels */
    char *shard_seen;           /* [split.count] */
};

/* Same suite_hash and the same split on every row. 0, or 2 with a message. */
static int check_rows(struct merge_state *ms)
{
    const struct merge_options *opt = ms->opt;
    char err[1024];
    for (int i = 0; i < opt->input_count; i++) {
        const struct csv_table *t = &ms->tables[i];
        const int hash = csv_column(t, "suite_hash"), shard = csv_column(t, "shard");
        for (long r = 0; r < t->nrows; r++) {
            const char *h = t->rows[r][hash];
            if (!ms->hash_origin) {
                snprintf(ms->suite_hash, sizeof ms->suite_hash, "%s", h);
                ms->hash_origin = opt->inputs[i];
            } else if (strcmp(h, ms->suite_hash) != 0) {
                fprintf(ms->report,
                        "merge: %s, row %ld: suite_hash %s differs from %s's %s (shards of "
                        "different suite definitions: methods, axes or settings)\n",
                        opt->inputs[i], r + 1, h, ms->hash_origin, ms->suite_hash);
                return 2;
            }
            struct shard_spec spec;
            if (shard_parse(t->rows[r][shard], &spec, err, sizeof err) != 0) {
                fprintf(ms->report, "merge: %s, row %ld: %s\n", opt->inputs[i], r + 1, err);
                return 2;
            }
            if (!ms->split.count) {
                ms->split = spec;
                ms->shard_seen = calloc((size_t)spec.count, 1);
                if (!ms->shard_seen) {
                    fprintf(ms->report, "merge: out of memory\n");
                    return 2;
                }
            } else if (spec.count != ms->split.count) {
                fprintf(ms->report,
                        "merge: %s, row %ld: shard %s is of a split into %d, other rows of %d "
                        "(shards of different runs)\n",
                        opt->inputs[i], r + 1, t->rows[r][shard], spec.count, ms->split.count);
                return 2;
            }
            ms->shard_seen[spec.index - 1] = 1;
        }
    }
    return 0;
}

/* The suite's points, when a suite is given: their order, and which the
 * output must hold. 0, or 2 with a message (the rows are of another
 * definition). */
static int load_suite_keys(struct merge_state *ms)
{
    const struct merge_options *opt = ms->opt;
    if (!opt->suite) return 0;
    enum attn_backend backend = opt->suite->backend;
    if (!opt->suite->backend_set && ms->nrefs > 0) {
        const struct row_ref *first = &ms->refs[0];
        const struct csv_table *t = &ms->tables[first->input];
        attn_backend_parse(t->rows[first->row][csv_column(t, "backend")], &backend);
    }
    struct sweep_plan plan;
    int *shard_of = NULL;
    if (sweep_plan_build(opt->suite, backend, &plan) != 0 ||
        !(shard_of = calloc(plan.count ? (size_t)plan.count : 1, sizeof *shard_of)) ||
        (opt->shard.count > 1 && sweep_plan_assign(&plan, opt->shard.count, shard_of) != 0)) {
        sweep_plan_free(&plan);
        free(shard_of);
        fprintf(ms->report, "merge: out of memory\n");
        return 2;
    }
    if (ms->hash_origin && strcmp(plan.suite_hash, ms->suite_hash) != 0) {
        fprintf(ms->report,
                "merge: %s: suite_hash %s, but suite %s as given resolves to %s on %s (the rows "
                "are of another suite definition)\n",
                ms->hash_origin, ms->suite_hash, opt->suite->name, plan.suite_hash,
                attn_backend_name(backend));
        sweep_plan_free(&plan);
        free(shard_of);
        return 2;
    }
    ms->suite_keys = calloc(plan.count ? (size_t)plan.count : 1, sizeof *ms->suite_keys);
    if (!ms->suite_keys) {
        fprintf(ms->report, "merge: out of memory\n");
        sweep_plan_free(&plan);
        free(shard_of);
        return 2;
    }
    const int wanted = opt->shard.count > 1 ? opt->shard.index - 1 : 0;
    for (long i = 0; i < plan.count; i++) {
        struct plan_key *k = &ms->suite_keys[i];
        csv_point_key(&plan.points[i], k->key, sizeof k->key);
        k->index = i;
        k->expected = shard_of[i] == wanted;
    }
    ms->nsuite_keys = plan.count;
    qsort(ms->suite_keys, (size_t)ms->nsuite_keys, sizeof *ms->suite_keys, plan_key_cmp);
    sweep_plan_free(&plan);
    free(shard_of);
    return 0;
}

/* Reports points measured more than once; returns how many rows repeat a
 * point. `refs` is sorted by key. */
static long report_duplicates(struct merge_state *ms)
{
    long duplicates = 0;
    for (long i = 1; i < ms->nrefs; i++) {
        const struct row_ref *a = &ms->refs[i - 1], *b = &ms->refs[i];
        if (strcmp(a->key, b->key) != 0) continue;
        if (duplicates++ < REPORT_LIMIT)
            fprintf(ms->report, "merge: %s, row %ld: point (%s) is also in %s, row %ld\n",
                    ms->opt->inputs[b->input], b->row + 1, b->key, ms->opt->inputs[a->input],
                    a->row + 1);
    }
    if (duplicates > REPORT_LIMIT)
        fprintf(ms->report, "merge: ... and %ld more duplicated rows\n", duplicates - REPORT_LIMIT);
    return duplicates;
}

/* Reports the expected points that no row has; without a suite, the shards
 * that have no rows at all. */
static long report_missing(struct merge_state *ms)
{
    long missing = 0;
    for (long e = 0; e < ms->nsuite_keys; e++) {
        if (!ms->suite_keys[e].expected) continue;
        struct row_ref probe;
        memcpy(probe.key, ms->suite_keys[e].key, sizeof probe.key);
        probe.input = -1;
        probe.row = -1;
        /* The first ref with this key sorts at or after the probe. */
        long lo = 0, hi = ms->nrefs;
        while (lo < hi) {
            long mid = (lo + hi) / 2;
            if (by_key(&ms->refs[mid], &probe) < 0) lo = mid + 1;
            else hi = mid;
        }
        if (lo < ms->nrefs && strcmp(ms->refs[lo].key, probe.key) == 0) continue;
        if (missing++ < REPORT_LIMIT)
            fprintf(ms->report, "merge: missing point (%s)\n", probe.key);
    }
    if (missing > REPORT_LIMIT)
        fprintf(ms->report, "merge: ... and %ld more missing points\n", missing - REPORT_LIMIT);
    if (ms->suite_keys) return missing; /* exact: the shard labels add nothing */
    for (int s = 0; s < ms->split.count; s++)
        if (!ms->shard_seen[s]) {
            fprintf(ms->report, "merge: no rows of shard %d/%d (its file not given, or it did "
                                "not run)\n", s + 1, ms->split.count);
            missing++;
        }
    return missing;
}

/* Each row's place in the output: the suite's order when known. */
static void set_plan_order(struct merge_state *ms)
{
    for (long i = 0; i < ms->nrefs; i++) {
        struct plan_key probe;
        memcpy(probe.key, ms->refs[i].key, sizeof probe.key);
        const struct plan_key *hit =
            ms->suite_keys ? bsearch(&probe, ms->suite_keys, (size_t)ms->nsuite_keys,
                                     sizeof *ms->suite_keys, plan_key_cmp)
                           : NULL;
        ms->refs[i].plan_index = hit ? hit->index : LONG_MAX;
    }
}

static int merge_loaded(struct merge_state *ms)
{
    const struct merge_options *opt = ms->opt;
    char err[1200];
    for (int i = 0; i < opt->input_count; i++) {
        struct csv_table *t = &ms->tables[i];
        /* A file of an earlier attnbench is read under our header. */
        char added[1024], why[1200];
        if (check_our_header(opt->inputs[i], t, err, sizeof err) != 0 &&
            csv_table_to_current(opt->inputs[i], t, added, sizeof added, why, sizeof why) == 0)
            fprintf(ms->report, "merge: %s: written by an earlier attnbench: its rows read under "
                                "this one's header (added, empty: %s)\n",
                    opt->inputs[i], added[0] ? added : "none");
        int rc = i == 0 ? check_our_header(opt->inputs[0], t, err, sizeof err)
                        : check_header(opt->inputs[i], t, (const char *const *)ms->tables[0].header,
                                       ms->tables[0].ncols, opt->inputs[0], err, sizeof err);
        if (rc != 0) {
            fprintf(ms->report, "merge: %s\n", err);
            return 2;
        }
        ms->nrefs += t->nrows;
    }
    int rc = check_rows(ms);
    if (rc) return rc;

    ms->refs = calloc(ms->nrefs ? (size_t)ms->nrefs : 1, sizeof *ms->refs);
    if (!ms->refs) {
        fprintf(ms->report, "merge: out of memory\n");
        return 2;
    }
    long n = 0;
    for (int i = 0; i < opt->input_count; i++)
        for (long r = 0; r < ms->tables[i].nrows; r++, n++) {
            ms->refs[n].input = i;
            ms->refs[n].row = r;
            csv_row_key(&ms->tables[i], r, ms->refs[n].key, sizeof ms->refs[n].key);
        }
    if ((rc = load_suite_keys(ms)) != 0) return rc;

    qsort(ms->refs, (size_t)ms->nrefs, sizeof *ms->refs, by_key);
    long duplicates = report_duplicates(ms);
    long missing = report_missing(ms);
    set_plan_order(ms);
    qsort(ms->refs, (size_t)ms->nrefs, sizeof *ms->refs, by_output_order);
    if (write_output(opt->out_path, ms->tables, ms->refs, ms->nrefs, err, sizeof err) != 0) {
        fprintf(ms->report, "merge: %s\n", err);
        return 2;
    }
    fprintf(ms->report, "merge: %ld rows from %d file%s -> %s: %ld duplicated, %ld missing%s\n",
            ms->nrefs, opt->input_count, opt->input_count == 1 ? "" : "s", opt->out_path,
            duplicates, missing, opt->suite ? "" : " (give --suite to check every point)");
    return duplicates || missing ? 1 : 0;
}

int merge_files(const struct merge_options *opt, FILE *report)
{
    struct stat st;
    int out_is_input = 0;
    for (int i = 0; i < opt->input_count; i++)
        out_is_input |= same_file(opt->inputs[i], opt->out_path);
    if (!out_is_input && stat(opt->out_path, &st) == 0) {
        fprintf(report,
                "merge: %s exists and is not an input (name it as an input to merge into it, "
                "or write elsewhere)\n",
                opt->out_path);
        return 2;
    }
    struct merge_state ms = {.opt = opt, .report = report};
    ms.tables = calloc(opt->input_count > 0 ? (size_t)opt->input_count : 1, sizeof *ms.tables);
    if (!ms.tables) return 2;
    int rc = 0;
    for (int i = 0; i < opt->input_count && rc == 0; i++) {
        char err[1200];
        if (csv_read(opt->inputs[i], &ms.tables[i], err, sizeof err) != 0) {
            fprintf(report, "merge: %s\n", err);
            rc = 2;
        }
    }
    if (rc == 0) rc = merge_loaded(&ms);
    for (int i = 0; i < opt->input_count; i++) csv_table_free(&ms.tables[i]);
    free(ms.tables);
    free(ms.refs);
    free(ms.suite_keys);
    free(ms.shard_seen);
    return rc;
}
