/* test_verify.c — `run --verify`'s check (harness/measure/verify.c) on the
 * CPU backend: the rows it samples; every CPU method passes at B·H > 1 and
 * an N that is a multiple of nothing, head by head; a wrong row of the last
 * head, an element never written, an invalid selection of the last head
 * are each found; a method that computes no definition, or that selects
 * keys without exporting them, is not verifiable, and not wrong; a check
 * that needs more host memory than there is says so. */
#include <math.h>

#include "attn/method_call.h"
#include "attn/reference.h"
#include "attn/registry.h"
#include "measure/verify.h"
#include "test_util.h"

/* ---- the rows sampled ---- */

static void check_rows(int64_t N, int64_t want)
{
    int64_t rows[64];
    const int64_t count = verify_sample_rows(N, want, rows);
    CHECK(count == (N < want ? N : want));
    CHECK(rows[0] == 0);
    CHECK(rows[count - 1] == N - 1 || count == 1);
    int64_t widest = 0;
    for (int64_t t = 1; t < count; t++) {
        CHECK(rows[t] > rows[t - 1]);
        if (rows[t] - rows[t - 1] > widest) widest = rows[t] - rows[t - 1];
    }
    /* spread evenly: no gap wider than the even one, rounded up */
    if (count > 1) CHECK(widest <= (N - 1 + count - 2) / (count - 1));
}

static void test_sample_rows(void)
{
    const int64_t sizes[] = {1, 2, 5, 31, 32, 33, 97, 1000, 1 << 20, (int64_t)1 << 31};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) check_rows(sizes[i], 32);
    check_rows(1000, 2);
    int64_t rows[32];
    CHECK(verify_sample_rows(5, 32, rows) == 5 && rows[4] == 4);   /* N < 32: every row */
    CHECK(verify_sample_rows(1000, 1, rows) == 1 && rows[0] == 0);
}

/* ---- a point, run and verified ---- */

/* A method wrapping a CPU method, with a fault of `fault`'s choosing. */
enum fault { FAULT_NONE, FAULT_LAST_ROW, FAULT_UNWRITTEN, FAULT_SELECTION, FAULT_NO_EXPORT };
static const struct attn_method *wrapped;
static enum fault fault;
static struct attn_problem shape;

static int faulty_run(void *state, const struct attn_tensors *t, void *stream)
{
    int rc = attn_method_run(wrapped, state, t, stream);
    float *o = t->o;
    const int64_t head = shape.N * shape.d, last = (int64_t)shape.B * shape.H - 1;
    /* The last head's last row (sampled) a little off; an element of the
     * first head's second row (not sampled when N > 32) never written. */
    if (fault == FAULT_LAST_ROW) o[last * head + (shape.N - 1) * shape.d] += 0.5f;
    if (fault == FAULT_UNWRITTEN) o[shape.d + 1] = NAN;
    return rc;
}

/* The selection, with a key chosen twice in the last head: in its last
 * query (topk, a sampled row) or its expert 0 (mita, m = 7). k is 5. */
static int faulty_export(void *state, struct attn_selection *out)
{
    int rc = attn_method_export_selection(wrapped, state, out);
    if (fault != FAULT_SELECTION || rc) return rc;
    const int64_t last = (int64_t)shape.B * shape.H - 1;
    const int64_t set = !strcmp(wrapped->name, "topk") ? last * shape.N + shape.N - 1 : last * 7;
    out->keys[set * 5 + 1] = out->keys[set * 5];
    return rc;
}

static struct attn_method faulty(const struct attn_method *m, enum fault f)
{
    wrapped = m;
    fault = f;
    struct attn_method copy = *m;
    copy.run = faulty_run;
    copy.export_selection = f == FAULT_NO_EXPORT ? NULL : m->export_selection ? faulty_export : NULL;
    return copy;
}

/* Runs `m` once at `p` as measure.c does (inputs filled, output poisoned)
 * and verifies it. */
static struct verify_result run_and_verify(const struct attn_method *m,
                                           const struct attn_problem *p,
                                           const struct attn_params *a)
{
    struct backend *b = backend_get(ATTN_CPU);
    struct verify_result res = {.outcome = VERIFY_ERROR};
    char why[256];
    const size_t bytes = (size_t)attn_tensor_elems(p) * sizeof(float);
    void *q = b->alloc(bytes), *k = b->alloc(bytes), *v = b->alloc(bytes), *o = b->alloc(bytes);
    void *workspace = b->alloc(attn_method_workspace_bytes(m, p, a));
    void *state = calloc(1, m->state_size ? m->state_size : 1);
    const struct attn_tensors t = {q, k, v, o};
    shape = *p;
    int rc = !q || !k || !v || !o || !workspace || !state ||
             attn_method_validate(m, p, a, why, sizeof why) != NULL;
    for (int which = 0; which < 3 && !rc; which++)
        rc = b->fill_inputs(b, which == 0 ? q : which == 1 ? k : v, p, ATTN_INPUTS_IID, which);
    rc = rc || b->poison(b, o, bytes) ||
         attn_method_setup(m, state, p, a, workspace, why, sizeof why) ||
         attn_method_run(m, state, &t, NULL);
    CHECK(rc == 0);
    if (rc == 0) verify_output(m, state, p, a, b, &t, &res);
    if (state) attn_method_teardown(m, state);
    free(state);
    void *all[] = {q, k, v, o, workspace};
    for (int i = 0; i < 5; i++)
        if (all[i]) b->release(all[i]);
    return res;
}

static void test_every_method_head_by_head(void)
{
    /* B·H = 6, N = 301 = 7·43: neither m nor k nor the 32 rows divide it. */
    const struct attn_problem p = {2, 3, 301, 24, ATTN_FP32, ATTN_CPU, 11};
    const struct attn_params a = {.m = 7, .k = 5, .s_r = 2, .shared_scale = ATTN_SHARED_PAPER};
    const struct attn_method *methods[] = {&attn_cpu_full, &attn_cpu_linear, &attn_cpu_agent,
                                           &attn_cpu_nystrom, &attn_cpu_topk, &attn_cpu_mita};
    static const char *const default_only[] = {"", NULL};
    for (size_t i = 0; i < sizeof methods / sizeof *methods; i++) {
        const char *const *variants = methods[i]->variants ? methods[i]->variants : default_only;
        for (const char *const *v = variants; *v; v++) {
            struct attn_params with = a;
            with.variant = **v ? *v : NULL;
            struct verify_result r = run_and_verify(methods[i], &p, &with);
            printf("%s %-8s %-10s error %.2e in %.3f s %s\n",
                   r.outcome == VERIFY_OK ? "ok  " : "FAIL", methods[i]->name,
                   with.variant ? with.variant : "-", r.error, r.seconds, r.detail);
            CHECK(r.outcome == VERIFY_OK);
            CHECK(r.error <= attn_error_bound(ATTN_FP32) && r.seconds >= 0);
        }
    }
}

static void test_faults_found(void)
{
    const struct attn_problem p = {2, 3, 301, 24, ATTN_FP32, ATTN_CPU, 12};
    const struct attn_params a = {.m = 7, .k = 5, .s_r = 1};
    struct attn_method m = faulty(&attn_cpu_full, FAULT_NONE);
    struct verify_result r = run_and_verify(&m, &p, &a);
    CHECK(r.outcome == VERIFY_OK);

    m = faulty(&attn_cpu_full, FAULT_LAST_ROW);
    r = run_and_verify(&m, &p, &a);
    CHECK(r.outcome == VERIFY_WRONG && r.error > attn_error_bound(ATTN_FP32));
    printf("a wrong row in the last head: %s (error %.2e)\n", r.detail, r.error);

    m = faulty(&attn_cpu_linear, FAULT_UNWRITTEN);
    r = run_and_verify(&m, &p, &a);
    CHECK(r.outcome == VERIFY_WRONG && isinf(r.error));
    CHECK_CONTAINS(r.detail, "not finite: 1 elements");
    printf("an element never written, in a row not sampled: %s\n", r.detail);

    for (int mita = 0; mita < 2; mita++) {
        m = faulty(mita ? &attn_cpu_mita : &attn_cpu_topk, FAULT_SELECTION);
        r = run_and_verify(&m, &p, &a);
        CHECK(r.outcome == VERIFY_WRONG);
        CHECK_CONTAINS(r.detail, mita ? "selection b=1 h=2: mita: expert 0: key "
                                       : "selection b=1 h=2: topk: query 300: key ");
        CHECK_CONTAINS(r.detail, "is chosen twice");
        printf("an invalid selection: %s\n", r.detail);
    }
}

static void test_not_verifiable(void)
{
    const struct attn_problem p = {1, 2, 64, 16, ATTN_FP32, ATTN_CPU, 13};
    const struct attn_params a = {.m = 4, .k = 5, .s_r = 1};
    struct attn_method m = faulty(&attn_cpu_full, FAULT_NONE);
    m.computes = NULL;
    struct verify_result r = run_and_verify(&m, &p, &a);
    CHECK(r.outcome == VERIFY_NONE && isnan(r.error));
    CHECK_CONTAINS(r.detail, "computes no definition");
    m.computes = "full";
    m.abi_version = 1; /* a method of ABI 1 has no computes to read */
    r = run_and_verify(&m, &p, &a);
    CHECK(r.outcome == VERIFY_NONE);

    m = faulty(&attn_cpu_topk, FAULT_NO_EXPORT);
    r = run_and_verify(&m, &p, &a);
    CHECK(r.outcome == VERIFY_NONE);
    CHECK_CONTAINS(r.detail, "computes topk but exports no selection");
    printf("not verifiable: %s\n", r.detail);
}

/* A check that needs more host memory than there is: `oom`, neither ok
 * nor wrong. linear at N = 2^40: the method never ran, and the check stops
 * at its allocations, before it reads a tensor. (AddressSanitizer reports
 * an allocation that size instead of failing it quietly: the sanitizer
 * build leaves this one out.) */
static void test_out_of_host_memory(void)
{
#ifdef __SANITIZE_ADDRESS__
    printf("out of host memory: not tried under AddressSanitizer\n");
#else
    const struct attn_problem p = {1, 1, (int64_t)1 << 40, 64, ATTN_FP32, ATTN_CPU, 14};
    const struct attn_params a = {0};
    float never_read[1];
    const struct attn_tensors t = {never_read, never_read, never_read, never_read};
    struct verify_result r;
    verify_output(&attn_cpu_linear, never_read, &p, &a, backend_get(ATTN_CPU), &t, &r);
    CHECK(r.outcome == VERIFY_OOM && isnan(r.error));
    CHECK_CONTAINS(r.detail, "GiB of host memory");
    printf("out of host memory: %s\n", r.detail);
#endif
}

int main(void)
{
    struct backend *b = backend_get(ATTN_CPU);
    struct device_info info;
    char why[256];
    CHECK(b->init(b, &info, why, sizeof why) == 0);
    test_sample_rows();
    test_every_method_head_by_head();
    test_faults_found();
    test_not_verifiable();
    test_out_of_host_memory();
    b->shutdown(b);
    if (check_failures) fprintf(stderr, "test_verify: %d checks failed\n", check_failures);
    return check_failures ? 1 : 0;
}
