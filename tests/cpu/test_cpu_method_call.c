/* test_cpu_method_call.c — the wrappers of attn/method_call.h:
 *   a method with only the mandatory operations gets the defaults (no
 *   workspace, a setup that succeeds, a teardown that does nothing, no
 *   selection to export);
 *   every operation of a complete method is called with the caller's
 *   arguments and its result comes back unchanged;
 *   a method built for a newer ABI (or a version below 1) is refused by
 *   every wrapper, and none of its operations is called;
 *   a built-in CPU method answers through the wrappers as it does directly.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cpu_test.h"
#include "attn/method_call.h"
#include "attn/registry.h"
#include "attn/work_models.h"

static int failures;

static void expect(int ok, const char *what)
{
    printf("%s %s\n", ok ? "ok  " : "FAIL", what);
    failures += !ok;
}

/* ---- a fake method that records what it was called with ---- */

static struct {
    int validate, workspace_bytes, setup, run, teardown, flops, bytes, export_selection;
    const void *state, *problem, *params, *workspace, *tensors, *stream;
    struct attn_selection *selection;
} calls;

static const char *fake_validate(const struct attn_problem *p, const struct attn_params *a,
                                 char *why, size_t why_len)
{
    calls.validate++, calls.problem = p, calls.params = a;
    if (a->k > p->N) {
        snprintf(why, why_len, "k=%lld too large", (long long)a->k);
        return why;
    }
    return NULL;
}

static size_t fake_workspace_bytes(const struct attn_problem *p, const struct attn_params *a)
{
    calls.workspace_bytes++, calls.problem = p, calls.params = a;
    return 4096;
}

static int fake_setup(void *state, const struct attn_problem *p, const struct attn_params *a,
                      void *workspace, char *why, size_t why_len)
{
    calls.setup++, calls.state = state, calls.problem = p, calls.params = a;
    calls.workspace = workspace;
    snprintf(why, why_len, "setup ran");
    return 3;
}

static int fake_run(void *state, const struct attn_tensors *t, void *stream)
{
    calls.run++, calls.state = state, calls.tensors = t, calls.stream = stream;
    return 7;
}

static void fake_teardown(void *state) { calls.teardown++, calls.state = state; }

static double fake_flops(const struct attn_problem *p, const struct attn_params *a)
{
    calls.flops++, calls.problem = p, calls.params = a;
    return 1.5e9;
}

static double fake_bytes(const struct attn_problem *p, const struct attn_params *a)
{
    calls.bytes++, calls.problem = p, calls.params = a;
    return 2.5e6;
}

static int fake_export_selection(void *state, struct attn_selection *out)
{
    calls.export_selection++, calls.state = state, calls.selection = out;
    return 5;
}

/* Only what a plugin must give (plugin.c): validate, run, flops, bytes. */
static const struct attn_method minimal = {
    .abi_version = ATTN_ABI_VERSION,
    .name = "minimal",
    .backend = ATTN_CPU,
    .validate = fake_validate,
    .run = fake_run,
    .flops = fake_flops,
    .bytes = fake_bytes,
};

static const struct attn_method complete = {
    .abi_version = ATTN_ABI_VERSION,
    .name = "complete",
    .backend = ATTN_CPU,
    .validate = fake_validate,
    .workspace_bytes = fake_workspace_bytes,
    .setup = fake_setup,
    .run = fake_run,
    .teardown = fake_teardown,
    .flops = fake_flops,
    .bytes = fake_bytes,
    .export_selection = fake_export_selection,
};

static const struct attn_problem problem = {1, 2, 64, 16, ATTN_FP32, ATTN_CPU, 1};
static const struct attn_params params = {.m = 4, .k = 8, .s_r = 1};

static void check_defaults(void)
{
    char why[256] = "";
    int state = 0;
    struct attn_tensors t = {0};
    struct attn_selection sel = {0};
    memset(&calls, 0, sizeof calls);
    expect(attn_method_workspace_bytes(&minimal, &problem, &params) == 0,
           "no workspace_bytes: 0 bytes");
    expect(attn_method_setup(&minimal, &state, &problem, &params, NULL, why, sizeof why) == 0,
           "no setup: succeeds");
    attn_method_teardown(&minimal, &state); /* no teardown: nothing to call */
    expect(!attn_method_has_selection(&minimal), "no export_selection: no selection");
    expect(attn_method_export_selection(&minimal, &state, &sel) != 0,
           "no export_selection: exporting is an error");
    expect(attn_method_run(&minimal, &state, &t, NULL) == 7 && calls.run == 1,
           "run still reaches the method");
    attn_method_teardown(&complete, NULL);
    expect(calls.teardown == 0, "teardown of a NULL state: the method is not called");
}

static void check_pass_through(void)
{
    char why[256] = "";
    int state = 0, workspace = 0, stream = 0;
    struct attn_tensors t = {0};
    struct attn_selection sel = {0};
    memset(&calls, 0, sizeof calls);

    expect(attn_method_validate(&complete, &problem, &params, why, sizeof why) == NULL &&
               calls.validate == 1 && calls.problem == &problem && calls.params == &params,
           "validate: accepts, with the caller's problem and params");
    struct attn_params too_large = params;
    too_large.k = problem.N + 1;
    const char *bad = attn_method_validate(&complete, &problem, &too_large, why, sizeof why);
    expect(bad == why && strcmp(why, "k=65 too large") == 0,
           "validate: the method's refusal comes back as it wrote it");

    expect(attn_method_workspace_bytes(&complete, &problem, &params) == 4096 &&
               calls.workspace_bytes == 1,
           "workspace_bytes: the method's size");
    int rc = attn_method_setup(&complete, &state, &problem, &params, &workspace, why, sizeof why);
    expect(rc == 3 && calls.setup == 1 && calls.state == &state && calls.workspace == &workspace &&
               strcmp(why, "setup ran") == 0,
           "setup: its return code and message, the caller's state and workspace");
    rc = attn_method_run(&complete, &state, &t, &stream);
    expect(rc == 7 && calls.run == 1 && calls.state == &state && calls.tensors == &t &&
               calls.stream == &stream,
           "run: its return code, the caller's state, tensors and stream");
    expect(attn_method_flops(&complete, &problem, &params) == 1.5e9 && calls.flops == 1,
           "flops: the method's model");
    expect(attn_method_bytes(&complete, &problem, &params) == 2.5e6 && calls.bytes == 1,
           "bytes: the method's model");
    expect(attn_method_has_selection(&complete), "export_selection: a selection");
    rc = attn_method_export_selection(&complete, &state, &sel);
    expect(rc == 5 && calls.export_selection == 1 && calls.selection == &sel,
           "export_selection: its return code, the caller's selection");
    attn_method_teardown(&complete, &state);
    expect(calls.teardown == 1 && calls.state == &state, "teardown: called with the state");
}

/* `abi_version` is not one this attnbench knows: every wrapper refuses and
 * no operation of the method runs. */
static void check_refused(int abi_version)
{
    char what[512], why[256] = "", needle[64];
    int state = 0;
    struct attn_tensors t = {0};
    struct attn_selection sel = {0};
    struct attn_method m = complete;
    m.abi_version = abi_version;
    memset(&calls, 0, sizeof calls);

    const char *bad = attn_method_validate(&m, &problem, &params, why, sizeof why);
    snprintf(needle, sizeof needle, "ABI version %d", abi_version);
    snprintf(what, sizeof what, "ABI %d: validate refuses: %s", abi_version,
             bad ? bad : "(accepted)");
    expect(bad && strstr(bad, needle) && strstr(bad, "complete"), what);
    why[0] = '\0';
    snprintf(what, sizeof what, "ABI %d: setup fails with a message", abi_version);
    expect(attn_method_setup(&m, &state, &problem, &params, NULL, why, sizeof why) != 0 &&
               strstr(why, needle),
           what);
    snprintf(what, sizeof what, "ABI %d: run, export_selection fail", abi_version);
    expect(attn_method_run(&m, &state, &t, NULL) != 0 &&
               attn_method_export_selection(&m, &state, &sel) != 0 &&
               !attn_method_has_selection(&m),
           what);
    snprintf(what, sizeof what, "ABI %d: no workspace can be allocated, no work models",
             abi_version);
    expect(attn_method_workspace_bytes(&m, &problem, &params) == SIZE_MAX &&
               isnan(attn_method_flops(&m, &problem, &params)) &&
               isnan(attn_method_bytes(&m, &problem, &params)),
           what);
    attn_method_teardown(&m, &state);
    snprintf(what, sizeof what, "ABI %d: none of the method's operations ran", abi_version);
    expect(calls.validate + calls.workspace_bytes + calls.setup + calls.run + calls.teardown +
                   calls.flops + calls.bytes + calls.export_selection ==
               0,
           what);
}

/* A built-in method answers through the wrappers as it does itself. */
static void check_builtin(void)
{
    char why[256] = "";
    struct attn_problem p = test_problem(1, 2, 64, 16, 1);
    struct attn_params a = {.k = 65};
    const char *bad = attn_method_validate(&attn_cpu_topk, &p, &a, why, sizeof why);
    expect(bad && strstr(bad, "k=65"), "cpu topk: validate refuses k > N, naming k");
    a.k = 8;
    expect(attn_method_validate(&attn_cpu_topk, &p, &a, why, sizeof why) == NULL &&
               attn_method_has_selection(&attn_cpu_topk) &&
               attn_method_workspace_bytes(&attn_cpu_topk, &p, &a) > 0 &&
               attn_method_flops(&attn_cpu_topk, &p, &a) == attn_flops_topk(&p, &a),
           "cpu topk: valid, selects, has a workspace, its work model");
}

int main(void)
{
    check_defaults();
    check_pass_through();
    check_refused(ATTN_ABI_VERSION + 1);
    check_refused(0);
    check_builtin();
    printf("method_call: %d checks failed\n", failures);
    return failures ? 1 : 0;
}
