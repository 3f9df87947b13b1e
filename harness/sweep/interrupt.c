/* interrupt.c — what stops a sweep (see interrupt.h). The handler only
 * touches the variables below and calls async-signal-safe functions (kill,
 * write, _exit). */
#include "sweep/interrupt.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const int stop_signals[] = {SIGINT, SIGTERM, SIGHUP};
#define N_STOP_SIGNALS ((int)(sizeof stop_signals / sizeof stop_signals[0]))
#define MAX_TARGETS 64

static volatile sig_atomic_t received, immediate;
static volatile sig_atomic_t targets[MAX_TARGETS], target_signals[MAX_TARGETS];
static char note[8192];
static size_t note_len;

static const char *signal_name(int sig)
{
    return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : sig == SIGHUP ? "SIGHUP"
                                                                                 : "a signal";
}

/* write(2) of a whole string; nothing to do if stderr is gone. */
static void say(const char *text, size_t len)
{
    while (len) {
        ssize_t put = write(STDERR_FILENO, text, len);
        if (put <= 0) return;
        text += put;
        len -= (size_t)put;
    }
}

void interrupt_print_note(int sig)
{
    if (!note_len) return;
    const char *name = signal_name(sig);
    say("attnbench: stopped by ", 22);
    say(name, strlen(name));
    say(note, note_len);
}

static void on_stop(int sig)
{
    if (!received) received = sig;
    for (int i = 0; i < MAX_TARGETS; i++)
        if (targets[i]) kill((pid_t)targets[i], target_signals[i]);
    if (immediate) {
        interrupt_print_note(sig);
        _exit(128 + sig);
    }
}

static void forget_all(void)
{
    for (int i = 0; i < MAX_TARGETS; i++) targets[i] = 0;
}

void interrupt_install(const char *text)
{
    forget_all();
    received = 0;
    immediate = 0;
    note_len = 0;
    if (text) {
        snprintf(note, sizeof note, "%s", text);
        note_len = strlen(note);
    }
    /* No SA_RESTART: a wait on the worker returns to look at `received`. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < N_STOP_SIGNALS; i++) sigaddset(&sa.sa_mask, stop_signals[i]);
    for (int i = 0; i < N_STOP_SIGNALS; i++) sigaction(stop_signals[i], &sa, NULL);
}

void interrupt_uninstall(void)
{
    for (int i = 0; i < N_STOP_SIGNALS; i++) signal(stop_signals[i], SIG_DFL);
    forget_all();
    immediate = 0;
    received = 0;
}

int interrupt_signal(void) { return received; }

void interrupt_pass_on(pid_t target, int sig)
{
    for (int i = 0; i < MAX_TARGETS; i++)
        if (!targets[i]) {
            target_signals[i] = sig;
            targets[i] = target; /* last: the handler reads the pair once this is set */
            return;
        }
}

void interrupt_forget(pid_t target)
{
    for (int i = 0; i < MAX_TARGETS; i++)
        if (targets[i] == target) targets[i] = 0;
}

void interrupt_now(int on) { immediate = on; }

/* Appends `n` bytes of `text` to `out` (`*used` bytes so far, NUL-ended);
 * -1 when they do not fit. */
static int append(char *out, size_t len, size_t *used, const char *text, size_t n)
{
    if (*used + n >= len) return -1;
    memcpy(out + *used, text, n);
    *used += n;
    out[*used] = '\0';
    return 0;
}

/* `arg` for a POSIX shell: as it is when it holds nothing special, else in
 * single quotes (a quote inside as '\''). */
static int append_quoted(char *out, size_t len, size_t *used, const char *arg)
{
    static const char plain[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                "_-./,:=+^@%";
    if (*arg && arg[strspn(arg, plain)] == '\0') return append(out, len, used, arg, strlen(arg));
    if (append(out, len, used, "'", 1) != 0) return -1;
    for (const char *c = arg; *c; c++)
        if ((*c == '\'' ? append(out, len, used, "'\\''", 4) : append(out, len, used, c, 1)) != 0)
            return -1;
    return append(out, len, used, "'", 1);
}

int interrupt_resume_command(int argc, char *const argv[], char *out, size_t len)
{
    size_t used = 0;
    int resumed = 0;
    if (len == 0) return -1;
    out[0] = '\0';
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--force") == 0) continue; /* it would delete what is to resume */
        resumed |= strcmp(argv[i], "--resume") == 0;
        if ((used && append(out, len, &used, " ", 1) != 0) ||
            append_quoted(out, len, &used, argv[i]) != 0)
            return -1;
    }
    return resumed ? 0 : append(out, len, &used, " --resume", 9);
}
