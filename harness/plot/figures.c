/* figures.c — the figures `attnbench plot` draws, in order: the spine of
 * harness/plot/. Each entry names a figure, says what it shows, and gives
 * the function, in the file of the figure's name, that writes its data;
 * figure.h says what that function owes. To add a figure: its file (listed
 * in meson.build), its script in plots/, and an entry here. */
#include "plot/figure.h"

figure_prepare prepare_time_vs_n, prepare_throughput_vs_n, prepare_speedup_vs_full,
    prepare_roofline, prepare_gather_bandwidth, prepare_mita_steps, prepare_energy_vs_n;

const struct figure figures[] = {
    /* Median time per forward against N, per attention method (log-log). */
    {"time_vs_n", prepare_time_vs_n},
    /* TFLOP/s from the FLOP model against N (log-log). */
    {"throughput_vs_n", prepare_throughput_vs_n},
    /* Speedup over full/flash of the same device, dtype and shape, against N. */
    {"speedup_vs_full", prepare_speedup_vs_full},
    /* One point per method and N under the compute roofs and the DRAM slope. */
    {"roofline", prepare_roofline},
    /* The gather variants' GB/s against N and the copy ceiling, a panel per shape. */
    {"gather_bandwidth", prepare_gather_bandwidth},
    /* MiTA's kernel time by step, a stacked bar per N, from the steps file. */
    {"mita_steps", prepare_mita_steps},
    /* Joules per forward from the GPU's energy counter against N (log-log). */
    {"energy_vs_n", prepare_energy_vs_n},
    {NULL, NULL},
};
