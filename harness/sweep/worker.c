/* worker.c — a forked process that answers requests (see worker.h). */
#include "sweep/worker.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* All of `len` bytes, or -1 (the other end closed, or an error). */
static int read_all(int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len) {
        ssize_t got = read(fd, p, len);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return -1;
        p += got;
        len -= (size_t)got;
    }
    return 0;
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
    while (read_all(fd, request, w->request_len) == 0) {
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
}

static int start(struct worker *w, char *why, size_t why_len)
{
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) {
        snprintf(why, why_len, "socketpair: %s", strerror(errno));
        return -1;
    }
    fflush(NULL); /* the worker must not flush our buffered output a second time */
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, why_len, "fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        close(fds[0]);
        serve_forever(w, fds[1]);
    }
    close(fds[1]);
    w->pid = pid;
    w->fd = fds[0];
    w->started++;
    return 0;
}

/* Closes our end and waits for the worker; its exit status. */
static int reap(struct worker *w)
{
    int status = 0;
    close(w->fd);
    while (waitpid(w->pid, &status, 0) < 0 && errno == EINTR) {}
    w->pid = 0;
    w->fd = -1;
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
        if (!w->pid && start(w, why, why_len) != 0) return -1;
        sent = send_all(w->fd, request, w->request_len) == 0;
        if (!sent) describe_end(reap(w), why, why_len);
    }
    if (!sent) return -1;
    unsigned char more = 0;
    if (read_all(w->fd, reply, w->reply_len) != 0 || read_all(w->fd, &more, 1) != 0) {
        describe_end(reap(w), why, why_len);
        return -1;
    }
    if (!more) reap(w);
    return 0;
}

void worker_close(struct worker *w)
{
    if (w->pid) reap(w);
}
