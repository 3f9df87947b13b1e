// test_route_list.cu — MiTA routing's lane list (kernels/route_list.cuh) on the CPU: after
// any sequence of scores, visited in increasing expert order as a lane visits its columns,
// the list holds the R best as a stable sort by score (descending) orders them, ties to the
// lower expert, and pop() hands them out in that order: filled by insert() alone, and by R
// insert() then insert_full() (a whole tile's columns in route_wgmma). Scores come from a few
// values (ties), a wide range, and include -0, +0 and -inf. No GPU needed: the list is host
// code too.
#include <math.h>
#include <stdio.h>

#include <algorithm>
#include <random>
#include <vector>

#include "kernels/route_list.cuh"

// The case's scores in the list and by a stable sort; 0 when they agree.
template <int R> int check(const std::vector<float> &scores, bool full_after_r)
{
    RouteList<R> list;
    list.clear();
    for (size_t e = 0; e < scores.size(); e++) {
        if (full_after_r && e >= (size_t)R) list.insert_full(scores[e], (int32_t)e);
        else list.insert(scores[e], (int32_t)e);
    }
    std::vector<int32_t> order(scores.size());
    for (size_t e = 0; e < order.size(); e++) order[e] = (int32_t)e;
    std::stable_sort(order.begin(), order.end(),
                     [&](int32_t a, int32_t b) { return scores[a] > scores[b]; });
    for (int i = 0; i < R; i++) {
        const int32_t want = i < (int)order.size() ? order[i] : -1;
        if (list.expert[0] != want || (want >= 0 && list.score[0] != scores[want])) {
            printf("FAIL R=%d%s, %zu scores: entry %d is expert %d (%g), want %d\n", R,
                   full_after_r ? " (insert_full after R)" : "", scores.size(), i,
                   list.expert[0], list.score[0], want);
            return 1;
        }
        list.pop();
    }
    return 0;
}

int main(void)
{
    std::mt19937 rng(20261206);
    const float few[] = {-1.5f, -0.0f, 0.0f, 0.25f, 2.0f, -INFINITY};
    int lists = 0, failed = 0;
    for (int round = 0; round < 30000; round++) {
        const int n = 1 + (int)(rng() % 70);
        std::vector<float> scores(n);
        for (float &x : scores)
            x = rng() % 2 ? few[rng() % 6] : (float)((int)(rng() % 20001) - 10000) / 128.f;
        for (int full_after_r = 0; full_after_r < 2; full_after_r++) {
            failed += check<1>(scores, full_after_r) + check<2>(scores, full_after_r) +
                      check<4>(scores, full_after_r);
            lists += 3;
        }
        if (failed > 10) break;
    }
    printf("%d passed, %d failed (route lists of R = 1, 2, 4, insert alone and insert_full after "
           "R inserts, against a stable sort)\n",
           lists - failed, failed);
    return failed != 0;
}
