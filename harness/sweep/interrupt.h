/* interrupt.h — what stops a sweep: SIGINT, SIGTERM and SIGHUP.
 *
 * While installed, a stop signal is recorded (interrupt_signal()) and
 * passed on at once, from the handler, to the processes registered with
 * interrupt_pass_on(): the running point's worker, its whole process group
 * (SIGKILL), for `run`; each GPU's process (SIGTERM) for `run --gpus`. The
 * sweep then writes no row for the point it stopped (rows are written by
 * this process, whole, between points), prints the note — the command that
 * resumes it — and exits 128 + the signal: 130 for SIGINT, 143 for SIGTERM,
 * 129 for SIGHUP.
 *
 * A point measured in this process (--no-isolate) cannot be stopped from
 * outside: while interrupt_now(1) is in force, a stop signal prints the
 * note and ends the process at once (no row is being written then).
 */
#ifndef HARNESS_SWEEP_INTERRUPT_H
#define HARNESS_SWEEP_INTERRUPT_H

#include <stddef.h>
#include <sys/types.h>

/* Catches the stop signals. `note` (copied; NULL for none) follows
 * "attnbench: stopped by SIGINT" when a signal stops the sweep. Nothing is
 * registered to pass the signal on to, and none was received. */
void interrupt_install(const char *note);

/* The default actions again, nothing registered and no signal received:
 * for a forked child before it does anything else, and for the sweep once
 * it is over (after it read interrupt_signal()). */
void interrupt_uninstall(void);

/* The stop signal received since interrupt_install(), or 0. */
int interrupt_signal(void);

/* On a stop signal, kill(target, sig): a process, or with a negative
 * target a process group. Up to 64 targets; forgotten with
 * interrupt_forget(target). */
void interrupt_pass_on(pid_t target, int sig);
void interrupt_forget(pid_t target);

/* While `on`, a stop signal prints the note and ends the process. */
void interrupt_now(int on);

/* Prints "attnbench: stopped by SIGNAME" and the note on stderr, with
 * write(2) (the handler uses it too); nothing without a note. */
void interrupt_print_note(int sig);

/* The command line that resumes a run: `argv` quoted for a POSIX shell,
 * without --force, with --resume (once). 0, or -1 when it does not fit. */
int interrupt_resume_command(int argc, char *const argv[], char *out, size_t len);

#endif
