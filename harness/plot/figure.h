/* figure.h — what a figure is to `attnbench plot`: a name and a function
 * that writes what its script reads. figures.c lists every figure, the
 * driver (plot.c) draws each in turn, and each has a file of its own
 * (time_vs_n.c, ...) holding only what is particular to it; what is common
 * to all is in series.h. Adding a figure: NAME.c with its prepare function
 * (and in meson.build), plots/NAME.gp, and an entry in figures.c. */
#ifndef HARNESS_FIGURE_H
#define HARNESS_FIGURE_H

#include <stddef.h>
#include <stdio.h>

#include "plot/series.h"

/* Writes the figure's settings into `settings` (plots/common.gp lists
 * those every figure shares; the driver has written device and date), and
 * its .dat files into the temporary folder (work_path), from p. Returns 0
 * to have it drawn; 1 when the inputs have nothing for it, with the reason
 * in `why` (it is skipped with a note on stderr, and its files of an
 * earlier run are removed); -1 when it failed, with the reason in `why`. */
typedef int figure_prepare(const struct plot *p, FILE *settings, char *why, size_t why_len);

struct figure {
    const char *name;          /* plots/NAME.gp draws OUT_DIR/NAME.png and .svg */
    figure_prepare *prepare;
};

/* Every figure, in the order they are drawn; NULL-terminated. */
extern const struct figure figures[];

#endif
