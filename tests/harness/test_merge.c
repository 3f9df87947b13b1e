/* test_merge.c — joining shards' results files (harness/sweep/merge.c): the
 * shards of a suite merge into every point once, in the suite's order;
 * inputs whose headers, suite definitions or splits disagree are refused
 * with a message naming the file and nothing is written; a missing shard,
 * a missing point and a point measured twice are reported (exit 1) with
 * every row still written; an existing output is never overwritten unless
 * it is an input. */
#include "sweep/merge.h"

#include <sys/stat.h>

#include "results/csv.h"
#include "test_util.h"

static const char *const suite_text =
    "name unit\nmethods full linear agent topk\nseqlen 2^8..2^10\nm 16,32\nk 16\nH 1\n"
    "backend cpu\n";

static void parse_suite(const char *text, struct suite *s)
{
    char err[1024];
    if (suite_parse_text(text, "test", s, err, sizeof err) != 0) {
        fprintf(stderr, "suite: %s\n", err);
        exit(1);
    }
}

/* Writes the points of `text` as shard files DIR/PREFIX1.csv ... of a split
 * into `n`, rows as a sweep writes them. Returns the number of points. */
static long write_shards(const char *dir, const char *prefix, const char *text, int n)
{
    struct suite s;
    struct sweep_plan plan;
    parse_suite(text, &s);
    CHECK(sweep_plan_build(&s, ATTN_CPU, &plan) == 0);
    int *shard_of = calloc((size_t)plan.count, sizeof *shard_of);
    CHECK(sweep_plan_assign(&plan, n, shard_of) == 0);
    for (int i = 0; i < n; i++) {
        char name[64], path[1024], err[1024];
        snprintf(name, sizeof name, "%s%d.csv", prefix, i + 1);
        struct csv_writer w;
        CHECK(csv_writer_open(&w, scratch_path(path, sizeof path, dir, name), RUN_FILE_NEW, NULL,
                              NULL, err, sizeof err) == 0);
        for (long p = 0; p < plan.count; p++) {
            if (shard_of[p] != i) continue;
            struct result_row r;
            memset(&r, 0, sizeof r);
            snprintf(r.suite, sizeof r.suite, "%s", s.name);
            r.point = plan.points[p];
            snprintf(r.device, sizeof r.device, "cpu: test");
            snprintf(r.status, sizeof r.status, "ok");
            r.reps = 2;
            r.ms_median = 1.5;
            snprintf(r.samples_ms, sizeof r.samples_ms, "1;2");
            snprintf(r.suite_hash, sizeof r.suite_hash, "%s", plan.suite_hash);
            snprintf(r.shard, sizeof r.shard, "%d/%d", i + 1, n);
            CHECK(csv_writer_row(&w, &r) == 0);
        }
        csv_writer_close(&w);
    }
    long count = plan.count;
    free(shard_of);
    sweep_plan_free(&plan);
    return count;
}

/* Runs a merge of DIR/inputs... into DIR/out; the report in `report`. */
static int merge(const char *dir, const char *out, const char *const *inputs, int n,
                 const struct suite *suite, char *report, size_t report_len)
{
    char out_path[1024], paths[8][1024];
    const char *input_paths[8];
    for (int i = 0; i < n; i++) input_paths[i] = scratch_path(paths[i], sizeof paths[i], dir, inputs[i]);
    struct merge_options opt = {
        .out_path = scratch_path(out_path, sizeof out_path, dir, out),
        .inputs = input_paths, .input_count = n, .suite = suite,
    };
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    int rc = merge_files(&opt, f);
    fclose(f);
    snprintf(report, report_len, "%s", text);
    free(text);
    return rc;
}

static long rows_of(const char *dir, const char *name)
{
    char path[1024], err[1024];
    struct csv_table t;
    if (csv_read(scratch_path(path, sizeof path, dir, name), &t, err, sizeof err) != 0) return -1;
    long n = t.nrows;
    csv_table_free(&t);
    return n;
}

static int exists(const char *dir, const char *name)
{
    char path[1024];
    struct stat st;
    return stat(scratch_path(path, sizeof path, dir, name), &st) == 0;
}

static void test_complete(const char *dir)
{
    char report[8192];
    long points = write_shards(dir, "s", suite_text, 3);
    CHECK(points == 3 + 3 + 6 + 3);
    const char *shards[] = {"s3.csv", "s1.csv", "s2.csv"};
    CHECK(merge(dir, "all.csv", shards, 3, NULL, report, sizeof report) == 0);
    CHECK_CONTAINS(report, "15 rows from 3 files");
    CHECK_CONTAINS(report, "0 duplicated, 0 missing (give --suite to check every point)");
    CHECK(rows_of(dir, "all.csv") == points);

    /* With the suite: checked point by point, and written in its order. */
    struct suite s;
    parse_suite(suite_text, &s);
    CHECK(merge(dir, "ordered.csv", shards, 3, &s, report, sizeof report) == 0);
    CHECK_CONTAINS(report, "0 duplicated, 0 missing\n");
    struct sweep_plan plan;
    struct csv_table t;
    char path[1024], err[1024];
    CHECK(sweep_plan_build(&s, ATTN_CPU, &plan) == 0);
    CHECK(csv_read(scratch_path(path, sizeof path, dir, "ordered.csv"), &t, err, sizeof err) == 0);
    for (long i = 0; i < t.nrows && i < plan.count; i++) {
        char want[256], got[256];
        csv_point_key(&plan.points[i], want, sizeof want);
        CHECK(csv_row_key(&t, i, got, sizeof got) == 0);
        CHECK_STR(got, want);
    }
    csv_table_free(&t);
    sweep_plan_free(&plan);

    /* The output exists and is not an input: refused, left alone. */
    CHECK(merge(dir, "all.csv", shards, 1, NULL, report, sizeof report) == 2);
    CHECK_CONTAINS(report, "all.csv exists and is not an input");
    CHECK(rows_of(dir, "all.csv") == points);
    /* Merging into it: it is an input, so its rows stay (here, twice). */
    const char *into[] = {"ordered.csv", "s1.csv"};
    CHECK(merge(dir, "ordered.csv", into, 2, NULL, report, sizeof report) == 1);
    CHECK(rows_of(dir, "ordered.csv") == points + rows_of(dir, "s1.csv"));
}

static void test_missing_and_twice(const char *dir)
{
    char report[8192];
    long points = write_shards(dir, "m", suite_text, 3);
    long second = rows_of(dir, "m2.csv");
    const char *without_second[] = {"m1.csv", "m3.csv"};
    CHECK(merge(dir, "missing.csv", without_second, 2, NULL, report, sizeof report) == 1);
    CHECK_CONTAINS(report, "no rows of shard 2/3");
    CHECK(rows_of(dir, "missing.csv") == points - second);

    /* With the suite, each missing point is named. */
    struct suite s;
    parse_suite(suite_text, &s);
    CHECK(merge(dir, "missing2.csv", without_second, 2, &s, report, sizeof report) == 1);
    long named = 0;
    for (const char *p = report; (p = strstr(p, "missing point (")); p++) named++;
    CHECK(named == second);
    char summary[64];
    snprintf(summary, sizeof summary, "0 duplicated, %ld missing", second);
    CHECK_CONTAINS(report, summary);

    /* A shard given twice: every row written, each repeat named. */
    const char *twice[] = {"m1.csv", "m2.csv", "m3.csv", "m2.csv"};
    CHECK(merge(dir, "twice.csv", twice, 4, NULL, report, sizeof report) == 1);
    CHECK(rows_of(dir, "twice.csv") == points + second);
    CHECK_CONTAINS(report, "m2.csv, row 1: point (");
    CHECK_CONTAINS(report, ") is also in ");
    snprintf(summary, sizeof summary, "%ld duplicated, 0 missing", second);
    CHECK_CONTAINS(report, summary);
}

/* Edits of a results file, for inputs that must be refused. */
static void set_cell(char **cell, const char *text)
{
    free(*cell);
    *cell = strdup(text);
}
static void swap_n_and_d(struct csv_table *t)
{
    char **n = &t->header[csv_column(t, "N")], **d = &t->header[csv_column(t, "d")];
    char *keep = *n;
    *n = *d;
    *d = keep;
}
static void split_into_three(struct csv_table *t)
{
    set_cell(&t->rows[0][csv_column(t, "shard")], "2/3");
}
static void unreadable_label(struct csv_table *t)
{
    set_cell(&t->rows[0][csv_column(t, "shard")], "two");
}
static void rename_shard_column(struct csv_table *t)
{
    set_cell(&t->header[csv_column(t, "shard")], "part");
}

/* The file an earlier attnbench would have written: without the columns
 * added since (the gather axis, the kernels column). */
static void drop_later_columns(struct csv_table *t)
{
    for (const char *const *name = (const char *const[]){"gather", "kernels", NULL}; *name;
         name++) {
        const int c = csv_column(t, *name);
        for (long r = -1; r < t->nrows; r++) {
            char **cells = r < 0 ? t->header : t->rows[r];
            free(cells[c]);
            memmove(cells + c, cells + c + 1, (size_t)(t->ncols - c - 1) * sizeof *cells);
        }
        t->ncols--;
    }
}

/* Copies DIR/from to DIR/to with `edit` applied. */
static void copy_edited(const char *dir, const char *from, const char *to,
                        void (*edit)(struct csv_table *))
{
    char path[1024], err[1024];
    struct csv_table t;
    CHECK(csv_read(scratch_path(path, sizeof path, dir, from), &t, err, sizeof err) == 0);
    edit(&t);
    FILE *f = fopen(scratch_path(path, sizeof path, dir, to), "w");
    for (long r = -1; f && r < t.nrows; r++)
        for (int c = 0; c < t.ncols; c++) {
            csv_write_field(f, r < 0 ? t.header[c] : t.rows[r][c]);
            fputc(c + 1 < t.ncols ? ',' : '\n', f);
        }
    CHECK(f && fclose(f) == 0);
    csv_table_free(&t);
}

static void test_refused(const char *dir)
{
    char report[8192];
    write_shards(dir, "r", suite_text, 2);
    struct {
        const char *file;
        void (*edit)(struct csv_table *);
        const char *message;
    } cases[] = {
        {"hdr.csv", swap_n_and_d, "r1.csv at column 9 ('d' vs 'N')"},
        {"split.csv", split_into_three, "split.csv, row 1: shard 2/3 is of a split into 3, "
                                        "other rows of 2"},
        {"label.csv", unreadable_label, "label.csv, row 1: shard 'two' is not I/N"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        copy_edited(dir, "r2.csv", cases[i].file, cases[i].edit);
        const char *inputs[] = {"r1.csv", cases[i].file};
        CHECK(merge(dir, "refused.csv", inputs, 2, NULL, report, sizeof report) == 2);
        CHECK_CONTAINS(report, cases[i].message);
        CHECK(!exists(dir, "refused.csv"));
    }
    CHECK(merge(dir, "refused.csv", (const char *[]){"r1.csv", "hdr.csv"}, 2, NULL, report,
                sizeof report) == 2);
    CHECK_CONTAINS(report, "hdr.csv: header differs from ");

    /* The first file sets the header, and must be ours. */
    copy_edited(dir, "r1.csv", "foreign.csv", rename_shard_column);
    const char *foreign[] = {"foreign.csv", "r2.csv"};
    CHECK(merge(dir, "refused.csv", foreign, 2, NULL, report, sizeof report) == 2);
    CHECK_CONTAINS(report, "foreign.csv: header differs from the header this attnbench writes at "
                           "column 37 ('part' vs 'shard')");

    /* Shards of another definition (reps differ, so every hash does). */
    char other_text[512];
    snprintf(other_text, sizeof other_text, "%sreps 3\n", suite_text);
    write_shards(dir, "o", other_text, 2);
    const char *mixed[] = {"r1.csv", "o2.csv"};
    CHECK(merge(dir, "refused.csv", mixed, 2, NULL, report, sizeof report) == 2);
    CHECK_CONTAINS(report, "o2.csv, row 1: suite_hash ");
    CHECK_CONTAINS(report, "differs from ");
    CHECK_CONTAINS(report, "shards of different suite definitions");
    CHECK(!exists(dir, "refused.csv"));

    /* The suite given is not the rows' suite. */
    struct suite s;
    parse_suite(other_text, &s);
    const char *ours[] = {"r1.csv", "r2.csv"};
    CHECK(merge(dir, "refused.csv", ours, 2, &s, report, sizeof report) == 2);
    CHECK_CONTAINS(report, "but suite unit as given resolves to ");

    /* A file cut short mid-row, and one that is not there. */
    char path[1024];
    scratch_write(scratch_path(path, sizeof path, dir, "cut.csv"), "suite,method\nunit,fu");
    const char *cut[] = {"r1.csv", "cut.csv"};
    CHECK(merge(dir, "refused.csv", cut, 2, NULL, report, sizeof report) == 2);
    CHECK_CONTAINS(report, "cut.csv:2: truncated row");
    const char *absent[] = {"r1.csv", "absent.csv"};
    CHECK(merge(dir, "refused.csv", absent, 2, NULL, report, sizeof report) == 2);
    CHECK_CONTAINS(report, "absent.csv: cannot open");
    CHECK(!exists(dir, "refused.csv"));
}

/* run --gpus asks before its workers start whether the results file can
 * take this run's rows. */
/* A shard written by an earlier attnbench is merged with today's, its rows
 * under today's header (results/csv.h, csv_table_to_current), and said. */
static void test_earlier_shard(const char *dir)
{
    char report[8192], path[1024], err[1024];
    write_shards(dir, "e", suite_text, 2);
    copy_edited(dir, "e2.csv", "e2-earlier.csv", drop_later_columns);
    const char *inputs[] = {"e1.csv", "e2-earlier.csv"};
    CHECK(merge(dir, "earlier-all.csv", inputs, 2, NULL, report, sizeof report) == 0);
    CHECK_CONTAINS(report, "e2-earlier.csv: written by an earlier attnbench: its rows read under "
                           "this one's header (added, empty: gather, kernels)");
    CHECK(rows_of(dir, "earlier-all.csv") == rows_of(dir, "e1.csv") + rows_of(dir, "e2.csv"));
    struct csv_table t;
    CHECK(csv_read(scratch_path(path, sizeof path, dir, "earlier-all.csv"), &t, err,
                   sizeof err) == 0);
    CHECK(t.ncols == csv_column_count());
    csv_table_free(&t);
}

static void test_compatible(const char *dir)
{
    char path[1024], err[1024];
    struct suite s;
    struct sweep_plan plan;
    write_shards(dir, "c", suite_text, 1);
    parse_suite(suite_text, &s);
    CHECK(sweep_plan_build(&s, ATTN_CPU, &plan) == 0);
    struct csv_table t, none = {0};
    CHECK(csv_read(scratch_path(path, sizeof path, dir, "c1.csv"), &t, err, sizeof err) == 0);
    CHECK(merge_check_rows(path, &t, plan.suite_hash, err, sizeof err) == 0);
    CHECK(merge_check_rows("none.csv", &none, plan.suite_hash, err, sizeof err) == 0);
    CHECK(merge_check_rows(path, &t, "0000000000000000", err, sizeof err) != 0);
    csv_table_free(&t);
    CHECK_CONTAINS(err, "c1.csv, row 1: suite_hash ");
    CHECK_CONTAINS(err, "but this run's is 0000000000000000");
    sweep_plan_free(&plan);
}

int main(void)
{
    char dir[512];
    scratch_make(dir, sizeof dir);
    test_complete(dir);
    test_missing_and_twice(dir);
    test_refused(dir);
    test_earlier_shard(dir);
    test_compatible(dir);
    scratch_remove(dir);
    return check_exit("test_merge");
}
