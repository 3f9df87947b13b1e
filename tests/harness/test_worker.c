/* test_worker.c — the forked worker that runs the sweep's points
 * (harness/sweep/worker.c): a worker that goes on serves every request in one
 * process (how `run --profile` sets CUPTI up once per run); one that stops
 * gives each request a process of its own; a worker that crashes, exits or
 * is killed costs one reply, and the next request gets a fresh one; closing
 * leaves no process behind. A worker that runs over its timeout, or is
 * stopped by a signal to its parent, is killed with what it forked; one
 * that exits leaving a child behind is seen to end and takes the child
 * along; one whose parent dies, however, dies with it. */
#include "sweep/worker.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>

#include "core/clock.h"
#include "sweep/interrupt.h"
#include "test_util.h"

/* HANG forks a child (in the worker's process group) and never answers;
 * LEAVE forks one and exits. The pids of both go to the pipe `hang_pids`
 * (set before the call). */
enum action { ANSWER, ANSWER_AND_STOP, CRASH, EXIT, HANG, LEAVE };
static int hang_pids[2];

struct request {
    enum action action;
    int value;
};

struct reply {
    pid_t pid;
    int value;
    int served;  /* requests this process has answered, this one included */
};

struct serve_state {
    int keep;    /* go on after an ANSWER */
    int served;  /* the worker's own count: its copy of this struct */
};

static int serve(void *ctx, const void *request, void *reply)
{
    struct serve_state *st = ctx;
    const struct request *req = request;
    struct reply *rep = reply;
    if (req->action == CRASH) {
        /* A crash as the kernel delivers it, also where AddressSanitizer
         * has installed its own handler (which would exit instead). */
        signal(SIGSEGV, SIG_DFL);
        raise(SIGSEGV);
    }
    if (req->action == EXIT) _exit(7);
    if (req->action == HANG || req->action == LEAVE) {
        pid_t pids[2] = {getpid(), fork()};
        if (pids[1] == 0)
            for (;;) pause();
        if (write(hang_pids[1], pids, sizeof pids) != sizeof pids) _exit(8);
        if (req->action == LEAVE) _exit(7);
        for (;;) pause();
    }
    rep->pid = getpid();
    rep->value = 2 * req->value;
    rep->served = ++st->served;
    return st->keep && req->action != ANSWER_AND_STOP;
}

static int call(struct worker *w, enum action action, int value, struct reply *rep, char *why,
                size_t why_len)
{
    struct request req = {action, value};
    memset(rep, 0, sizeof *rep);
    why[0] = '\0';
    return worker_call(w, &req, rep, why, why_len);
}

/* 1 when `pid` is gone (reaped by the worker module). */
static int gone(pid_t pid) { return kill(pid, 0) != 0; }

/* 1 when `pid` has died: gone, or a zombie not yet reaped (by init). */
static int dead(pid_t pid)
{
    char path[64], stat[256];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return 1;
    size_t n = fread(stat, 1, sizeof stat - 1, f);
    fclose(f);
    stat[n] = '\0';
    const char *state = strrchr(stat, ')');
    return state && state[1] == ' ' && (state[2] == 'Z' || state[2] == 'X');
}

/* Waits (up to 5 s) until `pid` has died: its socket is closed then. */
static void wait_dead(pid_t pid)
{
    for (int i = 0; i < 5000 && !dead(pid); i++) usleep(1000);
}

static void test_kept_worker(void)
{
    struct serve_state st = {1, 0};
    struct worker w;
    struct reply a, b, c;
    char why[256];
    worker_init(&w, serve, &st, sizeof(struct request), sizeof(struct reply));
    CHECK(w.pid == 0); /* nothing forked before the first call */
    CHECK(call(&w, ANSWER, 1, &a, why, sizeof why) == 0);
    CHECK(call(&w, ANSWER, 2, &b, why, sizeof why) == 0);
    CHECK(a.value == 2 && b.value == 4);
    CHECK(a.pid == b.pid && a.pid != getpid());
    CHECK(a.served == 1 && b.served == 2); /* one process, its state kept */
    CHECK(w.started == 1);

    /* A request that asks to stop: answered, then its worker is gone. */
    CHECK(call(&w, ANSWER_AND_STOP, 3, &c, why, sizeof why) == 0);
    CHECK(c.pid == a.pid && c.value == 6 && c.served == 3);
    CHECK(w.pid == 0 && gone(c.pid));
    CHECK(call(&w, ANSWER, 4, &c, why, sizeof why) == 0);
    CHECK(c.pid != a.pid && c.served == 1 && w.started == 2);

    /* A crash costs that request only. */
    pid_t before = w.pid;
    CHECK(call(&w, CRASH, 5, &c, why, sizeof why) != 0);
    CHECK_CONTAINS(why, "worker killed by signal 11");
    CHECK(w.pid == 0 && gone(before));
    CHECK(call(&w, ANSWER, 6, &c, why, sizeof why) == 0);
    CHECK(c.value == 12 && c.served == 1 && w.started == 3);

    before = w.pid;
    CHECK(call(&w, EXIT, 7, &c, why, sizeof why) != 0);
    CHECK_CONTAINS(why, "worker exited with status 7");
    CHECK(w.pid == 0 && gone(before));

    /* Killed between two requests (by the OOM killer, say): the request had
     * not reached it, and a fresh worker answers it. */
    CHECK(call(&w, ANSWER, 8, &c, why, sizeof why) == 0);
    before = c.pid;
    kill(before, SIGKILL);
    wait_dead(before);
    CHECK(call(&w, ANSWER, 9, &c, why, sizeof why) == 0);
    CHECK(c.value == 18 && c.pid != before && c.served == 1);

    before = w.pid;
    worker_close(&w);
    CHECK(w.pid == 0 && gone(before));
    worker_close(&w); /* none running: nothing to do */
}

static void test_one_shot_worker(void)
{
    struct serve_state st = {0, 0};
    struct worker w;
    struct reply a, b;
    char why[256];
    worker_init(&w, serve, &st, sizeof(struct request), sizeof(struct reply));
    CHECK(call(&w, ANSWER, 1, &a, why, sizeof why) == 0);
    CHECK(w.pid == 0 && gone(a.pid));
    CHECK(call(&w, ANSWER, 2, &b, why, sizeof why) == 0);
    CHECK(a.pid != b.pid && a.served == 1 && b.served == 1 && w.started == 2);
    CHECK(st.served == 0); /* the parent's state is never touched */
}

/* The pids a HANG wrote: 0, or -1 when none came within 5 s. */
static int read_hang_pids(pid_t pids[2])
{
    struct pollfd p = {.fd = hang_pids[0], .events = POLLIN};
    return poll(&p, 1, 5000) == 1 && read(hang_pids[0], pids, 2 * sizeof *pids) == 2 * sizeof *pids
               ? 0 : -1;
}

/* Waits up to 5 s each for both of a HANG's processes to die. */
static int both_die(const pid_t pids[2])
{
    wait_dead(pids[0]);
    wait_dead(pids[1]);
    return dead(pids[0]) && dead(pids[1]);
}

/* A HANG (or LEAVE) request that must end as `want`, with `why_want`: its
 * worker and the child it forked are gone, the whole group. Returns the
 * seconds the call took. */
static double hang_ends(struct worker *w, enum action action, int want, const char *why_want)
{
    struct reply rep;
    char why[256];
    pid_t pids[2] = {0, 0};
    CHECK(pipe(hang_pids) == 0);
    const double start = monotonic_seconds();
    CHECK(call(w, action, 1, &rep, why, sizeof why) == want);
    const double took = monotonic_seconds() - start;
    CHECK_STR(why, why_want);
    CHECK(read_hang_pids(pids) == 0);
    CHECK(w->pid == 0 && both_die(pids));
    close(hang_pids[0]);
    close(hang_pids[1]);
    return took;
}

static void test_timeout(void)
{
    struct serve_state st = {1, 0};
    struct worker w;
    struct reply rep;
    char why[256];
    worker_init(&w, serve, &st, sizeof(struct request), sizeof(struct reply));
    CHECK(w.timeout_s == 0);
    w.timeout_s = 0.3;
    const double took = hang_ends(&w, HANG, WORKER_TIMED_OUT, "timeout");
    CHECK(took >= 0.3 && took < 3);
    CHECK(call(&w, ANSWER, 2, &rep, why, sizeof why) == WORKER_OK && rep.value == 4);
    /* A worker that exits and leaves a child behind, holding the socket:
     * the call ends all the same (no timeout here), and the child goes too.
     * (A fresh worker: forked after the pipe is made.) */
    worker_close(&w);
    w.timeout_s = 0;
    hang_ends(&w, LEAVE, WORKER_FAILED, "worker exited with status 7");
    worker_close(&w);
}

/* A stop signal to the parent ends the call at once, and the worker's group. */
static void test_stopped(void)
{
    struct serve_state st = {1, 0};
    struct worker w;
    worker_init(&w, serve, &st, sizeof(struct request), sizeof(struct reply));
    interrupt_install(NULL);
    fflush(NULL);
    pid_t signaller = fork();
    if (signaller == 0) {
        usleep(200 * 1000);
        kill(getppid(), SIGINT);
        _exit(0);
    }
    CHECK(hang_ends(&w, HANG, WORKER_STOPPED, "stopped by a signal") < 3);
    CHECK(interrupt_signal() == SIGINT);
    waitpid(signaller, NULL, 0);
    interrupt_uninstall();
}

/* The worker's parent is killed (SIGKILL: no chance to clean up): the
 * worker and its child die all the same. */
static void test_parent_killed(void)
{
    CHECK(pipe(hang_pids) == 0);
    fflush(NULL);
    pid_t parent = fork();
    if (parent == 0) {
        struct serve_state st = {1, 0};
        struct worker w;
        struct reply rep;
        char why[256];
        worker_init(&w, serve, &st, sizeof(struct request), sizeof(struct reply));
        call(&w, HANG, 1, &rep, why, sizeof why);
        _exit(1);
    }
    pid_t pids[2] = {0, 0};
    CHECK(read_hang_pids(pids) == 0);
    CHECK(!dead(pids[0]) && !dead(pids[1]));
    kill(parent, SIGKILL);
    waitpid(parent, NULL, 0);
    CHECK(both_die(pids));
    close(hang_pids[0]);
    close(hang_pids[1]);
}

int main(void)
{
    test_kept_worker();
    test_one_shot_worker();
    test_timeout();
    test_stopped();
    test_parent_killed();
    return check_exit("test_worker");
}
