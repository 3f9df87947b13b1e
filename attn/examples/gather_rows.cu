// gather_rows.cu — an example attnbench plugin that brings a gather kernel and no method: MiTA's
// step 6 (attn.h, struct attn_gather_version) written out of the tree, built as a shared object
// and loaded with
//
//     attnbench run gather --plugin build/attn/examples/libattn_gather_rows.so
//         --methods gather:gather_rows,gather:vec16,gather:copy
//
// It then runs alone as the variant gather:gather_rows, and inside MiTA as params.gather =
// "gather_rows" (the steps figure shows it as the step "gather"). The kernel is deliberately
// plain — each thread copies 16-byte chunks of the rows, a grid-stride loop over a head's
// m·k·(row bytes / 16) chunks — the point is the shape of a gather plugin, not speed:
// it should land between warp_row and vec16 (kernels/gather.cu's index).
//
// K, V: [heads, N, d]  idx: [heads, m, k] int32  ->  KE, VE: [heads, m, k, d], any dtype whose
// rows are a whole number of 16-byte chunks (d·sizeof(dtype) % 16 == 0).
#include <stdint.h>

#include <cuda_runtime.h>

#include "attn.h"

namespace {

constexpr int THREADS = 256;
constexpr int64_t MAX_BLOCKS = 4096; // per head; the grid-stride loop does the rest

// K, V: [heads, N, chunks] 16-byte chunks  idx: [heads, mk]  KE, VE: [heads, mk, chunks].
// Head blockIdx.y; chunk c of the head's output is chunk c % chunks of row idx[c / chunks].
__global__ void __launch_bounds__(THREADS)
gather_rows_kernel(const uint4 *__restrict__ K, const uint4 *__restrict__ V,
                   const int32_t *__restrict__ idx, int64_t N, int64_t mk, int chunks,
                   uint4 *__restrict__ KE, uint4 *__restrict__ VE)
{
    const int64_t head = blockIdx.y, total = mk * chunks;
    for (int64_t c = (int64_t)blockIdx.x * THREADS + threadIdx.x; c < total;
         c += (int64_t)gridDim.x * THREADS) {
        const int64_t row = c / chunks, chunk = c % chunks;
        const int64_t src = (head * N + idx[head * mk + row]) * chunks + chunk;
        const int64_t dst = (head * mk + row) * chunks + chunk;
        KE[dst] = K[src];
        VE[dst] = V[src];
    }
}

// The launch, or non-zero (cudaErrorInvalidValue), launching nothing, for a shape it cannot do.
int gather_rows_launch(const attn_gather_args *a, void *stream)
{
    const size_t elem = a->dtype == ATTN_FP32 ? 4 : 2;
    const size_t row_bytes = (size_t)a->d * elem;
    if (a->heads < 1 || a->heads > 65535 || a->N < 1 || a->d < 1 || row_bytes % 16 != 0 ||
        a->m < 1 || a->k < 1 || a->m * a->k > INT32_MAX)
        return (int)cudaErrorInvalidValue;
    const int chunks = (int)(row_bytes / 16);
    const int64_t mk = a->m * a->k, blocks = (mk * chunks + THREADS - 1) / THREADS;
    const dim3 grid((unsigned)(blocks < MAX_BLOCKS ? blocks : MAX_BLOCKS), (unsigned)a->heads);
    gather_rows_kernel<<<grid, THREADS, 0, (cudaStream_t)stream>>>(
        static_cast<const uint4 *>(a->K), static_cast<const uint4 *>(a->V), a->idx, a->N, mk,
        chunks, static_cast<uint4 *>(a->KE), static_cast<uint4 *>(a->VE));
    return (int)cudaGetLastError();
}

const attn_gather_version gather_rows = {
    ATTN_ABI_VERSION, "gather_rows",
    "example plugin: 16-byte chunks, one a thread, a grid-stride loop over the rows",
    nullptr, gather_rows_launch};

const attn_gather_version *const gathers[] = {&gather_rows, nullptr};

// No methods: a plugin of gather versions only (ABI 2).
const attn_plugin plugin = {ATTN_ABI_VERSION, "gather_rows (example)", nullptr, gathers};

} // namespace

extern "C" const attn_plugin *attnbench_plugin(void) { return &plugin; }
