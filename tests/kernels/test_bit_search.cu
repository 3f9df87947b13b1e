// test_bit_search.cu — the one pass's search rounds (kernels/bit_search.cuh) on the CPU: for
// rows of ordered scores (random 32-bit values, a few values with many ties, and clustered
// high bits with few low ones), searching two bits a round must pick the same top k as one bit
// a round: the same `separated`, the same k-th score where the search does not separate, and
// the same keys (those at or above the prefix where it does; else those above it and the
// lowest-index ties at it, as select_one_pass collects them). No GPU needed: the round is host
// code too.
#include <stdint.h>
#include <stdio.h>

#include <random>
#include <vector>

#include "kernels/bit_search.cuh"

template <int BITS> void search(const std::vector<uint32_t> &v, int64_t k, uint32_t &prefix,
                                bool &separated)
{
    prefix = 0;
    separated = false;
    for (int bit = 31; bit >= 0 && !separated; bit -= BITS) {
        const SearchRound<BITS> round(prefix, bit);
        unsigned c[SearchRound<BITS>::N] = {};
        for (uint32_t x : v) round.count(x, c);
        round.take(c, k, prefix, separated);
    }
}

// The keys select_one_pass collects for that prefix.
std::vector<int> collected(const std::vector<uint32_t> &v, int64_t k, uint32_t prefix,
                           bool separated)
{
    std::vector<int> keys;
    int64_t above = 0;
    for (uint32_t x : v) above += x > prefix;
    int64_t ties = separated ? 0 : k - above;
    for (size_t i = 0; i < v.size(); i++)
        if (separated ? v[i] >= prefix : v[i] > prefix || (v[i] == prefix && ties-- > 0))
            keys.push_back((int)i);
    return keys;
}

int main(void)
{
    std::mt19937 rng(20261207);
    const uint32_t few[] = {7, 12345, 0x80000000u, 0xC0000001u, 0xFFFFFFFFu};
    int rows = 0, failed = 0;
    for (int round = 0; round < 20000 && failed < 10; round++) {
        const int n = 1 + (int)(rng() % 3000);
        const int64_t k = 1 + (int64_t)(rng() % (n < 256 ? n : 256));
        std::vector<uint32_t> v(n);
        const int kind = round % 3;
        for (uint32_t &x : v)
            x = kind == 0 ? (uint32_t)rng() : kind == 1 ? few[rng() % 5]
                                                         : (rng() % 256) << 24 | (rng() % 4);
        uint32_t p1, p2;
        bool s1, s2;
        search<1>(v, k, p1, s1);
        search<2>(v, k, p2, s2);
        rows++;
        if (s1 != s2 || (!s1 && p1 != p2) ||
            collected(v, k, p1, s1) != collected(v, k, p2, s2)) {
            printf("FAIL n=%d k=%lld kind %d: one bit 0x%08x%s, two bits 0x%08x%s\n", n,
                   (long long)k, kind, p1, s1 ? " separated" : "", p2, s2 ? " separated" : "");
            failed++;
        }
    }
    printf("%d passed, %d failed (rows searched one and two bits a round)\n", rows - failed,
           failed);
    return failed ? 1 : 0;
}
