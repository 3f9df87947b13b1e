/* fuzz_suite_parse.c — libFuzzer target: the suite parser (suite_parse_text)
 * on any text. A suite it refuses must come with a message; a suite it
 * accepts must round-trip, as suite_write promises: written out, the text
 * parses back to the same suite. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sweep/suite.h"

/* Every field a suite file sets (the path says where it came from). */
static int same_suite(const struct suite *a, const struct suite *b)
{
    if (strcmp(a->name, b->name) || strcmp(a->description, b->description) ||
        a->method_count != b->method_count || a->backend_set != b->backend_set ||
        (a->backend_set && a->backend != b->backend) || a->reps != b->reps ||
        a->warmup != b->warmup || a->budget_s != b->budget_s || a->timeout_s != b->timeout_s ||
        a->seed != b->seed || a->max_noise_pct != b->max_noise_pct ||
        a->min_samples != b->min_samples || a->max_samples != b->max_samples ||
        a->min_time_s != b->min_time_s || a->timing != b->timing)
        return 0;
    for (int i = 0; i < a->method_count; i++)
        if (strcmp(a->methods[i].name, b->methods[i].name) ||
            strcmp(a->methods[i].variant, b->methods[i].variant))
            return 0;
    for (int x = 0; x < AXIS_COUNT; x++) {
        if (a->axes[x].count != b->axes[x].count) return 0;
        for (int i = 0; i < a->axes[x].count; i++)
            if (a->axes[x].values[i] != b->axes[x].values[i]) return 0;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct suite parsed, again;
    char err[1024] = "";
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (suite_parse_text(text, "fuzz.suite", &parsed, err, sizeof err) != 0) {
        if (!err[0]) {
            fprintf(stderr, "fuzz_suite_parse: refused without a message\n");
            abort();
        }
        free(text);
        return 0;
    }
    char *written = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&written, &len);
    if (!f) abort();
    suite_write(f, &parsed);
    fclose(f);
    if (suite_parse_text(written, "written.suite", &again, err, sizeof err) != 0 ||
        !same_suite(&parsed, &again)) {
        fprintf(stderr, "fuzz_suite_parse: the suite as written does not parse back to itself "
                        "(%s)\n--- input:\n%s\n--- written:\n%s", err, text, written);
        abort();
    }
    free(written);
    free(text);
    return 0;
}
