/* compare.c — run against run (see compare.h). */
#include "results/compare.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results/csv.h"
#include "results/json.h"
#include "core/stats.h"
#include "core/axes.h"

/* ---- the test ---------------------------------------------------------------- */

struct ranked {
    double value;
    int from_a;
};

static int by_value(const void *x, const void *y)
{
    double a = ((const struct ranked *)x)->value, b = ((const struct ranked *)y)->value;
    return (a > b) - (a < b);
}

/* P(U <= u) and P(U >= u) under the null hypothesis, exactly: the number of
 * orderings of na a's and nb b's with each U, by the recurrence on where the
 * largest value comes from (an a beats all nb b's, a b beats none). */
static void exact_tails(int na, int nb, long u, double *below, double *above)
{
    const long umax = (long)na * nb;
    const size_t row = (size_t)umax + 1;
    double *prev = calloc((size_t)(nb + 1) * row, sizeof *prev);
    double *cur = calloc((size_t)(nb + 1) * row, sizeof *cur);
    if (!prev || !cur) { /* cannot happen at na*nb <= 2500; be safe, not sorry */
        *below = *above = 1;
        free(prev);
        free(cur);
        return;
    }
    for (int j = 0; j <= nb; j++) prev[(size_t)j * row] = 1; /* no a's: U = 0 */
    for (int i = 1; i <= na; i++) {
        memset(cur, 0, (size_t)(nb + 1) * row * sizeof *cur);
        cur[0] = 1; /* no b's: U = 0 */
        for (int j = 1; j <= nb; j++)
            for (long v = 0; v <= umax; v++)
                cur[(size_t)j * row + v] = (v >= j ? prev[(size_t)j * row + v - j] : 0) +
                                           cur[(size_t)(j - 1) * row + v];
        double *swap = prev;
        prev = cur;
        cur = swap;
    }
    const double *counts = prev + (size_t)nb * row;
    double total = 0, low = 0, high = 0;
    for (long v = 0; v <= umax; v++) {
        total += counts[v];
        if (v <= u) low += counts[v];
        if (v >= u) high += counts[v];
    }
    *below = low / total;
    *above = high / total;
    free(prev);
    free(cur);
}

double mann_whitney_p(const double *a, int na, const double *b, int nb)
{
    if (na == 0 || nb == 0) return 1;
    const int n = na + nb;
    struct ranked *all = malloc((size_t)n * sizeof *all);
    if (!all) return 1;
    for (int i = 0; i < na; i++) all[i] = (struct ranked){a[i], 1};
    for (int i = 0; i < nb; i++) all[na + i] = (struct ranked){b[i], 0};
    qsort(all, (size_t)n, sizeof *all, by_value);
    /* Ranks from 1, tied values sharing their mean rank. */
    double rank_sum_a = 0, tie_term = 0;
    for (int i = 0; i < n;) {
        int j = i;
        while (j < n && all[j].value == all[i].value) j++;
        const double t = j - i, mean_rank = (i + 1 + j) / 2.0;
        for (int k = i; k < j; k++)
            if (all[k].from_a) rank_sum_a += mean_rank;
        tie_term += t * t * t - t;
        i = j;
    }
    free(all);
    const double u = rank_sum_a - na * (na + 1) / 2.0; /* pairs where a > b, ties half */
    if (tie_term == 0 && (long)na * nb <= 2500) {
        double below, above;
        exact_tails(na, nb, lround(u), &below, &above);
        double p = 2 * (below < above ? below : above);
        return p < 1 ? p : 1;
    }
    const double mean = na * (double)nb / 2;
    const double var = na * (double)nb / 12 * ((n + 1) - tie_term / ((double)n * (n - 1)));
    if (var <= 0) return 1; /* every value the same */
    double z = (fabs(u - mean) - 0.5) / sqrt(var);
    return z > 0 ? erfc(z / sqrt(2)) : 1;
}

double mann_whitney_min_p(int na, int nb)
{
    if (na <= 0 || nb <= 0) return 1;
    /* C(na + nb, na) as C(nb + i, i) for i = 1..na: whole numbers, exact
     * while below 2^53, and finite (1e119) at 200 a side. */
    double orderings = 1;
    for (int i = 1; i <= na; i++) orderings = orderings * (nb + i) / i;
    const double p = 2 / orderings;
    return p < 1 ? p : 1;
}

/* Below the counts the test needs: slower or faster only where the ranges
 * stand apart by more than min_effect, else unjudged. */
static void judge_by_ranges(const struct sample_stats *sb, const struct sample_stats *sn,
                            const struct compare_options *opt, struct compare_result *out,
                            size_t used)
{
    char *why = out->reason + used;
    const size_t len = sizeof out->reason - used;
    const double effect = 1 + opt->min_effect;
    if (sn->min > sb->max * effect) {
        out->verdict = COMPARE_SLOWER;
        snprintf(why, len, "new's fastest %+.1f%% over base's slowest",
                 (sn->min / sb->max - 1) * 100);
    } else if (sn->max * effect < sb->min) {
        out->verdict = COMPARE_FASTER;
        snprintf(why, len, "new's slowest %+.1f%% under base's fastest",
                 (sn->max / sb->min - 1) * 100);
    } else {
        out->verdict = COMPARE_UNJUDGED;
        if (sn->min > sb->max || sn->max < sb->min)
            snprintf(why, len, "apart by less than the %.3g%% that counts",
                     opt->min_effect * 100);
        else
            snprintf(why, len, "they overlap");
    }
}

void compare_samples(const double *base, int nbase, const double *fresh, int nfresh,
                     const struct compare_options *opt, struct compare_result *out)
{
    memset(out, 0, sizeof *out);
    out->base_median = out->new_median = out->ratio = NAN;
    out->p = out->p_min = 1;
    out->verdict = COMPARE_UNJUDGED;
    struct sample_stats sb, sn;
    if (nbase > 0) {
        sample_stats_compute(base, nbase, &sb);
        out->base_median = sb.median;
    }
    if (nfresh > 0) {
        sample_stats_compute(fresh, nfresh, &sn);
        out->new_median = sn.median;
    }
    if (nbase <= 0 || nfresh <= 0) {
        snprintf(out->reason, sizeof out->reason, "no samples in %s",
                 nbase <= 0 && nfresh <= 0 ? "either run" : nbase <= 0 ? "base" : "new");
        return;
    }
    out->ratio = sb.median > 0 ? sn.median / sb.median : 1;
    out->p = mann_whitney_p(base, nbase, fresh, nfresh);
    out->p_min = mann_whitney_min_p(nbase, nfresh);
    int used = snprintf(out->reason, sizeof out->reason, "%d vs %d samples: ", nbase, nfresh);
    if (out->p_min >= opt->alpha) {
        /* The test cannot reject here, whatever the times: "same" would be
         * a verdict the samples could never have contradicted. */
        out->by_ranges = 1;
        used += snprintf(out->reason + used, sizeof out->reason - used,
                         "p >= %.2g %s alpha %.2g, judged by ranges: ", out->p_min,
                         out->p_min > opt->alpha ? ">" : ">=", opt->alpha);
        judge_by_ranges(&sb, &sn, opt, out, (size_t)used);
        return;
    }
    if (out->p >= opt->alpha) {
        out->verdict = COMPARE_SAME;
        snprintf(out->reason + used, sizeof out->reason - used, "p %.2g >= alpha %.2g", out->p,
                 opt->alpha);
        return;
    }
    used += snprintf(out->reason + used, sizeof out->reason - used, "p %.2g < alpha %.2g",
                     out->p, opt->alpha);
    if (out->ratio >= 1 + opt->min_effect) out->verdict = COMPARE_SLOWER;
    else if (out->ratio <= 1 / (1 + opt->min_effect)) out->verdict = COMPARE_FASTER;
    else {
        out->verdict = COMPARE_SAME;
        snprintf(out->reason + used, sizeof out->reason - used,
                 ", a change under the %.3g%% that counts", opt->min_effect * 100);
    }
}

/* ---- the files ----------------------------------------------------------------- */

/* A run: its table, and the row of each point sorted by key. */
struct run {
    const char *path;
    struct csv_table t;
    struct keyed_row {
        char key[CSV_KEY_LEN];
        long row;
    } *rows;
    long nrows;
    int status, samples;    /* columns */
    int kernels;            /* column; -1 in a file written before it existed */
    int device;             /* column; -1 where the file has none */
    long repeated;          /* rows of a point measured again later (the last counts) */
};

static int by_key_then_row(const void *x, const void *y)
{
    const struct keyed_row *a = x, *b = y;
    int c = strcmp(a->key, b->key);
    return c ? c : (a->row > b->row) - (a->row < b->row);
}

static int load_run(struct run *r, const char *path, FILE *err)
{
    char msg[1200];
    r->path = path;
    if (results_table_read(path, &r->t, msg, sizeof msg) != 0) {
        fprintf(err, "compare: %s\n", msg);
        return -1;
    }
    const char *needed[] = {"status", "samples_ms"};
    for (int i = 0; i < 2; i++)
        if (csv_column(&r->t, needed[i]) < 0) {
            fprintf(err, "compare: %s: no '%s' column (not an attnbench results file)\n", path,
                    needed[i]);
            return -1;
        }
    r->status = csv_column(&r->t, "status");
    r->samples = csv_column(&r->t, "samples_ms");
    r->kernels = csv_column(&r->t, "kernels");
    r->device = csv_column(&r->t, "device");
    r->rows = calloc(r->t.nrows ? (size_t)r->t.nrows : 1, sizeof *r->rows);
    if (!r->rows) return -1;
    for (long i = 0; i < r->t.nrows; i++) {
        if (csv_row_key(&r->t, i, r->rows[i].key, sizeof r->rows[i].key) != 0) {
            fprintf(err, "compare: %s: a point column is missing (not an attnbench results "
                         "file)\n", path);
            return -1;
        }
        r->rows[i].row = i;
    }
    /* Keep the last row of each point: a later measurement replaces an earlier one. */
    qsort(r->rows, (size_t)r->t.nrows, sizeof *r->rows, by_key_then_row);
    for (long i = 0; i < r->t.nrows; i++) {
        if (i + 1 < r->t.nrows && strcmp(r->rows[i].key, r->rows[i + 1].key) == 0) {
            r->repeated++;
            continue;
        }
        r->rows[r->nrows++] = r->rows[i];
    }
    return 0;
}

static void free_run(struct run *r)
{
    csv_table_free(&r->t);
    free(r->rows);
}

/* The row of `key` in `r`, or -1. */
static long find_row(const struct run *r, const char *key)
{
    long lo = 0, hi = r->nrows;
    while (lo < hi) {
        long mid = (lo + hi) / 2;
        int c = strcmp(r->rows[mid].key, key);
        if (c == 0) return r->rows[mid].row;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return -1;
}

/* The samples of a row of run `side`, ';'-separated, into
 * out[0..STATS_MAX_SAMPLES): how many (0 when the cell is empty), or -1 when
 * a sample is not a finite time of 0 or more, or there are too many (`why`
 * says which). */
static int parse_samples(const char *side, const char *text, double *out, char *why,
                         size_t why_len)
{
    int n = 0;
    for (const char *p = text; *p;) {
        char *end;
        const double v = strtod(p, &end);
        if (end == p || !isfinite(v) || v < 0 || (*end && *end != ';')) {
            snprintf(why, why_len, "%s's samples_ms unreadable at '%.24s'", side, p);
            return -1;
        }
        if (n == STATS_MAX_SAMPLES) {
            snprintf(why, why_len, "%s's samples_ms has over %d samples", side,
                     STATS_MAX_SAMPLES);
            return -1;
        }
        out[n++] = v;
        p = *end ? end + 1 : end;
        if (*end && !*p) {
            snprintf(why, why_len, "%s's samples_ms ends in ';'", side);
            return -1;
        }
    }
    return n;
}

/* The kernels of a row, "" where its file has no such column or it is empty (a CPU row). */
static const char *kernels_of(const struct run *r, long row)
{
    return r->kernels < 0 ? "" : r->t.rows[row][r->kernels];
}

/* Whether two rows' devices are other GPUs (or CPUs): their names compared without the
 * " [gpu N]" a multi-GPU run adds (two H200s of one host are the same device here). Rows
 * without a device column or name are taken as the same. */
static int other_device(const char *a, const char *b)
{
    if (!*a || !*b) return 0;
    const char *ta = strstr(a, " [gpu "), *tb = strstr(b, " [gpu ");
    const size_t la = ta ? (size_t)(ta - a) : strlen(a), lb = tb ? (size_t)(tb - b) : strlen(b);
    return la != lb || strncmp(a, b, la) != 0;
}

static const char *device_of(const struct run *r, long row)
{
    return r->device < 0 ? "" : r->t.rows[row][r->device];
}

/* "mita/route_only fp32 B=1 H=2 N=4096 d=64 m=64 k=64 s_r=1 official": the
 * point as a reader names it, parameters the method does not use left out;
 * named values (dtype, shared_scale) stand alone, numbers as column=value. */
static void point_label(const struct csv_table *t, long row, char *out, size_t len)
{
    const char *const *cells = (const char *const *)t->rows[row];
    const char *variant = cells[csv_column(t, "variant")];
    size_t n = (size_t)snprintf(out, len, "%s%s%s", cells[csv_column(t, "method")],
                                *variant ? "/" : "", variant);
    for (int a = 0; a < AXIS_COUNT && n < len; a++) {
        const char *v = cells[csv_column(t, AXES[a].column)];
        if (!*v) continue;
        if (AXES[a].name_of) n += (size_t)snprintf(out + n, len - n, " %s", v);
        else n += (size_t)snprintf(out + n, len - n, " %s=%s", AXES[a].column, v);
    }
}

static const char *verdict_name(enum compare_verdict v)
{
    switch (v) {
    case COMPARE_SAME: return "same";
    case COMPARE_FASTER: return "faster";
    case COMPARE_SLOWER: return "SLOWER";
    case COMPARE_UNJUDGED: return "unjudged";
    }
    return "?";
}

int compare_files(const struct compare_options *opt, FILE *out, FILE *err)
{
    struct run base = {0}, fresh = {0};
    if (load_run(&base, opt->base_path, err) != 0 || load_run(&fresh, opt->new_path, err) != 0) {
        free_run(&base);
        free_run(&fresh);
        return 2;
    }
    long counts[4] = {0}, in_both = 0, only_base = 0, not_ok = 0, lost = 0, beyond = 0;
    long other_kernels = 0, other_devices = 0;
    long device_row_base = -1, device_row_new = -1; /* the first such point's rows */
    double base_samples[STATS_MAX_SAMPLES], new_samples[STATS_MAX_SAMPLES];
    fprintf(out, "%-62s %11s %11s %8s %9s  %-8s %s\n", "point", "base_ms", "new_ms", "change",
            "p", "verdict", "why");
    /* In the base run's file order: the order its sweep ran. */
    for (long row = 0; row < base.t.nrows; row++) {
        char key[CSV_KEY_LEN], label[200];
        csv_row_key(&base.t, row, key, sizeof key);
        if (find_row(&base, key) != row) continue; /* measured again later in the file */
        long other = find_row(&fresh, key);
        if (other < 0) {
            only_base++;
            continue;
        }
        in_both++;
        point_label(&base.t, row, label, sizeof label);
        if (other_device(device_of(&base, row), device_of(&fresh, other))) {
            if (!other_devices++) device_row_base = row, device_row_new = other;
        }
        const char *status_base = base.t.rows[row][base.status];
        const char *status_new = fresh.t.rows[other][fresh.status];
        if (strcmp(status_base, "ok") != 0 || strcmp(status_new, "ok") != 0) {
            not_ok++;
            int was_ok = strcmp(status_base, "ok") == 0;
            lost += was_ok;
            fprintf(out, "%-62s %11s %11s %8s %9s  %s\n", label, status_base, status_new, "", "",
                    was_ok ? "LOST (ok before, not now)" : "not comparable");
            continue;
        }
        char why_base[96] = "", why_new[96] = "";
        int nb = parse_samples("base", base.t.rows[row][base.samples], base_samples, why_base,
                               sizeof why_base);
        int nn = parse_samples("new", fresh.t.rows[other][fresh.samples], new_samples, why_new,
                               sizeof why_new);
        struct compare_result r;
        compare_samples(base_samples, nb, new_samples, nn, opt, &r);
        if (nb < 0 || nn < 0)
            snprintf(r.reason, sizeof r.reason, "%s%s%s", why_base,
                     *why_base && *why_new ? "; " : "", why_new);
        counts[r.verdict]++;
        int over = r.verdict == COMPARE_SLOWER && opt->threshold >= 0 &&
                   r.ratio > 1 + opt->threshold;
        beyond += over;
        /* No samples on a side: no median, change or p to show (never -100%). */
        char base_ms[24] = "-", new_ms[24] = "-", change[24] = "", p[16] = "-";
        if (nb > 0) snprintf(base_ms, sizeof base_ms, "%.4f", r.base_median);
        if (nn > 0) snprintf(new_ms, sizeof new_ms, "%.4f", r.new_median);
        if (nb > 0 && nn > 0) {
            snprintf(change, sizeof change, "%+.1f%%", (r.ratio - 1) * 100);
            snprintf(p, sizeof p, "%.2g", r.p);
        }
        fprintf(out, "%-62s %11s %11s %8s %9s  %-8s %s%s\n", label, base_ms, new_ms, change, p,
                verdict_name(r.verdict), r.reason,
                over ? " (beyond the threshold)" : "");
        /* The same point run by other kernels (another version picked, another
         * build or GPU): what changed, under its line. */
        const char *kernels_base = kernels_of(&base, row), *kernels_new = kernels_of(&fresh, other);
        if (*kernels_base && *kernels_new && strcmp(kernels_base, kernels_new) != 0) {
            other_kernels++;
            fprintf(out, "    kernels were: %s\n    kernels now:  %s\n", kernels_base,
                    kernels_new);
        }
    }
    long only_new = fresh.nrows - in_both;
    fprintf(out,
            "compare: %ld points in both: %ld slower, %ld faster, %ld same within noise, %ld "
            "unjudged, %ld not ok; %ld only in %s, %ld only in %s",
            in_both, counts[COMPARE_SLOWER], counts[COMPARE_FASTER], counts[COMPARE_SAME],
            counts[COMPARE_UNJUDGED], not_ok, only_base, base.path, only_new, fresh.path);
    if (other_kernels)
        fprintf(out, "; %ld run by other kernels", other_kernels);
    if (other_devices)
        fprintf(out, "; %ld on another device", other_devices);
    if (base.repeated || fresh.repeated)
        fprintf(out, "; %ld repeated rows (the last of each point counts)",
                base.repeated + fresh.repeated);
    int status = 0;
    if (opt->threshold >= 0) {
        const long unjudged = counts[COMPARE_UNJUDGED];
        const char *allowed = opt->allow_unjudged ? " (allowed)" : " (--allow-unjudged to pass)";
        status = beyond || lost || other_devices || (unjudged && !opt->allow_unjudged) ? 1 : 0;
        fprintf(out, "; gate %.3g%%: %ld slower beyond it, %ld lost, %ld unjudged%s%s -> %s",
                opt->threshold * 100, beyond, lost, unjudged, unjudged ? allowed : "",
                other_devices ? ", devices differ" : "", status ? "FAIL" : "pass");
    }
    fprintf(out, "\n");
    if (other_devices)
        fprintf(err,
                "compare: %ld of %ld points ran on another device (base '%s', new '%s'): their "
                "changes are the devices' as much as the builds'%s\n",
                other_devices, in_both, device_of(&base, device_row_base),
                device_of(&fresh, device_row_new),
                opt->threshold >= 0 ? "; a gate across devices fails" : "");
    if (in_both == 0) {
        fprintf(err, "compare: %s and %s have no point in common\n", base.path, fresh.path);
        status = 2;
    }
    free_run(&base);
    free_run(&fresh);
    return status;
}
