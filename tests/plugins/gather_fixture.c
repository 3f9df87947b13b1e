/* gather_fixture.c — a plugin that brings two gather versions and no
 * methods, for the CPU-side test of their registration (test_plugin.c):
 * the harness checks them, lists them and finds them by name, and never
 * launches them here (launch() says so and fails). The example plugin
 * attn/examples/gather_rows.cu is the one that runs, on the GPU. */
#include <stdio.h>

#include "attn.h"

static size_t fixture_scratch(const struct attn_gather_args *a) { return (size_t)a->m * 4; }

static int fixture_launch(const struct attn_gather_args *a, void *stream)
{
    (void)a;
    (void)stream;
    fprintf(stderr, "gather_fixture: launch() was called; this fixture never runs\n");
    return 1;
}

static const struct attn_gather_version fixture_a = {
    .abi_version = ATTN_ABI_VERSION,
    .name = "fixture_a",
    .description = "test fixture: registered, never launched",
    .scratch_bytes = fixture_scratch,
    .launch = fixture_launch,
};

static const struct attn_gather_version fixture_b = {
    .abi_version = ATTN_ABI_VERSION,
    .name = "fixture_b",
    .description = "test fixture: no scratch",
    .launch = fixture_launch,
};

static const struct attn_gather_version *const gathers[] = {&fixture_a, &fixture_b, NULL};

static const struct attn_plugin plugin = {
    .abi_version = ATTN_ABI_VERSION,
    .name = "gather fixture (tests)",
    .methods = NULL,
    .gathers = gathers,
};

const struct attn_plugin *attnbench_plugin(void) { return &plugin; }
