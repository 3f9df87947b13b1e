/* selection_stats.h — two figures of what a MiTA run selected (struct
 * attn_selection), for every MiTA row (the columns route_imbalance and
 * expert_overlap; docs/measurement.md, "MiTA's routing"):
 *
 *   route_imbalance  per head, the largest expert's count of routed
 *                    (query, route) pairs over the mean count N·s_r/m: 1
 *                    when the routing is perfectly even, m when one expert
 *                    takes every pair; the mean over the B·H heads.
 *   expert_overlap   per head, the distinct keys among the experts' m·k
 *                    selected keys over m·k: 1 when no key is chosen by two
 *                    experts (or twice), smaller the more they share (at
 *                    most N/(m·k) where m·k > N); the mean over the heads.
 *
 * The mean, not the largest, over heads: a row stands for all its heads,
 * and the mean is what moves the time of a step that runs them together. */
#ifndef HARNESS_MEASURE_SELECTION_STATS_H
#define HARNESS_MEASURE_SELECTION_STATS_H

#include <stdint.h>

#include "attn.h"

struct selection_stats {
    double route_imbalance, expert_overlap;
};

/* keys: [heads, m, k], routes: [heads, N, s_r] (attn.h). Returns 0, or -1
 * when an index is out of range (a key outside [0, N), a route outside
 * [0, m)) or memory runs out; `out` is then untouched. */
int selection_stats_compute(const struct attn_selection *sel, int64_t heads, int64_t N,
                            int64_t m, int64_t k, int s_r, struct selection_stats *out);

#endif
