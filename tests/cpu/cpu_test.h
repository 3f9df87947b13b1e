/* cpu_test.h — what the CPU tests share: seeded inputs in fp32 and in
 * double, running a method the way the harness does (validate, workspace,
 * setup, poisoned buffers, run, export, teardown), the reference, and
 * describing a case in one line. Every helper prints what went wrong and
 * returns non-zero, so a test can stop at the first failure. */
#ifndef TESTS_CPU_TEST_H
#define TESTS_CPU_TEST_H

#include <stddef.h>
#include <stdint.h>

#include "attn.h"

/* The six CPU methods, in the order of docs/methods.md, NULL-terminated. */
extern const struct attn_method *const test_cpu_methods[];
const struct attn_method *test_cpu_method_named(const char *name);

/* An fp32 problem on the CPU. */
struct attn_problem test_problem(int B, int H, int64_t N, int d, uint64_t seed);

/* attn_random_fill_host(p->seed, ...) for Q, K, V in fp32, and the same
 * values in double for the reference. */
struct test_inputs {
    int64_t n;              /* elements per tensor: B*H*N*d */
    float *q, *k, *v;
    double *qd, *kd, *vd;
};
int test_inputs_make(const struct attn_problem *p, struct test_inputs *in);
void test_inputs_free(struct test_inputs *in);
/* After editing the fp32 inputs, refreshes the double copies. */
void test_inputs_sync(struct test_inputs *in);

/* A selection sized for (p, a): topk keys [B,H,N,k]; mita keys [B,H,m,k]
 * and routes [B,H,N,s_r]. */
int test_selection_alloc(const char *name, const struct attn_problem *p,
                         const struct attn_params *a, struct attn_selection *sel);
void test_selection_free(struct attn_selection *sel);

/* Runs `m` as the harness does, with the workspace and `out` poisoned with
 * NaN first; exports the selection into `sel` when it is not NULL, then
 * checks that every element of `out` was written (finite).
 * out: [B,H,N,d] fp32 */
int test_run_cpu(const struct attn_method *m, const struct attn_problem *p,
                 const struct attn_params *a, const struct test_inputs *in, float *out,
                 struct attn_selection *sel);

/* attn_reference() on the double inputs; ref: [B,H,N,d] */
int test_reference(const char *name, const struct attn_problem *p, const struct attn_params *a,
                   const struct test_inputs *in, const struct attn_selection *given,
                   struct attn_selection *chosen, double *ref);

/* attn_rel_error() of an fp32 output against a double one. */
double test_rel_error(const float *out, const double *ref, int64_t n);

/* "mita:route_only B=2 H=3 N=100 d=24 m=7 k=5 s_r=2 shared_scale=paper seed=17",
 * listing only the parameters the method uses. */
void test_describe(const struct attn_method *m, const struct attn_problem *p,
                   const struct attn_params *a, char *buf, size_t len);

#endif
