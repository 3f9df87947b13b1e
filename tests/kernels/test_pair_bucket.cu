// test_pair_bucket.cu — attend_pairs' buckets (kernels/pair_bucket.cuh) on the CPU: for every
// expert count m from 2 to 200 and a few up to 5000, the buckets 0 .. m(m − 1)/2 − 1 are the
// pairs e0 < e1 < m, each once, in e0-major order (e0·m + e1's), as next_pair steps through
// them, and pair_of_bucket (the float root and its corrections) inverts pair_bucket.
#include <stdio.h>

#include "kernels/pair_bucket.cuh"

// Every pair of m experts; 0 when all agree. checked counts the pairs.
static int check_m(int32_t m, long long *checked)
{
    ExpertPair stepped = {0, 1};
    int32_t b = 0;
    for (int32_t e0 = 0; e0 < m; e0++)
        for (int32_t e1 = e0 + 1; e1 < m; e1++, b++) {
            const ExpertPair back = pair_of_bucket(b, m);
            const int32_t at = pair_bucket(ExpertPair{e0, e1}, m);
            if (at != b || back.e0 != e0 || back.e1 != e1 || stepped.e0 != e0 ||
                stepped.e1 != e1) {
                printf("FAIL m=%d pair (%d, %d): bucket %d (want %d), back (%d, %d), stepped "
                       "(%d, %d)\n", m, e0, e1, at, b, back.e0, back.e1, stepped.e0, stepped.e1);
                return 1;
            }
            stepped = next_pair(stepped, m);
            (*checked)++;
        }
    if (b != pair_buckets(m)) {
        printf("FAIL m=%d: %d pairs, pair_buckets says %lld\n", m, b, (long long)pair_buckets(m));
        return 1;
    }
    return 0;
}

int main(void)
{
    long long checked = 0;
    int failed = 0;
    for (int32_t m = 2; m <= 200 && !failed; m++) failed = check_m(m, &checked);
    const int32_t large[] = {1000, 4096, 5000};
    for (int i = 0; i < 3 && !failed; i++) failed = check_m(large[i], &checked);
    printf("%lld pairs checked: %s\n", checked, failed ? "FAIL" : "ok");
    return failed;
}
