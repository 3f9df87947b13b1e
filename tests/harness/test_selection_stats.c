/* test_selection_stats.c — MiTA's routing statistics (measure/selection_stats.h)
 * on hand-made selections: even and skewed routes, s_r = 2, distinct and
 * shared keys, the mean over heads, and indices out of range refused. */
#include <math.h>
#include <stdio.h>

#include "measure/selection_stats.h"
#include "test_util.h"

static int near(double x, double want) { return fabs(x - want) <= 1e-12; }

int main(void)
{
    /* Two heads, N = 8, m = 4 experts of k = 3 keys, s_r = 1.
     * Head 0: routes even (2 each): imbalance 1; keys 0..7 then 0..3 again:
     * 8 distinct of 12. Head 1: expert 2 takes 5 of 8 (mean 2): 2.5; keys
     * {0,1,2} {1,2,3} {2,3,4} {7,7,7}: 6 distinct of 12: 0.5. */
    int32_t keys[2 * 4 * 3] = {0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3,
                               0, 1, 2, 1, 2, 3, 2, 3, 4, 7, 7, 7};
    int32_t routes[2 * 8] = {0, 0, 1, 1, 2, 2, 3, 3,
                             2, 2, 0, 2, 2, 1, 2, 3};
    struct attn_selection sel = {keys, routes};
    struct selection_stats s = {0, 0};
    CHECK(selection_stats_compute(&sel, 1, 8, 4, 3, 1, &s) == 0);
    CHECK(near(s.route_imbalance, 1.0) && near(s.expert_overlap, 8.0 / 12));
    CHECK(selection_stats_compute(&sel, 2, 8, 4, 3, 1, &s) == 0);
    CHECK(near(s.route_imbalance, (1.0 + 2.5) / 2) && near(s.expert_overlap, (8.0 / 12 + 0.5) / 2));

    /* s_r = 2 on one head: the 16 routes of 8 queries, expert 0 taking 7
     * (mean 16/4 = 4): 1.75. */
    int32_t routes2[16] = {0, 1, 0, 2, 0, 3, 0, 1, 0, 2, 0, 3, 0, 1, 2, 3};
    sel.routes = routes2;
    CHECK(selection_stats_compute(&sel, 1, 8, 4, 3, 2, &s) == 0);
    CHECK(near(s.route_imbalance, 7.0 / 4));

    /* One expert taking everything: imbalance m; one key everywhere: 1/(m·k). */
    int32_t one_route[8] = {3, 3, 3, 3, 3, 3, 3, 3}, one_key[12] = {5, 5, 5, 5, 5, 5,
                                                                  5, 5, 5, 5, 5, 5};
    sel = (struct attn_selection){one_key, one_route};
    CHECK(selection_stats_compute(&sel, 1, 8, 4, 3, 1, &s) == 0);
    CHECK(near(s.route_imbalance, 4.0) && near(s.expert_overlap, 1.0 / 12));

    /* Out of range: a route of 4 with m = 4, a key of 8 with N = 8. */
    struct selection_stats untouched = {-1, -1};
    one_route[5] = 4;
    CHECK(selection_stats_compute(&sel, 1, 8, 4, 3, 1, &untouched) == -1);
    CHECK(untouched.route_imbalance == -1 && untouched.expert_overlap == -1);
    one_route[5] = 3;
    one_key[11] = 8;
    CHECK(selection_stats_compute(&sel, 1, 8, 4, 3, 1, &untouched) == -1);
    one_key[11] = -1;
    CHECK(selection_stats_compute(&sel, 1, 8, 4, 3, 1, &untouched) == -1);
    return check_exit("test_selection_stats");
}
