// topk_select.cu — exact per-row top-k over streamed key tiles (kernels/topk_select.h).
//
// Versions (picked by dtype and k in make_plan; measurements in kernels/NOTES.md "topk"):
//   mma   keys of 16 bits (bf16 or fp16), k <= ~1300 (its candidate sort space in shared
//         memory); scores on the tensor cores (mma.sync m16n8k16, fp32 accumulation: products
//         of 16-bit inputs are exact in fp32), 64-key tiles double-buffered by cp.async.
//         Rows of the keys' type (topk, the default in bf16/fp16): 8 warps × 16 rows.
//         fp32 rows (mita's landmarks; its probe in bf16/fp16): 4 warps × 16 rows, each row
//         split into two 16-bit terms (two mma per k-step, ~16-bit mantissas) and optionally
//         the softmax(scores·scale)·V partials by mma too (mita's shared values).
//   wgmma the mma version's work on an sm_90a build and device, the key (and value) tiles
//         loaded by TMA into a ring of SW128 stages that no block barrier paces (section
//         "wgmma" below). fp32 rows (mita's probe, split hi + lo): scores and P·V by wgmma,
//         floors by tile_maxima_wgmma, which scores the same way. Rows of the keys' type
//         (topk): each warp scores its 16 rows by mma.sync from the stages, so that no warp
//         waits for its warpgroup's slowest selection, 16 warps a block, 16 stages deep
//         (8 warps and 4 stages where k > ~298 leaves their scratch no room).
//   simt  any pair of dtypes (fp32 keys: mita in fp32, its routing), and k up to ~2700.
//         4 warps × 16 rows; tiles staged in shared memory as fp32, scores by FMA in the
//         mma fragment layout (simt_tile.cuh), so that both share the selection code.
//         Optionally also the softmax(scores·scale)·V partials of the same scores (mita's
//         shared values). The fp32 path and the fallback for large k, not a rival of mma.
//   one_pass  16-bit keys, k <= 256 and short key ranges (n_keys <= 2432 at d = 64, 1408 at
//         d = 128; 4864 and 2816 in 8-row blocks): one block of 16 rows (8 where few rows
//         leave SMs idle) holds every score of its rows in shared memory and selects from them;
//         one launch instead of the four of the chunked mma path (section "one pass" below).
//         Taken first wherever it fits.
// mma and simt keep, per row, a candidate buffer in global memory (of the resident blocks only, so
// memory is O(grid · rows · cap), not O(N·k)) and a threshold tau: a score enters the buffer
// only if it beats tau; when a buffer could overflow during the next tile, the warp keeps the
// k best (found in registers by the k-th's bits where cap <= 256, else by a bitonic sort in
// shared memory) and raises tau to the k-th. Random data inserts ~k·(1 + ln(N/k)) candidates
// per row; before any threshold exists a whole tile is stored without atomics. With floors
// (mita's probe) a warp vote skips most tiles and a candidate takes a shared atomic; without
// (topk: a warp's 16 rows insert in nearly every tile up to N ~ 2^17) a tile's candidates are
// placed by a prefix over each row's quad (append_dense). Measurements: NOTES.md, "topk".
// Exactness: candidates are ordered by a 64-bit key (score, ~index) — score descending, ties
// to the lower index. Keys stream in increasing index order within a block, so a later key
// whose score equals tau can never displace the k-th (it has a higher index): `score > tau`
// filters exactly. Long key ranges with few rows (mita's probe) are split into chunks across
// blocks; each chunk leaves its sorted k best, and merge_chunks merges them (k-way merge).

#include "topk_select.h"

#include <math.h>

#include "bit_search.cuh"
#include "candidate.cuh"
#include "cuda_util.cuh"
#include "hopper.cuh"        // wgmma, SW128 tiles: select_wgmma and tile_maxima_wgmma
#include "mma_util.cuh"
#include "simt_tile.cuh"
#include "wgmma_softmax.cuh" // the online softmax in wgmma's layout: select_wgmma's values

namespace {

using namespace simt_tile;

constexpr int LISTS_PER_LANE = 4;              // merge_chunks: lane l holds lists l + 32·i
constexpr int MAX_CHUNKS = 32 * LISTS_PER_LANE;
constexpr int FEW_K = 8;       // up to this k, picking by rounds beats sorting the buffer
// A warp's scratch (shared memory) is the sort space of its rows' buffers (cap candidates)
// and, in kernels with dense inserts, also a tile's 16 × TILE scores (append_dense), rows
// STAGE_STRIDE floats apart so that a quad's 64-bit stores hit 32 banks: at least
// STAGE_SLOTS 8-byte slots there.
constexpr int STAGE_STRIDE = TILE + 8;
constexpr int64_t STAGE_SLOTS = WARP_ROWS * STAGE_STRIDE / 2;

struct SelectArgs {
    const void *rows, *keys, *values; // [heads, n_rows, D], [heads, n_keys, D] x2
    int64_t n_rows, n_keys, k;
    int cap;                          // candidates per row buffer (a power of two)
    int warp_slots;                   // a warp's scratch in 8-byte slots (warp_slots())
    int row_tiles, nchunks;
    int64_t chunk_len;                // keys per chunk, a multiple of TILE
    int64_t items;                    // heads · nchunks · row_tiles
    const float *floors;              // [heads, n_rows]: the score each row's threshold starts
                                      // from (a sampled pass's k-th best), or NULL: -inf
    float scale;                      // softmax scale of the values partials
    uint64_t *buffers;                // [gridDim.x, rows per block, cap]
    int32_t *out_idx;                 // [heads, n_rows, k] when nchunks == 1, else NULL
    uint64_t *out_cand;               // [heads, n_rows, nchunks, k] sorted, 0-padded, or NULL
    float *out_partial;               // [heads, n_rows, nchunks, D + 4]: max, sum, -, -, Σ w·v
};

// ---- candidates --------------------------------------------------------------------------

// The first of this lane's `mine` slots in a list the warp's lanes fill in lane order: the
// lower lanes' counts summed (an inclusive scan over the warp, less its own).
__device__ __forceinline__ uint32_t warp_first_slot(uint32_t mine, int lane)
{
    uint32_t at = mine;
#pragma unroll
    for (int off = 1; off < 32; off <<= 1) {
        const uint32_t x = __shfl_up_sync(FULL, at, off);
        if (lane >= off) at += x;
    }
    return at - mine;
}

// s: [n] in shared memory, n a power of two; sorted descending by one warp.
__device__ void warp_sort_desc(uint64_t *s, int n, int lane)
{
    for (int size = 2; size <= n; size <<= 1)
        for (int stride = size >> 1; stride > 0; stride >>= 1) {
            for (int i = lane; i < n / 2; i += 32) {
                const int lo = 2 * i - (i & (stride - 1)), hi = lo + stride;
                const uint64_t x = s[lo], y = s[hi];
                const bool descending = (lo & size) == 0;
                if (descending ? x < y : x > y) {
                    s[lo] = y;
                    s[hi] = x;
                }
            }
            __syncwarp();
        }
}

// One warp's 16 rows: their candidate buffers, counts and thresholds.
struct WarpRows {
    uint64_t *buf;     // global: [16, cap]
    uint64_t *scratch; // shared: [warp_slots], the warp's sort space (and append_dense's)
    int *cnt;          // shared: [16]
    float *tau;        // shared: [16]
    float *base;       // shared: [16], the threshold a row starts from and falls back to
    int cap;
    int64_t k;

    // floors: the rows' floors from row0 on (n_valid of them), or NULL. A floor is the k-th
    // best score of a subset of the keys, so at most the k-th best of all: every key of the
    // top k scores at least as much. It is lowered a hair so that `score > tau` keeps a key
    // that ties with it (the same key scored again gives the same bits; the margin is slack).
    __device__ void reset(int lane, const float *floors, int64_t n_valid)
    {
        if (lane < WARP_ROWS) {
            cnt[lane] = 0;
            const float f = floors && lane < n_valid ? floors[lane] : -INFINITY;
            base[lane] = f - fabsf(f) * 0x1p-20f - 0x1p-126f; // -inf stays -inf
            tau[lane] = base[lane];
        }
        __syncwarp();
    }

    // Leaves row r's min(n, k) best candidates in scratch, best first; returns n, the row's
    // count. Small k: k rounds of a warp maximum below the previous pick (candidates are
    // distinct); else a bitonic sort of the whole buffer.
    __device__ int best_of_row(int r, int lane)
    {
        const int n = cnt[r];
        const uint64_t *b = buf + (size_t)r * cap;
        if (k <= FEW_K) {
            uint64_t prev = ~0ull;
            for (int i = 0; i < k && i < n; i++) {
                uint64_t best = 0;
                for (int j = lane; j < n; j += 32) {
                    const uint64_t x = b[j];
                    if (x < prev && x > best) best = x;
                }
#pragma unroll
                for (int off = 16; off > 0; off >>= 1) {
                    const uint64_t other = __shfl_xor_sync(FULL, best, off);
                    best = other > best ? other : best;
                }
                if (lane == 0) scratch[i] = best;
                prev = best;
            }
            __syncwarp();
            return n;
        }
        int p = 1;
        while (p < n) p <<= 1;
        for (int i = lane; i < p; i += 32) scratch[i] = i < n ? b[i] : 0;
        __syncwarp();
        warp_sort_desc(scratch, p, lane);
        return n;
    }

    // Keeps row r's k best and raises its threshold to the k-th: in registers where the
    // buffer fits them (compact_in_registers), else by sorting it in scratch.
    __device__ void compact_row(int r, int lane)
    {
        if (cap <= 32 * REG_CANDIDATES && compact_in_registers(r, lane)) return;
        const int n = best_of_row(r, lane);
        const int keep = n < k ? n : (int)k;
        uint64_t *b = buf + (size_t)r * cap;
        for (int i = lane; i < keep; i += 32) b[i] = scratch[i];
        __syncwarp();
        if (lane == 0) {
            cnt[r] = keep;
            tau[r] = n >= k ? candidate_score(scratch[k - 1]) : base[r];
        }
        __syncwarp();
    }

    // compact_row without a sort: the warp holds the row's n candidates in registers (lane l
    // those at l + 32·i) and searches the bits of their high words (the scores' order), most
    // significant first, for a v that at least k candidates reach (the count is a warp
    // reduction). It stops as soon as at most slack(k) more than k reach v, keeps those in
    // any order (finish sorts) and sets tau to v's score: every candidate dropped scores
    // below k kept ones, and a later key scoring exactly tau ties with kept ones of lower
    // index. The k-th itself took ~25 rounds (ncu at N = 2^16: compactions were 18% of topk's
    // instructions); the slack takes a handful, for a few more candidates carried to the
    // next compaction. Only where equal scores leave too many at the last bit are the ties
    // cut by the low word (the index), and exactly k stay (candidates are distinct).
    // Returns false, having changed nothing, when n <= k (nothing to drop).
    static constexpr int REG_CANDIDATES = 8; // per lane: buffers of cap <= 256
    static __device__ uint32_t slack(uint32_t k) { return k / 4 + 8; }
    __device__ bool compact_in_registers(int r, int lane)
    {
        const int n = cnt[r];
        if (n <= k) return false;
        uint64_t *b = buf + (size_t)r * cap;
        uint64_t c[REG_CANDIDATES]; // 0 past n: below every candidate, never counted
#pragma unroll
        for (int i = 0; i < REG_CANDIDATES; i++) c[i] = lane + 32 * i < n ? b[lane + 32 * i] : 0;
        auto valid = [&](int i) { return lane + 32 * i < n; };
        // The high words (the scores' order) first: bits above where the buffer's smallest
        // and largest agree are common to all, the search starts below them.
        uint32_t lo = ~0u, hi = 0;
#pragma unroll
        for (int i = 0; i < REG_CANDIDATES; i++)
            if (valid(i)) {
                lo = min(lo, (uint32_t)(c[i] >> 32));
                hi = max(hi, (uint32_t)(c[i] >> 32));
            }
        lo = __reduce_min_sync(FULL, lo);
        hi = __reduce_max_sync(FULL, hi);
        const uint32_t kk = (uint32_t)k, enough = kk + slack(kk);
        uint32_t v = hi, kept = (uint32_t)n; // kept: the candidates whose high word is >= v
        if (lo != hi) {
            const int top = 31 - __clz(lo ^ hi);
            v = lo & ~((2u << top) - 1u); // the common bits (none where top = 31)
            for (int bit = top; bit >= 0; bit--) {
                const uint32_t trial = v | (1u << bit);
                uint32_t at_least = 0;
#pragma unroll
                for (int i = 0; i < REG_CANDIDATES; i++)
                    at_least += valid(i) && (uint32_t)(c[i] >> 32) >= trial;
                at_least = __reduce_add_sync(FULL, at_least);
                if (at_least >= kk) {
                    v = trial;
                    kept = at_least;
                    if (kept <= enough) break;
                }
            }
        }
        uint64_t kth = (uint64_t)v << 32; // keep c >= kth
        if (kept > enough) {
            // The search ran to the last bit: v is the k-th's high word and too many share
            // it (equal scores), so the ties are cut by the low word (the index).
            uint32_t above = 0;
#pragma unroll
            for (int i = 0; i < REG_CANDIDATES; i++) above += valid(i) && (uint32_t)(c[i] >> 32) > v;
            above = __reduce_add_sync(FULL, above);
            const uint32_t need = kk - above; // the need-th largest low word of the ties
            uint32_t w = 0;
            for (int bit = 31; bit >= 0; bit--) {
                const uint32_t trial = w | (1u << bit);
                uint32_t at_least = 0;
#pragma unroll
                for (int i = 0; i < REG_CANDIDATES; i++)
                    at_least += valid(i) && (uint32_t)(c[i] >> 32) == v && (uint32_t)c[i] >= trial;
                if (__reduce_add_sync(FULL, at_least) >= need) w = trial;
            }
            kth |= w;
            kept = kk;
        }
        // Every lane has read its candidates (the reductions above wait for all lanes), so
        // the kept ones may now be written over the buffer's front.
        uint32_t mine = 0;
#pragma unroll
        for (int i = 0; i < REG_CANDIDATES; i++) mine += valid(i) && c[i] >= kth;
        uint32_t at = warp_first_slot(mine, lane);
#pragma unroll
        for (int i = 0; i < REG_CANDIDATES; i++)
            if (valid(i) && c[i] >= kth) b[at++] = c[i];
        __syncwarp();
        if (lane == 0) { // a row's floor stays its least threshold (v may be coarser)
            cnt[r] = (int)kept;
            tau[r] = fmaxf(candidate_score(kth), base[r]);
        }
        __syncwarp();
        return true;
    }

    // Before a tile: a tile adds at most TILE candidates per row.
    __device__ void compact_full_rows(int lane)
    {
        unsigned full = __ballot_sync(FULL, lane < WARP_ROWS && cnt[lane] > cap - TILE);
        while (full) {
            compact_row(__ffs(full) - 1, lane);
            full &= full - 1;
        }
    }

    // acc: the warp's 16 × TILE scores in C-fragment layout; keys from kt, valid below end.
    // DENSE: rows that insert in most tiles (rows of the keys' type: topk, no floors; ~14
    // candidates a warp and tile at N = 2^16, k = 64), placed by append_dense; else (mita's
    // probe: floors, a candidate every few tiles) a shared atomic each.
    template <bool DENSE>
    __device__ void append_tile(const float (&acc)[8][4], int64_t kt, int64_t end, int g, int t,
                                int lane)
    {
        const float tau0 = tau[g], tau1 = tau[g + 8];
        // Once the thresholds have risen most tiles hold no candidate: one vote skips them.
        // (Zero-filled keys past `end` may cast a vote; the paths below check the index.)
        float m0 = -INFINITY, m1 = -INFINITY, n0 = -INFINITY, n1 = -INFINITY; // 2 chains a row
#pragma unroll
        for (int j = 0; j < 8; j += 2) {
            m0 = fmaxf(m0, fmaxf(acc[j][0], acc[j][1]));
            m1 = fmaxf(m1, fmaxf(acc[j][2], acc[j][3]));
            n0 = fmaxf(n0, fmaxf(acc[j + 1][0], acc[j + 1][1]));
            n1 = fmaxf(n1, fmaxf(acc[j + 1][2], acc[j + 1][3]));
        }
        m0 = fmaxf(m0, n0);
        m1 = fmaxf(m1, n1);
        if (!__any_sync(FULL, m0 > tau0 || m1 > tau1)) return;
        // No threshold yet and a whole tile: every score goes in, each to its own slot.
        if (__all_sync(FULL, tau0 == -INFINITY && tau1 == -INFINITY) && kt + TILE <= end) {
            const int c0 = cnt[g], c1 = cnt[g + 8];
#pragma unroll
            for (int j = 0; j < 8; j++)
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    const int col = 8 * j + 2 * t + (e & 1);
                    const size_t at = e < 2 ? (size_t)g * cap + c0 : (size_t)(g + 8) * cap + c1;
                    buf[at + col] = pack_candidate(acc[j][e], kt + col);
                }
            __syncwarp();
            if (lane < WARP_ROWS) cnt[lane] += TILE;
            __syncwarp();
            return;
        }
        if constexpr (DENSE) {
            append_dense(acc, tau0, tau1, kt, end, g, t);
        } else {
#pragma unroll
            for (int j = 0; j < 8; j++)
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    const int r = e < 2 ? g : g + 8;
                    const int64_t key = kt + 8 * j + 2 * t + (e & 1);
                    if (acc[j][e] > (e < 2 ? tau0 : tau1) && key < end) {
                        const int pos = atomicAdd(&cnt[r], 1);
                        buf[(size_t)r * cap + pos] = pack_candidate(acc[j][e], key);
                    }
                }
            __syncwarp();
        }
    }

    // The tile's candidates where most tiles have some. A lane marks its entering scores
    // (bit 4j + e for acc[j][e]), a row's lanes (its quad: 16 scores each) take their places
    // by a prefix of their counts and one update of the row's count, and each lane writes only
    // its marked scores, fetched back by index from its own copy of the 32 in the warp's
    // scratch (registers cannot be indexed at run time): 16 stores and a few loads where
    // checking, packing and storing each of the 32 in turn cost ~450 instructions a lane.
    __device__ void append_dense(const float (&acc)[8][4], float tau0, float tau1, int64_t kt,
                                 int64_t end, int g, int t)
    {
        const bool whole = kt + TILE <= end;
        uint32_t bits = 0;
#pragma unroll
        for (int j = 0; j < 8; j++)
#pragma unroll
            for (int e = 0; e < 4; e++) {
                const bool in = acc[j][e] > (e < 2 ? tau0 : tau1) &&
                                (whole || kt + 8 * j + 2 * t + (e & 1) < end);
                bits |= (uint32_t)in << (4 * j + e);
            }
        const int in0 = __popc(bits & 0x33333333u), in1 = __popc(bits & 0xCCCCCCCCu);
        int at0 = in0, at1 = in1; // inclusive prefix over the quad
#pragma unroll
        for (int off = 1; off < 4; off <<= 1) {
            const int x0 = __shfl_up_sync(FULL, at0, off, 4), x1 = __shfl_up_sync(FULL, at1, off, 4);
            if (t >= off) at0 += x0, at1 += x1;
        }
        const int c0 = cnt[g], c1 = cnt[g + 8];
        __syncwarp();
        if (t == 3) cnt[g] = c0 + at0, cnt[g + 8] = c1 + at1;
        at0 += c0 - in0;
        at1 += c1 - in1;
        float *sc = reinterpret_cast<float *>(scratch); // [16][STAGE_STRIDE]: row, column
#pragma unroll
        for (int j = 0; j < 8; j++) {
            *reinterpret_cast<float2 *>(sc + g * STAGE_STRIDE + 8 * j + 2 * t) =
                make_float2(acc[j][0], acc[j][1]);
            *reinterpret_cast<float2 *>(sc + (g + 8) * STAGE_STRIDE + 8 * j + 2 * t) =
                make_float2(acc[j][2], acc[j][3]);
        }
        uint64_t *b0 = buf + (size_t)g * cap, *b1 = buf + (size_t)(g + 8) * cap;
        while (bits) {
            const int i = __ffs(bits) - 1, j = i >> 2, e = i & 3;
            bits &= bits - 1;
            const int col = 8 * j + 2 * t + (e & 1);
            const float score = sc[(e < 2 ? g : g + 8) * STAGE_STRIDE + col];
            if (e < 2) b0[at0++] = pack_candidate(score, kt + col);
            else b1[at1++] = pack_candidate(score, kt + col);
        }
        __syncwarp(); // the scratch is the warp's sort space again
    }

    // Warp `warp`'s 16 rows in a block of `rows` rows: their buffers (a.buffers, the block's
    // rows · cap from blockIdx.x · rows · cap) and their share of the block's shared arrays
    // (scratch [warps, warp_slots], cnt, tau, base [rows]).
    static __device__ WarpRows of_warp(const SelectArgs &a, int rows, int warp, uint64_t *scratch,
                                       int *cnt, float *tau, float *base)
    {
        return WarpRows{a.buffers + ((size_t)blockIdx.x * rows + warp * WARP_ROWS) * a.cap,
                        scratch + warp * a.warp_slots, cnt + warp * WARP_ROWS, tau + warp * WARP_ROWS,
                        base + warp * WARP_ROWS, a.cap, a.k};
    }

    // After the last tile: row r's k best (fewer when the chunk had fewer keys), to out_idx
    // as indices or to out_cand as candidates padded with 0.
    __device__ void finish(const SelectArgs &a, int64_t bh, int64_t row0, int chunk, int lane)
    {
        for (int r = 0; r < WARP_ROWS; r++) {
            const int n = best_of_row(r, lane);
            const int64_t row = row0 + r;
            if (row < a.n_rows) {
                const int64_t out_row = bh * a.n_rows + row;
                if (a.out_idx)
                    for (int64_t i = lane; i < a.k; i += 32)
                        a.out_idx[out_row * a.k + i] = candidate_key(scratch[i]);
                else
                    for (int64_t i = lane; i < a.k; i += 32)
                        a.out_cand[(out_row * a.nchunks + chunk) * a.k + i] =
                            i < n ? scratch[i] : 0;
            }
            __syncwarp();
        }
    }
};

// The work item's place: row tiles innermost, so that concurrent blocks stream the same keys
// (shared through L2).
struct Item {
    int64_t bh, row0, begin, end;
    int chunk;
    // The item's head of a [heads, n_keys, D] tensor of T (the keys, the values).
    template <typename T, int D>
    __device__ const T *head_of(const void *x, const SelectArgs &a) const
    {
        return static_cast<const T *>(x) + bh * a.n_keys * D;
    }
};
__device__ __forceinline__ Item item_of(const SelectArgs &a, int64_t item, int rows_per_block)
{
    Item it;
    const int rt = (int)(item % a.row_tiles);
    const int64_t rest = item / a.row_tiles;
    it.chunk = (int)(rest % a.nchunks);
    it.bh = rest / a.nchunks;
    it.row0 = (int64_t)rt * rows_per_block;
    it.begin = it.chunk * a.chunk_len;
    it.end = min(it.begin + a.chunk_len, a.n_keys);
    return it;
}

// Row `row`'s partial of one chunk (SelectArgs::out_partial: max, sum, -, -, Σ w·v), from
// one thread of the quad that holds the row: t == 0 writes the max and sum, put(values) this
// thread's channels of Σ w·v. Rows past n_rows write nothing.
template <int D, typename Put>
__device__ __forceinline__ void store_partial(const SelectArgs &a, int64_t bh, int64_t row,
                                              int chunk, float max, float sum, int t, Put &&put)
{
    if (row >= a.n_rows) return;
    float *p = a.out_partial + ((bh * a.n_rows + row) * a.nchunks + chunk) * (D + 4);
    if (t == 0) {
        p[0] = max;
        p[1] = sum;
    }
    put(p + 4);
}

// ---- simt ---------------------------------------------------------------------------------

constexpr int SIMT_WARPS = 4, SIMT_ROWS = SIMT_WARPS * WARP_ROWS;

// rows: [heads, n_rows, D] TQ  keys (values): [heads, n_keys, D] TK (TV)
// Shared memory: scratch [SIMT_WARPS, warp_slots] u64 | qs [SIMT_ROWS, D+4] | ks [TILE, D+4]
// | (WITH_V) vs [TILE, D+4], ws [SIMT_ROWS, W_STRIDE] | cnt [SIMT_ROWS] | tau [SIMT_ROWS].
template <typename TQ, typename TK, typename TV, int D, bool WITH_V>
__global__ void __launch_bounds__(SIMT_WARPS * 32) select_simt(SelectArgs a)
{
    constexpr int S = D + 4;
    extern __shared__ __align__(16) unsigned char smem[];
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, t = lane % 4;
    uint64_t *scratch = reinterpret_cast<uint64_t *>(smem);
    float *qs = reinterpret_cast<float *>(scratch + SIMT_WARPS * a.warp_slots);
    float *ks = qs + SIMT_ROWS * S;
    float *vs = ks + TILE * S;
    float *ws = vs + (WITH_V ? TILE * S : 0);
    int *cnt = reinterpret_cast<int *>(ws + (WITH_V ? SIMT_ROWS * W_STRIDE : 0));
    float *tau = reinterpret_cast<float *>(cnt + SIMT_ROWS), *base = tau + SIMT_ROWS;

    WarpRows sel = WarpRows::of_warp(a, SIMT_ROWS, warp, scratch, cnt, tau, base);
    for (int64_t item = blockIdx.x; item < a.items; item += gridDim.x) {
        const Item it = item_of(a, item, SIMT_ROWS);
        const TK *keys = it.head_of<TK, D>(a.keys, a);
        const TV *values = WITH_V ? it.head_of<TV, D>(a.values, a) : nullptr;

        __syncthreads(); // the previous item is done with qs
        stage_rows<TQ, D, SIMT_ROWS>(qs, static_cast<const TQ *>(a.rows) +
                                             (it.bh * a.n_rows + it.row0) * D,
                                     a.n_rows - it.row0);
        sel.reset(lane, nullptr, 0); // make_selection samples for the mma kernel only
        float rmax[2] = {-INFINITY, -INFINITY}, rsum[2] = {0.f, 0.f};
        float4 o[2][D / 16];
#pragma unroll
        for (int h = 0; h < 2; h++)
#pragma unroll
            for (int i = 0; i < D / 16; i++) o[h][i] = make_float4(0.f, 0.f, 0.f, 0.f);

        for (int64_t kt = it.begin; kt < it.end; kt += TILE) {
            __syncthreads(); // qs staged; the previous tile's readers are done
            stage_rows<TK, D, TILE>(ks, keys + kt * D, it.end - kt);
            if (WITH_V) stage_rows<TV, D, TILE>(vs, values + kt * D, it.end - kt);
            __syncthreads();
            sel.compact_full_rows(lane);
            float acc[8][4];
            simt_scores<D>(acc, qs, ks, warp, g, t);
            sel.template append_tile<false>(acc, kt, it.end, g, t, lane);
            if (WITH_V)
                softmax_values_tile<D>(acc, kt, it.end, a.scale, ws + warp * WARP_ROWS * W_STRIDE,
                                       vs, rmax, rsum, o, g, t);
        }
        sel.finish(a, it.bh, it.row0 + warp * WARP_ROWS, it.chunk, lane);
        if (WITH_V)
#pragma unroll
            for (int h = 0; h < 2; h++)
                store_partial<D>(a, it.bh, it.row0 + warp * WARP_ROWS + g + 8 * h, it.chunk,
                                 rmax[h], row_total(rsum[h]), t, [&](float *v) {
#pragma unroll
                                     for (int i = 0; i < D / 16; i++)
                                         *reinterpret_cast<float4 *>(v + 4 * t + 16 * i) = o[h][i];
                                 });
    }
}

// ---- mma ----------------------------------------------------------------------------------

constexpr int MMA_WARPS = 8;      // topk: 8 warps × 16 = 128 query rows per block
constexpr int MMA_WARPS_FP32 = 4; // mita's probe: its m landmarks are few (64 rows per block)

__device__ __forceinline__ uint32_t ld32(const void *p)
{
    return *reinterpret_cast<const uint32_t *>(p);
}

// The A fragments of one row pair of a row tile (rows r0 and r0+8, this lane's columns of
// every k-step). Rows of T: the fragments themselves (hi), lo unused. Rows of fp32 (mita's
// landmarks): split_pack's hi + lo, so that hi·k + lo·k (two mma) carries ~16 mantissa bits
// of x, not 8: the scores that select keep fp32-level precision (docs/methods.md, "Selection:
// top-k and argmax": selection scores in fp32).
template <typename TQ, typename T, int D>
__device__ __forceinline__ void load_row_fragments(const TQ *q0, bool ok0, bool ok1,
                                                   uint32_t (&hi)[D / 16][4],
                                                   uint32_t (&lo)[D / 16][4])
{
    const TQ *q1 = q0 + 8 * D;
#pragma unroll
    for (int kk = 0; kk < D / 16; kk++) {
        const TQ *at[4] = {q0 + kk * 16, q1 + kk * 16, q0 + kk * 16 + 8, q1 + kk * 16 + 8};
        const bool ok[4] = {ok0, ok1, ok0, ok1};
#pragma unroll
        for (int e = 0; e < 4; e++) {
            if constexpr (sizeof(TQ) == 2) {
                hi[kk][e] = ok[e] ? ld32(at[e]) : 0u;
                lo[kk][e] = 0u;
            } else {
                const float2 x = ok[e] ? *reinterpret_cast<const float2 *>(at[e])
                                       : make_float2(0.f, 0.f);
                split_pack<T>(x.x, x.y, hi[kk][e], lo[kk][e]);
            }
        }
    }
}

// ks: [TILE, D+8] T, rows kt.. of src of which those at and past `end` are zero-filled. The
// copies are split over `threads` threads from `first` (the block's by default; one warp's in
// select_one_pass, whose warps each stage their own tiles).
template <typename T, int D>
__device__ __forceinline__ void load_key_tile(T *ks, const T *src, int64_t kt, int64_t end,
                                              int first, int threads)
{
    constexpr int PER_ROW = D / 8; // 16-byte chunks
    for (int c = first; c < TILE * PER_ROW; c += threads) {
        const int r = c / PER_ROW, v = c % PER_ROW;
        const bool valid = kt + r < end;
        cp_async16(smem_u32(ks + r * (D + 8) + v * 8), src + (valid ? kt + r : 0) * D + v * 8,
                   valid ? 16 : 0);
    }
}

template <typename T, int D>
__device__ __forceinline__ void load_key_tile(T *ks, const T *src, int64_t kt, int64_t end)
{
    load_key_tile<T, D>(ks, src, kt, end, threadIdx.x, blockDim.x);
}

// The warp's 16 × TILE scores of one key tile ks [TILE, D+8] T (row stride: B-fragment words
// 4g + t, conflict-free): hi·k, plus lo·k for split fp32 rows.
template <int D, bool SPLIT, typename T>
__device__ __forceinline__ void score_tile(float (&acc)[8][4], const uint32_t (&qa)[D / 16][4],
                                           const uint32_t (&ql)[D / 16][4], const T *ks, int g,
                                           int t)
{
    // k-steps outer: consecutive mma write different accumulators, so that none waits on the
    // one before (mma_t's asm keeps program order; j inner cut the kernel's stalls on it).
    constexpr int KS = D + 8;
    const T *kb = ks + g * KS + 2 * t;
#pragma unroll
    for (int j = 0; j < 8; j++) acc[j][0] = acc[j][1] = acc[j][2] = acc[j][3] = 0.f;
#pragma unroll
    for (int kk = 0; kk < D / 16; kk++)
#pragma unroll
        for (int term = SPLIT ? 0 : 1; term < 2; term++) // lo (split rows only), then hi
#pragma unroll
            for (int j = 0; j < 8; j++) // B fragments loaded again per term: no 16 registers
                mma_t<T>::mma(acc[j], term == 0 ? ql[kk] : qa[kk], ld32(kb + 8 * j * KS + kk * 16),
                              ld32(kb + 8 * j * KS + kk * 16 + 8));
}

// rows: [heads, n_rows, D] TQ  keys (values): [heads, n_keys, D] T (bf16 or fp16)
// Shared memory: scratch [WARPS, warp_slots] u64 | ks [2, TILE, D+8] T | (WITH_V) vs, likewise
// | cnt, tau, base [WARPS·16].
// Variants (make_plan picks): TQ = T, WARPS = 8: topk's scores, one mma per k-step.
// TQ = float, WARPS = 4: mita's probe (fp32 landmarks split hi + lo, two mma per k-step);
// WITH_V adds the softmax(scores·scale)·V partials of the same scores on the tensor cores (P
// rounded to T as flash attention does), the shared expert's values.
// mita's probe at d = 64: 3 blocks an SM (170 registers): at 4 (128 registers) it spilled and
// MiTA took 4.84 ms at N = 2^20 against 4.43 (H100).
template <typename TQ, typename T, int D, int WARPS, bool WITH_V>
__global__ void __launch_bounds__(WARPS * 32, (WARPS == MMA_WARPS_FP32 && D == 64) ? 3 : 1)
    select_mma(SelectArgs a)
{
    constexpr int KS = D + 8;
    constexpr int ROWS = WARPS * WARP_ROWS;
    constexpr bool SPLIT = sizeof(TQ) == 4;
    extern __shared__ __align__(16) unsigned char smem[];
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, t = lane % 4;
    uint64_t *scratch = reinterpret_cast<uint64_t *>(smem);
    T *ks = reinterpret_cast<T *>(scratch + WARPS * a.warp_slots);
    T *vs = ks + 2 * TILE * KS;
    int *cnt = reinterpret_cast<int *>(vs + (WITH_V ? 2 * TILE * KS : 0));
    float *tau = reinterpret_cast<float *>(cnt + ROWS), *base = tau + ROWS;
    // ldmatrix.trans row of this lane in a V tile: keys (lane%8) + 8·((lane/8)%2), channels
    // 8·(lane/16) on: the B fragments of two n8 channel blocks of one k16 key step.
    const T *v_lane = vs + ((lane % 8) + 8 * ((lane / 8) % 2)) * KS + 8 * (lane / 16);

    WarpRows sel = WarpRows::of_warp(a, ROWS, warp, scratch, cnt, tau, base);
    for (int64_t item = blockIdx.x; item < a.items; item += gridDim.x) {
        const Item it = item_of(a, item, ROWS);
        const T *keys = it.head_of<T, D>(a.keys, a);
        const T *values = WITH_V ? it.head_of<T, D>(a.values, a) : nullptr;

        // A fragments of the warp's 16 rows, all of d, in registers for the whole item.
        const int64_t r0 = it.row0 + warp * WARP_ROWS + g;
        uint32_t qa[D / 16][4], ql[D / 16][4];
        load_row_fragments<TQ, T, D>(static_cast<const TQ *>(a.rows) +
                                         (it.bh * a.n_rows + r0) * D + 2 * t,
                                     r0 < a.n_rows, r0 + 8 < a.n_rows, qa, ql);
        const int64_t warp_row0 = it.row0 + warp * WARP_ROWS;
        sel.reset(lane, a.floors ? a.floors + it.bh * a.n_rows + warp_row0 : nullptr,
                  a.n_rows - warp_row0);
        float rmax[2] = {-INFINITY, -INFINITY}, rsum[2] = {0.f, 0.f};
        float o[WITH_V ? D / 8 : 1][4] = {};

        __syncthreads(); // the previous item is done with both tile buffers
        const int64_t tiles = (it.end - it.begin + TILE - 1) / TILE;
        auto load_tiles = [&](int64_t kt, int buf) {
            load_key_tile<T, D>(ks + buf * TILE * KS, keys, kt, it.end);
            if (WITH_V) load_key_tile<T, D>(vs + buf * TILE * KS, values, kt, it.end);
            cp_async_commit();
        };
        load_tiles(it.begin, 0);
        // for_each_staged_tile's loop (mma_util.cuh), written out: through the helper, the
        // d = 64 kernels with values spilled (CUDA 13.0).
        for (int64_t i = 0; i < tiles; i++) {
            const int64_t kt = it.begin + i * TILE;
            const int buf = (int)(i & 1);
            if (i + 1 < tiles) {
                load_tiles(kt + TILE, buf ^ 1);
                cp_async_wait<1>();
            } else {
                cp_async_wait<0>();
            }
            __syncthreads();
            sel.compact_full_rows(lane);
            float acc[8][4];
            score_tile<D, SPLIT>(acc, qa, ql, ks + buf * TILE * KS, g, t);
            sel.template append_tile<sizeof(TQ) == 2>(acc, kt, it.end, g, t, lane);
            if constexpr (WITH_V) {
                // Online softmax of the tile (keys past `end` weigh 0), then O += P·V. Only a
                // chunk's last tile can be partial: the others skip the per-key checks.
                const bool whole = kt + TILE <= it.end;
                const float sl = a.scale * LOG2E; // exp(s·x) = 2^(sl·x)
                // Two chains per row (columns e & 1) for the max and the sum: a chain of 16
                // dependent operations stalled the warp on each.
                float tm[2][2] = {{-INFINITY, -INFINITY}, {-INFINITY, -INFINITY}};
#pragma unroll
                for (int j = 0; j < 8; j++)
#pragma unroll
                    for (int e = 0; e < 4; e++)
                        if (whole || kt + 8 * j + 2 * t + (e & 1) < it.end)
                            tm[e >> 1][e & 1] = fmaxf(tm[e >> 1][e & 1], acc[j][e]);
                float tmax[2] = {fmaxf(tm[0][0], tm[0][1]), fmaxf(tm[1][0], tm[1][1])};
                float corr[2], ws[2][2] = {{0.f, 0.f}, {0.f, 0.f}}, msl[2];
#pragma unroll
                for (int h = 0; h < 2; h++) {
                    tmax[h] = fmaxf(tmax[h], __shfl_xor_sync(FULL, tmax[h], 1));
                    tmax[h] = fmaxf(tmax[h], __shfl_xor_sync(FULL, tmax[h], 2));
                    const float m = fmaxf(rmax[h], tmax[h]); // finite: a tile has a key
                    corr[h] = fast_exp2((rmax[h] - m) * sl);
                    rmax[h] = m;
                    msl[h] = m * sl;
                }
#pragma unroll
                for (int j = 0; j < 8; j++)
#pragma unroll
                    for (int e = 0; e < 4; e++) {
                        const int h = e >> 1;
                        acc[j][e] = whole || kt + 8 * j + 2 * t + (e & 1) < it.end
                                        ? fast_exp2(fmaf(acc[j][e], sl, -msl[h]))
                                        : 0.f;
                        ws[h][e & 1] += acc[j][e];
                    }
                const float wsum[2] = {ws[0][0] + ws[0][1], ws[1][0] + ws[1][1]};
#pragma unroll
                for (int h = 0; h < 2; h++) rsum[h] = rsum[h] * corr[h] + wsum[h];
#pragma unroll
                for (int n = 0; n < D / 8; n++)
#pragma unroll
                    for (int e = 0; e < 4; e++) o[n][e] *= corr[e >> 1];
                // V's rows are padded to KS (not swizzled); v_lane: this lane's ldmatrix row.
                const T *vt = v_lane + buf * TILE * KS;
                mma_pv<T, TILE, D>(o, acc, [&](int kb, int n2) {
                    return smem_u32(vt + 16 * kb * KS + 16 * n2);
                });
            }
            __syncthreads(); // this buffer is refilled two tiles on
        }
        sel.finish(a, it.bh, it.row0 + warp * WARP_ROWS, it.chunk, lane);
        if constexpr (WITH_V)
#pragma unroll
            for (int h = 0; h < 2; h++) {
                // Written out, not through store_partial: at d = 64 that spilled 92 bytes more
                // (CUDA 13.0).
                const float sum = row_total(rsum[h]);
                const int64_t row = r0 + 8 * h;
                if (row < a.n_rows) {
                    float *p = a.out_partial +
                               ((it.bh * a.n_rows + row) * a.nchunks + it.chunk) * (D + 4);
                    if (t == 0) {
                        p[0] = rmax[h];
                        p[1] = sum;
                    }
#pragma unroll
                    for (int n = 0; n < D / 8; n++)
                        *reinterpret_cast<float2 *>(p + 4 + 8 * n + 2 * t) =
                            make_float2(o[n][2 * h], o[n][2 * h + 1]);
                }
            }
    }
}

// ---- wgmma: mita's probe and topk on sm_90a ---------------------------------------------
//
// select_mma's work by warpgroups of 64 rows (TOPK_GROUPS a block for topk's many rows,
// sharing each key tile; one for mita's m landmarks): each 64-key tile (and value tile) is a
// TMA load into one of wg_stages(D, SPLIT) SW128 stages, issued while the ones before are used.
// fp32 rows (mita's landmarks, with or without the values) sit split hi + lo in two SW128
// tiles for the whole item (hopper_store_split_rows, as route_wgmma's landmarks), and
// S = X_lo·Kᵀ + X_hi·Kᵀ is 2·D/16 wgmma m64n64k16 into one accumulator, O += P·V TILE/16 = 4
// wgmma m64nDk16 with P from registers (wgmma_softmax.cuh's online softmax, as flash_wgmma's).
// Rows of the keys' type (topk's queries) stay in registers as each warp's A fragments and
// S is D/16 · 8 mma.sync a warp (score_tile_ldsm): a wgmma waits for all four warps of its
// warpgroup, and topk's warps insert unevenly, so that 24% of its warp samples sat on each
// tile's first wgmma (ncu, NOTES.md "topk" v7).
// wgmma's accumulator layout is, warp by warp, mma.sync's C layout (hopper.cuh): s[4j+e] is
// select_mma's acc[j][e], so that WarpRows's candidate lists serve both unchanged. What it
// saves: select_mma's 96 mma.sync a tile and warp (hi, lo, P·V) and the 32 registers of its
// row fragments, with which it ran at 1.6× its bytes (NOTES.md, "mita").
// Its scores are not select_mma's bits (another order of the same fp32 sums), so its floors
// come from tile_maxima_wgmma, which scores by the same score_tile_wgmma: a floor is then a
// score this kernel computes, as the floors' exactness needs (WarpRows::reset).
constexpr int WG_ROWS = 64;             // a warpgroup's rows: 4 warps × WARP_ROWS
constexpr uint32_t WG_BLOCK = 64 * 128; // a 64-row column block of an SW128 tile (keys, values)
static_assert(TILE == 64, "a key tile is one WG_BLOCK a column block: select_wgmma's TMA byte count");
template <int D> constexpr uint32_t wg_tile_bytes() { return WG_BLOCK * (D / 64); }

// Rows kt .. kt + R − 1 of src (those at and past `end` zero-filled) into the SW128 tile of R
// rows at shared address `tile`, by the block's threads; the caller commits.
template <typename T, int D, int R>
__device__ __forceinline__ void stage_tile_sw128(uint32_t tile, const T *src, int64_t kt,
                                                 int64_t end)
{
    constexpr int CHUNKS = D / 8;
    for (int c = threadIdx.x; c < R * CHUNKS; c += blockDim.x) {
        const int r = c / CHUNKS, ch = c % CHUNKS;
        const bool ok = kt + r < end;
        cp_async16(tile + hopper_sw128_offset(r, ch, R * 128), src + (ok ? kt + r : 0) * D + ch * 8,
                   ok ? 16 : 0);
    }
}

// A warpgroup's 64 × TILE scores of the key tile at `keys` for split fp32 rows, waited for:
// s = X_lo·Kᵀ + X_hi·Kᵀ (lo first, the smaller terms summed first). hi, lo: the warpgroup's
// first row in X tiles whose column blocks are x_block bytes apart. The one scoring of
// select_wgmma's fp32 rows and tile_maxima_wgmma, so that both give a key the same bits.
template <typename T, int D>
__device__ __forceinline__ void score_tile_wgmma(float (&s)[TILE / 2], uint32_t hi, uint32_t lo,
                                                 uint32_t x_block, uint32_t keys)
{
    hopper_scores_kmajor<T, TILE, D, 2>(s, lo, keys, hi, keys, x_block, WG_BLOCK);
}

// A warp's 16 × TILE scores of the SW128 key tile at `keys`, its rows' A fragments qa in
// registers (rows of T): per k-step and pair of n8 key blocks one ldmatrix.x4 (this lane's
// row: key (lane % 8) + 8·(lane / 16) of the pair, 16-byte chunk 2·kk + (lane / 8) % 2) and two
// mma.sync. A warp scores on its own, where wgmma waits for its warpgroup's four warps.
template <typename T, int D>
__device__ __forceinline__ void score_tile_ldsm(float (&acc)[8][4], const uint32_t (&qa)[D / 16][4],
                                                uint32_t keys, int lane)
{
    const int r = lane % 8 + 8 * (lane / 16), half = (lane / 8) % 2;
#pragma unroll
    for (int j = 0; j < 8; j++) acc[j][0] = acc[j][1] = acc[j][2] = acc[j][3] = 0.f;
#pragma unroll
    for (int kk = 0; kk < D / 16; kk++)
#pragma unroll
        for (int p = 0; p < 4; p++) {
            uint32_t b[4];
            ldsm_x4(b, keys + hopper_sw128_offset(16 * p + r, 2 * kk + half, WG_BLOCK));
            mma_t<T>::mma(acc[2 * p], qa[kk], b[0], b[1]);
            mma_t<T>::mma(acc[2 * p + 1], qa[kk], b[2], b[3]);
        }
}

// The key (and value) tiles' stages, loaded by TMA, by warpgroups a block. fp32 rows (mita's
// probe, one warpgroup): three at d = 64 (two tiles in flight while one is used; three blocks
// an SM still fit while k <= 128, two past it), two at d = 128. Rows of T (topk, no X tiles):
// four warpgroups, one block an SM, 16 stages at d = 64 and 6 at d = 128 (128 and 96 KB), so
// that a warp may run that many tiles ahead of the slowest one; where their scratch leaves no
// room for that (k > 298), two warpgroups and 4 and 2 stages.
constexpr int TOPK_GROUPS = 4, TOPK_GROUPS_LARGE_K = 2;
__host__ __device__ constexpr int wg_stages(int d, int wgs)
{
    return wgs == 1 ? (d == 64 ? 3 : 2) : wgs == TOPK_GROUPS ? (d == 64 ? 16 : 6) : (d == 64 ? 4 : 2);
}

// Shared memory (from a 1024-byte boundary): X_hi, (split) X_lo [64·wgs, D] | K [stages][TILE, D]
// | (WITH_V) V [stages][TILE, D], all SW128 | the ring's 2·stages u64 (hopper_tma_ring::SLOTS) |
// scratch [4·wgs, slots] u64 |
// cnt, tau, base [64·wgs].
__host__ __device__ constexpr size_t wgmma_select_smem(int d, int64_t slots, bool with_values,
                                                       bool split, int wgs)
{
    return ((size_t)(split ? 2 * wgs : 0) + (with_values ? 2 : 1) * wg_stages(d, wgs)) *
               WG_BLOCK * (d / 64) +
           (size_t)wg_stages(d, wgs) * 2 * 8 + (size_t)4 * wgs * slots * 8 + (size_t)WG_ROWS * wgs * 12 + 1024;
}

// rows: [heads, n_rows, D] TQ (fp32, or T)  keys (values): [heads, n_keys, D] T (bf16 or
// fp16), also as tensor maps k_map, v_map (hopper_tensor_map_sw128, boxes of TILE rows; v_map
// unused without values). The items and outputs of select_mma<TQ, T, D, WARPS, WITH_V>, 64·WGS
// rows a block (WGS warpgroups sharing each key tile; values with fp32 rows only, as there).
// The key and value tiles are TMA loads into wg_stages(D, WGS) stages of a hopper_tma_ring,
// each stage refilled by the last warp to release it: the dense K and V streams of mita's
// probe with two tiles in flight a block at d = 64 where cp.async had one, no copy
// instructions in the warps, and no block barrier a tile (a warp's inserts vary from tile to
// tile: with one, 30% of topk's warp samples at 2^16 waited there, ncu on the H100).
template <typename TQ, typename T, int D, bool WITH_V, int WGS>
__global__ void __launch_bounds__(WGS * 128, WGS > 1 ? 1 : D == 64 ? 3 : 2)
    select_wgmma(SelectArgs a, const __grid_constant__ CUtensorMap k_map,
                 const __grid_constant__ CUtensorMap v_map)
{
#if HOPPER_WGMMA
    constexpr bool SPLIT = sizeof(TQ) == 4;
    constexpr int ROWS = WGS * WG_ROWS, STAGES = wg_stages(D, WGS);
    constexpr uint32_t X_BLOCK = ROWS * 128, X_TILE = X_BLOCK * (D / 64),
                       K_TILE = wg_tile_bytes<D>();
    extern __shared__ unsigned char smem_raw[];
    unsigned char *smem = hopper_smem_align1024(smem_raw);
    const uint32_t sHi = smem_u32(smem), sLo = sHi + X_TILE;
    const uint32_t k_at = (SPLIT ? 2 : 0) * X_TILE, v_at = k_at + STAGES * K_TILE; // offsets
    uint64_t *full = reinterpret_cast<uint64_t *>(smem + k_at + (WITH_V ? 2 : 1) * STAGES * K_TILE);
    uint64_t *scratch = full + hopper_tma_ring<STAGES>::SLOTS;
    int *cnt = reinterpret_cast<int *>(scratch + 4 * WGS * a.warp_slots);
    float *tau = reinterpret_cast<float *>(cnt + ROWS), *base = tau + ROWS;
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, t = lane % 4;
    const uint32_t wg_rows = (threadIdx.x / 128) * WG_ROWS * 128; // this warpgroup's X rows

    hopper_tma_ring<STAGES> ring{full, (WITH_V ? 2 : 1) * K_TILE}; // the items' tiles, in turn
    if (threadIdx.x == 0) ring.init();
    __syncthreads();

    WarpRows sel = WarpRows::of_warp(a, ROWS, warp, scratch, cnt, tau, base);
    for (int64_t item = blockIdx.x; item < a.items; item += gridDim.x) {
        const Item it = item_of(a, item, ROWS);
        const int64_t tiles = (it.end - it.begin + TILE - 1) / TILE;
        const int64_t warp_row0 = it.row0 + warp * WARP_ROWS;
        sel.reset(lane, a.floors ? a.floors + it.bh * a.n_rows + warp_row0 : nullptr,
                  a.n_rows - warp_row0);
        uint32_t qa[SPLIT ? 1 : D / 16][4], ql[SPLIT ? 1 : D / 16][4]; // rows of T: A fragments
        if constexpr (!SPLIT) {
            const int64_t r0 = warp_row0 + g;
            load_row_fragments<T, T, D>(reinterpret_cast<const T *>(a.rows) +
                                            (it.bh * a.n_rows + r0) * D + 2 * t,
                                        r0 < a.n_rows, r0 + 8 < a.n_rows, qa, ql);
        }
        float row_max[2] = {-INFINITY, -INFINITY}, row_sum[2] = {0.f, 0.f};
        float o[WITH_V ? D / 2 : 1];
#pragma unroll
        for (int i = 0; i < (WITH_V ? D / 2 : 1); i++) o[i] = 0.f;

        // Key tile j of the item (and its value tile) by TMA.
        auto load = [&](int64_t j, int st, uint64_t *bar) {
            const int row = (int)(it.begin + j * TILE), plane = (int)it.bh;
#pragma unroll
            for (int c = 0; c < D / 64; c++) {
                hopper_tma_load(smem + k_at + st * K_TILE + c * WG_BLOCK, &k_map, 64 * c, row,
                                plane, bar);
                if constexpr (WITH_V)
                    hopper_tma_load(smem + v_at + st * K_TILE + c * WG_BLOCK, &v_map, 64 * c, row,
                                    plane, bar);
            }
        };
        auto use = [&](int64_t j, int buf) {
            const int64_t kt = it.begin + j * TILE;
            sel.compact_full_rows(lane);
            float s[TILE / 2];
            float acc[8][4]; // select_mma's view of the same registers
            if constexpr (SPLIT) {
                score_tile_wgmma<T, D>(s, sHi + wg_rows, sLo + wg_rows, X_BLOCK,
                                              sHi + k_at + buf * K_TILE);
#pragma unroll
                for (int jj = 0; jj < 8; jj++)
#pragma unroll
                    for (int e = 0; e < 4; e++) acc[jj][e] = s[4 * jj + e];
            } else {
                score_tile_ldsm<T, D>(acc, qa, sHi + k_at + buf * K_TILE, lane);
            }
            sel.template append_tile<!SPLIT>(acc, kt, it.end, g, t, lane);
            if constexpr (WITH_V) {
                // Keys past `end` (a chunk's last tile only) get -inf, weight 0; row_max stays
                // in score units (scale_log2 scales it), as select_mma's partials keep it.
                uint32_t p[TILE / 16][4];
                float alpha[2];
                wgmma_softmax_p<T, TILE>(s, p, alpha, row_max, row_sum, kt, it.end, t,
                                         a.scale * LOG2E);
                wgmma_rescale_pv<T, D, TILE>(o, p, alpha, sHi + v_at + buf * K_TILE, WG_BLOCK);
            }
        };
        // The first STAGES tiles, then fp32 rows split into the X tiles while they fly (loads
        // and stores, a proxy fence, and the barrier before wgmma reads them). Rows of T are
        // the A fragments loaded above.
        ring.prime(tiles, load);
        if constexpr (SPLIT) {
            const TQ *rows = static_cast<const TQ *>(a.rows) + (it.bh * a.n_rows + it.row0) * D;
            hopper_store_split_rows<T, ROWS, D>(sHi, sLo, rows, a.n_rows - it.row0, threadIdx.x,
                                                blockDim.x);
            hopper_fence_proxy_async();
            __syncthreads();
        }
        ring.walk(tiles, load, use);
        sel.finish(a, it.bh, warp_row0, it.chunk, lane);
        if constexpr (WITH_V)
#pragma unroll
            for (int h = 0; h < 2; h++) // select_mma's o[n][2h + e] is o[4n + 2h + e] here
                store_partial<D>(a, it.bh, warp_row0 + g + 8 * h, it.chunk, row_max[h],
                                 row_total(row_sum[h]), t, [&](float *v) {
#pragma unroll
                                     for (int n = 0; n < D / 8; n++)
                                         *reinterpret_cast<float2 *>(v + 8 * n + 2 * t) =
                                             make_float2(o[4 * n + 2 * h], o[4 * n + 2 * h + 1]);
                                 });
    }
#endif
}

// ---- merge --------------------------------------------------------------------------------

// One row's values across its chunks, by one warp: with (m_c, l_c, v_c) chunk c's max, sum
// and weighted values (partial's [max, sum, -, -, Σ w·v]), M = max m_c, out = Σ f_c v_c / Σ f_c
// l_c with f_c = exp(scale·(m_c − M)). Lane c holds chunks c, c + 32, .. (nchunks <=
// MAX_CHUNKS): the maxima in one round of loads and a warp reduction; then every lane walks the
// chunks for its CPL columns, each chunk's weight shuffled from its lane, eight chunks' loads
// in flight.
template <int D>
__device__ __forceinline__ void merge_values(const float *p, int nchunks, float scale,
                                             float *out, int lane)
{
    constexpr int CPL = D / 32;
    float mine[LISTS_PER_LANE], m = -INFINITY;
#pragma unroll
    for (int l = 0; l < LISTS_PER_LANE; l++) {
        const int c = lane + 32 * l;
        mine[l] = c < nchunks ? p[(int64_t)c * (D + 4)] : -INFINITY;
        m = fmaxf(m, mine[l]);
    }
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) m = fmaxf(m, __shfl_xor_sync(FULL, m, off));
    float sum = 0.f;
#pragma unroll
    for (int l = 0; l < LISTS_PER_LANE; l++) {
        const int c = lane + 32 * l;
        mine[l] = c < nchunks ? __expf(scale * (mine[l] - m)) : 0.f; // f_c
        if (c < nchunks) sum += mine[l] * p[(int64_t)c * (D + 4) + 1];
    }
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) sum += __shfl_xor_sync(FULL, sum, off);
    float acc[CPL] = {};
    // Eight chunks a round: their values loaded first, all in flight together, then each
    // chunk's weight shuffled from its lane (the eight share a lane's register: c0 is a
    // multiple of 8, 8 divides 32) and added in. (Loads behind each chunk's shuffle waited one
    // by one: 0.051 ms at 2^20, H100.)
    constexpr int UNROLL = 8;
    static_assert(LISTS_PER_LANE == 4 && 32 % UNROLL == 0, "w below: a round's chunks in one register");
    for (int c0 = 0; c0 < nchunks; c0 += UNROLL) {
        float v[UNROLL][CPL];
#pragma unroll
        for (int u = 0; u < UNROLL; u++) {
            const float *at = p + (int64_t)(c0 + u) * (D + 4) + 4 + lane * CPL;
#pragma unroll
            for (int i = 0; i < CPL; i++) v[u][i] = c0 + u < nchunks ? at[i] : 0.f;
        }
        const float w = c0 < 32 ? mine[0] : c0 < 64 ? mine[1] : c0 < 96 ? mine[2] : mine[3];
#pragma unroll
        for (int u = 0; u < UNROLL; u++) {
            const float f = __shfl_sync(FULL, w, c0 % 32 + u); // 0 past nchunks
#pragma unroll
            for (int i = 0; i < CPL; i++) acc[i] += f * v[u][i];
        }
    }
#pragma unroll
    for (int i = 0; i < CPL; i++) out[lane * CPL + i] = acc[i] / sum;
}

// Two warps per row, at the same time: warp w < 4 of the block takes the k best of row
// 4·block + w's chunk lists (a k-way merge, lane l holding the heads of lists l, l+32, ..),
// and, when partial is given, warp w + 4 combines the same row's softmax-weighted values across
// its chunks. (One warp did both, one after the other: at 2^20 the values' 19 µs after the
// merge's 24, H100.)
// cand: [rows, nchunks, k]  partial: [rows, nchunks, D+4]  out: [rows, k]  values_out: [rows, D]
template <int D>
__global__ void __launch_bounds__(256) merge_chunks(const uint64_t *cand, const float *partial,
                                                    int nchunks, int64_t k, int64_t rows,
                                                    float scale, int32_t *out, float *values_out)
{
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    const int64_t row = blockIdx.x * 4 + warp % 4;
    if (row >= rows) return;
    if (warp >= 4) {
        if (partial) merge_values<D>(partial + row * nchunks * (D + 4), nchunks, scale,
                                     values_out + row * D, lane);
        return;
    }
    // Each list's next PREFETCH entries in registers (head = ahead[l][0]): the winner shifts its
    // window and reloads only when it runs dry, so that the k rounds wait on a load once per
    // PREFETCH pops rather than every pop (the loads of a refill are independent).
    constexpr int PREFETCH = 8;
    uint64_t ahead[LISTS_PER_LANE][PREFETCH];
    int64_t pos[LISTS_PER_LANE]; // of ahead[l][0] in its list
    int left[LISTS_PER_LANE];    // entries of ahead[l] still to pop
    auto refill = [&](int l) {
        const int list = lane + 32 * l;
        const uint64_t *at = cand + (row * nchunks + list) * k;
#pragma unroll
        for (int i = 0; i < PREFETCH; i++)
            ahead[l][i] = list < nchunks && pos[l] + i < k ? at[pos[l] + i] : 0;
        left[l] = PREFETCH;
    };
#pragma unroll
    for (int l = 0; l < LISTS_PER_LANE; l++) {
        pos[l] = 0;
        refill(l);
    }
    for (int64_t i = 0; i < k; i++) {
        uint64_t best = ahead[0][0];
#pragma unroll
        for (int l = 1; l < LISTS_PER_LANE; l++) best = ahead[l][0] > best ? ahead[l][0] : best;
#pragma unroll
        for (int off = 16; off > 0; off >>= 1) {
            const uint64_t other = __shfl_xor_sync(FULL, best, off);
            best = other > best ? other : best;
        }
        // Candidates are distinct and at least k are real (non-zero), so one list wins.
#pragma unroll
        for (int l = 0; l < LISTS_PER_LANE; l++)
            if (ahead[l][0] == best) {
#pragma unroll
                for (int j = 0; j + 1 < PREFETCH; j++) ahead[l][j] = ahead[l][j + 1];
                ahead[l][PREFETCH - 1] = 0;
                pos[l]++;
                if (--left[l] == 0) refill(l);
            }
        if (lane == 0) out[row * k + i] = candidate_key(best);
    }
}

// ---- host ---------------------------------------------------------------------------------

struct Plan {
    const void *kernel;
    int threads, rows_per_block, grid;
    size_t smem;
    SelectArgs args;
    size_t buffer_bytes, cand_bytes, partial_bytes; // scratch pieces, in carving order
    bool mma;      // on the tensor cores: select_mma or select_wgmma
    bool wgmma;    // select_wgmma, whose floors tile_maxima_wgmma scores
    bool key_bf16; // the keys' type, for select_wgmma's tensor maps (else fp16)
};

int64_t next_pow2(int64_t x)
{
    int64_t p = 1;
    while (p < x) p <<= 1;
    return p;
}

// A buffer holds the k kept, room for at least max(k/2, TILE) new candidates between sorts,
// and one tile's worth of headroom.
int64_t candidate_cap(int64_t k) { return next_pow2(k + (k / 2 > TILE ? k / 2 : TILE) + TILE); }

// A warp's scratch: its buffers' sort space, and where inserts are dense (the tensor-core
// kernels with rows of the keys' type: append_tile<true>) a tile's staged scores too.
int64_t warp_slots(int64_t cap, bool dense) { return dense && cap < STAGE_SLOTS ? STAGE_SLOTS : cap; }

size_t simt_smem(int d, int64_t cap, bool with_values)
{
    size_t floats = (size_t)(SIMT_ROWS + TILE) * (d + 4);
    if (with_values) floats += (size_t)TILE * (d + 4) + (size_t)SIMT_ROWS * W_STRIDE;
    return SIMT_WARPS * cap * 8 + floats * 4 + SIMT_ROWS * 12;
}

size_t mma_smem(int d, int64_t slots, int warps, bool with_values)
{
    const size_t tile = (size_t)2 * TILE * (d + 8) * 2; // double-buffered, 16-bit
    return warps * slots * 8 + (with_values ? 2 : 1) * tile + (size_t)warps * WARP_ROWS * 12;
}

template <int D> const void *simt_kernel(int row_dtype, int key_dtype, bool with_values)
{
    if (with_values) {
        if (row_dtype != ATTN_FP32) return nullptr;
        switch (key_dtype) {
        case ATTN_FP32: return (const void *)select_simt<float, float, float, D, true>;
        case ATTN_FP16: return (const void *)select_simt<float, __half, __half, D, true>;
        case ATTN_BF16:
            return (const void *)select_simt<float, __nv_bfloat16, __nv_bfloat16, D, true>;
        default: return nullptr;
        }
    }
    const int pair = row_dtype * 3 + key_dtype;
    switch (pair) {
    case ATTN_FP32 * 3 + ATTN_FP32: return (const void *)select_simt<float, float, float, D, false>;
    case ATTN_FP16 * 3 + ATTN_FP16:
        return (const void *)select_simt<__half, __half, __half, D, false>;
    case ATTN_BF16 * 3 + ATTN_BF16:
        return (const void *)select_simt<__nv_bfloat16, __nv_bfloat16, __nv_bfloat16, D, false>;
    case ATTN_FP16 * 3 + ATTN_FP32:
        return (const void *)select_simt<__half, float, float, D, false>;
    case ATTN_BF16 * 3 + ATTN_FP32:
        return (const void *)select_simt<__nv_bfloat16, float, float, D, false>;
    case ATTN_FP32 * 3 + ATTN_FP16:
        return (const void *)select_simt<float, __half, __half, D, false>;
    case ATTN_FP32 * 3 + ATTN_BF16:
        return (const void *)select_simt<float, __nv_bfloat16, __nv_bfloat16, D, false>;
    default: return nullptr;
    }
}

const void *simt_kernel_for(int d, int row_dtype, int key_dtype, bool with_values)
{
    return d == 64    ? simt_kernel<64>(row_dtype, key_dtype, with_values)
           : d == 128 ? simt_kernel<128>(row_dtype, key_dtype, with_values)
                      : nullptr;
}

template <typename T, int D> const void *mma_kernel(int row_dtype, bool with_values)
{
    if (row_dtype != ATTN_FP32)
        return with_values ? nullptr : (const void *)select_mma<T, T, D, MMA_WARPS, false>;
    return with_values ? (const void *)select_mma<float, T, D, MMA_WARPS_FP32, true>
                       : (const void *)select_mma<float, T, D, MMA_WARPS_FP32, false>;
}

// Rows of the keys' type (topk: many rows) GROUPS warpgroups a block (TOPK_GROUPS, or
// TOPK_GROUPS_LARGE_K), sharing each key tile; fp32 rows (mita's m landmarks, few) one.
template <typename T, int D, int GROUPS> const void *wgmma_kernel(int row_dtype, bool with_values)
{
    if (row_dtype != ATTN_FP32)
        return with_values ? nullptr : (const void *)select_wgmma<T, T, D, false, GROUPS>;
    return with_values ? (const void *)select_wgmma<float, T, D, true, 1>
                       : (const void *)select_wgmma<float, T, D, false, 1>;
}

// The tensor-core kernels' cases (16-bit keys; rows of fp32 or of the keys' type, values with
// fp32 rows only) at d = 64 or 128, as Family<T, D>::get(row_dtype, with_values) gives them;
// NULL otherwise: the simt kernel serves those.
template <template <typename, int> class Family>
const void *tensor_kernel_for(int d, int row_dtype, int key_dtype, bool with_values)
{
    if (key_dtype == ATTN_FP32 || (row_dtype != key_dtype && row_dtype != ATTN_FP32) ||
        (d != 64 && d != 128))
        return nullptr;
    if (key_dtype == ATTN_FP16)
        return d == 64 ? Family<__half, 64>::get(row_dtype, with_values)
                       : Family<__half, 128>::get(row_dtype, with_values);
    return d == 64 ? Family<__nv_bfloat16, 64>::get(row_dtype, with_values)
                   : Family<__nv_bfloat16, 128>::get(row_dtype, with_values);
}
template <typename T, int D> struct MmaKernels {
    static const void *get(int row_dtype, bool with_values)
    {
        return mma_kernel<T, D>(row_dtype, with_values);
    }
};
template <int GROUPS> struct Wgmma {
    template <typename T, int D> struct Kernels {
        static const void *get(int row_dtype, bool with_values)
        {
            return wgmma_kernel<T, D, GROUPS>(row_dtype, with_values);
        }
    };
};
const void *mma_kernel_for(int d, int row_dtype, int key_dtype, bool with_values)
{
    return tensor_kernel_for<MmaKernels>(d, row_dtype, key_dtype, with_values);
}
const void *wgmma_kernel_for(int d, int row_dtype, int key_dtype, bool with_values, int groups)
{
    if (groups == TOPK_GROUPS_LARGE_K)
        return tensor_kernel_for<Wgmma<TOPK_GROUPS_LARGE_K>::Kernels>(d, row_dtype, key_dtype,
                                                                      with_values);
    return tensor_kernel_for<Wgmma<TOPK_GROUPS>::Kernels>(d, row_dtype, key_dtype, with_values);
}

cudaError_t device_limits(int *sms, int *smem_optin)
{
    int dev;
    CUDA_CHECK(cudaGetDevice(&dev));
    CUDA_CHECK(cudaDeviceGetAttribute(sms, cudaDevAttrMultiProcessorCount, dev));
    CUDA_CHECK(cudaDeviceGetAttribute(smem_optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev));
    return cudaSuccess;
}

// Which kernel, its launch shape, the chunking and the scratch sizes; the sizing functions and
// the launches both go through here, so that they agree.
// least_chunk: the fewest keys a chunk takes (4k; TILE when exact floors leave each chunk only
// its share of the top k).
cudaError_t make_plan(int row_dtype, int key_dtype, bool with_values, int heads, int64_t n_rows,
                      int64_t n_keys, int d, int64_t k, int64_t least_chunk, Plan *p)
{
    *p = Plan{};
    if ((d != 64 && d != 128) || heads < 1 || n_rows < 1 || n_keys < 1 || n_keys > INT32_MAX ||
        k < 1 || k > n_keys)
        return cudaErrorInvalidValue;
    int sms, optin;
    CUDA_CHECK(device_limits(&sms, &optin));
    const int64_t cap = candidate_cap(k);
    const int mma_warps = row_dtype == ATTN_FP32 ? MMA_WARPS_FP32 : MMA_WARPS;
    bool sm90a = false;
    CUDA_CHECK(hopper_sm90a_runs(&sm90a));
    const bool split = row_dtype == ATTN_FP32;
    // The tensor-core kernels with rows of the keys' type insert densely (append_tile<true>).
    const int64_t tc_slots = warp_slots(cap, !split);
    // topk's rows: TOPK_GROUPS warpgroups where their scratch fits beside the deep ring, else
    // TOPK_GROUPS_LARGE_K (wg_stages).
    int wgs = split ? 1 : TOPK_GROUPS;
    size_t wg_smem = wgmma_select_smem(d, tc_slots, with_values, split, wgs);
    if (!split && wg_smem > (size_t)optin) {
        wgs = TOPK_GROUPS_LARGE_K;
        wg_smem = wgmma_select_smem(d, tc_slots, with_values, split, wgs);
    }
    const void *wgmma =
        sm90a ? wgmma_kernel_for(d, row_dtype, key_dtype, with_values, wgs) : nullptr;
    if (wgmma && wg_smem <= (size_t)optin) {
        p->kernel = wgmma;
        p->threads = wgs * 128;
        p->rows_per_block = wgs * WG_ROWS;
        p->smem = wg_smem;
        p->mma = p->wgmma = true;
        p->key_bf16 = key_dtype == ATTN_BF16;
    } else if (mma_smem(d, tc_slots, mma_warps, with_values) <= (size_t)optin) {
        p->kernel = mma_kernel_for(d, row_dtype, key_dtype, with_values);
        p->threads = mma_warps * 32;
        p->rows_per_block = mma_warps * WARP_ROWS;
        p->smem = mma_smem(d, tc_slots, mma_warps, with_values);
        p->mma = p->kernel != nullptr;
    }
    if (!p->kernel) {
        p->kernel = simt_kernel_for(d, row_dtype, key_dtype, with_values);
        p->threads = SIMT_WARPS * 32;
        p->rows_per_block = SIMT_ROWS;
        p->smem = simt_smem(d, cap, with_values);
        if (!p->kernel || p->smem > (size_t)optin) return cudaErrorInvalidValue;
    }
    CUDA_CHECK(kernel_shared_memory(p->kernel, p->smem));
    int per_sm = 0;
    CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, p->kernel, p->threads,
                                                             p->smem));
    if (per_sm < 1) return cudaErrorInvalidConfiguration;

    SelectArgs &a = p->args;
    a.n_rows = n_rows;
    a.n_keys = n_keys;
    a.k = k;
    a.cap = (int)cap;
    a.warp_slots = (int)(p->mma ? tc_slots : cap);
    a.row_tiles = (int)((n_rows + p->rows_per_block - 1) / p->rows_per_block);
    // Few rows (mita's m landmarks) would leave most of the chip idle: split the keys into up
    // to MAX_CHUNKS chunks so that there are about two items per resident block, each chunk
    // at least 4k keys long (shorter ones would pass most of their keys on to the merge).
    const int64_t base = (int64_t)heads * a.row_tiles, want = 2LL * sms * per_sm;
    int64_t chunks = (want + base - 1) / base;
    chunks = chunks < 1 ? 1 : chunks > MAX_CHUNKS ? MAX_CHUNKS : chunks;
    const int64_t even = (n_keys + chunks - 1) / chunks, least = least_chunk;
    a.chunk_len = ((even > least ? even : least) + TILE - 1) / TILE * TILE;
    a.nchunks = (int)((n_keys + a.chunk_len - 1) / a.chunk_len);
    a.items = base * a.nchunks;
    const int64_t resident = (int64_t)sms * per_sm;
    p->grid = (int)(a.items < resident ? a.items : resident);

    p->buffer_bytes = (size_t)p->grid * p->rows_per_block * cap * 8;
    const bool merged = with_values || a.nchunks > 1;
    p->cand_bytes = merged ? (size_t)heads * n_rows * a.nchunks * k * 8 : 0;
    p->partial_bytes = with_values ? (size_t)heads * n_rows * a.nchunks * (d + 4) * 4 : 0;
    return cudaSuccess;
}

size_t align256(size_t x) { return (x + 255) & ~(size_t)255; }

size_t plan_scratch_bytes(const Plan &p)
{
    return align256(p.buffer_bytes) + align256(p.cand_bytes) + p.partial_bytes;
}

// floors: the rows' starting thresholds (SelectArgs), or NULL.
cudaError_t run_plan(Plan &p, const void *rows, const void *keys, const void *values, int heads,
                     int d, float scale, const float *floors, void *scratch, int32_t *out,
                     float *values_out, cudaStream_t stream)
{
    SelectArgs &a = p.args;
    char *s = static_cast<char *>(scratch);
    a.rows = rows;
    a.keys = keys;
    a.values = values;
    a.scale = scale;
    a.floors = floors;
    a.buffers = reinterpret_cast<uint64_t *>(s);
    s += align256(p.buffer_bytes);
    const bool merged = p.cand_bytes > 0;
    a.out_idx = merged ? nullptr : out;
    a.out_cand = merged ? reinterpret_cast<uint64_t *>(s) : nullptr;
    s += align256(p.cand_bytes);
    a.out_partial = p.partial_bytes ? reinterpret_cast<float *>(s) : nullptr;
    if (p.wgmma) { // its key and value tiles by TMA
        CUtensorMap k_map, v_map;
        CUDA_CHECK(hopper_tensor_map_sw128(&k_map, keys, p.key_bf16, (uint64_t)heads,
                                           (uint64_t)a.n_keys, (uint64_t)d, TILE));
        if (values)
            CUDA_CHECK(hopper_tensor_map_sw128(&v_map, values, p.key_bf16, (uint64_t)heads,
                                               (uint64_t)a.n_keys, (uint64_t)d, TILE));
        void *params[] = {&a, &k_map, values ? &v_map : &k_map}; // v_map unread without values
        CUDA_CHECK(cudaLaunchKernel(p.kernel, dim3(p.grid), dim3(p.threads), params, p.smem, stream));
    } else {
        void *params[] = {&a};
        CUDA_CHECK(cudaLaunchKernel(p.kernel, dim3(p.grid), dim3(p.threads), params, p.smem, stream));
    }
    if (!merged) return cudaSuccess;
    const int64_t total = (int64_t)heads * a.n_rows;
    const unsigned blocks = (unsigned)((total + 3) / 4);
    if (d == 64)
        merge_chunks<64><<<blocks, 256, 0, stream>>>(a.out_cand, a.out_partial, a.nchunks, a.k,
                                                     total, scale, out, values_out);
    else
        merge_chunks<128><<<blocks, 256, 0, stream>>>(a.out_cand, a.out_partial, a.nchunks, a.k,
                                                      total, scale, out, values_out);
    CUDA_CHECK_LAUNCH();
    return cudaSuccess;
}

// ---- sampled floors -------------------------------------------------------------------------
//
// With the keys split into many chunks (mita's probe: 128 chunks of 8k keys at N = 2^20), each
// chunk's buffers fill from -inf: a random stream inserts ~k·(1 + ln(chunk/k)) candidates per row
// and chunk, ~48k per landmark in all, and their sorts held the probe at 4-5 ms (H100). A floor
// under each row's k-th best score cuts that to the keys above the floor: score M whole tiles of
// keys spread over the range (tile_maxima), keep each row's maximum per tile, and take the k-th
// largest of those M maxima (kth_of_maxima). The tiles are disjoint, so k distinct keys score at
// least the floor: the k-th best of all keys does too. At M = 16k the floor sits near the top
// ~0.1% of random scores (~1000 insertions per row in all). Short key ranges (n_keys <= 4096,
// where each chunk's final sort of ~4k candidates per row dominated: 180 us at N = 2^10) keep
// every score instead (GROUP = 1): the floor is then the k-th best (to 7 mantissa bits, see
// kth_of_maxima), chunks may be as short as a tile, and a chunk inserts
// only its share of the top k. Longer ranges sample a quarter of their tiles, but at least 4k
// of them (all of them where there are fewer): with a quarter alone, 8192 keys at k = 64 had
// 32 tiles to sample, fewer than k, and no floor (each 256-key chunk inserted nearly every
// key: mita 0.295 ms at N = 2^13 against 0.144 at 2^12, H100), and 2^14 had 64, a floor near
// the smallest tile maximum. None where the full pass has one chunk (topk's many rows): its
// own threshold does better than a floor there.
constexpr int SAMPLE_MIN_CHUNKS = 8;      // sample when the full pass has this many chunks
constexpr int64_t SAMPLE_TILES_PER_K = 16; // M = 16k sampled tiles, ...
constexpr int64_t SAMPLE_MAX_TILES = 4096; // ... at most this many values a row (kth_of_maxima's
                                           // 16 KB of shared memory)
constexpr int SAMPLE_TILES_PER_BLOCK = 16; // sampled tiles a block (exact floors: 1)
constexpr int SAMPLE_WARPS = 4, SAMPLE_ROWS = SAMPLE_WARPS * WARP_ROWS;

// One thread's share of key tile j's maxima (tile_maxima's output, below), from its scores in
// mma's C layout, score(jj, e) = row r0 + 8·(e >> 1), key j·TILE + 8jj + 2t + (e & 1) (wgmma's
// accumulators are the same): GROUP = 1 every score, -inf past n_keys; else each row's best of
// the tile, reduced over the quad, written by t == 0.
template <int GROUP, typename Score>
__device__ __forceinline__ void store_maxima(Score &&score, float *maxima, int64_t bh,
                                             int64_t n_rows, int64_t n_keys, int64_t M, int64_t r0,
                                             int64_t j, int t)
{
    if constexpr (GROUP == 1) {
#pragma unroll
        for (int jj = 0; jj < 8; jj++)
#pragma unroll
            for (int h = 0; h < 2; h++) {
                const int64_t key = j * TILE + 8 * jj + 2 * t;
                if (r0 + 8 * h < n_rows)
                    *reinterpret_cast<float2 *>(maxima + (bh * n_rows + r0 + 8 * h) * M + key) =
                        make_float2(key < n_keys ? score(jj, 2 * h) : -INFINITY,
                                    key + 1 < n_keys ? score(jj, 2 * h + 1) : -INFINITY);
            }
    } else {
        float best[2] = {-INFINITY, -INFINITY};
#pragma unroll
        for (int jj = 0; jj < 8; jj++)
#pragma unroll
            for (int e = 0; e < 4; e++) best[e >> 1] = fmaxf(best[e >> 1], score(jj, e));
#pragma unroll
        for (int h = 0; h < 2; h++) {
            best[h] = fmaxf(best[h], __shfl_xor_sync(FULL, best[h], 1));
            best[h] = fmaxf(best[h], __shfl_xor_sync(FULL, best[h], 2));
            if (t == 0 && r0 + 8 * h < n_rows) maxima[(bh * n_rows + r0 + 8 * h) * M + j] = best[h];
        }
    }
}

// GROUP = TILE: maxima [heads, n_rows, M], row's best score in sampled tile j, the whole tile
// of keys from (j · (n_keys / TILE) / M) · TILE. GROUP = 1: every score of every tile, M =
// tiles · TILE values a row (-inf past n_keys). grid (ceil(tiles / PER_BLOCK),
// heads · row_tiles).
template <typename TQ, typename T, int D, int GROUP>
__global__ void __launch_bounds__(SAMPLE_WARPS * 32)
    tile_maxima(const TQ *rows, const T *keys, int64_t n_rows, int64_t n_keys, int64_t M,
                int row_tiles, float *maxima)
{
    const int64_t tiles = GROUP == 1 ? M / TILE : M;
    constexpr int KS = D + 8;
    __shared__ __align__(16) T ks[2][TILE * KS];
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, t = lane % 4;
    const int64_t bh = blockIdx.y / row_tiles;
    const int64_t r0 = (int64_t)(blockIdx.y % row_tiles) * SAMPLE_ROWS + warp * WARP_ROWS + g;
    constexpr int PER_BLOCK = GROUP == 1 ? 1 : SAMPLE_TILES_PER_BLOCK;
    const int64_t j0 = (int64_t)blockIdx.x * PER_BLOCK;
    const int64_t j1 = min(j0 + PER_BLOCK, tiles), full_tiles = n_keys / TILE;
    keys += bh * n_keys * D;
    uint32_t qa[D / 16][4], ql[D / 16][4];
    load_row_fragments<TQ, T, D>(rows + (bh * n_rows + r0) * D + 2 * t, r0 < n_rows,
                                 r0 + 8 < n_rows, qa, ql);
    auto tile_start = [&](int64_t j) { return GROUP == 1 ? j * TILE : j * full_tiles / M * TILE; };
    load_key_tile<T, D>(ks[0], keys, tile_start(j0), n_keys);
    cp_async_commit();
    for (int64_t j = j0; j < j1; j++) {
        const int buf = (int)((j - j0) & 1);
        if (j + 1 < j1) {
            load_key_tile<T, D>(ks[buf ^ 1], keys, tile_start(j + 1), n_keys);
            cp_async_commit();
            cp_async_wait<1>();
        } else {
            cp_async_wait<0>();
        }
        __syncthreads();
        float acc[8][4];
        score_tile<D, sizeof(TQ) == 4>(acc, qa, ql, ks[buf], g, t);
        store_maxima<GROUP>([&](int jj, int e) { return acc[jj][e]; }, maxima, bh, n_rows, n_keys,
                            M, r0, j, t);
        __syncthreads(); // this buffer is refilled two tiles on
    }
}

// tile_maxima for select_wgmma's fp32 rows (sm_90a): the same maxima, each score by
// score_tile_wgmma, so that a floor is a score select_wgmma itself computes. One warpgroup of
// 64 rows (SAMPLE_ROWS), the same grid. Shared memory: X_hi, X_lo [64, D] | K [2][TILE, D],
// SW128, from a 1024-byte boundary.
__host__ __device__ constexpr size_t wgmma_maxima_smem(int d)
{
    return (size_t)(2 + 2) * WG_BLOCK * (d / 64) + 1024;
}

template <typename TQ, typename T, int D, int GROUP>
__global__ void __launch_bounds__(WG_ROWS * 2)
    tile_maxima_wgmma(const TQ *rows, const T *keys, int64_t n_rows, int64_t n_keys, int64_t M,
                      int row_tiles, float *maxima)
{
#if HOPPER_WGMMA
    static_assert(SAMPLE_ROWS == WG_ROWS, "tile_maxima's grid");
    static_assert(sizeof(TQ) == 4, "fp32 rows, split hi + lo");
    constexpr uint32_t X_TILE = wg_tile_bytes<D>(), K_TILE = wg_tile_bytes<D>();
    extern __shared__ unsigned char smem_raw[];
    unsigned char *smem = hopper_smem_align1024(smem_raw);
    const uint32_t sHi = smem_u32(smem), sLo = sHi + X_TILE, sK = sHi + 2 * X_TILE;
    const int warp = threadIdx.x / 32, g = (threadIdx.x % 32) / 4, t = threadIdx.x % 4;
    const int64_t tiles = GROUP == 1 ? M / TILE : M;
    const int64_t bh = blockIdx.y / row_tiles, row0 = (int64_t)(blockIdx.y % row_tiles) * WG_ROWS;
    constexpr int PER_BLOCK = GROUP == 1 ? 1 : SAMPLE_TILES_PER_BLOCK;
    const int64_t j0 = (int64_t)blockIdx.x * PER_BLOCK;
    const int64_t j1 = min(j0 + PER_BLOCK, tiles), full_tiles = n_keys / TILE;
    keys += bh * n_keys * D;
    auto tile_start = [&](int64_t j) { return GROUP == 1 ? j * TILE : j * full_tiles / M * TILE; };
    hopper_store_split_rows<T, WG_ROWS, D>(sHi, sLo, rows + (bh * n_rows + row0) * D, n_rows - row0,
                                           threadIdx.x, blockDim.x);
    const int64_t r0 = row0 + warp * WARP_ROWS + g; // this thread's rows r0 and r0 + 8
    auto stage = [&](int64_t i, int buf) {
        stage_tile_sw128<T, D, TILE>(sK + buf * K_TILE, keys, tile_start(j0 + i), n_keys);
        cp_async_commit();
    };
    auto use = [&](int64_t i, int buf) {
        const int64_t j = j0 + i;
        float s[TILE / 2];
        score_tile_wgmma<T, D>(s, sHi, sLo, WG_BLOCK, sK + buf * K_TILE);
        store_maxima<GROUP>([&](int jj, int e) { return s[4 * jj + e]; }, maxima, bh, n_rows,
                            n_keys, M, r0, j, t);
    };
    stage(0, 0);
    for_each_staged_tile(j1 - j0, stage, use, [] { hopper_fence_proxy_async(); });
#endif
}

// fp32 as an unsigned integer of the same order (NaN aside).
__device__ __forceinline__ uint32_t ordered(float x)
{
    const uint32_t u = __float_as_uint(x);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}
__device__ __forceinline__ float from_ordered(uint32_t u)
{
    return __uint_as_float((u & 0x80000000u) ? (u & 0x7fffffffu) : ~u);
}

// One block of KTH_WARPS warps per row: floors[row] = a floor under the k-th largest of the
// row's M values, found bit by bit from the top of their ordered form (the largest x with at
// least k values >= x) over the upper 16 bits only: sign, exponent and 7 mantissa bits, so the
// floor sits within 2^-7 (relative) under the k-th, at half the rounds. Shared memory: the M
// ordered values.
constexpr int KTH_WARPS = 4;
__global__ void __launch_bounds__(KTH_WARPS * 32) kth_of_maxima(const float *maxima, int64_t M,
                                                                int64_t k, float *floors)
{
    extern __shared__ uint32_t vals[];
    __shared__ unsigned warp_counts[KTH_WARPS];
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    const float *row = maxima + (int64_t)blockIdx.x * M;
    for (int64_t i = threadIdx.x; i < M; i += blockDim.x) vals[i] = ordered(row[i]);
    __syncthreads();
    uint32_t prefix = 0;
    for (int bit = 31; bit >= 16; bit--) {
        const uint32_t want = prefix | (1u << bit);
        unsigned n = 0;
        for (int64_t i = threadIdx.x; i < M; i += blockDim.x) n += vals[i] >= want;
        n = __reduce_add_sync(FULL, n);
        if (lane == 0) warp_counts[warp] = n;
        __syncthreads();
        unsigned total = 0;
#pragma unroll
        for (int w = 0; w < KTH_WARPS; w++) total += warp_counts[w];
        if (total >= (unsigned)k) prefix = want;
        __syncthreads(); // warp_counts is rewritten next round
    }
    if (threadIdx.x == 0) floors[blockIdx.x] = from_ordered(prefix);
}

// wgmma: the plan is select_wgmma's. Its fp32 rows score by wgmma (tile_maxima_wgmma); its
// rows of T by score_tile_ldsm, whose mma.sync are score_tile's, in the same order: the same
// bits as tile_maxima's.
bool maxima_by_wgmma(int row_dtype, bool wgmma) { return wgmma && row_dtype == ATTN_FP32; }
template <int D, int GROUP> const void *tile_maxima_for(int row_dtype, int key_dtype, bool wgmma)
{
    const bool split = row_dtype == ATTN_FP32;
    if (maxima_by_wgmma(row_dtype, wgmma))
        return key_dtype == ATTN_FP16 ? (const void *)tile_maxima_wgmma<float, __half, D, GROUP>
                                      : (const void *)tile_maxima_wgmma<float, __nv_bfloat16, D, GROUP>;
    if (key_dtype == ATTN_FP16)
        return split ? (const void *)tile_maxima<float, __half, D, GROUP>
                     : (const void *)tile_maxima<__half, __half, D, GROUP>;
    return split ? (const void *)tile_maxima<float, __nv_bfloat16, D, GROUP>
                 : (const void *)tile_maxima<__nv_bfloat16, __nv_bfloat16, D, GROUP>;
}

// ---- one pass: short key ranges ----------------------------------------------------------
//
// Up to 2432 keys (4864 in 8-row blocks; mita's probe at short N, topk's selection there), the
// chunked pass above is three or four dependent kernels whose blocks each do a few µs of
// serial work (tile_maxima, kth_of_maxima, select_mma, merge_chunks: 70 µs of MiTA's 100 at
// N = 2^10 on the H200). Here one block owns 16 rows (or 8: one_pass_rows) and every key: its 8
// warps (16: ONE_WARPS_WIDE) score the key tiles into shared memory (the same score_tile, so
// the same bits as the chunked pass), then, with values, each warp
// folds its tiles' softmax weights against V (the exact row maximum is known by then: no
// rescaling) and the warps' partials are summed; last each warp selects its rows' top k from
// the stored scores: the k-th largest by a bitwise search of the ordered scores (rounds of two
// bits in 8-warp blocks, of one in 16-warp ones: bit_search.cuh; stopping early once exactly k
// scores sit at or above the prefix; one bit a round in
// registers from the bits the row's scores share where it has ≤ 1024: register_search), then
// the keys above it and the lowest-index ties at it, sorted best first (where the row is in
// registers and no ties are broken: register_collect and write_by_rank).
// Warps a block: 8, or 16 where shared memory holds a key tile for each of 16 (d = 64, up to
// 1280 keys, 2560 in 8-row blocks: mita's probe at N = 2^10 and 2^11), so that each warp scores
// half the tiles and folds half the values: the block's serial chain of tile loads is halved.
constexpr int ONE_WARPS = 8, ONE_WARPS_WIDE = 16;
constexpr int64_t ONE_MAX_K = 256; // the sort space per warp: 256 candidates, 2 KB

struct OnePassArgs {
    const void *rows, *keys, *values; // [heads, n_rows, D], [heads, n_keys, D] x2
    int64_t n_rows, n_keys, k;
    int block_rows, row_tiles, stride; // rows a block (one_pass_rows), its tiles per head;
                                       // score row stride (floats)
    float scale;                      // softmax scale of the values
    int32_t *out;                     // [heads, n_rows, k]
    float *values_out;                // [heads, n_rows, D] (WITH_V)
    void *rows_rounded, *values_rounded; // [heads, n_rows, D] in the keys' type: the fp32 rows
                                         // and values_out rounded (WITH_V); NULL: not written
};

// Score row stride: the padded keys plus 8 floats, so that the float2 reads of P's fragments
// (rows g, columns 2t) fall in different banks.
__host__ __device__ __forceinline__ int one_pass_stride(int64_t n_keys)
{
    return (int)((n_keys + TILE - 1) / TILE * TILE + 8);
}

// kept: the rows whose scores a block keeps (16, or 8: select_one_pass's KEPT).
size_t one_pass_smem(int d, int64_t n_keys, int warps, int kept)
{
    const size_t stage = (size_t)warps * TILE * (d + 8) * 2; // a 16-bit tile per warp
    return stage + (size_t)kept * one_pass_stride(n_keys) * 4 + 2 * warps * WARP_ROWS * 4;
}

// Rows a block: 16 (each warp selects two rows), or 8 where the 8-row blocks still run in one
// wave (mita's m landmarks: 64 blocks at H = 8, m = 64, where 16-row blocks left 100 of 132 SMs
// idle): then twice the blocks each read the keys (from L2) and score 16 rows of which 8 are
// kept, and each warp selects one row — the serial part of a block, its bitwise search, halved.
// resident: the blocks that run at once (SMs × blocks an SM).
int one_pass_rows(int heads, int64_t n_rows, int64_t resident)
{
    const int64_t half = WARP_ROWS / 2;
    return (int64_t)heads * ((n_rows + half - 1) / half) <= resident ? (int)half : WARP_ROWS;
}

// -0 as +0 first: the selection order ties equal scores by index alone (candidate.cuh).
__device__ __forceinline__ uint32_t ordered_score(float x)
{
    if (x == 0.0f) x = 0.0f;
    return ordered(x);
}

// select_one_pass's selection where a row has at most ONE_REG_KEYS scores (mita's probe and
// topk at N = 2^10): the row's n ordered scores v read once into registers, key 4·lane + 128·i
// + j in lane's x[4i + j] (0 past n), then the search, and where it separates the top k (no
// ties at the k-th score to break) the list and the output from the registers too.
constexpr int ONE_REG_KEYS = 1024;
constexpr int ONE_REGS = ONE_REG_KEYS / 32;
__device__ __forceinline__ int register_key(int lane, int i) { return 4 * lane + 128 * (i / 4) + i % 4; }

// The search starts below the bits the row's smallest and largest scores share (all scores
// reach that prefix; none where the scores take both signs), each round a count in registers
// and one warp reduction instead of reloading the row from shared memory. Leaves what the
// shared-memory loop leaves: the k-th largest score where the k are not separated, else a
// prefix that the same k scores reach.
__device__ __forceinline__ void register_search(const uint32_t *v, int n, int64_t k, int lane,
                                                uint32_t (&x)[ONE_REGS], uint32_t &prefix,
                                                bool &separated)
{
    uint32_t lo = ~0u, hi = 0;
#pragma unroll
    for (int i = 0; i < ONE_REG_KEYS / 128; i++) {
        const int at = 4 * lane + 128 * i;
        const uint4 q = at < n ? *reinterpret_cast<const uint4 *>(v + at) : make_uint4(0, 0, 0, 0);
        x[4 * i] = q.x, x[4 * i + 1] = q.y, x[4 * i + 2] = q.z, x[4 * i + 3] = q.w;
        if (at < n) {
            lo = min(lo, min(min(q.x, q.y), min(q.z, q.w)));
            hi = max(hi, max(max(q.x, q.y), max(q.z, q.w)));
        }
    }
    lo = __reduce_min_sync(FULL, lo);
    hi = __reduce_max_sync(FULL, hi);
    const int top = lo == hi ? -1 : 31 - __clz(lo ^ hi); // the highest bit where they differ
    prefix = top < 0 ? hi : top == 31 ? 0u : hi & ~((2u << top) - 1u);
    separated = (int64_t)n == k; // every score reaches the common prefix
    for (int bit = top; bit >= 0 && !separated; bit--) {
        const uint32_t want = prefix | (1u << bit);
        unsigned c = 0; // the zeros past n are below every `want`: never counted
#pragma unroll
        for (int i = 0; i < ONE_REGS; i++) c += x[i] >= want;
        c = __reduce_add_sync(FULL, c);
        if (c >= (unsigned)k) {
            prefix = want;
            separated = c == (unsigned)k;
        }
    }
}

// Where exactly k of the row's n scores reach `prefix`: those k candidates into list (unsorted),
// each lane's at its place from a warp scan of the lanes' counts — one pass over the registers
// where the shared-memory loop takes n / 32 rounds of two votes.
__device__ __forceinline__ void register_collect(const uint32_t (&x)[ONE_REGS], int n,
                                                 uint32_t prefix, int lane, uint64_t *list)
{
    uint32_t mine = 0;
#pragma unroll
    for (int i = 0; i < ONE_REGS; i++) mine += register_key(lane, i) < n && x[i] >= prefix;
    uint32_t at = warp_first_slot(mine, lane);
#pragma unroll
    for (int i = 0; i < ONE_REGS; i++)
        if (register_key(lane, i) < n && x[i] >= prefix)
            list[at++] = pack_candidate(from_ordered(x[i]), register_key(lane, i));
}

// The k <= RANK_K candidates of list (distinct: their indices differ) written to out best first,
// each at its rank, the count of candidates above it: k broadcast loads a lane and no
// dependent rounds, where a bitonic sort of the list takes log²(k) rounds through shared memory.
constexpr int64_t RANK_K = 64;
__device__ __forceinline__ void write_by_rank(const uint64_t *list, int k, int lane, int32_t *out)
{
    const uint64_t c0 = lane < k ? list[lane] : 0, c1 = lane + 32 < k ? list[lane + 32] : 0;
    int r0 = 0, r1 = 0;
#pragma unroll 8
    for (int j = 0; j < k; j++) {
        const uint64_t y = list[j];
        r0 += y > c0;
        r1 += y > c1;
    }
    if (lane < k) out[r0] = candidate_key(c0);
    if (lane + 32 < k) out[r1] = candidate_key(c1);
}

// rows: [heads, n_rows, D] TQ  keys (values): [heads, n_keys, D] T. Grid: heads · row_tiles,
// a.block_rows rows a block (the mma fragments' 16, the last 8 unused when it is 8).
// Shared memory: stage [WARPS, TILE, D+8] T (later the warps' P·V partials [WARPS, 16, D] fp32,
// then their sort space) | scores [KEPT, stride] fp32 | wmax, wsum [WARPS, 16]. KEPT: the rows
// whose scores the block keeps, the fragments' 16, or 8 (rows g, not g + 8) in an 8-row block
// where that takes more keys or more warps (one_pass_shape): half the shared memory, so twice
// the keys (one_pass_smem). A template parameter, not a flag: with a flag ptxas kept both
// versions of the fold loop, and MiTA at N = 2^10 ran 2.4-3.4% slower on an H100 (NOTES, v46).
template <typename TQ, typename T, int D, bool WITH_V, int WARPS, int KEPT>
__global__ void __launch_bounds__(WARPS * 32, 1) select_one_pass(OnePassArgs a)
{
    constexpr int KS = D + 8;
    constexpr bool SPLIT = sizeof(TQ) == 4;
    extern __shared__ __align__(16) unsigned char smem[];
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, t = lane % 4;
    T *stage = reinterpret_cast<T *>(smem) + warp * TILE * KS;
    float *scores = reinterpret_cast<float *>(smem + (size_t)WARPS * TILE * KS * sizeof(T));
    float *wmax = scores + KEPT * a.stride, *wsum = wmax + WARPS * WARP_ROWS;
    constexpr bool upper = KEPT > 8; // the fragments' rows g + 8 are kept
    const int64_t bh = blockIdx.x / a.row_tiles, row0 = (int64_t)(blockIdx.x % a.row_tiles) * a.block_rows;
    const int64_t row_end = min(row0 + a.block_rows, a.n_rows); // the block's rows end here
    const int tiles = (int)((a.n_keys + TILE - 1) / TILE);
    const T *keys = static_cast<const T *>(a.keys) + bh * a.n_keys * D;

    // 1. Every score of the block's rows (16 in the fragments); warp w takes key tiles w, w + 8, ...
    uint32_t qa[D / 16][4], ql[D / 16][4];
    const int64_t r0 = row0 + g;
    load_row_fragments<TQ, T, D>(static_cast<const TQ *>(a.rows) + (bh * a.n_rows + r0) * D +
                                     2 * t,
                                 r0 < row_end, r0 + 8 < row_end, qa, ql);
    float mx[2] = {-INFINITY, -INFINITY};
    for (int j = warp; j < tiles; j += WARPS) {
        const int64_t kt = (int64_t)j * TILE;
        load_key_tile<T, D>(stage, keys, kt, a.n_keys, lane, 32);
        cp_async_commit();
        cp_async_wait<0>();
        __syncwarp();
        float acc[8][4];
        score_tile<D, SPLIT>(acc, qa, ql, stage, g, t);
#pragma unroll
        for (int jj = 0; jj < 8; jj++)
#pragma unroll
            for (int h = 0; h < 2; h++) {
                const int64_t key = kt + 8 * jj + 2 * t;
                const float s0 = key < a.n_keys ? acc[jj][2 * h] : -INFINITY;
                const float s1 = key + 1 < a.n_keys ? acc[jj][2 * h + 1] : -INFINITY;
                if (h == 0 || upper)
                    *reinterpret_cast<float2 *>(scores + (g + 8 * h) * a.stride + key) =
                        make_float2(s0, s1);
                mx[h] = fmaxf(mx[h], fmaxf(s0, s1));
            }
        __syncwarp(); // the stage is refilled by the next tile
    }

    // 2. With values: the rows' maxima, each warp's P·V over its tiles, the partials summed.
    if constexpr (WITH_V) {
        const T *values = static_cast<const T *>(a.values) + bh * a.n_keys * D;
        if (warp < tiles) { // the warp's first V tile flies while the block meets
            load_key_tile<T, D>(stage, values, (int64_t)warp * TILE, a.n_keys, lane, 32);
            cp_async_commit();
        }
#pragma unroll
        for (int h = 0; h < 2; h++) {
            mx[h] = fmaxf(mx[h], __shfl_xor_sync(FULL, mx[h], 1));
            mx[h] = fmaxf(mx[h], __shfl_xor_sync(FULL, mx[h], 2));
            if (t == 0) wmax[warp * WARP_ROWS + g + 8 * h] = mx[h];
        }
        __syncthreads();
        const float sl = a.scale * LOG2E; // exp(s·x) = 2^(sl·x)
        float msl[2];
#pragma unroll
        for (int h = 0; h < 2; h++) {
            float m = -INFINITY; // finite: every row has a key
            for (int w = 0; w < WARPS; w++) m = fmaxf(m, wmax[w * WARP_ROWS + g + 8 * h]);
            msl[h] = m * sl;
        }
        float o[D / 8][4] = {}, ps[2] = {0.f, 0.f};
        const T *v_lane = stage + ((lane % 8) + 8 * ((lane / 8) % 2)) * KS + 8 * (lane / 16);
        for (int j = warp; j < tiles; j += WARPS) {
            const int64_t kt = (int64_t)j * TILE;
            if (j != warp) {
                load_key_tile<T, D>(stage, values, kt, a.n_keys, lane, 32);
                cp_async_commit();
            }
            cp_async_wait<0>();
            __syncwarp();
            // Keys past n_keys scored -inf: weight 0 (their V rows are zeros); so do the
            // rows g + 8 of an 8-row block, which are not stored.
            float p[8][4];
#pragma unroll
            for (int jj = 0; jj < 8; jj++)
#pragma unroll
                for (int h = 0; h < 2; h++) {
                    const float2 s =
                        h == 0 || upper
                            ? *reinterpret_cast<const float2 *>(scores + (g + 8 * h) * a.stride +
                                                                kt + 8 * jj + 2 * t)
                            : make_float2(-INFINITY, -INFINITY);
                    p[jj][2 * h] = fast_exp2(fmaf(s.x, sl, -msl[h]));
                    p[jj][2 * h + 1] = fast_exp2(fmaf(s.y, sl, -msl[h]));
                    ps[h] += p[jj][2 * h] + p[jj][2 * h + 1];
                }
            mma_pv<T, TILE, D>(o, p, [&](int kb, int n2) {
                return smem_u32(v_lane + 16 * kb * KS + 16 * n2);
            });
            __syncwarp();
        }
        __syncthreads(); // every stage is read: it now holds the partials
        float *part = reinterpret_cast<float *>(smem) + warp * WARP_ROWS * D;
#pragma unroll
        for (int h = 0; h < 2; h++) {
            const float sum = row_total(ps[h]);
            if (t == 0) wsum[warp * WARP_ROWS + g + 8 * h] = sum;
#pragma unroll
            for (int n = 0; n < D / 8; n++)
                *reinterpret_cast<float2 *>(part + (g + 8 * h) * D + 8 * n + 2 * t) =
                    make_float2(o[n][2 * h], o[n][2 * h + 1]);
        }
        __syncthreads();
        const float *parts = reinterpret_cast<const float *>(smem);
        for (int i = threadIdx.x; i < a.block_rows * D; i += blockDim.x) {
            const int r = i / D;
            if (row0 + r >= row_end) continue;
            float num = 0.f, den = 0.f;
#pragma unroll
            for (int w = 0; w < WARPS; w++) {
                num += parts[(w * WARP_ROWS + r) * D + i % D];
                den += wsum[w * WARP_ROWS + r];
            }
            const int64_t at = (bh * a.n_rows + row0 + r) * D + i % D;
            a.values_out[at] = num / den;
            if (a.values_rounded) { // mita's shared block (Q̃, V̂) in T, for its attention
                static_cast<T *>(a.values_rounded)[at] = from_float<T>(num / den);
                static_cast<T *>(a.rows_rounded)[at] =
                    from_float<T>(static_cast<const float *>(a.rows)[at]);
            }
        }
    }
    __syncthreads(); // every score is stored (and the partials are read: the sort space is free)

    // 3. Each warp's rows: the top k of the row's scores, best first.
    const int n = tiles * TILE; // padded: the keys past n_keys hold -inf, below every score
    uint64_t *list = reinterpret_cast<uint64_t *>(smem) + warp * ONE_MAX_K;
    int cap = 1;
    while (cap < a.k) cap <<= 1;
    const unsigned below = (1u << lane) - 1;
    constexpr int SEARCH_BITS = WARPS == ONE_WARPS ? 2 : 1;
    for (int r = warp; r < a.block_rows; r += WARPS) {
        if (row0 + r >= row_end) break;
        uint32_t *v = reinterpret_cast<uint32_t *>(scores + r * a.stride);
        for (int i = 4 * lane; i < n; i += 128) {
            const float4 x = *reinterpret_cast<const float4 *>(v + i);
            *reinterpret_cast<uint4 *>(v + i) =
                make_uint4(ordered_score(x.x), ordered_score(x.y), ordered_score(x.z),
                           ordered_score(x.w));
        }
        __syncwarp();
        // The largest prefix with at least k scores at or above it: the k-th largest score,
        // unless exactly k scores reach a shorter prefix, which then separates the top k.
        uint32_t prefix = 0;
        bool separated = false;
        int32_t *out = a.out + (bh * a.n_rows + row0 + r) * a.k;
        if (n <= ONE_REG_KEYS) {
            uint32_t x[ONE_REGS];
            register_search(v, n, a.k, lane, x, prefix, separated);
            if (separated && a.k <= RANK_K) {
                register_collect(x, n, prefix, lane, list);
                __syncwarp();
                write_by_rank(list, (int)a.k, lane, out);
                __syncwarp(); // the list is rewritten by the warp's next row
                continue;
            }
        } else
            // Two bits a round where the registers allow (8 warps): each read of the row
            // from shared memory counts three thresholds, half the rounds and reads of one bit.
            // The 16-warp kernel's 128 registers spill with the three counts: one bit there.
            for (int bit = 31; bit >= 0 && !separated; bit -= SEARCH_BITS) {
                const SearchRound<SEARCH_BITS> round(prefix, bit);
                unsigned c[SearchRound<SEARCH_BITS>::N] = {};
                for (int i = 4 * lane; i < n; i += 128) {
                    const uint4 x = *reinterpret_cast<const uint4 *>(v + i);
                    round.count(x.x, c), round.count(x.y, c), round.count(x.z, c),
                        round.count(x.w, c);
                }
#pragma unroll
                for (int j = 0; j < SearchRound<SEARCH_BITS>::N; j++)
                    c[j] = __reduce_add_sync(FULL, c[j]);
                round.take(c, a.k, prefix, separated);
            }
        // The keys above the k-th score, then its ties from the lowest index (keys i in order).
        unsigned ties = 0;
        if (!separated) {
            unsigned above = 0;
            for (int i = lane; i < n; i += 32) above += v[i] > prefix;
            ties = (unsigned)a.k - __reduce_add_sync(FULL, above);
        }
        int taken = 0;
        for (int i0 = 0; i0 < n && taken < a.k; i0 += 32) {
            const uint32_t x = v[i0 + lane];
            bool take = separated ? x >= prefix : x > prefix;
            if (!separated) {
                const unsigned tied = __ballot_sync(FULL, x == prefix);
                take = take || (x == prefix && (unsigned)__popc(tied & below) < ties);
                const unsigned used = (unsigned)__popc(tied);
                ties -= used < ties ? used : ties;
            }
            const unsigned took = __ballot_sync(FULL, take);
            if (take) list[taken + __popc(took & below)] = pack_candidate(from_ordered(x), i0 + lane);
            taken += __popc(took);
        }
        for (int i = (int)a.k + lane; i < cap; i += 32) list[i] = 0;
        __syncwarp();
        warp_sort_desc(list, cap, lane);
        for (int i = lane; i < a.k; i += 32) out[i] = candidate_key(list[i]);
        __syncwarp(); // the list is rewritten by the warp's next row
    }
}

// Rows of fp32 (mita's landmarks, with or without values) or of the keys' type K (topk). Only
// the fp32 rows have kernels that keep 8 rows' scores: topk's rows are its keys, so past the
// 2432 keys that 16 kept rows hold they are too many for 8-row blocks (one_pass_rows).
template <typename K, int D, int WARPS, int KEPT>
const void *one_pass_for(int row_dtype, int key_dtype, bool with_values)
{
    if (row_dtype == ATTN_FP32)
        return with_values ? (const void *)select_one_pass<float, K, D, true, WARPS, KEPT>
                           : (const void *)select_one_pass<float, K, D, false, WARPS, KEPT>;
    if constexpr (KEPT == WARP_ROWS)
        if (row_dtype == key_dtype && !with_values)
            return (const void *)select_one_pass<K, K, D, false, WARPS, KEPT>;
    return nullptr;
}

template <int D, int WARPS, int KEPT>
const void *one_pass_kernel(int row_dtype, int key_dtype, bool with_values)
{
    if (key_dtype == ATTN_FP16)
        return one_pass_for<__half, D, WARPS, KEPT>(row_dtype, key_dtype, with_values);
    if (key_dtype == ATTN_BF16)
        return one_pass_for<__nv_bfloat16, D, WARPS, KEPT>(row_dtype, key_dtype, with_values);
    return nullptr;
}

template <int D, int WARPS>
const void *one_pass_kernel(int row_dtype, int key_dtype, bool with_values, int kept)
{
    return kept == WARP_ROWS / 2
               ? one_pass_kernel<D, WARPS, WARP_ROWS / 2>(row_dtype, key_dtype, with_values)
               : one_pass_kernel<D, WARPS, WARP_ROWS>(row_dtype, key_dtype, with_values);
}

struct Selection {
    Plan full;
    int64_t M;                          // values per row behind the floor; 0: no floors
    int64_t maxima_tiles;               // key tiles tile_maxima scores
    bool exact;                         // every score kept: the floor is the k-th best
    const void *maxima_kernel;          // tile_maxima, or tile_maxima_wgmma for select_wgmma
    size_t maxima_smem;                 // its dynamic shared memory (the wgmma one's)
    size_t floors_bytes, maxima_bytes; // [heads, n_rows] and [heads, n_rows, M] fp32, first
    const void *one_pass;              // select_one_pass instead of all the above, or NULL
    OnePassArgs one;
    size_t one_smem;
    int one_warps;                     // ONE_WARPS or ONE_WARPS_WIDE
    bool one_leaves_sms_free;          // its blocks all run at once, some SMs without one
};

// The one-pass kernel that keeps `kept` rows' scores: 16 warps at d = 64 where the range has
// more tiles than 8 warps take at once and their stages fit, else 8; NULL kernel where the
// scores do not fit (or the dtypes are not served). per_sm: its blocks an SM.
struct OnePassShape {
    const void *kernel;
    int warps;
    size_t smem;
    int per_sm;
};
cudaError_t one_pass_shape(int row_dtype, int key_dtype, bool with_values, int d, int64_t n_keys,
                           int kept, int optin, OnePassShape *o)
{
    *o = OnePassShape{};
    const bool wide = d == 64 && (n_keys + TILE - 1) / TILE > ONE_WARPS &&
                      one_pass_smem(d, n_keys, ONE_WARPS_WIDE, kept) <= (size_t)optin;
    o->warps = wide ? ONE_WARPS_WIDE : ONE_WARPS;
    o->smem = one_pass_smem(d, n_keys, o->warps, kept);
    const void *kernel =
        wide      ? one_pass_kernel<64, ONE_WARPS_WIDE>(row_dtype, key_dtype, with_values, kept)
        : d == 64 ? one_pass_kernel<64, ONE_WARPS>(row_dtype, key_dtype, with_values, kept)
                  : one_pass_kernel<128, ONE_WARPS>(row_dtype, key_dtype, with_values, kept);
    if (!kernel || o->smem > (size_t)optin) return cudaSuccess;
    CUDA_CHECK(allow_shared_memory(kernel, o->smem));
    CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&o->per_sm, kernel, o->warps * 32,
                                                             o->smem));
    if (o->per_sm > 0) o->kernel = kernel;
    return cudaSuccess;
}

// The one-pass kernel where it serves: 16-bit keys, k <= ONE_MAX_K, and the rows' scores in
// shared memory. Blocks keeping 16 rows' scores take n_keys up to 2432 at d = 64, 1408 at
// d = 128 (the 227 KB of sm_90). 8-row blocks, chosen where they all run at once
// (one_pass_rows: mita's m landmarks at few heads), keep only their 8 rows' scores where that
// takes the range at all or in more warps: up to 4864 keys at d = 64 and 2816 at d = 128
// (mita's probe at N = 2^12), the 16-warp kernel to 2560 (1280 keeping 16; N = 2^11). Past
// those the chunked pass serves.
cudaError_t make_one_pass(int row_dtype, int key_dtype, bool with_values, int heads,
                          int64_t n_rows, int64_t n_keys, int d, int64_t k, Selection *s)
{
    // n_keys past the shared memory is refused below; first past an int's stride (no wrap).
    if ((d != 64 && d != 128) || heads < 1 || n_rows < 1 || n_keys < 1 || n_keys > 65536 ||
        k < 1 || k > n_keys || k > ONE_MAX_K)
        return cudaSuccess;
    int sms, optin;
    CUDA_CHECK(device_limits(&sms, &optin));
    constexpr int HALF = WARP_ROWS / 2;
    OnePassShape shape; // 16 rows' scores kept
    CUDA_CHECK(one_pass_shape(row_dtype, key_dtype, with_values, d, n_keys, WARP_ROWS, optin,
                              &shape));
    const int rows =
        shape.kernel ? one_pass_rows(heads, n_rows, (int64_t)sms * shape.per_sm) : HALF;
    if (rows == HALF) {
        OnePassShape half; // less shared memory: as many blocks an SM or more, still one wave
        CUDA_CHECK(one_pass_shape(row_dtype, key_dtype, with_values, d, n_keys, HALF, optin,
                                  &half));
        if (!half.kernel || one_pass_rows(heads, n_rows, (int64_t)sms * half.per_sm) != HALF)
            return cudaSuccess;
        if (!shape.kernel || half.warps != shape.warps) shape = half;
    }
    s->one_pass = shape.kernel;
    s->one_smem = shape.smem;
    s->one_warps = shape.warps;
    s->one.n_rows = n_rows;
    s->one.n_keys = n_keys;
    s->one.k = k;
    s->one.block_rows = rows;
    s->one.row_tiles = (int)((n_rows + rows - 1) / rows);
    s->one.stride = one_pass_stride(n_keys);
    s->one_leaves_sms_free = (int64_t)heads * s->one.row_tiles < sms;
    return cudaSuccess;
}

cudaError_t make_selection(int row_dtype, int key_dtype, bool with_values, int heads,
                           int64_t n_rows, int64_t n_keys, int d, int64_t k, Selection *s)
{
    *s = Selection{};
    CUDA_CHECK(make_one_pass(row_dtype, key_dtype, with_values, heads, n_rows, n_keys, d, k, s));
    if (s->one_pass) return cudaSuccess;
    CUDA_CHECK(make_plan(row_dtype, key_dtype, with_values, heads, n_rows, n_keys, d, k, 4 * k,
                         &s->full));
    if (!s->full.mma || s->full.args.nchunks < 2) return cudaSuccess;
    const int64_t all = (n_keys + TILE - 1) / TILE * TILE; // every score, padded to tiles
    int64_t M = SAMPLE_TILES_PER_K * k;
    M = M < SAMPLE_MAX_TILES ? M : SAMPLE_MAX_TILES;
    // A quarter of the tiles, but at least 4k tiles where the range has them (every tile
    // where it has fewer): the floor is then the k-th of 4k maxima or more, not of barely k.
    const int64_t tiles = n_keys / TILE, quarter = tiles / 4, least = 4 * k < tiles ? 4 * k : tiles;
    const int64_t most = quarter > least ? quarter : least;
    M = M < most ? M : most;
    if (all <= SAMPLE_MAX_TILES) { // exact floors: chunks of a tile or more
        CUDA_CHECK(make_plan(row_dtype, key_dtype, with_values, heads, n_rows, n_keys, d, k,
                             TILE, &s->full));
        s->M = all;
        s->maxima_tiles = all / TILE;
        s->exact = true;
        s->maxima_kernel = d == 64 ? tile_maxima_for<64, 1>(row_dtype, key_dtype, s->full.wgmma)
                                   : tile_maxima_for<128, 1>(row_dtype, key_dtype, s->full.wgmma);
    } else if (s->full.args.nchunks >= SAMPLE_MIN_CHUNKS && M >= k) {
        s->M = s->maxima_tiles = M;
        s->maxima_kernel = d == 64
                               ? tile_maxima_for<64, TILE>(row_dtype, key_dtype, s->full.wgmma)
                               : tile_maxima_for<128, TILE>(row_dtype, key_dtype, s->full.wgmma);
    } else {
        return cudaSuccess;
    }
    if (maxima_by_wgmma(row_dtype, s->full.wgmma)) {
        s->maxima_smem = wgmma_maxima_smem(d);
        CUDA_CHECK(allow_shared_memory(s->maxima_kernel, s->maxima_smem));
    }
    s->floors_bytes = align256((size_t)heads * n_rows * 4);
    s->maxima_bytes = align256((size_t)heads * n_rows * s->M * 4);
    return cudaSuccess;
}

size_t selection_scratch_bytes(const Selection &s)
{
    if (s.one_pass) return 0;
    return s.floors_bytes + s.maxima_bytes + plan_scratch_bytes(s.full);
}

// rounded: NULL, or where the one pass serves, rows_rounded and values_rounded (OnePassArgs).
cudaError_t run_selection(Selection &s, const void *rows, const void *keys, const void *values,
                          int heads, int d, float scale, void *scratch, int32_t *out,
                          float *values_out, void *const *rounded, cudaStream_t stream)
{
    if (rounded && !s.one_pass) return cudaErrorInvalidValue;
    if (s.one_pass) {
        OnePassArgs a = s.one;
        a.rows = rows;
        a.keys = keys;
        a.values = values;
        a.scale = scale;
        a.out = out;
        a.values_out = values_out;
        a.rows_rounded = rounded ? rounded[0] : nullptr;
        a.values_rounded = rounded ? rounded[1] : nullptr;
        void *params[] = {&a};
        CUDA_CHECK(cudaLaunchKernel(s.one_pass, dim3((unsigned)(heads * a.row_tiles)),
                                    dim3(s.one_warps * 32), params, s.one_smem, stream));
        return cudaSuccess;
    }
    char *at = static_cast<char *>(scratch);
    float *floors = s.M ? reinterpret_cast<float *>(at) : nullptr;
    float *maxima = reinterpret_cast<float *>(at + s.floors_bytes);
    if (s.M) {
        SelectArgs &a = s.full.args;
        const int row_tiles = (int)((a.n_rows + SAMPLE_ROWS - 1) / SAMPLE_ROWS);
        const int64_t per_block = s.exact ? 1 : SAMPLE_TILES_PER_BLOCK; // tile_maxima's
        const dim3 grid((unsigned)((s.maxima_tiles + per_block - 1) / per_block),
                        (unsigned)(heads * row_tiles));
        void *params[] = {&rows, &keys, &a.n_rows, &a.n_keys, &s.M, (void *)&row_tiles, &maxima};
        CUDA_CHECK(cudaLaunchKernel(s.maxima_kernel, grid, dim3(SAMPLE_WARPS * 32), params,
                                    s.maxima_smem, stream));
        kth_of_maxima<<<(unsigned)(heads * a.n_rows), KTH_WARPS * 32, s.M * 4, stream>>>(
            maxima, s.M, a.k, floors);
        CUDA_CHECK_LAUNCH();
    }
    return run_plan(s.full, rows, keys, values, heads, d, scale, floors,
                    at + s.floors_bytes + s.maxima_bytes, out, values_out, stream);
}

} // namespace

extern "C" int64_t topk_select_max_k(int d, int row_dtype, int key_dtype, int with_values,
                                     size_t optin)
{
    if (!simt_kernel_for(d, row_dtype, key_dtype, with_values != 0)) return 0;
    // The simt kernel holds the largest buffers (4 warps); find the largest cap it fits, then
    // the largest k whose candidate_cap is within it (candidate_cap grows with k).
    int64_t cap = 0;
    for (int64_t c = 256; simt_smem(d, c, with_values != 0) <= (size_t)optin; c <<= 1) cap = c;
    int64_t lo = 0, hi = cap;
    while (lo < hi) {
        const int64_t mid = (lo + hi + 1) / 2;
        if (candidate_cap(mid) <= cap) lo = mid;
        else hi = mid - 1;
    }
    return lo;
}

extern "C" size_t topk_select_scratch_bytes(int heads, int64_t n_rows, int64_t n_keys, int d,
                                            int row_dtype, int key_dtype, int64_t k)
{
    Selection s;
    if (make_selection(row_dtype, key_dtype, false, heads, n_rows, n_keys, d, k, &s) !=
        cudaSuccess) {
        cuda_check_clear(); // a size query that answers 0 leaves no failure recorded
        return 0;
    }
    return selection_scratch_bytes(s);
}

extern "C" cudaError_t topk_select(const void *rows, int row_dtype, const void *keys,
                                   int key_dtype, int heads, int64_t n_rows, int64_t n_keys, int d,
                                   int64_t k, void *scratch, int32_t *out, cudaStream_t stream)
{
    Selection s;
    CUDA_CHECK(make_selection(row_dtype, key_dtype, false, heads, n_rows, n_keys, d, k, &s));
    return run_selection(s, rows, keys, nullptr, heads, d, 0.f, scratch, out, nullptr, nullptr,
                         stream);
}

extern "C" size_t topk_select_softmax_values_scratch_bytes(int heads, int64_t n_rows,
                                                           int64_t n_keys, int d, int key_dtype,
                                                           int64_t k)
{
    Selection s;
    if (make_selection(ATTN_FP32, key_dtype, true, heads, n_rows, n_keys, d, k, &s) !=
        cudaSuccess) {
        cuda_check_clear();
        return 0;
    }
    return selection_scratch_bytes(s);
}

extern "C" int topk_select_leaves_sms_free(int row_dtype, int key_dtype, int with_values,
                                           int heads, int64_t n_rows, int64_t n_keys, int d,
                                           int64_t k)
{
    Selection s;
    if (make_selection(row_dtype, key_dtype, with_values != 0, heads, n_rows, n_keys, d, k, &s) !=
        cudaSuccess) {
        cuda_check_clear();
        return 0;
    }
    return s.one_pass && s.one_leaves_sms_free;
}

extern "C" cudaError_t topk_select_softmax_values(const float *rows, const void *keys,
                                                  const void *values, int key_dtype, int heads,
                                                  int64_t n_rows, int64_t n_keys, int d,
                                                  int64_t k, float scale, void *scratch,
                                                  int32_t *out, float *values_out,
                                                  void *rows_rounded, void *values_rounded,
                                                  cudaStream_t stream)
{
    if (!rows_rounded != !values_rounded) return cudaErrorInvalidValue;
    Selection s;
    CUDA_CHECK(make_selection(ATTN_FP32, key_dtype, true, heads, n_rows, n_keys, d, k, &s));
    void *const rounded[2] = {rows_rounded, values_rounded};
    return run_selection(s, rows, keys, values, heads, d, scale, scratch, out, values_out,
                         rows_rounded ? rounded : nullptr, stream);
}
