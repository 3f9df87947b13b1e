/* stall_plugin.c — methods that take their time, for the tests of locks,
 * interruptions and timeouts (tests/e2e/e2e.sh):
 *   nap    each run() sleeps 10·N microseconds (N = 2^10: 10 ms), then returns;
 *   stall  run() never returns; before it blocks, it forks a child of its
 *          own (in the worker's process group) and, when $STALL_PIDS names
 *          a file, appends "WORKER_PID CHILD_PID" to it, so that a test can
 *          check that both are gone after the timeout or the interruption.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "attn.h"

static double no_work(const struct attn_problem *p, const struct attn_params *a)
{
    (void)p;
    (void)a;
    return 1;
}

static const char *always_valid(const struct attn_problem *p, const struct attn_params *a,
                                char *why, size_t why_len)
{
    (void)p;
    (void)a;
    (void)why;
    (void)why_len;
    return NULL;
}

struct nap_state {
    int64_t N;
};

static int nap_setup(void *state, const struct attn_problem *p, const struct attn_params *a,
                     void *workspace, char *why, size_t why_len)
{
    (void)a;
    (void)workspace;
    (void)why;
    (void)why_len;
    ((struct nap_state *)state)->N = p->N;
    return 0;
}

static int nap_run(void *state, const struct attn_tensors *t, void *stream)
{
    (void)t;
    (void)stream;
    usleep((useconds_t)(10 * ((struct nap_state *)state)->N));
    return 0;
}

static int stall_run(void *state, const struct attn_tensors *t, void *stream)
{
    (void)state;
    (void)t;
    (void)stream;
    pid_t child = fork();
    if (child == 0)
        for (;;) pause();
    const char *record = getenv("STALL_PIDS");
    FILE *f = record ? fopen(record, "a") : NULL;
    if (f) {
        fprintf(f, "%d %d\n", (int)getpid(), (int)child);
        fclose(f);
    }
    for (;;) pause();
    __builtin_unreachable();
}

static const char *const no_variants[] = {NULL};

static const struct attn_method nap_method = {
    .abi_version = ATTN_ABI_VERSION,
    .name = "nap",
    .description = "test plugin: each run sleeps 10 N microseconds",
    .variants = no_variants,
    .backend = ATTN_CPU,
    .state_size = sizeof(struct nap_state),
    .validate = always_valid,
    .setup = nap_setup,
    .run = nap_run,
    .flops = no_work,
    .bytes = no_work,
};

static const struct attn_method stall_method = {
    .abi_version = ATTN_ABI_VERSION,
    .name = "stall",
    .description = "test plugin: a run that never returns",
    .variants = no_variants,
    .backend = ATTN_CPU,
    .validate = always_valid,
    .run = stall_run,
    .flops = no_work,
    .bytes = no_work,
};

static const struct attn_method *const methods[] = {&nap_method, &stall_method, NULL};

static const struct attn_plugin plugin = {
    .abi_version = ATTN_ABI_VERSION,
    .name = "stall (tests)",
    .methods = methods,
};

const struct attn_plugin *attnbench_plugin(void) { return &plugin; }
