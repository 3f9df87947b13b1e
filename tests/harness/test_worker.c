/* test_worker.c — the forked worker that runs the sweep's points
 * (harness/sweep/worker.c): a worker that goes on serves every request in one
 * process (how `run --profile` sets CUPTI up once per run); one that stops
 * gives each request a process of its own; a worker that crashes, exits or
 * is killed costs one reply, and the next request gets a fresh one; closing
 * leaves no process behind. */
#include "sweep/worker.h"

#include <signal.h>

#include "test_util.h"

enum action { ANSWER, ANSWER_AND_STOP, CRASH, EXIT };

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

/* Waits until `pid` has died (a zombie, not yet reaped): its socket is
 * closed then. */
static void wait_dead(pid_t pid)
{
    char path[64], stat[256];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    for (int i = 0; i < 5000; i++) {
        FILE *f = fopen(path, "r");
        size_t n = f ? fread(stat, 1, sizeof stat - 1, f) : 0;
        if (f) fclose(f);
        stat[n] = '\0';
        const char *state = strrchr(stat, ')'); /* "pid (name) S ..." */
        if (!f || (state && state[1] == ' ' && state[2] == 'Z')) return;
        usleep(1000);
    }
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

int main(void)
{
    test_kept_worker();
    test_one_shot_worker();
    return check_exit("test_worker");
}
