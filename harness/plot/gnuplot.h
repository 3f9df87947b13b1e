/* gnuplot.h — what `attnbench plot` says to gnuplot: the literals of the
 * settings files it writes, and the runs of a figure's script that turn
 * them into DIR/NAME.png and DIR/NAME.svg. Kept apart so that the figures
 * deal in numbers and strings, and only this file in processes, exit
 * statuses and output formats. */
#ifndef HARNESS_GNUPLOT_H
#define HARNESS_GNUPLOT_H

#include <stddef.h>
#include <stdio.h>

/* A gnuplot string literal: single quotes (no backslash escapes), a quote
 * doubled; control characters (a newline in a quoted CSV cell) become spaces. */
void gp_quoted(FILE *f, const char *s);
/* The lines `name = 'value'` and `name = value` of a settings file. */
void gp_string(FILE *f, const char *name, const char *value);
void gp_number(FILE *f, const char *name, double value);

/* SCRIPTS/FIGURE.gp, the script that draws `figure`, into path. */
const char *gnuplot_script(char *path, size_t len, const char *scripts, const char *figure);

/* Whether gnuplot is on PATH. */
int gnuplot_installed(void);

/* Runs `gnuplot -e SETUP SETTINGS SCRIPTS/FIGURE.gp` once per format, into
 * OUT_DIR/FIGURE.png and .svg (SETUP names the format, the output and the
 * plots/ folder). 0 when every format was drawn; otherwise the failures are
 * on stderr, their files removed (an empty or partial figure is no figure),
 * and the other formats still drawn. */
int gnuplot_draw(const char *settings, const char *scripts, const char *out_dir,
                 const char *figure);

/* Removes OUT_DIR/FIGURE.png and .svg: a figure not drawn this time must
 * not leave an earlier CSV's behind. */
void gnuplot_remove_drawn(const char *out_dir, const char *figure);

#endif
