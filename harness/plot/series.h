/* series.h — what every figure draws from, decided once so that the
 * figures agree: the results files' `ok` rows (checked, the newest row of
 * each point kept), grouped into series with their legend labels and
 * colours; the steps files' rows; the ceilings; the title's device and
 * dates. And the settings a figure of series writes for plots/common.gp
 * (the division of work: C decides what is plotted and writes plain
 * numbers, the .gp scripts decide how it looks). */
#ifndef HARNESS_SERIES_H
#define HARNESS_SERIES_H

#include <stddef.h>
#include <stdio.h>

#include "core/axes.h"
#include "results/csv.h"

#define MAX_INPUTS 16

/* Rows of this method are not attention but the gather suite's kernels:
 * they have a figure of their own and stay out of the attention figures. */
#define GATHER_METHOD "gather"

/* The cells that tell series apart: a series is the rows that agree on all
 * of them, i.e. on a point's key but N, and on the device. They are the
 * method, variant, backend and device, then every axis of core/axes.h in
 * its order (the x axis, N, is held apart and its cell is always ""). A set
 * of them is a mask of 1 << key_field. One axis may move with N instead
 * (struct series, `along`): a suite's `zip seqlen+B` keeps the tokens B·N
 * fixed, so every N has its own B, and a series keyed on B would hold one
 * point. */
enum key_field {
    KEY_METHOD, KEY_VARIANT, KEY_BACKEND, KEY_DEVICE, KEY_AXIS0,
    KEY_COUNT = KEY_AXIS0 + AXIS_COUNT
};
#define KEY_AXIS(axis) (KEY_AXIS0 + (axis))
/* A field's column in the results and steps files. */
const char *key_column(int field);

enum row_kind { ROW_ATTENTION, ROW_GATHER, ROW_KINDS };

/* An `ok` row with its numbers parsed; the cells point into the table. */
struct row {
    const char *key[KEY_COUNT];
    const char *timestamp;
    enum row_kind kind;
    double N, ms, p10, p90, flops, bytes, tflops, gbps;
    int profiled;              /* intensity, achieved_tflops from the profiling pass */
    double intensity, achieved_tflops;
    double energy_j;           /* per forward (NVML), NAN where the row has none */
    double gather_dram_bytes;  /* --profile: the gather step's DRAM bytes; NAN where none */
    int series;
};

/* One kernel of one step of a point, from a steps file. key[KEY_DEVICE] is
 * "": the steps of a configuration are matched whatever the device. */
struct step_row {
    const char *key[KEY_COUNT];
    const char *step;
    double N, kernel_ms;
};

struct series {
    int first;                 /* its first row */
    /* The cells its rows share: its first row's key, but "" at `along`. */
    const char *key[KEY_COUNT];
    /* The key field of an axis that moves with N in it, or -1: the rows
     * agree on all of their key but N and that axis, have one row per N,
     * and that axis times N is the same in each, along_n (B·N: the tokens
     * of a suite's `zip seqlen+B`). The axis is then part of the x axis,
     * and the label says along_n instead of the axis. */
    int along;
    double along_n;
    enum row_kind kind;
    char label[256];           /* for legends: cut at their width */
    char name[256];            /* the same label whole, for tables (peers.md) */
    int colour;                /* 1-based within its kind; a peer's is its method's */
    int peer;                  /* timed outside attnbench (torch-*): drawn dashed */
    int dash;                  /* gnuplot's dash type: 1 attnbench, 2 to 5 its peers */
};

/* The roofline's and the gather figure's ceilings (series.c: their names in
 * the file `attnbench ceilings` writes, and the nominal figures used
 * without one). */
enum ceiling_id { CEIL_DRAM, CEIL_BF16, CEIL_FP16, CEIL_FP32, CEIL_L2, CEIL_COUNT };

/* What the speedup figure divides by (attnbench plot --baseline). */
enum speedup_baseline {
    BASELINE_FASTEST,          /* the fastest full attention of each point, a peer's too */
    BASELINE_OWN_FLASH,        /* attnbench's own full/flash */
};

/* The most N that `plot --peers-at` takes. */
#define PLOT_MAX_PEERS_AT 8

/* What `attnbench plot` read: the driver sets the inputs and the
 * temporary folder its figures' files go to, series_load() the rest, and
 * the figures only read it. */
struct plot {
    const char *csv_paths[MAX_INPUTS], *ceilings_path;
    int ninputs;
    struct csv_table tables[MAX_INPUTS], step_tables[MAX_INPUTS];
    char work[1024];           /* the temporary folder */
    struct row *rows;          /* the ok rows of every input */
    int nrows;
    struct series *series;
    int nseries;
    struct step_row *steps;    /* the rows of every steps file */
    int nsteps;
    /* The GPU rows' roofs: the ceilings file's, or nominal figures. */
    double ceiling[CEIL_COUNT];
    int ceiling_from_file[CEIL_COUNT];
    char ceilings_device[128]; /* where the file says they were measured, or "" */
    /* A ceilings file of a CPU (`attnbench ceilings --backend cpu`) holds
     * the roofs of that CPU's rows instead, never the GPU rows': there is
     * no nominal CPU. */
    double cpu_ceiling[CEIL_COUNT];  /* 0 where the file has none */
    char cpu_ceilings_device[128];   /* the file's device, whole, or "" */
    char device[256], date[64]; /* the titles' second line */
    enum speedup_baseline baseline; /* the speedup figure's (speedup_vs_full.c) */
    double peers_at[PLOT_MAX_PEERS_AT]; /* --peers-at: the N of peers.md's summary */
    int npeers_at;
};

/* ---- reading ----------------------------------------------------------------- */

/* Reads csv_paths (and the steps file beside each, RESULTS.steps.csv) and
 * ceilings_path, keeps the newest row of each point, groups and labels the
 * series, and describes the run for the titles. 0, or -1 with a message. */
int series_load(struct plot *p);
/* Frees what series_load() read. */
void series_free(struct plot *p);

/* ---- keys and labels --------------------------------------------------------- */

/* Do two keys agree on every field but those in `skip`? */
int key_equal(const char *const *a, const char *const *b, unsigned skip);
/* A key cell as a number, 0 where it is not one. */
double key_number(const struct row *w, int field);
/* Does key field k take more than one non-empty value among the series of
 * `kind`? Only such fields go into labels. */
int field_varies(const struct plot *p, enum row_kind kind, int k);
/* Appends " (bf16, d=64)" to label (n of len used): the key cells of
 * fields from KEY_BACKEND on that vary among the series of `kind`, but for
 * those in `skip`, then `also` where it is not NULL (" (d=64, B·N=16384)").
 * Returns the new length. */
size_t append_varying(const struct plot *p, enum row_kind kind, const char *const *key,
                      unsigned skip, const char *also, char *label, size_t n, size_t len);
/* Cuts a label that would overflow the legend's strip, with an ellipsis. */
void cut_label(char *label);
/* Cuts text to `max` bytes (max >= 2) with an ellipsis, not mid-character. */
void cut_text(char *label, size_t max);

/* Whether `peer` is a peer's series (torch-...) that computes what
 * attnbench's series `own` does: the same method, dtype, shape and
 * parameters, whatever the device (a column the peer leaves empty, such as
 * the version of attnbench's gather kernel, does not apply to it; an axis
 * that moves with N must move in both, at the same along_n); the
 * peer's variant is its name (torch-eager, for any of the method's
 * variants), or MiTA's variant before it (route_only-torch-eager). */
int series_peer_of(const struct plot *p, const struct series *peer, const struct series *own);

/* ---- what a figure writes ---------------------------------------------------- */

/* The rows of series s, by ascending N, in idx (room for every row). */
int series_rows(const struct plot *p, int s, int *idx);
/* Writes "N value" of each row of series s whose value is positive (a log
 * axis), by ascending N, under the header "# N column"; returns how many. */
int series_write_positive(const struct plot *p, int s, FILE *dat, int *idx, const char *column,
                          double (*value)(const struct row *w));
/* A choice of rows: those whose N a figure's axis spans. */
typedef int (*row_filter)(const struct plot *p, const struct row *w);
/* The N range of the rows of `kind` that `spans` keeps (NULL: all). */
void n_range(const struct plot *p, enum row_kind kind, row_filter spans, double *lo,
             double *hi);

/* `work`/name, the path of a file in the temporary folder. */
const char *work_path(const struct plot *p, char *path, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Writes a series' .dat file (its rows by ascending N, idx: room for every
 * row) and returns how many points it holds. */
typedef int (*series_writer)(const struct plot *p, int s, FILE *dat, int *idx);

/* The series of `kind` that get at least one point from `write`, as arrays
 * indexed 1..n: series_file (STEMs.dat), series_label, series_colour,
 * series_dash (1 solid; 2 to 5 for peers, dashed). Returns n, or -1 with a
 * message when a file cannot be written. */
int gp_series(const struct plot *p, FILE *settings, enum row_kind kind, const char *stem,
              series_writer write);
/* The N axis: ticks at powers of two from n_lo to n_hi, every n_step-th
 * (a multiplier), so that at most about a dozen labels share the axis. */
void gp_n_axis(FILE *settings, double n_min, double n_max);
/* A figure of attention series against N: gp_series(), and gp_n_axis()
 * over the N of the attention rows that `spans` keeps (NULL: all), and 0;
 * or, when no series has a point, no_series(). */
int gp_series_against_n(const struct plot *p, FILE *settings, const char *stem,
                        series_writer write, row_filter spans, const char *reason, char *why,
                        size_t why_len);
/* A figure's answer (figure.h) when gp_series() gave n <= 0 series:
 * skipped for `reason` (1), or failed (-1), with the reason in `why`. */
int no_series(int n, const char *reason, char *why, size_t why_len);

#endif
