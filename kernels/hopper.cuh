// hopper.cuh — the Hopper (sm_90 / sm_90a) building blocks that a kernel family shares: tensor
// maps and TMA tile loads completing on mbarriers, a multi-stage producer/consumer pipeline of
// full/empty barriers, the 128-byte-swizzled shared-memory layout both TMA and wgmma read,
// wgmma descriptors and the wgmma.mma_async wrappers (m64nNk16, bf16/fp16 in, fp32 out, A from
// shared memory or from registers), their fence/commit/wait, setmaxnreg and named barriers.
// Users: flash_attn.cu's `flash_wgmma` versions, gathered_attention.cu's sm_90a expert tiles,
// mita_route.cu's route_wgmma, topk_select.cu's select_wgmma (mita's probe), softmax.cu's
// attend_resident_wgmma (agent's and nystrom's output pass) and linear_attn.cu's
// linear_out_wgmma.
//
// Which target compiles what. TMA and mbarriers are plain sm_90; wgmma and setmaxnreg exist
// only in the sm_90a target, whose device passes define __CUDA_ARCH_FEAT_SM90_ALL. Every device
// function here compiles in any sm_90+ pass; a kernel that calls the wgmma or setmaxnreg ones
// puts its body under `#if HOPPER_WGMMA` (below) so that the build's other passes (the portable
// PTX of meson.build's gpu_arch, an sm_80 SASS) compile it to an empty body, and its host side
// launches it only where flash_attn.cu's check says the sm_90a image is the one that runs.
//
// The tile layout, "SW128": a tile of R rows × C 16-bit columns (C a multiple of 64) is stored as
// C/64 column blocks one after the other, each R rows × 128 bytes (64 elements), with the
// 16-byte chunk c of row r at chunk position c ^ (r % 8) (CU_TENSOR_MAP_SWIZZLE_128B). Each block
// must start on a 1024-byte boundary (8 rows × 128 bytes: the swizzle's period), which holds when
// the tile starts on one and R is a multiple of 8. This is the layout a TMA load with a
// 64-element-wide box and 128-byte swizzle writes, and the canonical SW128 layout of wgmma
// descriptors, K-major (rows = M or N, columns = K) or MN-major (rows = K, columns = M or N).
#ifndef KERNELS_HOPPER_CUH
#define KERNELS_HOPPER_CUH

#include <cuda.h> // CUtensorMap and its enums only: the driver function comes from the runtime
#include <cuda/atomic>
#include <cuda/ptx>
#include <cudaTypedefs.h> // PFN_cuTensorMapEncodeTiled
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <stdint.h>
#include <type_traits>

#include "cuda_check.h"
#include "portable.h" // ATTNBENCH_PORTABLE_KERNELS: hopper_sm90a_runs
#include "mma_util.cuh" // split_pack: hopper_store_split_rows

#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define HOPPER_WGMMA 1 // this device pass is sm_90a: wgmma and setmaxnreg exist
#else
#define HOPPER_WGMMA 0
#endif

// ---- host: where the sm_90a kernels run -----------------------------------------------------

// Whether this build's sm_90a kernels run on the current device: the build embedded the sm_90a
// image (meson's gpu_arch lists 90a: ATTN_HAVE_SM90A), the device is compute capability 9.0,
// the only one that loads it, and the environment does not ask for the portable kernels only
// (portable.h). Elsewhere their bodies are empty (HOPPER_WGMMA) and the caller launches its
// portable version.
inline cudaError_t hopper_sm90a_runs(bool *yes)
{
    *yes = false;
#ifdef ATTN_HAVE_SM90A
    if (attn_portable_kernels_forced()) return cudaSuccess;
    int dev, major, minor;
    CUDA_CHECK(cudaGetDevice(&dev));
    CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev));
    CUDA_CHECK(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev));
    *yes = major == 9 && minor == 0;
#endif
    return cudaSuccess;
}

// ---- host: tensor maps ---------------------------------------------------------------------

// cuTensorMapEncodeTiled, a driver function, looked up once through the runtime
// (cudaGetDriverEntryPointByVersion) so that the build does not link libcuda.
struct hopper_encode_fn {
    PFN_cuTensorMapEncodeTiled_v12000 fn;
    cudaError_t err;
};
inline hopper_encode_fn hopper_encode_lookup()
{
    static const hopper_encode_fn found = [] {
        void *fn = nullptr;
        cudaDriverEntryPointQueryResult status;
        cudaError_t err = cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &fn, 12000,
                                                           cudaEnableDefault, &status);
        if (err == cudaSuccess && (status != cudaDriverEntryPointSuccess || !fn))
            err = cudaErrorNotSupported;
        return hopper_encode_fn{reinterpret_cast<PFN_cuTensorMapEncodeTiled_v12000>(fn), err};
    }();
    return found;
}

// Fills `map` for TMA loads of a [planes][rows][cols] tensor of 16-bit elements, contiguous
// row-major at `base` (16-byte aligned, cols a multiple of 64), in boxes of box_rows rows × 64
// columns of one plane, with 128-byte swizzle: each box lands as one SW128 column block
// (above). Rows past `rows` read as zeros (a partial last tile), never the next plane; they
// still count as bytes of the box for the mbarrier.
inline cudaError_t hopper_tensor_map_sw128(CUtensorMap *map, const void *base, bool bf16,
                                           uint64_t planes, uint64_t rows, uint64_t cols,
                                           uint32_t box_rows)
{
    const hopper_encode_fn encode = hopper_encode_lookup();
    CUDA_CHECK(encode.err);
    if (reinterpret_cast<uintptr_t>(base) % 16 != 0 || cols % 64 != 0 || box_rows == 0 ||
        box_rows > 256)
        return cudaErrorInvalidValue;
    const cuuint64_t dims[3] = {cols, rows, planes};           // innermost first
    const cuuint64_t strides[2] = {cols * 2, rows * cols * 2}; // bytes, of dims 1 and 2
    const cuuint32_t box[3] = {64, box_rows, 1};               // 64 × 2 bytes: the swizzle span
    const cuuint32_t step[3] = {1, 1, 1};
    const CUresult r = encode.fn(
        map, bf16 ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16 : CU_TENSOR_MAP_DATA_TYPE_FLOAT16, 3,
        const_cast<void *>(base), dims, strides, box, step, CU_TENSOR_MAP_INTERLEAVE_NONE,
        CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
        CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
    return r == CUDA_SUCCESS ? cudaSuccess : cudaErrorInvalidValue;
}

// ---- device: mbarriers and TMA -----------------------------------------------------------------

// An mbarrier's phase parity flips each time its expected arrivals (and transaction bytes) are
// all in. hopper_wait(bar, parity) returns once the phase of that parity has completed: on a
// fresh barrier (phase 0 running) waiting for parity 1 returns at once — the producer's first
// pass over its empty barriers relies on it. (A bounded wait that traps was tried: its clock
// registers pushed the d=128 consumers of flash_attn.cu into spills.)
__device__ __forceinline__ void hopper_wait(uint64_t *bar, uint32_t parity)
{
    while (!cuda::ptx::mbarrier_try_wait_parity(bar, parity)) {
    }
}

// The same two on a barrier's 32-bit shared address. A generic pointer to shared memory costs
// its every use a conversion that reads the CTA's place in its cluster (S2R SR_CgaCtaId, tens of
// cycles), which the compiler redoes where registers are short rather than keep; a kernel that
// takes hopper_smem_base once and addresses its barriers from it pays that once.
__device__ __forceinline__ void hopper_wait(uint32_t bar, uint32_t parity)
{
    uint32_t done;
    do {
        asm volatile("{\n\t.reg .pred p;\n\t"
                     "mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n\t"
                     "selp.u32 %0, 1, 0, p;\n}\n"
                     : "=r"(done)
                     : "r"(bar), "r"(parity)
                     : "memory");
    } while (!done);
}
__device__ __forceinline__ void hopper_arrive(uint32_t bar)
{
    asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(bar) : "memory");
}
// The 32-bit shared address of p, computed here once and held: an asm result, which the
// compiler keeps in a register rather than recomputing from the generic pointer.
__device__ __forceinline__ uint32_t hopper_smem_base(const void *p)
{
    uint64_t a;
    asm volatile("cvta.to.shared.u64 %0, %1;\n" : "=l"(a) : "l"(p));
    return (uint32_t)a;
}

// Loads box (col0, row0, plane) of `map` (hopper_tensor_map_sw128) into shared memory at `dst`
// (1024-byte aligned); its bytes count towards `bar`'s expected transaction bytes.
__device__ __forceinline__ void hopper_tma_load(void *dst, const CUtensorMap *map, int col0,
                                                int row0, int plane, uint64_t *bar)
{
    const int32_t coords[3] = {col0, row0, plane};
    cuda::ptx::cp_async_bulk_tensor(cuda::ptx::space_shared, cuda::ptx::space_global, dst, map,
                                    coords, bar);
}

// A pipeline of STAGES buffers between one producer thread (TMA loads) and consumer threads.
// full[s]: the producer arrives once with the stage's byte count, TMA completes the bytes;
// empty[s]: every consumer arrival (init's `consumers`) says the stage is read. Both sides walk
// the stages in the same order with a hopper_pipe_state. Lives in shared memory.
template <int STAGES> struct hopper_pipe {
    uint64_t full[STAGES], empty[STAGES];

    // One thread, before the block's first barrier; visible to the TMA unit after that barrier.
    __device__ void init(uint32_t consumers)
    {
        for (int s = 0; s < STAGES; s++) {
            cuda::ptx::mbarrier_init(&full[s], 1);
            cuda::ptx::mbarrier_init(&empty[s], consumers);
        }
        cuda::ptx::fence_mbarrier_init(cuda::ptx::sem_release, cuda::ptx::scope_cluster);
    }
};

// Where one side of a pipeline stands: the stage, and the parity of the stage's current round.
template <int STAGES> struct hopper_pipe_state {
    int stage = 0;
    uint32_t phase = 0;
    __device__ void advance()
    {
        if (++stage == STAGES) stage = 0, phase ^= 1;
    }
};

// Producer: waits until stage st.stage is free (its previous round was released; the first
// round passes at once), then announces `bytes` of TMA and returns the barrier the loads
// complete on.
template <int STAGES>
__device__ __forceinline__ uint64_t *hopper_produce(hopper_pipe<STAGES> &p,
                                                    const hopper_pipe_state<STAGES> &st,
                                                    uint32_t bytes)
{
    hopper_wait(&p.empty[st.stage], st.phase ^ 1);
    cuda::ptx::mbarrier_arrive_expect_tx(cuda::ptx::sem_release, cuda::ptx::scope_cta,
                                         cuda::ptx::space_shared, &p.full[st.stage], bytes);
    return &p.full[st.stage];
}

// Consumer: waits until stage st.stage holds its data.
template <int STAGES>
__device__ __forceinline__ void hopper_consume(hopper_pipe<STAGES> &p,
                                               const hopper_pipe_state<STAGES> &st)
{
    hopper_wait(&p.full[st.stage], st.phase);
}

// Consumer: one arrival saying the stage is read (after the wgmma that read it completed).
template <int STAGES>
__device__ __forceinline__ void hopper_release(hopper_pipe<STAGES> &p, int stage)
{
    cuda::ptx::mbarrier_arrive(&p.empty[stage]);
}

// A ring of STAGES stages filled by TMA, each tile's `bytes` completing on its stage's full
// barrier, for dense streams that every warp of the block reads (select_wgmma's key tiles,
// route_wgmma's query tiles), with no warp specialized to load. Each warp releases a stage
// when done with its tile (a count in shared memory), and the warp whose release completes
// the count refills that stage with the tile STAGES on. Warps therefore drift up to STAGES − 1
// tiles apart instead of meeting at a block barrier every tile: where their work differs from
// tile to tile (select_wgmma's inserts), none waits each tile for the slowest. A stream ends
// with a block barrier, after which every stage is free; a block's streams run through the
// ring one after another, the stages and parities going on.
// mem: the ring's SLOTS 8-byte slots of shared memory, its STAGES full mbarriers and then its
// STAGES release counts (one a slot). load(j, stage, bar):
// tile j's TMA loads into `stage`, completing on `bar` (the ring has announced the bytes);
// issued by one thread. use(j, stage): the whole block, each warp done reading the stage when
// it returns (its wgmma waited for).
template <int STAGES> struct hopper_tma_ring {
    static constexpr int SLOTS = 2 * STAGES;
    uint64_t *full; // mem above: the STAGES full mbarriers, then the release counts
    uint32_t bytes;
    hopper_pipe_state<STAGES> next; // the next tile used: its stage and its round's parity

    __device__ unsigned *released() const { return reinterpret_cast<unsigned *>(full + STAGES); }

    // Thread 0, before the block's first barrier.
    __device__ void init()
    {
        for (int s = 0; s < STAGES; s++) {
            cuda::ptx::mbarrier_init(&full[s], 1);
            released()[s] = 0;
        }
        cuda::ptx::fence_mbarrier_init(cuda::ptx::sem_release, cuda::ptx::scope_cluster);
    }
    template <typename Load> __device__ void fill(int64_t j, int stage, Load &&load)
    {
        cuda::ptx::mbarrier_arrive_expect_tx(cuda::ptx::sem_release, cuda::ptx::scope_cta,
                                             cuda::ptx::space_shared, &full[stage], bytes);
        load(j, stage, &full[stage]);
    }
    // A stream of `tiles`: its first STAGES (every stage is free after the barrier that ended
    // the stream before), issued before what the block stages beside them and the barrier
    // after that.
    template <typename Load> __device__ void prime(int64_t tiles, Load &&load)
    {
        if (threadIdx.x == 0)
            for (int64_t j = 0; j < STAGES && j < tiles; j++)
                fill(j, (next.stage + (int)j) % STAGES, load);
    }
    // Its tiles in order: the wait for tile j, use(j, stage), the warp's release of the stage
    // (the last release refills it with tile j + STAGES); then the block barrier.
    template <typename Load, typename Use>
    __device__ void walk(int64_t tiles, Load &&load, Use &&use)
    {
        const unsigned warps = blockDim.x / 32;
        for (int64_t j = 0; j < tiles; j++) {
            hopper_wait(&full[next.stage], next.phase);
            use(j, next.stage);
            __syncwarp();
            if (threadIdx.x % 32 == 0) {
                // acq_rel: the other warps' reads of the stage happen before the refill.
                cuda::atomic_ref<unsigned, cuda::thread_scope_block> count(released()[next.stage]);
                if (count.fetch_add(1, cuda::std::memory_order_acq_rel) == warps - 1) {
                    count.store(0, cuda::std::memory_order_relaxed);
                    if (j + STAGES < tiles) fill(j + STAGES, next.stage, load);
                }
            }
            next.advance();
        }
        __syncthreads();
    }
};

// ---- device: named barriers and register reallocation --------------------------------------

// Named barrier `id` (1..15; 0 is __syncthreads) among `threads` threads: sync waits for the
// barrier to fill, arrive counts towards it without waiting. Whole warps only.
__device__ __forceinline__ void hopper_bar_sync(int id, int threads)
{
    asm volatile("bar.sync %0, %1;\n" ::"r"(id), "r"(threads) : "memory");
}
__device__ __forceinline__ void hopper_bar_arrive(int id, int threads)
{
    asm volatile("bar.arrive %0, %1;\n" ::"r"(id), "r"(threads) : "memory");
}

// setmaxnreg (sm_90a): the calling warpgroup's registers per thread become REGS (a multiple of
// 8 in 24..256). Takes effect only in a kernel with a register cap at entry
// (__launch_bounds__(threads, 1)), with each warpgroup role one branch of an if/else.
template <int REGS> __device__ __forceinline__ void hopper_regs_dec()
{
#if HOPPER_WGMMA
    asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(REGS));
#endif
}
template <int REGS> __device__ __forceinline__ void hopper_regs_inc()
{
#if HOPPER_WGMMA
    asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(REGS));
#endif
}

// Byte offset of the 16-byte chunk c (columns 8c .. 8c+7) of row r in an SW128 tile whose
// 64-column blocks are block_bytes apart: where a TMA load puts it. For a thread's own copies
// (cp.async, st.shared) of tiles that TMA cannot fetch (gathered rows), and for reads of a TMA
// tile by ldmatrix (topk's warp-scored keys).
__device__ __forceinline__ uint32_t hopper_sw128_offset(int r, int c, uint32_t block_bytes)
{
    return (c / 8) * block_bytes + r * 128 + (((c % 8) ^ (r % 8)) << 4);
}

// A warp's 16 rows of a wgmma accumulator into rows row0 .. row0 + 15 of an SW128 tile of
// 16-bit elements (D columns; 64-column blocks block_bytes apart), by stmatrix: four 8×8
// matrices an instruction, D / 16 instructions, where 4-byte st.shared took D / 4. packed(j,
// h): the thread's columns 8j + 2t, + 1 of its row g + 8h (g = lane / 4, t = lane % 4: the
// accumulator's layout, which is also stmatrix's) as one 32-bit pair. Matrix i of an
// instruction is column block j + i / 2 of rows 8 · (i % 2) ..; lane L names the address of
// row L % 8 of matrix L / 8. With row0 a multiple of 8 the swizzle puts each matrix's eight
// 16-byte rows in distinct banks.
template <int D, typename Packed>
__device__ __forceinline__ void hopper_stmatrix_rows(uint32_t tile, uint32_t block_bytes,
                                                     int row0, int lane, Packed &&packed)
{
#if HOPPER_WGMMA
    const int q = lane / 8, r = row0 + 8 * (q % 2) + lane % 8;
#pragma unroll
    for (int j = 0; j < D / 8; j += 2) {
        const uint32_t at = tile + hopper_sw128_offset(r, j + q / 2, block_bytes);
        asm volatile("stmatrix.sync.aligned.m8n8.x4.shared.b16 [%0], {%1, %2, %3, %4};\n" ::"r"(at),
                     "r"(packed(j, 0)), "r"(packed(j, 1)), "r"(packed(j + 1, 0)),
                     "r"(packed(j + 1, 1))
                     : "memory");
    }
#endif
}

// The first 1024-byte boundary at or after p (a kernel's dynamic shared memory): where SW128
// tiles may start, the swizzle's period. Such a kernel asks 1 KB more than its tiles take.
__device__ __forceinline__ unsigned char *hopper_smem_align1024(unsigned char *p)
{
    return p + ((1024 - (smem_u32(p) & 1023)) & 1023);
}

// ROWS fp32 rows of D columns (rows at and past n_valid as zeros) as two SW128 tiles of T at
// shared addresses hi and lo, hi + lo = x to ~16 mantissa bits (split_pack): the operand of
// selection scores S = X·Kᵀ as X_lo·Kᵀ + X_hi·Kᵀ, which keep fp32-level precision (mita's
// landmarks in its probe and its routing). Split over `threads` threads from `tid`; the writes
// are generic-proxy stores: a hopper_fence_proxy_async and a barrier before wgmma reads them.
template <typename T, int ROWS, int D>
__device__ __forceinline__ void hopper_store_split_rows(uint32_t hi, uint32_t lo, const float *x,
                                                        int64_t n_valid, int tid, int threads)
{
    constexpr uint32_t BLOCK = ROWS * 128;
    for (int c = tid; c < ROWS * D / 4; c += threads) {
        const int r = c / (D / 4), col = 4 * (c % (D / 4));
        const float4 v = r < n_valid ? *reinterpret_cast<const float4 *>(x + (int64_t)r * D + col)
                                     : make_float4(0.f, 0.f, 0.f, 0.f);
        uint2 h, l;
        split_pack<T>(v.x, v.y, h.x, l.x);
        split_pack<T>(v.z, v.w, h.y, l.y);
        // 4 columns = 8 bytes: half of the 16-byte chunk col / 8, at byte (col % 8) * 2 of it
        const uint32_t at = hopper_sw128_offset(r, col / 8, BLOCK) + (col % 8) * 2;
        asm volatile("st.shared.v2.b32 [%0], {%1, %2};\n" ::"r"(hi + at), "r"(h.x), "r"(h.y));
        asm volatile("st.shared.v2.b32 [%0], {%1, %2};\n" ::"r"(lo + at), "r"(l.x), "r"(l.y));
    }
}

// ---- device: wgmma descriptors -------------------------------------------------------------

// The 64-bit shared-memory matrix descriptor of wgmma (PTX ISA, "Matrix Descriptor Format"):
// bits 0-13 start address >> 4, 16-29 leading-dimension byte offset (LBO) >> 4, 32-45
// stride-dimension byte offset (SBO) >> 4, 49-51 base offset (0: the swizzle pattern starts at
// a 1024-byte boundary), 62-63 swizzle mode (1 = 128-byte).
__device__ __forceinline__ uint64_t hopper_desc_sw128(uint32_t smem_addr, uint32_t lbo,
                                                      uint32_t sbo)
{
    return (uint64_t)((smem_addr & 0x3FFFF) >> 4) | (uint64_t)((lbo >> 4) & 0x3FFF) << 16 |
           (uint64_t)((sbo >> 4) & 0x3FFF) << 32 | (uint64_t)1 << 62;
}

// K-major operand (A = [M][K], or B = [N][K], K contiguous) in an SW128 tile: the descriptor of
// the 16-element K slice k16 (K columns 16·k16 .. +15) of rows starting at tile row 0.
// `tile`: the tile's shared address; `block_bytes`: one column block's size (rows × 128).
// In the canonical K-major SW128 layout, ((8,m),(8,2k)) in 16-byte units with strides
// ((8, SBO), (1, —)), 8-row groups are SBO = 1024 bytes apart and the K slice starts 32·(k16 % 4)
// bytes into its column block: the hardware applies the XOR swizzle to the address it forms, so
// an offset inside the 128-byte row is given as is. LBO is unused for swizzled K-major
// operands whose K slice (32 bytes) lies inside one 128-byte row; 16 is written.
__device__ __forceinline__ uint64_t hopper_desc_kmajor(uint32_t tile, uint32_t block_bytes, int k16)
{
    return hopper_desc_sw128(tile + (k16 / 4) * block_bytes + (k16 % 4) * 32, 16, 1024);
}

// MN-major B operand (B = [K][N], N contiguous: stored as K rows of N columns) in an SW128 tile,
// used with the wgmma transpose bit for B set: the descriptor of the 16-row K slice k16
// (rows 16·k16 .. +15) and N columns from 0. Canonical MN-major SW128 layout,
// ((8,8,n),(8,k)) in 16-byte units with strides ((1, 8, LBO), (8, SBO)): 64 N-elements make one
// 128-byte row, the next 64 are the next column block (LBO = block_bytes), 8-row K groups are
// SBO = 1024 bytes apart, so a 16-row K slice starts 2048·k16 bytes in.
__device__ __forceinline__ uint64_t hopper_desc_mnmajor(uint32_t tile, uint32_t block_bytes, int k16)
{
    return hopper_desc_sw128(tile + k16 * 2048, block_bytes, 1024);
}

// Orders this thread's earlier generic-proxy writes of shared memory (st.shared, cp.async once
// waited for) before later async-proxy reads of it (wgmma's operands, TMA stores): each writer
// fences, then the block meets at a barrier, then the wgmma are issued.
__device__ __forceinline__ void hopper_fence_proxy_async()
{
    asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
}

// ---- device: wgmma -------------------------------------------------------------------------

// wgmma.mma_async m64nNk16, fp32 accumulators, issued by the four warps of a warpgroup (128
// consecutive threads from a multiple of 128). D = A·B (+ D when `accumulate`), A 64×16, B
// 16×N, D 64×N; A and B bf16 (T = __nv_bfloat16) or fp16 (__half).
//
// D in registers, d[N/2] per thread (PTX ISA, "Register Fragments", wgmma .m64nNk16 D): warp w
// of the warpgroup holds rows 16w .. 16w+15; lane 4g+t holds, for each 8-column block j,
// d[4j+0], d[4j+1] = (row 16w+g, columns 8j+2t, 8j+2t+1) and d[4j+2], d[4j+3] = (row 16w+g+8,
// same columns) — per warp, the C layout of mma.m16n8 repeated over N/8 column blocks.
// A in registers (the _rs form), a[4] per thread, two 16-bit values each (low half = lower
// column): warp w holds rows 16w .. 16w+15; a[0] = (row 16w+g, columns 2t, 2t+1), a[1] = (row
// 16w+g+8, same), a[2] = (row 16w+g, columns 2t+8, 2t+9), a[3] = (row 16w+g+8, same) — the A
// layout of mma.m16n8k16. So the D fragments of two adjacent 8-column blocks 2i, 2i+1, rounded
// to 16 bits, are the A fragment of the 16 K columns 16i .. 16i+15 (P·V in attention).
// TRANS_B: 0 when B is K-major (hopper_desc_kmajor), 1 when MN-major (hopper_desc_mnmajor).

#define HOPPER_D32                                                                                \
    "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, " \
    "%20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}"
#define HOPPER_D40                                                                                \
    "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, " \
    "%20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, "  \
    "%38, %39}"
#define HOPPER_D64                                                                                \
    "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, " \
    "%20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, "  \
    "%38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, "  \
    "%56, %57, %58, %59, %60, %61, %62, %63}"
#define HOPPER_D88                                                                              \
    "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, " \
    "%20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, " \
    "%38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, " \
    "%56, %57, %58, %59, %60, %61, %62, %63, %64, %65, %66, %67, %68, %69, %70, %71, %72, %73, " \
    "%74, %75, %76, %77, %78, %79, %80, %81, %82, %83, %84, %85, %86, %87}"
#define HOPPER_D128                                                                               \
    "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, " \
    "%20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, "  \
    "%38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, "  \
    "%56, %57, %58, %59, %60, %61, %62, %63, %64, %65, %66, %67, %68, %69, %70, %71, %72, %73, "  \
    "%74, %75, %76, %77, %78, %79, %80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, "  \
    "%92, %93, %94, %95, %96, %97, %98, %99, %100, %101, %102, %103, %104, %105, %106, %107, "    \
    "%108, %109, %110, %111, %112, %113, %114, %115, %116, %117, %118, %119, %120, %121, %122, "  \
    "%123, %124, %125, %126, %127}"
#define HOPPER_D4 "{%0, %1, %2, %3}"
#define HOPPER_ACC4(d) "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
#define HOPPER_ACC8(d, i)                                                                         \
    "+f"(d[i]), "+f"(d[i + 1]), "+f"(d[i + 2]), "+f"(d[i + 3]), "+f"(d[i + 4]), "+f"(d[i + 5]),   \
        "+f"(d[i + 6]), "+f"(d[i + 7])
#define HOPPER_ACC32(d)                                                                           \
    HOPPER_ACC8(d, 0), HOPPER_ACC8(d, 8), HOPPER_ACC8(d, 16), HOPPER_ACC8(d, 24)
#define HOPPER_ACC40(d) HOPPER_ACC32(d), HOPPER_ACC8(d, 32)
#define HOPPER_ACC64(d) HOPPER_ACC32(d), HOPPER_ACC8(d, 32), HOPPER_ACC8(d, 40), HOPPER_ACC8(d, 48), \
    HOPPER_ACC8(d, 56)
#define HOPPER_ACC88(d) HOPPER_ACC64(d), HOPPER_ACC8(d, 64), HOPPER_ACC8(d, 72), HOPPER_ACC8(d, 80)
#define HOPPER_ACC128(d)                                                                          \
    HOPPER_ACC64(d), HOPPER_ACC8(d, 64), HOPPER_ACC8(d, 72), HOPPER_ACC8(d, 80), HOPPER_ACC8(d, 88), \
        HOPPER_ACC8(d, 96), HOPPER_ACC8(d, 104), HOPPER_ACC8(d, 112), HOPPER_ACC8(d, 120)

// The asm of one wgmma: SHAPE "m64n64k16" with REGS = HOPPER_D32 and the other operands from
// %32 on, "m64n80k16" with HOPPER_D40 and the others from %40, "m64n128k16" with HOPPER_D64
// and the others from %64, "m64n176k16" with HOPPER_D88 and the others from %88, or
// "m64n256k16" with
// HOPPER_D128 and the others from %128; TYPE "bf16" or "f16". The
// numbers name the operands after the accumulators: _ss desc_a (A), desc_b (B), accumulate
// (P), TRANS_B (TB); _rs a[0..3] (A0..A3), desc_b, accumulate, TRANS_B. accumulate = 0 clears
// the predicate p, which makes D = A·B.
#define HOPPER_WGMMA_SS(SHAPE, TYPE, REGS, ACC, A, B, P, TB)                                      \
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %" P ", 0;\n"                                \
                 "wgmma.mma_async.sync.aligned." SHAPE ".f32." TYPE "." TYPE " " REGS ", "       \
                 "%" A ", %" B ", p, 1, 1, 0, %" TB ";\n}\n"                                     \
                 : ACC                                                                            \
                 : "l"(desc_a), "l"(desc_b), "r"(accumulate), "n"(TRANS_B))

template <typename T> constexpr bool hopper_is_bf16() { return std::is_same<T, __nv_bfloat16>::value; }

// D (+)= A·B, A and B in shared memory (K-major A). N = 64, 80, 128 or 176 (S = Q·Kᵀ's key
// tiles).
template <typename T, int N, int TRANS_B>
__device__ __forceinline__ void hopper_wgmma_ss(float (&d)[N / 2], uint64_t desc_a,
                                                uint64_t desc_b, int accumulate)
{
    static_assert(N == 64 || N == 80 || N == 128 || N == 176,
                  "wgmma wrappers: N = 64, 80, 128 or 176");
#if HOPPER_WGMMA
    if constexpr (N == 64) {
        if constexpr (hopper_is_bf16<T>())
            HOPPER_WGMMA_SS("m64n64k16", "bf16", HOPPER_D32, HOPPER_ACC32(d), "32", "33", "34", "35");
        else
            HOPPER_WGMMA_SS("m64n64k16", "f16", HOPPER_D32, HOPPER_ACC32(d), "32", "33", "34", "35");
    } else if constexpr (N == 80) {
        if constexpr (hopper_is_bf16<T>())
            HOPPER_WGMMA_SS("m64n80k16", "bf16", HOPPER_D40, HOPPER_ACC40(d), "40", "41", "42", "43");
        else
            HOPPER_WGMMA_SS("m64n80k16", "f16", HOPPER_D40, HOPPER_ACC40(d), "40", "41", "42", "43");
    } else if constexpr (N == 176) {
        if constexpr (hopper_is_bf16<T>())
            HOPPER_WGMMA_SS("m64n176k16", "bf16", HOPPER_D88, HOPPER_ACC88(d), "88", "89", "90", "91");
        else
            HOPPER_WGMMA_SS("m64n176k16", "f16", HOPPER_D88, HOPPER_ACC88(d), "88", "89", "90", "91");
    } else {
        if constexpr (hopper_is_bf16<T>())
            HOPPER_WGMMA_SS("m64n128k16", "bf16", HOPPER_D64, HOPPER_ACC64(d), "64", "65", "66", "67");
        else
            HOPPER_WGMMA_SS("m64n128k16", "f16", HOPPER_D64, HOPPER_ACC64(d), "64", "65", "66", "67");
    }
#endif
}
#undef HOPPER_WGMMA_SS

#define HOPPER_WGMMA_RS(SHAPE, TYPE, REGS, ACC, A0, A1, A2, A3, B, P, TB)                          \
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %" P ", 0;\n"                                  \
                 "wgmma.mma_async.sync.aligned." SHAPE ".f32." TYPE "." TYPE " " REGS ", "        \
                 "{%" A0 ", %" A1 ", %" A2 ", %" A3 "}, %" B ", p, 1, 1, %" TB ";\n}\n"           \
                 : ACC                                                                             \
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc_b), "r"(accumulate),       \
                   "n"(TRANS_B))

// D (+)= A·B, A in registers (the layout above), B in shared memory. N = 8 (row sums of A
// against a tile of ones), 64, 128 or 256.
template <typename T, int N, int TRANS_B>
__device__ __forceinline__ void hopper_wgmma_rs(float (&d)[N / 2], const uint32_t (&a)[4],
                                                uint64_t desc_b, int accumulate)
{
    static_assert(N == 8 || N == 64 || N == 128 || N == 256,
                  "wgmma wrappers: N = 8, 64, 128 or 256");
#if HOPPER_WGMMA
    if constexpr (N == 8) {
        if constexpr (hopper_is_bf16<T>())
            HOPPER_WGMMA_RS("m64n8k16", "bf16", HOPPER_D4, HOPPER_ACC4(d), "4", "5", "6", "7",
                            "8", "9", "10");
        else
            HOPPER_WGMMA_RS("m64n8k16", "f16", HOPPER_D4, HOPPER_ACC4(d), "4", "5", "6", "7",
                            "8", "9", "10");
    } else if constexpr (N == 64) {
        if constexpr (hopper_is_bf16<T>())
            HOPPER_WGMMA_RS("m64n64k16", "bf16", HOPPER_D32, HOPPER_ACC32(d), "32", "33", "34",
                            "35", "36", "37", "38");
        else
            HOPPER_WGMMA_RS("m64n64k16", "f16", HOPPER_D32, HOPPER_ACC32(d), "32", "33", "34",
                            "35", "36", "37", "38");
    } else if constexpr (N == 128) {
        if constexpr (hopper_is_bf16<T>())
            HOPPER_WGMMA_RS("m64n128k16", "bf16", HOPPER_D64, HOPPER_ACC64(d), "64", "65", "66",
                            "67", "68", "69", "70");
        else
            HOPPER_WGMMA_RS("m64n128k16", "f16", HOPPER_D64, HOPPER_ACC64(d), "64", "65", "66",
                            "67", "68", "69", "70");
    } else {
        if constexpr (hopper_is_bf16<T>())
            HOPPER_WGMMA_RS("m64n256k16", "bf16", HOPPER_D128, HOPPER_ACC128(d), "128", "129",
                            "130", "131", "132", "133", "134");
        else
            HOPPER_WGMMA_RS("m64n256k16", "f16", HOPPER_D128, HOPPER_ACC128(d), "128", "129",
                            "130", "131", "132", "133", "134");
    }
#endif
}
#undef HOPPER_WGMMA_RS
#undef HOPPER_D4
#undef HOPPER_ACC4
#undef HOPPER_D32
#undef HOPPER_D40
#undef HOPPER_D64
#undef HOPPER_D88
#undef HOPPER_D128
#undef HOPPER_ACC8
#undef HOPPER_ACC32
#undef HOPPER_ACC40
#undef HOPPER_ACC64
#undef HOPPER_ACC88
#undef HOPPER_ACC128

// wgmma.fence: orders this thread's earlier register writes (accumulators, A fragments) and
// shared-memory writes before the wgmma that follow. Needed before the first wgmma of a batch
// whenever those registers were touched by ordinary instructions since the last one.
__device__ __forceinline__ void hopper_wgmma_fence()
{
#if HOPPER_WGMMA
    asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
#endif
}
// Closes the batch of wgmma issued since the last commit into one group.
__device__ __forceinline__ void hopper_wgmma_commit()
{
#if HOPPER_WGMMA
    asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
#endif
}
// Waits until at most PENDING committed groups are still running.
template <int PENDING> __device__ __forceinline__ void hopper_wgmma_wait()
{
#if HOPPER_WGMMA
    asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(PENDING) : "memory");
#endif
}

// The compiler sees a wgmma's accumulators as written when the asm is issued, not when the
// group completes: it could move an ordinary read of them above the wait, or an ordinary write
// below the fence. An empty asm that "modifies" each register, placed right after the wait (or
// before the fence), pins those accesses to its side.
template <int R> __device__ __forceinline__ void hopper_pin(float (&r)[R])
{
#pragma unroll
    for (int i = 0; i < R; i++) asm volatile("" : "+f"(r[i])::"memory");
}
template <int R> __device__ __forceinline__ void hopper_pin(uint32_t (&r)[R])
{
#pragma unroll
    for (int i = 0; i < R; i++) asm volatile("" : "+r"(r[i])::"memory");
}

// S (64 × N) = A0·B0ᵀ + A1·B1ᵀ, each a product over K = D of K-major SW128 tiles (A's rows
// from a0, a1 in tiles whose 64-column blocks are a_block bytes apart; B's from b0, b1,
// b_block), D/16 wgmma a term into one accumulator, the first term's k-steps first; waited.
// The selection scores of a split fp32 operand, x = hi + lo with the smaller term first
// (route_wgmma: Q against the landmarks; select_wgmma: the landmarks against keys). TERMS = 1:
// S = A1·B1ᵀ alone (a0, b0 unused). One function, so that kernels that must agree on a
// score's bits (a selection and its floors) compute it by the same instructions.
template <typename T, int N, int D, int TERMS>
__device__ __forceinline__ void hopper_scores_kmajor(float (&s)[N / 2], uint32_t a0, uint32_t b0,
                                                     uint32_t a1, uint32_t b1, uint32_t a_block,
                                                     uint32_t b_block)
{
    hopper_wgmma_fence();
    if constexpr (TERMS == 2)
#pragma unroll
        for (int kk = 0; kk < D / 16; kk++)
            hopper_wgmma_ss<T, N, 0>(s, hopper_desc_kmajor(a0, a_block, kk),
                                     hopper_desc_kmajor(b0, b_block, kk), kk > 0);
#pragma unroll
    for (int kk = 0; kk < D / 16; kk++)
        hopper_wgmma_ss<T, N, 0>(s, hopper_desc_kmajor(a1, a_block, kk),
                                 hopper_desc_kmajor(b1, b_block, kk), TERMS == 2 || kk > 0);
    hopper_wgmma_commit();
    hopper_wgmma_wait<0>();
    hopper_pin(s);
}

#endif
