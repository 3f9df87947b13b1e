/* kernel_list.c — the `kernels` cell (see kernel_list.h). */
#include "measure/kernel_list.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char anonymous[] = "(anonymous namespace)::";
static const char more[] = "; ..."; /* the end of a full list; "..." alone when nothing fit */

/* `name` without "(anonymous namespace)::" into out[len]. */
static void short_name(const char *name, char *out, size_t len)
{
    size_t n = 0;
    while (*name && n + 1 < len) {
        if (strncmp(name, anonymous, sizeof anonymous - 1) == 0) {
            name += sizeof anonymous - 1;
            continue;
        }
        out[n++] = *name++;
    }
    out[n] = '\0';
}

/* The last entry of the list: where it starts, and its count (1 without " xN"). */
static char *last_entry(char *list, long *count)
{
    char *sep = NULL;
    for (char *s = strstr(list, "; "); s; s = strstr(s + 2, "; ")) sep = s;
    char *last = sep ? sep + 2 : list;
    char *x = strrchr(last, ' ');
    char *end;
    *count = 1;
    if (x && x[1] == 'x' && x[2] >= '1' && x[2] <= '9') {
        const long n = strtol(x + 2, &end, 10);
        if (*end == '\0') *count = n;
    }
    return last;
}

void kernel_list_add(char *list, size_t len, const char *name)
{
    if (len == 0) return;
    const size_t used = strlen(list);
    if (used >= 3 && strcmp(list + used - 3, "...") == 0) return; /* full */
    char entry[256];
    short_name(name, entry, sizeof entry);
    if (used) {
        long count;
        char *last = last_entry(list, &count);
        const size_t name_len = strlen(entry);
        const size_t last_len = count > 1 ? (size_t)(strrchr(last, ' ') - last) : strlen(last);
        if (last_len == name_len && strncmp(last, entry, name_len) == 0) {
            char counted[32];
            snprintf(counted, sizeof counted, " x%ld", count + 1);
            if ((size_t)(last - list) + name_len + strlen(counted) < len) {
                strcpy(last + name_len, counted);
                return;
            }
        }
    }
    const size_t need = (used ? 2 : 0) + strlen(entry);
    if (used + need + sizeof more <= len) {
        snprintf(list + used, len - used, "%s%s", used ? "; " : "", entry);
        return;
    }
    /* Full: the mark that more kernels ran, replacing entries until it fits. */
    size_t keep = used;
    while (keep && keep + sizeof more > len) {
        char *sep = NULL;
        for (char *s = strstr(list, "; "); s && (size_t)(s - list) < keep; s = strstr(s + 2, "; "))
            sep = s;
        keep = sep ? (size_t)(sep - list) : 0;
    }
    snprintf(list + keep, len - keep, "%s", keep ? more : more + 2);
}
