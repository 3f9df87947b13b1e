/* worker.h — a forked process that answers its parent's requests one at a
 * time: the sweep's points run in one (runner.c), so that a crash or a
 * sticky CUDA error costs one reply, never the sweep.
 *
 * A worker serves until its parent closes it, until its serve function asks
 * to stop (after a reply that leaves the process unfit for more: a sticky
 * CUDA error), or until it dies; the next worker_call() then forks a fresh
 * one. A serve function that always asks to stop gives every request a clean
 * process of its own; one that goes on lets requests share what a process
 * sets up once (a CUDA context, a CUPTI profiling session).
 *
 * A worker leads a process group of its own: what it forks (a plugin's
 * helper, say) is killed with it when a call times out or a stop signal
 * arrives (interrupt.h), and when it ends (its end is seen through a pidfd
 * even while such a helper holds its socket); a Ctrl-C at the terminal
 * reaches the parent, which ends the worker. It dies with its parent,
 * however the parent ends: the kernel's parent-death signal (SIGTERM) makes
 * it kill its group.
 *
 * Requests and replies are fixed-size byte blocks over a socket pair (a
 * worker that died never costs its parent a SIGPIPE). The worker is forked
 * from the caller as it is at the first call after a fresh start: what the
 * serve function reads besides the request must be set up before then. */
#ifndef HARNESS_WORKER_H
#define HARNESS_WORKER_H

#include <stddef.h>
#include <sys/types.h>

/* Answers one request: fills `reply`. Returns 1 to go on serving, 0 to exit
 * once this reply is sent. Runs in the worker. */
typedef int (*worker_serve_fn)(void *ctx, const void *request, void *reply);

struct worker {
    worker_serve_fn serve;
    void *ctx;
    size_t request_len, reply_len;
    double timeout_s;   /* seconds a call may wait for its reply; 0 (worker_init's): none */
    pid_t pid;          /* the running worker, 0 when none */
    int fd;             /* our end of its socket pair, -1 when none */
    int pidfd;          /* the running worker's pidfd, -1 when none */
    long started;       /* workers forked so far */
};

/* How a call ended. */
enum worker_status {
    WORKER_OK = 0,
    WORKER_FAILED = -1,     /* the worker crashed, exited or could not start */
    WORKER_TIMED_OUT = -2,  /* no reply within timeout_s: the worker was killed */
    WORKER_STOPPED = -3,    /* a stop signal arrived (interrupt.h): the worker was killed */
};

/* A worker description; nothing is forked until the first call. */
void worker_init(struct worker *w, worker_serve_fn serve, void *ctx, size_t request_len,
                 size_t reply_len);

/* Sends `request` to the worker, forking one first when none runs, and
 * reads its whole reply. Returns WORKER_OK with `reply` filled; else a
 * failure with the worker reaped and `why` saying how it ended ("worker
 * killed by signal 11 (Segmentation fault)", "worker exited with status
 * 3", "timeout"). A timeout or a stop signal kills the worker's whole
 * process group. */
int worker_call(struct worker *w, const void *request, void *reply, char *why, size_t why_len);

/* Ends the running worker, if any: closes its socket, which it reads as the
 * end of its requests, and waits for it. */
void worker_close(struct worker *w);

#endif
