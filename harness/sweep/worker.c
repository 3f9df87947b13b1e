/* worker.c — a forked process that answers requests (see worker.h). */
#include "sweep/worker.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "sweep/interrupt.h"

/* Waits until `fd` can be read (WORKER_OK), the process of `pidfd` (-1:
 * none) has ended without leaving anything to read (WORKER_FAILED: a child
 * it forked may hold the other end open), `deadline` (monotonic seconds; 0:
 * none) passes or a stop signal arrives (interrupt.h). */
static enum worker_status wait_readable(int fd, int pidfd, double deadline)
{
    for (;;) {
        if (interrupt_signal()) return WORKER_STOPPED;
        int ms = -1;
        if (deadline > 0) {
            const double left = deadline - monotonic_seconds();
            if (left <= 0) return WORKER_TIMED_OUT;
            ms = left > 3600 ? 3600 * 1000 : (int)(left * 1000) + 1;
        }
        struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = pidfd, .events = POLLIN}};
        const int ready = poll(p, pidfd >= 0 ? 2 : 1, ms);
        if (ready > 0 && p[0].revents) return WORKER_OK;
        if (ready > 0) return WORKER_FAILED;
        if (ready < 0 && errno != EINTR) return WORKER_FAILED;
    }
}

/* All of `len` bytes: WORKER_OK; WORKER_FAILED when the other end closed or
 * on an error; in the parent, also the end of a wait (wait_readable). */
static enum worker_status read_all(int fd, int pidfd, void *buf, size_t len, double deadline)
{
    char *p = buf;
    while (len) {
        const enum worker_status waited = wait_readable(fd, pidfd, deadline);
        if (waited != WORKER_OK) return waited;
        ssize_t got = read(fd, p, len);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return WORKER_FAILED;
        p += got;
        len -= (size_t)got;
    }
    return WORKER_OK;
}

/* MSG_NOSIGNAL: a closed other end is an error here, not a SIGPIPE. */
static int send_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t put = send(fd, p, len, MSG_NOSIGNAL);
        if (put < 0 && errno == EINTR) continue;
        if (put <= 0) return -1;
        p += put;
        len -= (size_t)put;
    }
    return 0;
}

/* The worker's life: a request, its reply and whether more may come, until
 * the parent closes its end or the serve function says stop. */
static void serve_forever(struct worker *w, int fd)
{
    void *request = malloc(w->request_len), *reply = malloc(w->reply_len);
    if (!request || !reply) _exit(4);
    while (read_all(fd, -1, request, w->request_len, 0) == WORKER_OK) {
        memset(reply, 0, w->reply_len);
        const unsigned char more = w->serve(w->ctx, request, reply) ? 1 : 0;
        if (send_all(fd, reply, w->reply_len) != 0 || send_all(fd, &more, 1) != 0) _exit(3);
        if (!more) break;
    }
    _exit(0);
}

void worker_init(struct worker *w, worker_serve_fn serve, void *ctx, size_t request_len,
                 size_t reply_len)
{
    memset(w, 0, sizeof *w);
    w->serve = serve;
    w->ctx = ctx;
    w->request_len = request_len;
    w->reply_len = reply_len;
    w->fd = -1;
    w->pidfd = -1;
}

/* In the worker, on SIGTERM (the parent's death, or anyone's request): it
 * and what it forked end together. */
static void kill_own_group(int sig)
{
    (void)sig;
    kill(-getpid(), SIGKILL); /* its group's id is its pid: never the parent's group */
    _exit(6);
}

static int start(struct worker *w, char *why, size_t why_len)
{
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) {
        snprintf(why, why_len, "socketpair: %s", strerror(errno));
        return -1;
    }
    fflush(NULL); /* the worker must not flush our buffered output a second time */
    const pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, why_len, "fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        /* A process group of its own, which a timeout or a stop kills
         * whole; and death with the parent, however the parent ends, of the
         * group too (if the parent ended before prctl, getppid() is no
         * longer it). */
        interrupt_uninstall();
        setpgid(0, 0);
        signal(SIGTERM, kill_own_group);
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent) kill_own_group(SIGTERM);
        close(fds[0]);
        serve_forever(w, fds[1]);
    }
    setpgid(pid, pid); /* here too: before the group is killed, it must exist */
    interrupt_pass_on(-pid, SIGKILL);
    close(fds[1]);
    w->pid = pid;
    w->fd = fds[0];
    /* Its end, seen even when a child of its own keeps the socket open;
     * where the kernel has no pidfds (before 5.3), the socket alone. */
    w->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    w->started++;
    return 0;
}

/* Closes our end and waits for the worker (killing its process group
 * first when `kill_group`); its exit status. What it forked and left
 * behind dies then too: the group's id is not given to another process
 * while any member lives. */
static int reap(struct worker *w, int kill_group)
{
    int status = 0;
    close(w->fd);
    if (w->pidfd >= 0) close(w->pidfd);
    if (kill_group) kill(-w->pid, SIGKILL);
    while (waitpid(w->pid, &status, 0) < 0 && errno == EINTR) {}
    kill(-w->pid, SIGKILL);
    interrupt_forget(-w->pid);
    w->pid = 0;
    w->fd = -1;
    w->pidfd = -1;
    return status;
}

static void describe_end(int status, char *why, size_t why_len)
{
    if (WIFSIGNALED(status))
        snprintf(why, why_len, "worker killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(why, why_len, "worker exited with status %d",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

int worker_call(struct worker *w, const void *request, void *reply, char *why, size_t why_len)
{
    /* A worker that is gone before it took the request (killed between two
     * requests) never saw it: the request goes to a fresh one. */
    int sent = 0;
    for (int attempt = 0; attempt < 2 && !sent; attempt++) {
        if (!w->pid && start(w, why, why_len) != 0) return WORKER_FAILED;
        sent = send_all(w->fd, request, w->request_len) == 0;
        if (!sent) describe_end(reap(w, 0), why, why_len);
    }
    if (!sent) return WORKER_FAILED;
    const double deadline = w->timeout_s > 0 ? monotonic_seconds() + w->timeout_s : 0;
    unsigned char more = 0;
    enum worker_status got = read_all(w->fd, w->pidfd, reply, w->reply_len, deadline);
    if (got == WORKER_OK) got = read_all(w->fd, w->pidfd, &more, 1, deadline);
    if (got == WORKER_TIMED_OUT || got == WORKER_STOPPED) {
        reap(w, 1);
        snprintf(why, why_len, got == WORKER_TIMED_OUT ? "timeout" : "stopped by a signal");
        return got;
    }
    if (got != WORKER_OK) {
        describe_end(reap(w, 0), why, why_len);
        return WORKER_FAILED;
    }
    if (!more) reap(w, 0);
    return WORKER_OK;
}

void worker_close(struct worker *w)
{
    if (w->pid) reap(w, 0);
}
