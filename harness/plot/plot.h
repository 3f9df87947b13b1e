/* plot.h — `attnbench plot`: the paper figures of a results CSV.
 *
 *   attnbench plot RESULTS.csv [MORE.csv ...] [--out DIR] [--ceilings FILE]
 *
 * Reads each results CSV (and the steps file beside it, RESULTS.steps.csv,
 * that `attnbench run --profile` writes) with csv_read(), checks them (the
 * columns the figures need, at least one row, at least one `ok` row),
 * writes each figure's series as small whitespace-separated .dat files in a
 * temporary folder (so that gnuplot never parses the CSV and its quoted
 * fields), and runs the gnuplot scripts of plots/ — found in
 * $ATTNBENCH_PLOTS, else in the source tree — once per figure and format,
 * into DIR (default: figures):
 *
 *   time_vs_n          median time per forward against N, per method (log-log)
 *   throughput_vs_n    TFLOP/s from the FLOP model against N (log-log)
 *   speedup_vs_full    speedup over full/flash of the same device, dtype, shape
 *   roofline           one point per method and N under the ceilings
 *   gather_bandwidth   the gather variants' GB/s against the copy ceiling
 *   mita_steps         MiTA's kernel time by step (stacked bars), from the steps file
 *
 * each as NAME.png and NAME.svg. A figure whose rows the CSV lacks (no
 * `gather` rows, say) is skipped with a note on stderr, and its old files
 * in DIR are removed. README.md, "Figures", says what each figure reads,
 * and the ceilings file (as `attnbench ceilings` writes it).
 *
 * Exit status: 0 when every figure was drawn or skipped with a note; 1 when
 * gnuplot failed on a figure (the others are still drawn); 2 on a usage
 * error, an unusable CSV or ceilings file, or no gnuplot. */
#ifndef HARNESS_PLOT_H
#define HARNESS_PLOT_H

/* argv holds the arguments after `plot`. Returns the exit status. */
int plot_command(int argc, char **argv);

#endif
