/* methods.c — the variant lists of the built-in methods' identities
 * (methods.h). */
#include "attn/methods.h"

const char *const attn_full_variants[] = {ATTN_FULL_VARIANTS, NULL};
const char *const attn_mita_variants[] = {"shared", "route_only", NULL};
