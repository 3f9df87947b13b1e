/* fuzz_plugin_check.c — libFuzzer target: the plugin loader's checks of a
 * descriptor (attn_plugin_check), on descriptors built from the input: the
 * plugin's ABI version and methods, each method's ABI version, name,
 * description, variants, backend, parameters and which operations it has,
 * and its gather versions (ABI version, name, launch, scratch). A
 * descriptor the check accepts is then used as the harness uses a loaded
 * method: its line in `attnbench list`, its variants, the common validation,
 * and its name and variants given to --methods and kept in a results row;
 * and each gather version's name as the variant `gather:NAME` and as
 * params.gather (neither reserved nor taken); none may fail or read out of
 * bounds. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn/gathers.h"
#include "attn/registry.h"
#include "core/point.h"
#include "sweep/list.h"
#include "sweep/suite.h"

#define MAX_METHODS 4
#define MAX_VARIANTS 8
#define MAX_GATHERS 4

struct input {
    const uint8_t *p, *end;
    char text[4096]; /* the strings of the descriptor */
    size_t used;
};

static unsigned take(struct input *in) { return in->p < in->end ? *in->p++ : 0; }

/* A string: a length byte, then that many bytes; 255 is NULL. */
static const char *take_string(struct input *in)
{
    unsigned len = take(in);
    if (len == 255) return NULL;
    if (len > (size_t)(in->end - in->p)) len = (unsigned)(in->end - in->p);
    if (in->used + len + 1 > sizeof in->text) return NULL;
    char *s = in->text + in->used;
    memcpy(s, in->p, len);
    s[len] = '\0';
    in->p += len;
    in->used += len + 1;
    return s;
}

static const char *valid(const struct attn_problem *p, const struct attn_params *a, char *why,
                         size_t why_len)
{
    return NULL;
}
static size_t no_workspace(const struct attn_problem *p, const struct attn_params *a)
{
    return 0;
}
static int no_setup(void *state, const struct attn_problem *p, const struct attn_params *a,
                    void *workspace, char *why, size_t why_len)
{
    return 0;
}
static int no_run(void *state, const struct attn_tensors *t, void *stream) { return 0; }
static void no_teardown(void *state) {}
static double no_work(const struct attn_problem *p, const struct attn_params *a) { return 0; }
static int no_selection(void *state, struct attn_selection *out) { return 0; }
static size_t no_scratch(const struct attn_gather_args *a) { return 0; }
static int no_launch(const struct attn_gather_args *a, void *stream) { return 0; }

/* What the harness does with a method the loader accepted. */
static void use_method(const struct attn_method *m, FILE *devnull)
{
    list_method(devnull, m, 17);
    const struct attn_problem problem = {1, 1, 16, 8, ATTN_FP32, m->backend, 1};
    struct attn_params params = {.m = 1, .k = 1, .s_r = 1};
    char why[512], methods[2 * SUITE_NAME_LEN + 2];
    if (!attn_variant_of(m, &params)) abort();
    static struct suite s;
    for (const char *const *v = m->variants; v && *v; v++) {
        params.variant = *v;
        if (attn_validate_common(m, &problem, &params, why, sizeof why)) {
            fprintf(stderr, "fuzz_plugin_check: variant '%s' of an accepted method: %s\n", *v,
                    why);
            abort();
        }
        /* As --methods NAME:VARIANT, and as a results row keeps it. */
        struct sweep_point point;
        snprintf(point.method, sizeof point.method, "%s", m->name);
        snprintf(point.variant, sizeof point.variant, "%s", *v);
        snprintf(methods, sizeof methods, "%s:%s", m->name, *v);
        if (strcmp(point.method, m->name) || strcmp(point.variant, *v) ||
            suite_set(&s, "methods", methods, why, sizeof why) ||
            strcmp(s.methods[0].name, m->name) || strcmp(s.methods[0].variant, *v)) {
            fprintf(stderr, "fuzz_plugin_check: an accepted method cannot be named: '%s' (%s)\n",
                    methods, why);
            abort();
        }
    }
}

/* What the harness does with a gather version the loader accepted. */
static void use_gather(const struct attn_gather_version *g)
{
    char why[512], methods[2 * SUITE_NAME_LEN + 2];
    static struct suite s;
    struct sweep_point point;
    snprintf(point.variant, sizeof point.variant, "%s", g->name);
    snprintf(methods, sizeof methods, "gather:%s", g->name);
    if (strcmp(point.variant, g->name) || attn_gather_name_reserved(g->name) ||
        attn_gather_find(g->name) || suite_set(&s, "methods", methods, why, sizeof why) ||
        strcmp(s.methods[0].variant, g->name)) {
        fprintf(stderr, "fuzz_plugin_check: an accepted gather version cannot be named: '%s'\n",
                methods);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *devnull;
    if (!devnull && !(devnull = fopen("/dev/null", "w"))) abort();
    struct input in = {.p = data, .end = data + size};
    static struct attn_method methods[MAX_METHODS];
    static const char *variants[MAX_METHODS][MAX_VARIANTS + 1];
    const struct attn_method *list[MAX_METHODS + 1] = {0};
    static struct attn_gather_version gathers[MAX_GATHERS];
    const struct attn_gather_version *gather_list[MAX_GATHERS + 1] = {0};
    memset(methods, 0, sizeof methods);
    memset(variants, 0, sizeof variants);
    memset(gathers, 0, sizeof gathers);

    const unsigned shape = take(&in);
    struct attn_plugin plugin = {
        .abi_version = (int)(shape % 4),
        .name = take_string(&in),
        .methods = shape & 4 ? NULL : list,
        .gathers = shape & 16 ? NULL : gather_list,
    };
    const int count = (int)(take(&in) % (MAX_METHODS + 1));
    for (int i = 0; i < count; i++) {
        struct attn_method *m = &methods[i];
        const unsigned ops = take(&in);
        m->abi_version = (int)(take(&in) % 4);
        m->name = take_string(&in);
        m->description = take_string(&in);
        const int nvariants = (int)(take(&in) % (MAX_VARIANTS + 2)) - 1; /* -1: no list */
        for (int v = 0; v < nvariants; v++) variants[i][v] = take_string(&in);
        m->variants = nvariants < 0 ? NULL : variants[i];
        m->backend = (enum attn_backend)(take(&in) % 4);
        m->uses = take(&in);
        m->state_size = take(&in);
        m->validate = ops & 1 ? valid : NULL;
        m->workspace_bytes = ops & 2 ? no_workspace : NULL;
        m->setup = ops & 4 ? no_setup : NULL;
        m->run = ops & 8 ? no_run : NULL;
        m->teardown = ops & 16 ? no_teardown : NULL;
        m->flops = ops & 32 ? no_work : NULL;
        m->bytes = ops & 64 ? no_work : NULL;
        m->export_selection = ops & 128 ? no_selection : NULL;
        list[i] = m;
    }
    const int gather_count = (int)(take(&in) % (MAX_GATHERS + 1));
    for (int i = 0; i < gather_count; i++) {
        struct attn_gather_version *g = &gathers[i];
        const unsigned ops = take(&in);
        g->abi_version = (int)(take(&in) % 4);
        g->name = take_string(&in);
        g->description = take_string(&in);
        g->scratch_bytes = ops & 1 ? no_scratch : NULL;
        g->launch = ops & 2 ? no_launch : NULL;
        gather_list[i] = g;
    }
    char why[1024] = "";
    if (attn_plugin_check(shape & 8 ? NULL : &plugin, "plugin fuzz.so", why, sizeof why) != 0) {
        if (strncmp(why, "plugin fuzz.so: ", 16) != 0) {
            fprintf(stderr, "fuzz_plugin_check: refused without a message: '%s'\n", why);
            abort();
        }
        return 0;
    }
    for (int i = 0; i < count && plugin.methods; i++) use_method(&methods[i], devnull);
    for (int i = 0; i < gather_count && plugin.gathers && plugin.abi_version >= 2; i++)
        use_gather(&gathers[i]);
    return 0;
}
