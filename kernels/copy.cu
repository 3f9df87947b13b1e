// copy.cu — a vectorized copy of rows, two tensors per launch (copy.h).
// One version: a 256-thread block moves 4 × 256 16-byte chunks of each
// tensor, all four loads of a thread in flight before its stores;
// consecutive threads take consecutive chunks, so every warp reads and
// writes 512 contiguous bytes per instruction. Bound by DRAM (~2.9 TB/s
// read + written on an H100, the dram_copy_gbps of attnbench ceilings).
#include <stdint.h>

#include "copy.h"
#include "cuda_util.cuh"

namespace {

constexpr int COPY_THREADS = 256;
constexpr int COPY_UNROLL = 4;

// a, b: [heads, n_src, C] chunks  a_out, b_out: [heads, n_dst, C] chunks;
// output row r = input row r mod n_src. blockIdx.y is the head.
template <int C>
__global__ void __launch_bounds__(COPY_THREADS)
copy_rows_pair_kernel(const uint4 *__restrict__ a, const uint4 *__restrict__ b, int64_t n_src,
                      int64_t n_dst, uint4 *__restrict__ a_out, uint4 *__restrict__ b_out)
{
    constexpr int ROWS = COPY_THREADS * COPY_UNROLL / C;
    const int64_t first = (int64_t)blockIdx.x * ROWS;
    const int64_t src_head = (int64_t)blockIdx.y * n_src, dst_head = (int64_t)blockIdx.y * n_dst;
    uint4 va[COPY_UNROLL], vb[COPY_UNROLL];
#pragma unroll
    for (int u = 0; u < COPY_UNROLL; u++) {
        const int e = u * COPY_THREADS + (int)threadIdx.x;
        const int64_t r = first + e / C;
        if (r < n_dst) {
            const int64_t s = r < n_src ? r : r % n_src;
            const int64_t at = (src_head + s) * C + e % C;
            va[u] = a[at];
            vb[u] = b[at];
        }
    }
#pragma unroll
    for (int u = 0; u < COPY_UNROLL; u++) {
        const int e = u * COPY_THREADS + (int)threadIdx.x;
        const int64_t r = first + e / C;
        if (r < n_dst) {
            const int64_t at = (dst_head + r) * C + e % C;
            a_out[at] = va[u];
            b_out[at] = vb[u];
        }
    }
}

template <int C>
cudaError_t launch_copy(const void *a, const void *b, int heads, int64_t n_src, int64_t n_dst,
                        void *a_out, void *b_out, cudaStream_t stream)
{
    constexpr int ROWS = COPY_THREADS * COPY_UNROLL / C;
    const int64_t blocks = (n_dst + ROWS - 1) / ROWS;
    if (blocks > INT32_MAX) return cudaErrorInvalidValue;
    dim3 grid((unsigned)blocks, (unsigned)heads);
    copy_rows_pair_kernel<C><<<grid, COPY_THREADS, 0, stream>>>(
        (const uint4 *)a, (const uint4 *)b, n_src, n_dst, (uint4 *)a_out, (uint4 *)b_out);
    CUDA_CHECK_LAUNCH();
    return cudaSuccess;
}

} // namespace

extern "C" cudaError_t copy_rows_pair(const void *a, const void *b, int heads, int64_t n_src,
                                      int64_t n_dst, size_t row_bytes, void *a_out, void *b_out,
                                      cudaStream_t stream)
{
    if (heads < 1 || heads > 65535 || n_src < 1 || n_dst < 0) return cudaErrorInvalidValue;
    if (n_dst == 0) return cudaSuccess;
    switch (row_bytes) {
    case 128: return launch_copy<8>(a, b, heads, n_src, n_dst, a_out, b_out, stream);
    case 256: return launch_copy<16>(a, b, heads, n_src, n_dst, a_out, b_out, stream);
    case 512: return launch_copy<32>(a, b, heads, n_src, n_dst, a_out, b_out, stream);
    default: return cudaErrorInvalidValue;
    }
}
