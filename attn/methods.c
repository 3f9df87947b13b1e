/* methods.c — the variant lists of the built-in methods' identities, and
 * the rule their selections share (methods.h). */
#include "attn/methods.h"

#include <inttypes.h>
#include <stdio.h>

const char *const attn_full_variants[] = {ATTN_FULL_VARIANTS, NULL};
const char *const attn_mita_variants[] = {"shared", "route_only", NULL};

const char *attn_validate_int32_indices(const struct attn_problem *p, char *why, size_t why_len)
{
    if (p->N > INT32_MAX) {
        snprintf(why, why_len, "N=%" PRId64 ": key indices are int32 (need N <= %" PRId32 ")",
                 p->N, INT32_MAX);
        return why;
    }
    return NULL;
}
