// gather.cu — MiTA's step 6 as a family of kernels (gather.h):
//   K, V: [heads,N,d]  idx: [heads,m,k] int32  →  KE, VE: [heads,m,k,d].
// A gather moves rows of d·sizeof(dtype) bytes (128, 256 or 512), so the
// kernels see rows of 16-byte chunks (or 4-byte words) and never the dtype.
// The (expert, slot) structure does not matter to them either: each head's
// m·k output rows are one flat list, the last block of a head taking the
// tail (m·k need not be a multiple of anything).
//
// Every version moves the same bytes, per launch:
//   read  2·heads·m·k·d·sizeof   (a row of K and one of V per index)
//   write 2·heads·m·k·d·sizeof   (KE and VE)
//   index 4·heads·m·k            (copy reads none)
// At the H100's measured copy bandwidth (2970 GB/s, read + written) that is
// 2.9 ms for heads = 8, m = k = 1024, d = 128 bf16 (8.6 GB).
//
// Versions, slowest expected first:
//   naive     one 32-thread block per row, 4-byte words: a warp issues one
//             128-byte load per row and tensor, 32 rows of a 2048-thread SM
//             in flight — latency-bound, ~426 GB/s (the floor to beat:
//             docs/measurement.md, "Reference figures").
//   warp_row  eight rows per 256-thread block, a warp per row, 16-byte
//             loads: 4× fewer instructions, but lanes past the row idle
//             (8 of 32 busy for 128-byte rows), so ~8 rows per warp-slot of
//             latency; better than naive, below copy for short rows.
//   vec16     rows packed: a block moves 1024 chunks of K and of V (128 rows
//             of 128 B, 64 of 256 B, 32 of 512 B), their indices staged in
//             shared memory by one coalesced load, four 16-byte loads per
//             tensor and thread in flight before any store. Every lane busy;
//             should reach the copy for m·k·heads large enough to fill the
//             GPU (~16k rows), launch-bound below.
//   sorted    vec16's copy over tiles of 1024 rows whose indices are first
//             sorted by key in shared memory (cub::BlockRadixSort over the
//             bits of N): a repeated row (experts overlapping, m·k > N) is
//             read back to back, from L1/L2, and neighbouring rows together
//             (DRAM pages); the stores go out of order, by whole rows. Wins
//             only where rows repeat within a tile; pays for the sort (~1-2
//             µs a tile, hidden by the other resident blocks) elsewhere.
//   copy      NOT a gather and not a fair comparison: the same bytes copied
//             contiguously (output row r from input row r mod N), ignoring
//             idx — the ceiling of this shape, next to the harness's
//             dram_copy_gbps (kernels/copy.cu).
#include <stdint.h>

#include <cub/block/block_radix_sort.cuh>

#include "copy.h"
#include "cuda_util.cuh"
#include "gather.h"

namespace {

constexpr int GATHER_THREADS = 256;
constexpr int GATHER_UNROLL = 4;                               // 16-byte loads per tensor in flight
constexpr int SORT_ITEMS = 4;                                  // indices per thread in the sort
constexpr int SORT_TILE = GATHER_THREADS * SORT_ITEMS;         // rows per sorted tile

// ---- kernels ---------------------------------------------------------------

// K, V: [heads,N,W] words  idx: [heads,mk]  KE, VE: [heads,mk,W] words.
// One 32-thread block per output row (blockIdx.x), head blockIdx.y.
__global__ void __launch_bounds__(32)
gather_naive_kernel(const uint32_t *__restrict__ K, const uint32_t *__restrict__ V,
                    const int32_t *__restrict__ idx, int64_t N, int64_t mk, int W,
                    uint32_t *__restrict__ KE, uint32_t *__restrict__ VE)
{
    const int64_t row = (int64_t)blockIdx.y * mk + blockIdx.x;
    const int64_t src = ((int64_t)blockIdx.y * N + idx[row]) * W;
    const int64_t dst = row * W;
    for (int w = threadIdx.x; w < W; w += 32) {
        KE[dst + w] = K[src + w];
        VE[dst + w] = V[src + w];
    }
}

// K, V: [heads,N,C] chunks  idx: [heads,mk]  KE, VE: [heads,mk,C] chunks.
// Eight rows per block, a warp each.
template <int C>
__global__ void __launch_bounds__(GATHER_THREADS)
gather_warp_row_kernel(const uint4 *__restrict__ K, const uint4 *__restrict__ V,
                       const int32_t *__restrict__ idx, int64_t N, int64_t mk,
                       uint4 *__restrict__ KE, uint4 *__restrict__ VE)
{
    const int64_t r = (int64_t)blockIdx.x * (GATHER_THREADS / 32) + threadIdx.x / 32;
    if (r >= mk) return;
    const int64_t row = (int64_t)blockIdx.y * mk + r;
    const int64_t src = ((int64_t)blockIdx.y * N + idx[row]) * C;
    for (int c = threadIdx.x % 32; c < C; c += 32) {
        const uint4 kc = K[src + c], vc = V[src + c];
        KE[row * C + c] = kc;
        VE[row * C + c] = vc;
    }
}

// K, V: [heads,N,C] chunks  idx: [heads,mk]  KE, VE: [heads,mk,C] chunks.
// ROWS rows per block: GATHER_UNROLL × GATHER_THREADS chunks of each tensor.
template <int C>
__global__ void __launch_bounds__(GATHER_THREADS)
gather_vec16_kernel(const uint4 *__restrict__ K, const uint4 *__restrict__ V,
                    const int32_t *__restrict__ idx, int64_t N, int64_t mk,
                    uint4 *__restrict__ KE, uint4 *__restrict__ VE)
{
    constexpr int ROWS = GATHER_THREADS * GATHER_UNROLL / C;
    __shared__ int32_t keys[ROWS];
    const int64_t first = (int64_t)blockIdx.x * ROWS;
    const int64_t out_head = (int64_t)blockIdx.y * mk, in_head = (int64_t)blockIdx.y * N;
    for (int i = threadIdx.x; i < ROWS; i += GATHER_THREADS)
        keys[i] = first + i < mk ? idx[out_head + first + i] : 0;
    __syncthreads();
    uint4 kc[GATHER_UNROLL], vc[GATHER_UNROLL];
#pragma unroll
    for (int u = 0; u < GATHER_UNROLL; u++) {
        const int e = u * GATHER_THREADS + (int)threadIdx.x, r = e / C;
        if (first + r < mk) {
            const int64_t at = (in_head + keys[r]) * C + e % C;
            kc[u] = K[at];
            vc[u] = V[at];
        }
    }
#pragma unroll
    for (int u = 0; u < GATHER_UNROLL; u++) {
        const int e = u * GATHER_THREADS + (int)threadIdx.x, r = e / C;
        if (first + r < mk) {
            const int64_t at = (out_head + first + r) * C + e % C;
            KE[at] = kc[u];
            VE[at] = vc[u];
        }
    }
}

// K, V: [heads,N,C] chunks  idx: [heads,mk]  KE, VE: [heads,mk,C] chunks.
// One tile of SORT_TILE rows per block, copied in the order of its sorted
// keys; key_bits: the bits of N - 1 (the sort looks at no others).
template <int C>
__global__ void __launch_bounds__(GATHER_THREADS)
gather_sorted_kernel(const uint4 *__restrict__ K, const uint4 *__restrict__ V,
                     const int32_t *__restrict__ idx, int64_t N, int64_t mk, int key_bits,
                     uint4 *__restrict__ KE, uint4 *__restrict__ VE)
{
    typedef cub::BlockRadixSort<uint32_t, GATHER_THREADS, SORT_ITEMS, int32_t> TileSort;
    __shared__ typename TileSort::TempStorage sort_storage;
    __shared__ uint32_t keys[SORT_TILE];  // sorted
    __shared__ int32_t rows[SORT_TILE];   // each key's row in the tile; -1 past the tail
    const int64_t first = (int64_t)blockIdx.x * SORT_TILE;
    const int64_t out_head = (int64_t)blockIdx.y * mk, in_head = (int64_t)blockIdx.y * N;

    // A striped (coalesced) load: the sort needs the items, not their order.
    uint32_t key[SORT_ITEMS];
    int32_t row[SORT_ITEMS];
#pragma unroll
    for (int i = 0; i < SORT_ITEMS; i++) {
        const int r = i * GATHER_THREADS + (int)threadIdx.x;
        const bool valid = first + r < mk;
        key[i] = valid ? (uint32_t)idx[out_head + first + r] : 0xFFFFFFFFu;
        row[i] = valid ? r : -1;
    }
    TileSort(sort_storage).Sort(key, row, 0, key_bits);
#pragma unroll
    for (int i = 0; i < SORT_ITEMS; i++) {
        keys[threadIdx.x * SORT_ITEMS + i] = key[i];
        rows[threadIdx.x * SORT_ITEMS + i] = row[i];
    }
    __syncthreads();

    for (int base = 0; base < SORT_TILE * C; base += GATHER_THREADS * GATHER_UNROLL) {
        uint4 kc[GATHER_UNROLL], vc[GATHER_UNROLL];
#pragma unroll
        for (int u = 0; u < GATHER_UNROLL; u++) {
            const int e = base + u * GATHER_THREADS + (int)threadIdx.x, s = e / C;
            if (rows[s] >= 0) {
                const int64_t at = (in_head + keys[s]) * C + e % C;
                kc[u] = K[at];
                vc[u] = V[at];
            }
        }
#pragma unroll
        for (int u = 0; u < GATHER_UNROLL; u++) {
            const int e = base + u * GATHER_THREADS + (int)threadIdx.x, s = e / C;
            const int r = rows[s];
            if (r >= 0) {
                const int64_t at = (out_head + first + r) * C + e % C;
                KE[at] = kc[u];
                VE[at] = vc[u];
            }
        }
    }
}

// idx: [heads, m, k] = gather_expert_key(seed, h, j, t, N, m, k)
__global__ void gather_make_indices_kernel(int32_t *__restrict__ idx, int64_t total, int64_t N,
                                           int64_t m, int64_t k, uint64_t seed)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total;
         i += (int64_t)gridDim.x * blockDim.x) {
        const int64_t t = i % k, j = i / k % m, h = i / k / m;
        idx[i] = gather_expert_key(seed, h, j, t, N, m, k);
    }
}

// ---- host launchers --------------------------------------------------------

struct gather_args {
    const void *K, *V;
    const int32_t *idx;
    int heads;
    int64_t N, mk;
    size_t row_bytes;   // 128, 256 or 512
    void *KE, *VE;
    void *scratch;
};

typedef cudaError_t (*launcher)(const gather_args &a, cudaStream_t stream);

// The launcher of a row of C = row_bytes / 16 chunks.
cudaError_t by_row_bytes(const gather_args &a, cudaStream_t stream, launcher c8, launcher c16,
                         launcher c32)
{
    switch (a.row_bytes) {
    case 128: return c8(a, stream);
    case 256: return c16(a, stream);
    case 512: return c32(a, stream);
    default: return cudaErrorInvalidValue;
    }
}

// Blocks of `per_block` rows over a head's mk rows, heads on y.
cudaError_t grid_for(int64_t mk, int64_t per_block, int heads, dim3 *grid)
{
    const int64_t blocks = (mk + per_block - 1) / per_block;
    if (blocks > INT32_MAX) return cudaErrorInvalidValue;
    *grid = dim3((unsigned)blocks, (unsigned)heads);
    return cudaSuccess;
}

cudaError_t launch_naive(const gather_args &a, cudaStream_t stream)
{
    dim3 grid;
    CUDA_CHECK(grid_for(a.mk, 1, a.heads, &grid));
    gather_naive_kernel<<<grid, 32, 0, stream>>>((const uint32_t *)a.K, (const uint32_t *)a.V,
                                                 a.idx, a.N, a.mk, (int)(a.row_bytes / 4),
                                                 (uint32_t *)a.KE, (uint32_t *)a.VE);
    CUDA_CHECK_LAUNCH();
    return cudaSuccess;
}

template <int C> cudaError_t launch_warp_row_c(const gather_args &a, cudaStream_t stream)
{
    dim3 grid;
    CUDA_CHECK(grid_for(a.mk, GATHER_THREADS / 32, a.heads, &grid));
    gather_warp_row_kernel<C><<<grid, GATHER_THREADS, 0, stream>>>(
        (const uint4 *)a.K, (const uint4 *)a.V, a.idx, a.N, a.mk, (uint4 *)a.KE, (uint4 *)a.VE);
    CUDA_CHECK_LAUNCH();
    return cudaSuccess;
}

cudaError_t launch_warp_row(const gather_args &a, cudaStream_t stream)
{
    return by_row_bytes(a, stream, launch_warp_row_c<8>, launch_warp_row_c<16>,
                        launch_warp_row_c<32>);
}

template <int C> cudaError_t launch_vec16_c(const gather_args &a, cudaStream_t stream)
{
    dim3 grid;
    CUDA_CHECK(grid_for(a.mk, GATHER_THREADS * GATHER_UNROLL / C, a.heads, &grid));
    gather_vec16_kernel<C><<<grid, GATHER_THREADS, 0, stream>>>(
        (const uint4 *)a.K, (const uint4 *)a.V, a.idx, a.N, a.mk, (uint4 *)a.KE, (uint4 *)a.VE);
    CUDA_CHECK_LAUNCH();
    return cudaSuccess;
}

cudaError_t launch_vec16(const gather_args &a, cudaStream_t stream)
{
    return by_row_bytes(a, stream, launch_vec16_c<8>, launch_vec16_c<16>, launch_vec16_c<32>);
}

template <int C> cudaError_t launch_sorted_c(const gather_args &a, cudaStream_t stream)
{
    int key_bits = 1; // the bits of N - 1, at least one
    while (key_bits < 32 && (int64_t{1} << key_bits) < a.N) key_bits++;
    dim3 grid;
    CUDA_CHECK(grid_for(a.mk, SORT_TILE, a.heads, &grid));
    gather_sorted_kernel<C><<<grid, GATHER_THREADS, 0, stream>>>(
        (const uint4 *)a.K, (const uint4 *)a.V, a.idx, a.N, a.mk, key_bits, (uint4 *)a.KE,
        (uint4 *)a.VE);
    CUDA_CHECK_LAUNCH();
    return cudaSuccess;
}

cudaError_t launch_sorted(const gather_args &a, cudaStream_t stream)
{
    return by_row_bytes(a, stream, launch_sorted_c<8>, launch_sorted_c<16>, launch_sorted_c<32>);
}

cudaError_t launch_copy(const gather_args &a, cudaStream_t stream)
{
    return copy_rows_pair(a.K, a.V, a.heads, a.N, a.mk, a.row_bytes, a.KE, a.VE, stream);
}

// ---- the versions ------------------------------------------------------------

// attn.h's arguments as the launchers' (rows of row_bytes bytes), for the
// shapes gather.h supports; cudaErrorInvalidValue for any other.
cudaError_t rows_of(const attn_gather_args *a, gather_args *out)
{
    if ((a->d != 64 && a->d != 128) || a->heads < 1 || a->heads > 65535 || a->N < 1 ||
        a->N > INT32_MAX || a->m < 1 || a->m > INT32_MAX || a->k < 1 || a->k > INT32_MAX ||
        a->m * a->k > INT32_MAX)
        return cudaErrorInvalidValue;
    const size_t elem = a->dtype == ATTN_FP32                              ? 4
                        : a->dtype == ATTN_FP16 || a->dtype == ATTN_BF16 ? 2
                                                                         : 0;
    if (!elem) return cudaErrorInvalidValue;
    *out = gather_args{a->K,         a->V,  a->idx, a->heads, a->N, a->m * a->k,
                       (size_t)a->d * elem, a->KE,  a->VE,    a->scratch};
    return cudaSuccess;
}

// struct attn_gather_version's launch() for launcher L.
template <launcher L> int launch_version(const attn_gather_args *a, void *stream)
{
    gather_args g;
    const cudaError_t err = rows_of(a, &g);
    return (int)(err != cudaSuccess ? err : L(g, (cudaStream_t)stream));
}

} // namespace

// The versions, in the order of the index above; none needs scratch.
extern "C" const attn_gather_version gather_naive = {
    ATTN_ABI_VERSION, "naive", "a 32-thread block per row, 4-byte words (the floor to beat)",
    nullptr, launch_version<launch_naive>};
extern "C" const attn_gather_version gather_warp_row = {
    ATTN_ABI_VERSION, "warp_row", "a warp per row, 16-byte loads", nullptr,
    launch_version<launch_warp_row>};
extern "C" const attn_gather_version gather_vec16 = {
    ATTN_ABI_VERSION, "vec16", "rows packed into 256-thread blocks, four 16-byte loads in flight",
    nullptr, launch_version<launch_vec16>};
extern "C" const attn_gather_version gather_sorted = {
    ATTN_ABI_VERSION, "sorted", "vec16 over 1024-row tiles whose indices are sorted first",
    nullptr, launch_version<launch_sorted>};
extern "C" const attn_gather_version gather_copy = {
    ATTN_ABI_VERSION, "copy", "not a gather: the same bytes copied contiguously (the ceiling)",
    nullptr, launch_version<launch_copy>};

// GATHER_BUILTIN_NAMES (gather.h) names these, in this order.
extern "C" const attn_gather_version *const gather_builtin_versions[] = {
    &gather_naive, &gather_warp_row, &gather_vec16, &gather_sorted, nullptr};

extern "C" cudaError_t gather_make_indices(int32_t *idx, int heads, int64_t N, int64_t m,
                                           int64_t k, uint64_t seed, cudaStream_t stream)
{
    if (heads < 1 || N < 1 || N > INT32_MAX || m < 1 || m > N || k < 1 || k > N ||
        m * k > INT32_MAX)
        return cudaErrorInvalidValue;
    const int64_t total = (int64_t)heads * m * k;
    int64_t blocks = (total + 255) / 256;
    if (blocks > 65536) blocks = 65536;
    gather_make_indices_kernel<<<(unsigned)blocks, 256, 0, stream>>>(idx, total, N, m, k, seed);
    CUDA_CHECK_LAUNCH();
    return cudaSuccess;
}
