/* test_plugin.c — plugin loading: the example plugin loads and computes
 * sliding-window attention (with k = N it is full attention, checked against
 * the double reference); a missing entry symbol, a newer ABI version and a
 * method without run() are refused with a message that says so; a missing
 * file too.
 *
 * usage: test_plugin GOOD.so NO_ENTRY.so FUTURE_ABI.so NO_RUN.so */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn/method_call.h"
#include "attn/reference.h"
#include "attn/registry.h"

static int failures;

static void expect_refused(const char *path, const char *needle)
{
    char why[1024] = "";
    int rc = attn_plugin_load(path, why, sizeof why);
    int ok = rc != 0 && strstr(why, needle) != NULL;
    printf("%s refuse %s: %s\n", ok ? "ok  " : "FAIL", path, why);
    failures += !ok;
}

/* local_window with k = N against the reference of full attention. */
static void check_example_method(void)
{
    const struct attn_method *m = attn_method_find("local_window", ATTN_CPU);
    if (!m) {
        printf("FAIL local_window not registered\n");
        failures++;
        return;
    }
    struct attn_problem p = {2, 2, 77, 16, ATTN_FP32, ATTN_CPU, 7};
    struct attn_params a = {0, p.N, 1, NULL, ATTN_SHARED_OFFICIAL};
    char why[256];
    int64_t n = attn_tensor_elems(&p);
    float *q = malloc(n * 4), *k = malloc(n * 4), *v = malloc(n * 4), *o = malloc(n * 4);
    double *qd = malloc(n * 8), *kd = malloc(n * 8), *vd = malloc(n * 8), *od = malloc(n * 8),
           *ref = malloc(n * 8);
    attn_random_fill_host(q, ATTN_FP32, p.seed, 0, n);
    attn_random_fill_host(k, ATTN_FP32, p.seed, 1, n);
    attn_random_fill_host(v, ATTN_FP32, p.seed, 2, n);
    for (int64_t i = 0; i < n; i++) o[i] = NAN;
    unsigned char state[256] = {0};
    const char *bad = attn_method_validate(m, &p, &a, why, sizeof why);
    int rc = bad || m->state_size > sizeof state ||
             attn_method_setup(m, state, &p, &a, NULL, why, sizeof why) ||
             attn_method_run(m, state, &(struct attn_tensors){q, k, v, o}, NULL);
    attn_to_double(q, ATTN_FP32, qd, n);
    attn_to_double(k, ATTN_FP32, kd, n);
    attn_to_double(v, ATTN_FP32, vd, n);
    attn_to_double(o, ATTN_FP32, od, n);
    rc = rc || attn_reference("full", &p, &a, qd, kd, vd, ref, NULL, NULL, why, sizeof why);
    double err = rc ? INFINITY : attn_rel_error(od, ref, n);
    int ok = err <= attn_error_bound(ATTN_FP32);
    printf("%s local_window k=N vs full: rel error %.2e\n", ok ? "ok  " : "FAIL", err);
    failures += !ok;
    /* k > N is refused by the plugin's validate */
    a.k = p.N + 1;
    bad = attn_method_validate(m, &p, &a, why, sizeof why);
    ok = bad && strstr(bad, "k=78");
    printf("%s local_window validate k > N: %s\n", ok ? "ok  " : "FAIL", bad ? bad : "(accepted)");
    failures += !ok;
    free(q), free(k), free(v), free(o), free(qd), free(kd), free(vd), free(od), free(ref);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s GOOD.so NO_ENTRY.so FUTURE_ABI.so NO_RUN.so\n", argv[0]);
        return 2;
    }
    char why[1024] = "";
    int rc = attn_plugin_load(argv[1], why, sizeof why);
    printf("%s load %s %s\n", rc == 0 ? "ok  " : "FAIL", argv[1], why);
    failures += rc != 0;
    if (rc == 0) check_example_method();
    /* loading the same plugin twice would register the method twice */
    expect_refused(argv[1], "already exists");
    expect_refused(argv[2], "no symbol 'attnbench_plugin'");
    expect_refused(argv[3], "ABI version");
    expect_refused(argv[4], "lacks the operation 'run'");
    expect_refused("/nonexistent/plugin.so", "cannot load");
    printf("%s\n", failures ? "FAILED" : "all passed");
    return failures ? 1 : 0;
}
