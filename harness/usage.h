/* usage.h — the command line's help: `attnbench help` (every command, one
 * line each) and `attnbench COMMAND --help` (that command's arguments,
 * flags and exit status). The sweep's axis flags are printed from AXES[]. */
#ifndef HARNESS_USAGE_H
#define HARNESS_USAGE_H

#include <stdio.h>

/* The commands, one line each, and how to get more. */
void usage_overview(FILE *f);

/* The usage of `command` (run, list, check, plot, merge, compare, slurm,
 * ceilings). 0, or -1 when there is no such command (nothing printed). */
int usage_command(FILE *f, const char *command);

/* "attnbench: unknown command 'x' (run, list, ...)" on stderr; returns 2. */
int usage_unknown_command(const char *command);

#endif
