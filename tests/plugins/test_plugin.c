/* test_plugin.c — plugin loading: the example plugin loads and computes
 * sliding-window attention (with k = N it is full attention, checked against
 * the double reference); a missing entry symbol, a newer ABI version and a
 * method without run() are refused with a message that says so; a missing
 * file too. The checks of a descriptor (attn_plugin_check), on descriptors
 * in memory: a backend that is neither cpu nor cuda, names and variants the
 * command line could not give or a results row could not keep, a method
 * listed twice, a `computes` that names no definition; and `attnbench
 * list`'s line of a method whose variants overflow its column (the last
 * three found by tests/fuzz). A plugin built for ABI 1, whose descriptors
 * end before `computes`, loads and computes nothing; one that declares
 * `computes = "full"` says so. Gather versions: a plugin of gather versions
 * and no methods (GATHERS.so, never launched) registers them after the
 * built-in ones, and in a CUDA build as the `gather` method's variants
 * before `copy`; loaded twice it is refused; the checks of gather versions
 * on descriptors in memory.
 *
 * usage: test_plugin GOOD.so NO_ENTRY.so FUTURE_ABI.so NO_RUN.so ABI1.so FULL.so GATHERS.so */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn/gathers.h"
#include "attn/method_call.h"
#include "attn/reference.h"
#include "attn/registry.h"
#include "sweep/list.h"

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
    struct attn_params a = {.m = 0, .k = p.N, .s_r = 1};
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

/* The plugin at `path` loads, and its method `name` computes `computes`
 * (NULL: nothing, as a method of ABI 1 must). */
static void check_declared(const char *path, const char *name, const char *computes)
{
    char why[1024] = "";
    const int loaded = attn_plugin_load(path, why, sizeof why) == 0;
    const struct attn_method *m = loaded ? attn_method_find(name, ATTN_CPU) : NULL;
    const char *got = m ? attn_method_computes(m) : NULL;
    const int ok = m && (computes ? got && !strcmp(got, computes) : !got);
    printf("%s load %s: %s computes %s%s\n", ok ? "ok  " : "FAIL", path, name,
           got ? got : "nothing", loaded ? "" : why);
    failures += !ok;
}

static const char *valid(const struct attn_problem *p, const struct attn_params *a, char *why,
                         size_t why_len)
{
    return NULL;
}
static int no_run(void *state, const struct attn_tensors *t, void *stream) { return 0; }
static double no_work(const struct attn_problem *p, const struct attn_params *a) { return 0; }

/* attn_plugin_check of `plugin`: refused with `needle` in the message, or
 * accepted when needle is NULL. */
static void expect_plugin_check(const char *what, const struct attn_plugin *plugin,
                                const char *needle)
{
    char why[1024] = "";
    int rc = attn_plugin_check(plugin, "plugin t.so", why, sizeof why);
    int ok = needle ? rc != 0 && strstr(why, needle) != NULL : rc == 0;
    printf("%s %s %s: %s\n", ok ? "ok  " : "FAIL", needle ? "refuse" : "accept", what,
           rc ? why : "(accepted)");
    failures += !ok;
}

/* The check of a plugin with methods `a` and `b` (b may be NULL). */
static void expect_check(const char *what, const struct attn_method *a,
                         const struct attn_method *b, const char *needle)
{
    const struct attn_method *methods[] = {a, b, NULL};
    const struct attn_plugin plugin = {.abi_version = ATTN_ABI_VERSION, .name = "test",
                                       .methods = methods};
    expect_plugin_check(what, &plugin, needle);
}

static void check_descriptors(void)
{
    static const char *const good[] = {"flash_w8", "v.2-b", NULL};
    static const char *const empty[] = {"a", "", NULL}, *const colon[] = {"a:b", NULL};
    static const char *const spaced[] = {"two words", NULL};
    const struct attn_method ok = {.abi_version = ATTN_ABI_VERSION, .name = "m",
                                   .variants = good, .backend = ATTN_CPU, .validate = valid,
                                   .run = no_run, .flops = no_work, .bytes = no_work};
    struct attn_method other = ok, m = ok;
    other.name = "m2";
    expect_check("a good method", &ok, &other, NULL);
    m.backend = ATTN_CUDA;
    expect_check("the same name on the other backend", &ok, &m, NULL);
    m.backend = (enum attn_backend)7;
    expect_check("backend 7", &m, NULL, "method 'm' has backend 7 (need ATTN_CPU or ATTN_CUDA)");
    m = ok;
    m.variants = NULL;
    expect_check("a method listed twice", &ok, &m, "method 'm' on cpu is listed twice");

    char long_name[ATTN_NAME_MAX + 2];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    static const struct {
        const char *what, *name, *needle;
    } names[] = {
        {"no name", NULL, "method 2's name '' is not 1 to 63 letters, digits"},
        {"a name with a colon", "full:x", "method 2's name 'full:x' is not 1 to 63"},
        {"a name with a newline", "a\nb", "name 'a?b' is not"},
        {"a name with a comma", "a,b", "name 'a,b' is not"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        m = ok;
        m.name = names[i].name;
        expect_check(names[i].what, &other, &m, names[i].needle);
    }
    m = ok;
    m.name = long_name;
    expect_check("a name of 64 characters", &m, NULL, "is not 1 to 63");
    long_name[ATTN_NAME_MAX] = '\0';
    expect_check("a name of 63 characters", &m, NULL, NULL);

    m = ok;
    m.computes = "full";
    expect_check("computes full", &m, NULL, NULL);
    m.computes = "fool";
    expect_check("computes fool", &m, NULL,
                 "method 'm' computes 'fool', which is not a definition of attnbench");
    m.computes = "gather";
    expect_check("computes gather (no reference)", &m, NULL, "computes 'gather', which is not");
    m.abi_version = 1;
    expect_check("an ABI-1 method, whose computes is never read", &m, NULL, NULL);

    m = ok;
    m.variants = empty;
    expect_check("an empty variant", &m, NULL, "method 'm' has a variant '' that is not 1 to 63");
    m.variants = colon;
    expect_check("a variant with a colon", &m, NULL, "variant 'a:b'");
    m.variants = spaced;
    expect_check("a variant with a space", &m, NULL, "variant 'two words'");
}

static int no_launch(const struct attn_gather_args *a, void *stream) { return 1; }

/* The check of a plugin of ABI `abi` with no methods and gather versions
 * `a` and `b` (b may be NULL). */
static void expect_gather_check(const char *what, int abi, const struct attn_gather_version *a,
                                const struct attn_gather_version *b, const char *needle)
{
    const struct attn_gather_version *gathers[] = {a, b, NULL};
    const struct attn_plugin plugin = {.abi_version = abi, .name = "test", .gathers = gathers};
    expect_plugin_check(what, &plugin, needle);
}

static void check_gather_descriptors(void)
{
    const struct attn_gather_version ok = {.abi_version = ATTN_ABI_VERSION, .name = "g",
                                           .launch = no_launch};
    struct attn_gather_version other = ok, g = ok;
    other.name = "g2";
    expect_gather_check("two gather versions and no methods", ATTN_ABI_VERSION, &ok, &other,
                        NULL);
    expect_gather_check("no methods and no gather versions", ATTN_ABI_VERSION, NULL, NULL,
                        "returned no methods and no gather versions");
    expect_gather_check("gather versions in a plugin of ABI 1 (which has no such field)", 1, &ok,
                        NULL, "returned no methods and no gather versions");
    g.abi_version = 1;
    expect_gather_check("a gather version of ABI 1", ATTN_ABI_VERSION, &g, NULL,
                        "gather version 1 'g' has ABI version 1 (need 2..");
    g = ok;
    g.launch = NULL;
    expect_gather_check("a gather version without launch", ATTN_ABI_VERSION, &g, NULL,
                        "gather version 'g' lacks the operation 'launch'");
    g = ok;
    g.name = "a:b";
    expect_gather_check("a gather name with a colon", ATTN_ABI_VERSION, &ok, &g,
                        "gather version 2's name 'a:b' is not 1 to 63");
    g.name = NULL;
    expect_gather_check("a gather version without a name", ATTN_ABI_VERSION, &g, NULL,
                        "gather version 1's name '' is not");
    g.name = "fused";
    expect_gather_check("the gather name fused", ATTN_ABI_VERSION, &g, NULL,
                        "gather version 'fused': the name is reserved");
    g.name = "copy";
    expect_gather_check("the gather name copy", ATTN_ABI_VERSION, &g, NULL,
                        "gather version 'copy': the name is reserved");
    expect_gather_check("a gather version listed twice", ATTN_ABI_VERSION, &ok, &ok,
                        "gather version 'g' is listed twice");
    if (attn_gather_all()[0]) {
        g.name = attn_gather_all()[0]->name;
        expect_gather_check("a built-in gather name", ATTN_ABI_VERSION, &g, NULL,
                            "already exists");
    }
}

/* The fixture's versions follow the built-in ones, by name, in the list,
 * its names and (CUDA) the gather method's variants, which validate. */
static void check_gather_fixture(const char *path)
{
    char why[1024] = "", names[1024];
    int builtin = 0;
    for (const struct attn_gather_version *const *g = attn_gather_all(); *g; g++) builtin++;
    int rc = attn_plugin_load(path, why, sizeof why);
    const struct attn_gather_version *const *all = attn_gather_all();
    const struct attn_gather_version *a = attn_gather_find("fixture_a");
    const struct attn_gather_version *b = attn_gather_find("fixture_b");
    struct attn_gather_args sizes = {.m = 3, .k = 5};
    int ok = rc == 0 && a && b && all[builtin] == a && all[builtin + 1] == b &&
             !all[builtin + 2] && a->scratch_bytes && a->scratch_bytes(&sizes) == 12 &&
             !b->scratch_bytes && strstr(attn_gather_names(names, sizeof names), "fixture_b");
    printf("%s load %s: fixture_a, fixture_b after %d built-in versions %s\n", ok ? "ok  " : "FAIL",
           path, builtin, rc ? why : names);
    failures += !ok;
#if HAVE_CUDA
    const struct attn_method *gather = attn_method_find("gather", ATTN_CUDA);
    const struct attn_problem p = {1, 1, 256, 64, ATTN_BF16, ATTN_CUDA, 1};
    const struct attn_params params = {.m = 4, .k = 8, .s_r = 1, .variant = "fixture_b"};
    ok = gather && !strcmp(gather->variants[builtin], "fixture_a") &&
         !strcmp(gather->variants[builtin + 1], "fixture_b") &&
         !strcmp(gather->variants[builtin + 2], "copy") && !gather->variants[builtin + 3] &&
         !attn_method_validate(gather, &p, &params, why, sizeof why);
    printf("%s gather:fixture_b is a variant of the gather method, before copy\n",
           ok ? "ok  " : "FAIL");
    failures += !ok;
#endif
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    list_gathers(f);
    fclose(f);
    ok = text && strstr(text, "fused") &&
         strstr(text, "fixture_a      test fixture: registered, never launched") &&
         strstr(text, "fixture_b      test fixture: no scratch");
    printf("%s attnbench list names fused and the fixture's versions\n", ok ? "ok  " : "FAIL");
    failures += !ok;
    free(text);
    expect_refused(path, "gather version 'fixture_a' already exists");
}

/* A method with variants wider than list's column: the line is cut, and
 * nothing is written past it. */
static void check_list_line(void)
{
    static char names[8][ATTN_NAME_MAX + 1];
    static const char *variants[9];
    for (int i = 0; i < 8; i++) {
        memset(names[i], 'a' + i, ATTN_NAME_MAX);
        variants[i] = names[i];
    }
    const struct attn_method wide = {.abi_version = ATTN_ABI_VERSION, .name = "wide",
                                     .description = "eight long variants", .variants = variants};
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    list_method(f, &wide, 17);
    fclose(f);
    int ok = text && strstr(text, names[0]) && strstr(text, "eight long variants") &&
             !strstr(text, names[7]);
    printf("%s list of a method with 8 variants of 63 characters: %zu characters\n",
           ok ? "ok  " : "FAIL", len);
    failures += !ok;
    free(text);
}

int main(int argc, char **argv)
{
    if (argc != 8) {
        fprintf(stderr, "usage: %s GOOD.so NO_ENTRY.so FUTURE_ABI.so NO_RUN.so ABI1.so FULL.so "
                "GATHERS.so\n",
                argv[0]);
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
    check_declared(argv[5], "abi1_copy", NULL);
    check_declared(argv[6], "plain_full", "full");
    check_descriptors();
    check_gather_descriptors();
    check_gather_fixture(argv[7]);
    check_list_line();
    printf("%s\n", failures ? "FAILED" : "all passed");
    return failures ? 1 : 0;
}
