/* peer_table.h — the table of attnbench against its fastest peer that
 * `attnbench plot` writes beside its figures (peer_table.c). */
#ifndef HARNESS_PLOT_PEER_TABLE_H
#define HARNESS_PLOT_PEER_TABLE_H

#include "plot/series.h"

/* Writes the table to `path` (markdown) and returns its number of lines of
 * data; 0 when no series of attnbench has a peer in the files (no file is
 * left at `path`); -1 when the file cannot be written (errno says why). */
int peer_table_write(const struct plot *p, const char *path);

#endif
