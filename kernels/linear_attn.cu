// linear_attn.cu — non-causal linear attention (kernels/linear_attn.h).
//
// Every version runs three launches: kv_partial (split-N reduction: one block per chunk of rows
// and batch-head, as many chunks as fill the device once, each writing its partial (S, z)),
// kv_reduce (sums the chunks in chunk order: deterministic, ~10 µs) and out (a wave of blocks
// per batch-head walking 64-row tiles, S loaded into shared memory once per block).
// Cost at N = 2^20, B·H = 8, d = 64: 4·N·d²·B·H = 137 GFLOP against 4.3 GB of bf16 I/O (1.46 ms
// at 2.95 TB/s). H100 times below: kernels/NOTES.md "linear".
//   simt  fp32 (the dtype's own; correct for bf16/fp16 too, not used for them). CUDA cores:
//         kv_partial stages 32-row tiles of φ(K), V as fp32 and accumulates an 8×8 block of S
//         per thread (64 FMAs per 4 float4 shared loads), z summed by the loader threads; out
//         multiplies φ(Q) tiles (staged transposed) by S, 8×8 outputs per thread. Bound by fp32
//         FMA issue (137 GFLOP is ~2 ms at 67 TFLOP/s) and reaching a third of it: 6.4 ms fp32
//         (5.3 ms when it served bf16) — 12 warps/SM (165 registers) and the loaders' φ/convert
//         work between barriers, nothing in flight meanwhile.
//   mma   bf16/fp16, 3.4× the simt on bf16: 1.55 ms (94% of the floor's rate). Tensor cores
//         (mma.sync m16n8k16, fp32 accumulators): kv_partial streams 64-row tiles through two
//         cp.async stages, φ applied in place in shared memory (φ(K) rounded to the dtype),
//         A = φ(K)ᵀ and B = V by ldmatrix.trans (89% of DRAM peak); out loads the next φ(Q)
//         tile into registers while multiplying this one (bf16) by S and z split into bf16
//         hi + lo parts (fp16 cannot hold the sums over N) — 61% of DRAM peak, bound by the
//         ldmatrix traffic of S (L1 90% busy).
//   wgmma bf16/fp16 at d = 64 where the sm_90a image runs (elsewhere, and at d = 128, mma): mma's
//         kv passes, a new output pass on wgmma m64n64k16 to cut the shared-memory traffic
//         that bounds mma's. One warpgroup a block (5 an SM) multiplies 64-row tiles of φ(Q),
//         A from registers, by S_lo and S_hi resident in shared memory (SW128): 16 KB of B
//         read per 64 rows where mma's warps read 64 KB, 512 bytes of shared-memory traffic
//         a query row against 1408. Q streams by cp.async through a 3-tile ring per block
//         (80 KB in flight an SM), each thread loading and storing whole 16-byte chunks of its
//         rows (the channels permuted inside the product); φ(q)·z in fp32 on the CUDA cores
//         beside the wgmma. Its φ (ex2.approx.ftz, no subnormal path) is mma's output pass's
//         too now, ~5 instructions an element fewer there. Linear at N = 2^20 then takes
//         1.15× its byte floor on the H200 (kernels/NOTES.md, linear).

#include "linear_attn.h"

#include "cuda_util.cuh"
#include "hopper.cuh" // the wgmma output pass: descriptors, wrappers, hopper_sm90a_runs
#include "mma_util.cuh"

namespace
{

constexpr int KV_ROWS = 32;  // rows per tile of kv_partial
constexpr int OUT_ROWS = 64; // rows per tile of out
constexpr int OUT_PAD = 4;   // floats of padding per row of the transposed φ(Q) tile

// Threads of kv_partial (an 8×8 block of S each) and of out (8 rows × 8 columns each).
template <int D> constexpr int kv_threads() { return (D / 8) * (D / 8); }
template <int D> constexpr int out_threads() { return (OUT_ROWS / 8) * (D / 8); }
template <int D> constexpr size_t out_smem_bytes()
{
    return sizeof(float) * ((size_t)D * D + (size_t)D * (OUT_ROWS + OUT_PAD) + OUT_ROWS + D);
}

__device__ __forceinline__ float elu_plus_one(float x) { return x > 0.f ? x + 1.f : expf(x); }
// The same on the special-function unit (ex2.approx, ~2 ulp): for the mma kernels, whose φ is
// rounded to 16 bits anyway, expf's ~20 instructions per element would cost more than the math.
__device__ __forceinline__ float elu_plus_one_fast(float x)
{
    return x > 0.f ? x + 1.f : __expf(x);
}

// 16 bytes of T at p, as fp32.
template <typename T> struct chunk16 {
    static constexpr int VEC = 16 / sizeof(T);
    float f[VEC];
    __device__ __forceinline__ void load(const T *p)
    {
        union {
            uint4 u;
            T e[VEC];
        } v;
        v.u = *reinterpret_cast<const uint4 *>(p);
#pragma unroll
        for (int i = 0; i < VEC; i++) f[i] = to_float(v.e[i]);
    }
};

__device__ __forceinline__ float4 lds4(const float *p)
{
    return *reinterpret_cast<const float4 *>(p);
}

// The 8 indices a thread owns along a dimension of size D: two groups of 4, D/2 apart, so that
// the float4 reads of neighbouring threads are contiguous (no shared-memory bank conflicts).
template <int D> __device__ __forceinline__ int owned(int group, int i)
{
    return (i < 4 ? 0 : D / 2) + group * 4 + (i & 3);
}

// ---- kernels: simt (fp32)
// ------------------------------------------------------------------------------

// k, v: [BH,N,D] T  partial: [BH, chunks, D·D + D] fp32 (S row-major, then z).
// grid: (chunks, BH), kv_threads<D>() threads.
template <typename T, int D>
__global__ void __launch_bounds__(kv_threads<D>())
    linear_kv_partial_simt(const T *k, const T *v, float *partial, int64_t N,
                           int64_t rows_per_chunk)
{
    constexpr int TH = kv_threads<D>(), VEC = chunk16<T>::VEC, CPR = D / VEC;
    static_assert(TH % CPR == 0 && KV_ROWS * CPR % TH == 0,
                  "each loader thread keeps one column chunk");
    static_assert(TH * VEC <= KV_ROWS * D, "z partials fit in the K tile");
    __shared__ __align__(16) float sK[KV_ROWS * D], sV[KV_ROWS * D];

    const int tid = threadIdx.x, tx = tid % (D / 8), ty = tid / (D / 8);
    const int64_t bh = blockIdx.y, chunk = blockIdx.x, chunks = gridDim.x;
    const int64_t row0 = chunk * rows_per_chunk;
    const int64_t row1 = row0 + rows_per_chunk < N ? row0 + rows_per_chunk : N;
    const T *kb = k + bh * N * D, *vb = v + bh * N * D;

    float acc[8][8] = {};
    float zacc[VEC] = {};
    for (int64_t t0 = row0; t0 < row1; t0 += KV_ROWS) {
#pragma unroll
        for (int n = 0; n < KV_ROWS * CPR / TH; n++) {
            const int i = tid + n * TH, r = i / CPR, c = (i % CPR) * VEC;
            chunk16<T> kc, vc;
            if (t0 + r < row1) {
                kc.load(kb + (t0 + r) * D + c);
                vc.load(vb + (t0 + r) * D + c);
#pragma unroll
                for (int e = 0; e < VEC; e++) {
                    kc.f[e] = elu_plus_one(kc.f[e]);
                    zacc[e] += kc.f[e];
                }
            } else {
#pragma unroll
                for (int e = 0; e < VEC; e++)
                    kc.f[e] = vc.f[e] = 0.f; // rows past the chunk add nothing
            }
#pragma unroll
            for (int e = 0; e < VEC; e += 4) {
                *reinterpret_cast<float4 *>(&sK[r * D + c + e]) =
                    make_float4(kc.f[e], kc.f[e + 1], kc.f[e + 2], kc.f[e + 3]);
                *reinterpret_cast<float4 *>(&sV[r * D + c + e]) =
                    make_float4(vc.f[e], vc.f[e + 1], vc.f[e + 2], vc.f[e + 3]);
            }
        }
        __syncthreads();
#pragma unroll 4
        for (int r = 0; r < KV_ROWS; r++) {
            const float4 a0 = lds4(&sK[r * D + ty * 4]), a1 = lds4(&sK[r * D + D / 2 + ty * 4]);
            const float4 b0 = lds4(&sV[r * D + tx * 4]), b1 = lds4(&sV[r * D + D / 2 + tx * 4]);
            const float a[8] = {a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w};
            const float b[8] = {b0.x, b0.y, b0.z, b0.w, b1.x, b1.y, b1.z, b1.w};
#pragma unroll
            for (int i = 0; i < 8; i++)
#pragma unroll
                for (int j = 0; j < 8; j++) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
        }
        __syncthreads();
    }

    float *out = partial + (bh * chunks + chunk) * (D * D + D);
#pragma unroll
    for (int i = 0; i < 8; i++) {
        float *row = out + owned<D>(ty, i) * D;
        *reinterpret_cast<float4 *>(row + tx * 4) =
            make_float4(acc[i][0], acc[i][1], acc[i][2], acc[i][3]);
        *reinterpret_cast<float4 *>(row + D / 2 + tx * 4) =
            make_float4(acc[i][4], acc[i][5], acc[i][6], acc[i][7]);
    }
    // z: thread t summed column chunk t % CPR; column c's partials sit at sK[c + D·s].
#pragma unroll
    for (int e = 0; e < VEC; e++) sK[tid * VEC + e] = zacc[e];
    __syncthreads();
    for (int c = tid; c < D; c += TH) {
        float z = 0.f;
        for (int s = 0; s < TH / CPR; s++) z += sK[c + D * s];
        out[D * D + c] = z;
    }
}

// partial: [BH, chunks, width]  kv: [BH, width]. grid: (ceil(width/256), BH), 256 threads.
__global__ void linear_kv_reduce(const float *partial, float *kv, int chunks, int width)
{
    const int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= width) return;
    const int64_t bh = blockIdx.y;
    const float *p = partial + bh * chunks * width + idx;
    float sum = 0.f;
    for (int c = 0; c < chunks; c++) sum += p[(int64_t)c * width];
    kv[bh * width + idx] = sum;
}

// q: [BH,N,D] T  kv: [BH, D·D + D] fp32 (S, then z)  o: [BH,N,D] T.
// grid: (blocks per head, BH), out_threads<D>() threads, out_smem_bytes<D>() dynamic smem.
template <typename T, int D>
__global__ void __launch_bounds__(out_threads<D>())
    linear_out_simt(const T *q, const float *kv, T *o, int64_t N)
{
    constexpr int TH = out_threads<D>(), VEC = chunk16<T>::VEC, CPR = D / VEC;
    constexpr int LDQ = OUT_ROWS + OUT_PAD;
    static_assert(TH % OUT_ROWS == 0 && OUT_ROWS * CPR % TH == 0,
                  "loader threads walk the rows of a tile");
    extern __shared__ __align__(128) unsigned char smem[];
    float *sS = reinterpret_cast<float *>(smem); // [D][D]
    float *sQt = sS + D * D;                     // [D][LDQ]: φ(Q) of the tile, transposed
    float *sDen = sQt + D * LDQ;                 // [OUT_ROWS]
    float *sZ = sDen + OUT_ROWS;                 // [D]

    const int tid = threadIdx.x, tx = tid % (D / 8), ty = tid / (D / 8);
    const int64_t bh = blockIdx.y;
    const float *kvb = kv + bh * (D * D + D);
    for (int i = tid; i < D * D / 4; i += TH)
        reinterpret_cast<float4 *>(sS)[i] = reinterpret_cast<const float4 *>(kvb)[i];
    for (int i = tid; i < D; i += TH) sZ[i] = kvb[D * D + i];
    const T *qb = q + bh * N * D;
    T *ob = o + bh * N * D;

    const int64_t tiles = (N + OUT_ROWS - 1) / OUT_ROWS;
    for (int64_t tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
        const int64_t r0 = tile * OUT_ROWS;
        __syncthreads(); // the previous tile's φ(Q) and denominators are no longer read
        // Consecutive threads take consecutive rows of one column chunk, so that the
        // transposed stores of a warp hit 32 consecutive words.
#pragma unroll
        for (int n = 0; n < OUT_ROWS * CPR / TH; n++) {
            const int i = tid + n * TH, r = i % OUT_ROWS, c = (i / OUT_ROWS) * VEC;
            chunk16<T> qc;
            if (r0 + r < N) {
                qc.load(qb + (r0 + r) * D + c);
#pragma unroll
                for (int e = 0; e < VEC; e++) qc.f[e] = elu_plus_one(qc.f[e]);
            } else {
#pragma unroll
                for (int e = 0; e < VEC; e++) qc.f[e] = 0.f;
            }
#pragma unroll
            for (int e = 0; e < VEC; e++) sQt[(c + e) * LDQ + r] = qc.f[e];
        }
        __syncthreads();
        for (int r = tid; r < OUT_ROWS; r += TH) {
            float den = 0.f;
            for (int a = 0; a < D; a++) den = fmaf(sQt[a * LDQ + r], sZ[a], den);
            sDen[r] = den + 1e-6f;
        }

        float acc[8][8] = {};
#pragma unroll 4
        for (int a = 0; a < D; a++) {
            const float4 q0 = lds4(&sQt[a * LDQ + ty * 4]);
            const float4 q1 = lds4(&sQt[a * LDQ + OUT_ROWS / 2 + ty * 4]);
            const float4 s0 = lds4(&sS[a * D + tx * 4]), s1 = lds4(&sS[a * D + D / 2 + tx * 4]);
            const float x[8] = {q0.x, q0.y, q0.z, q0.w, q1.x, q1.y, q1.z, q1.w};
            const float s[8] = {s0.x, s0.y, s0.z, s0.w, s1.x, s1.y, s1.z, s1.w};
#pragma unroll
            for (int i = 0; i < 8; i++)
#pragma unroll
                for (int j = 0; j < 8; j++) acc[i][j] = fmaf(x[i], s[j], acc[i][j]);
        }
        __syncthreads(); // sDen is complete

#pragma unroll
        for (int i = 0; i < 8; i++) {
            const int r = owned<OUT_ROWS>(ty, i);
            if (r0 + r >= N) continue;
            const float inv = 1.f / sDen[r];
            T *row = ob + (r0 + r) * D;
#pragma unroll
            for (int h = 0; h < 2; h++) {
                union {
                    T e[4];
                    float4 f4;
                    uint2 u2;
                } pack;
#pragma unroll
                for (int j = 0; j < 4; j++) pack.e[j] = from_float<T>(acc[i][4 * h + j] * inv);
                T *dst = row + h * (D / 2) + tx * 4;
                if constexpr (sizeof(T) == 4)
                    *reinterpret_cast<float4 *>(dst) = pack.f4;
                else
                    *reinterpret_cast<uint2 *>(dst) = pack.u2;
            }
        }
    }
}

// ---- kernels: mma (bf16/fp16) ---------------------------------------------------------------

constexpr int MMA_ROWS = 64; // rows per tile of both mma kernels

template <int D> constexpr int mma_kv_threads() { return 2 * D; } // D/16 warps
template <int D> constexpr size_t mma_kv_smem_bytes() { return 2 * 2 * (size_t)MMA_ROWS * D * 2; }
template <int D> constexpr size_t mma_out_smem_bytes()
{
    return 2 * (size_t)D * D * 2 + 2 * (size_t)D * 16 + (size_t)MMA_ROWS * D * 2;
}

// Eight 16-bit values ↔ fp32.
template <typename T> __device__ __forceinline__ void unpack8(uint4 u, float (&f)[8])
{
    const T *e = reinterpret_cast<const T *>(&u);
#pragma unroll
    for (int i = 0; i < 8; i++) f[i] = to_float(e[i]);
}
template <typename T> __device__ __forceinline__ uint4 pack8(const float (&f)[8])
{
    return make_uint4(mma_t<T>::pack(f[0], f[1]), mma_t<T>::pack(f[2], f[3]),
                      mma_t<T>::pack(f[4], f[5]), mma_t<T>::pack(f[6], f[7]));
}

// The low and high bf16 of a word as fp32, by one bit operation on the whole word: converting
// the halves one by one (to_float) costs a PRMT more for the high one, and where a word is also
// used whole (a wgmma operand) the compiler took it apart and joined it again (2 PRMT).
__device__ __forceinline__ float bf16_low(uint32_t w) { return __uint_as_float(w << 16); }
__device__ __forceinline__ float bf16_high(uint32_t w) { return __uint_as_float(w & 0xffff0000u); }

// φ of eight T, rounded to bf16: the output passes' A operand. bf16 whatever T is: the other
// operand, S and z, holds sums over N that need fp32's range, and a product's two operands
// share one type. exp by ex2.approx.ftz (fast_exp2), not elu_plus_one_fast's __expf, which
// keeps subnormal results (e^x < 2^-126, x < -87) at ~5 more instructions an element: with it
// φ was half of the wgmma output pass's instructions. Here such a φ is 0.
template <typename T> __device__ __forceinline__ uint4 phi_bf16x8(uint4 raw)
{
    float f[8];
    if constexpr (hopper_is_bf16<T>()) {
        const uint32_t w[4] = {raw.x, raw.y, raw.z, raw.w};
#pragma unroll
        for (int e = 0; e < 4; e++) f[2 * e] = bf16_low(w[e]), f[2 * e + 1] = bf16_high(w[e]);
    } else {
        unpack8<T>(raw, f);
    }
#pragma unroll
    for (int e = 0; e < 8; e++) f[e] = f[e] > 0.f ? f[e] + 1.f : fast_exp2(f[e] * LOG2E);
    return pack8<__nv_bfloat16>(f);
}

// k, v: [BH,N,D] T  partial: [BH, chunks, D·D + D] fp32 (S row-major, then z).
// grid: (chunks, BH), mma_kv_threads<D>() threads, mma_kv_smem_bytes<D>() dynamic smem.
// 64-row tiles of K and V through two cp.async stages; each thread turns the K chunks it copied
// into φ(K) in place (rounded to T, while z sums them in fp32); warp w then accumulates rows
// 16w..16w+15 of S = φ(K)ᵀ V over the tile: A = φ(K)ᵀ by ldmatrix.trans, B = V likewise.
template <typename T, int D>
__global__ void __launch_bounds__(mma_kv_threads<D>())
    linear_kv_partial_mma(const T *k, const T *v, float *partial, int64_t N, int64_t rows_per_chunk)
{
    constexpr int TH = mma_kv_threads<D>(), CPR = D / 8, PER = MMA_ROWS * CPR / TH;
    constexpr uint32_t TILE = MMA_ROWS * D * 2;
    static_assert(MMA_ROWS * CPR % TH == 0 && TH % CPR == 0, "each thread keeps one column chunk");
    extern __shared__ __align__(128) unsigned char smem[];
    const uint32_t base = smem_u32(smem);
    const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32, g = lane / 4, t = lane % 4;
    const int64_t bh = blockIdx.y, chunk = blockIdx.x, chunks = gridDim.x;
    const int64_t row0 = chunk * rows_per_chunk;
    const int64_t row1 = row0 + rows_per_chunk < N ? row0 + rows_per_chunk : N;
    const int ntiles = (int)((row1 - row0 + MMA_ROWS - 1) / MMA_ROWS);
    const T *kb = k + bh * N * D, *vb = v + bh * N * D;

    auto issue = [&](int i) {
        const uint32_t sK = base + (i & 1) * 2 * TILE;
        const int64_t r0 = row0 + (int64_t)i * MMA_ROWS;
#pragma unroll
        for (int n = 0; n < PER; n++) {
            const int idx = tid + n * TH, r = idx / CPR, c = idx % CPR;
            const bool ok = r0 + r < row1;
            const int64_t off = ok ? (r0 + r) * D + c * 8 : 0;
            cp_async16(sK + swz<D>(r, c), kb + off, ok ? 16 : 0);
            cp_async16(sK + TILE + swz<D>(r, c), vb + off, ok ? 16 : 0);
        }
        cp_async_commit();
    };

    float acc[D / 8][4] = {};
    float zacc[8] = {};
    issue(0);
    for (int i = 0; i < ntiles; i++) {
        if (i + 1 < ntiles) {
            issue(i + 1);
            cp_async_wait<1>();
        } else {
            cp_async_wait<0>();
        }
        const uint32_t stage = (i & 1) * 2 * TILE, sK = base + stage, sV = sK + TILE;
        const int64_t r0 = row0 + (int64_t)i * MMA_ROWS;
        // φ over this thread's own chunks: its cp.async data is visible to it after the wait.
#pragma unroll
        for (int n = 0; n < PER; n++) {
            const int idx = tid + n * TH, r = idx / CPR, c = idx % CPR;
            uint4 *p = reinterpret_cast<uint4 *>(smem + stage + swz<D>(r, c));
            float f[8];
            unpack8<T>(*p, f);
#pragma unroll
            for (int e = 0; e < 8; e++) f[e] = elu_plus_one_fast(f[e]);
            if (r0 + r < row1) // zero-filled rows past the chunk: V is 0 there, z must skip them
#pragma unroll
                for (int e = 0; e < 8; e++) zacc[e] += f[e];
            *p = pack8<T>(f);
        }
        __syncthreads();
#pragma unroll
        for (int ks = 0; ks < MMA_ROWS / 16; ks++) {
            uint32_t af[4];
            ldsm_x4_trans(
                af, sK + swz<D>(16 * ks + lane % 8 + 8 * (lane / 16), 2 * warp + ((lane / 8) & 1)));
#pragma unroll
            for (int j = 0; j < D / 8; j += 2) {
                uint32_t bf[4];
                ldsm_x4_trans(
                    bf, sV + swz<D>(16 * ks + lane % 8 + 8 * ((lane / 8) & 1), j + lane / 16));
                mma_t<T>::mma(acc[j], af, bf[0], bf[1]);
                mma_t<T>::mma(acc[j + 1], af, bf[2], bf[3]);
            }
        }
        __syncthreads(); // this stage is refilled two tiles later
    }

    float *out = partial + (bh * chunks + chunk) * (D * D + D);
#pragma unroll
    for (int j = 0; j < D / 8; j++)
#pragma unroll
        for (int h = 0; h < 2; h++)
            *reinterpret_cast<float2 *>(out + (16 * warp + g + 8 * h) * D + 8 * j + 2 * t) =
                make_float2(acc[j][2 * h], acc[j][2 * h + 1]);
    // z: thread tid summed column chunk tid % CPR; column c's partials sit at zbuf[c + D·s].
    float *zbuf = reinterpret_cast<float *>(smem); // the tiles are no longer read
#pragma unroll
    for (int e = 0; e < 8; e++) zbuf[tid * 8 + e] = zacc[e];
    __syncthreads();
    for (int c = tid; c < D; c += TH) {
        float z = 0.f;
        for (int s = 0; s < TH / CPR; s++) z += zbuf[c + D * s];
        out[D * D + c] = z;
    }
}

// q: [BH,N,D] T  kv: [BH, D·D + D] fp32 (S, then z)  o: [BH,N,D] T.
// grid: (blocks per head, BH), 128 threads, mma_out_smem_bytes<D>() dynamic smem.
// S and z are split into bf16 hi + lo parts (S = hi + lo to ~16 bits: the sums over N reach
// magnitudes fp16 cannot hold and bf16 alone would cost 3 digits), z as an extra n-tile whose
// column 0 yields φ(q_i)·z from the same fragments. Each warp owns 16 rows of a 64-row tile of
// φ(Q) (bf16 for both input types; the next tile's loads in flight in registers meanwhile);
// O = φ(Q) [S | z] on mma.sync, 4 products per k-step and n-tile pair.
template <typename T, int D>
__global__ void __launch_bounds__(128) linear_out_mma(const T *q, const float *kv, T *o, int64_t N)
{
    typedef __nv_bfloat16 M; // the product's type whatever T is: it needs fp32's range
    constexpr int TH = 128, CPR = D / 8, PER = MMA_ROWS * CPR / TH;
    extern __shared__ __align__(128) unsigned char smem[];
    const uint32_t sShi = smem_u32(smem), sSlo = sShi + D * D * 2;
    const uint32_t sZhi = sSlo + D * D * 2, sZlo = sZhi + D * 16, sQ = sZlo + D * 16;
    const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32, g = lane / 4, t = lane % 4;
    const int64_t bh = blockIdx.y;
    const float *kvb = kv + bh * (D * D + D);
    unsigned char *const s8 = smem;

    for (int idx = tid; idx < D * CPR; idx += TH) {
        const int a = idx / CPR, c = idx % CPR;
        const float4 x0 = *reinterpret_cast<const float4 *>(kvb + a * D + 8 * c);
        const float4 x1 = *reinterpret_cast<const float4 *>(kvb + a * D + 8 * c + 4);
        const float x[8] = {x0.x, x0.y, x0.z, x0.w, x1.x, x1.y, x1.z, x1.w};
        float hi[8], lo[8];
#pragma unroll
        for (int e = 0; e < 8; e++) {
            hi[e] = __bfloat162float(__float2bfloat16_rn(x[e]));
            lo[e] = x[e] - hi[e];
        }
        *reinterpret_cast<uint4 *>(s8 + swz<D>(a, c)) = pack8<M>(hi);
        *reinterpret_cast<uint4 *>(s8 + D * D * 2 + swz<D>(a, c)) = pack8<M>(lo);
    }
    for (int a = tid; a < D; a += TH) {
        const float z = kvb[D * D + a], zhi = __bfloat162float(__float2bfloat16_rn(z));
        const float hi[8] = {zhi}, lo[8] = {z - zhi};
        *reinterpret_cast<uint4 *>(s8 + (sZhi - sShi) + a * 16) = pack8<M>(hi);
        *reinterpret_cast<uint4 *>(s8 + (sZlo - sShi) + a * 16) = pack8<M>(lo);
    }
    const T *qb = q + bh * N * D;
    T *ob = o + bh * N * D;

    // Q tiles pass through registers: tile i + 1 is loaded while tile i is multiplied.
    uint4 raw[PER];
    auto fetch = [&](int64_t tile) {
        const int64_t r0 = tile * MMA_ROWS;
#pragma unroll
        for (int n = 0; n < PER; n++) {
            const int idx = tid + n * TH, r = idx / CPR, c = idx % CPR;
            raw[n] = r0 + r < N ? *reinterpret_cast<const uint4 *>(qb + (r0 + r) * D + 8 * c)
                                : make_uint4(0, 0, 0, 0);
        }
    };
    const int64_t tiles = (N + MMA_ROWS - 1) / MMA_ROWS;
    if (blockIdx.x < tiles) fetch(blockIdx.x);
    for (int64_t tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
        const int64_t r0 = tile * MMA_ROWS;
        __syncthreads(); // the previous tile's φ(Q) is no longer read (first pass: S is stored)
#pragma unroll
        for (int n = 0; n < PER; n++) {
            const int idx = tid + n * TH, r = idx / CPR, c = idx % CPR;
            *reinterpret_cast<uint4 *>(s8 + (sQ - sShi) + swz<D>(r, c)) = phi_bf16x8<T>(raw[n]);
        }
        if (tile + gridDim.x < tiles) fetch(tile + gridDim.x);
        __syncthreads();

        float acc[D / 8][4] = {}, den[4] = {};
#pragma unroll
        for (int ks = 0; ks < D / 16; ks++) {
            uint32_t af[4], zf[4];
            ldsm_x4(af,
                    sQ + swz<D>(16 * warp + lane % 8 + 8 * ((lane / 8) & 1), 2 * ks + lane / 16));
            const int brow = 16 * ks + lane % 8 + 8 * ((lane / 8) & 1);
#pragma unroll
            for (int j = 0; j < D / 8; j += 2) {
                uint32_t bf[4];
                ldsm_x4_trans(bf, sShi + swz<D>(brow, j + lane / 16));
                mma_t<M>::mma(acc[j], af, bf[0], bf[1]);
                mma_t<M>::mma(acc[j + 1], af, bf[2], bf[3]);
                ldsm_x4_trans(bf, sSlo + swz<D>(brow, j + lane / 16));
                mma_t<M>::mma(acc[j], af, bf[0], bf[1]);
                mma_t<M>::mma(acc[j + 1], af, bf[2], bf[3]);
            }
            // Matrices 0, 1: rows of z_hi; 2, 3: the same rows of z_lo.
            ldsm_x4_trans(zf, (lane < 16 ? sZhi : sZlo) + brow * 16);
            mma_t<M>::mma(den, af, zf[0], zf[1]);
            mma_t<M>::mma(den, af, zf[2], zf[3]);
        }

#pragma unroll
        for (int h = 0; h < 2; h++) {
            // Column 0 of the z n-tile: lane 4g holds rows g (den[0]) and g + 8 (den[2]).
            const float inv = 1.f / (__shfl_sync(0xffffffffu, den[2 * h], lane & ~3) + 1e-6f);
            const int64_t row = r0 + 16 * warp + g + 8 * h;
            if (row >= N) continue;
            T *dst = ob + row * D + 2 * t;
#pragma unroll
            for (int j = 0; j < D / 8; j++)
                *reinterpret_cast<uint32_t *>(dst + 8 * j) =
                    mma_t<T>::pack(acc[j][2 * h] * inv, acc[j][2 * h + 1] * inv);
        }
    }
}

// ---- kernels: wgmma output pass (bf16/fp16, d = 64, sm_90a) -----------------------------------

constexpr int WG_D = 64;                            // the head dimension it serves
constexpr int WG_STAGES = 3;                        // Q tiles a block holds: 2 in flight, 1 in use
constexpr uint32_t WG_B_BLOCK = WG_D * 128;         // B_hi or B_lo: 64 rows (N) × 64 (K), SW128
constexpr uint32_t WG_Q_SLOT = MMA_ROWS * WG_D * 2; // one Q tile as loaded: 8 KB
// B_hi, B_lo, the ring of Q tiles, and 1 KB to align B to the swizzle's period.
constexpr size_t wgmma_out_smem_bytes() { return 2 * WG_B_BLOCK + WG_STAGES * WG_Q_SLOT + 1024; }

// The order of the channels inside the product, chosen so that every thread loads its rows of Q
// and stores its rows of O as whole 16-byte chunks, straight between global memory and the
// fragments: no shared-memory staging, no shuffles. A thread (lane 4g + t) holds, of each of
// its two rows, K positions 16kk + 2t + {0, 1, 8, 9} of A (kk = 0..3) and accumulator columns
// 8j + 2t + {0, 1} (j = 0..7); these permutations give it channels 8t .. 8t+7 and
// 32+8t .. 32+8t+7 of both — chunks t and t + 4 of a 64-channel row, and a warp's load or
// store of one chunk per row covers 64 contiguous bytes of 8 rows. A sum over K does not
// depend on the order, so B = [S] is stored with both permutations applied:
// B[n][p] = S[wg_k_channel(p)][wg_n_channel(n)].
// K position p = 16kk + 8·half + 2t + e ↔ channel 32(kk/2) + 8t + 4(kk%2) + 2·half + e: word
// 2(kk%2) + half of the thread's chunk kk/2 is its A register a[kk][2·half + row].
__host__ __device__ constexpr int wg_k_channel(int p)
{
    return 32 * (p / 32) + 8 * (p % 8 / 2) + 4 * (p / 16 % 2) + 2 * (p % 16 / 8) + p % 2;
}
// Accumulator column c = 8j + 2t + e ↔ channel 32(j/4) + 8t + 2(j%4) + e: the pair of columns
// 8j + 2t is word j%4 of the thread's chunk j/4.
__host__ __device__ constexpr int wg_n_channel(int c)
{
    return 32 * (c / 32) + 8 * (c % 8 / 2) + 2 * (c / 8 % 4) + c % 2;
}
constexpr bool wg_is_permutation(int (*channel)(int))
{
    uint64_t seen = 0;
    for (int i = 0; i < WG_D; i++) seen |= 1ull << channel(i);
    return seen == ~0ull;
}
static_assert(wg_is_permutation(wg_k_channel) && wg_is_permutation(wg_n_channel),
              "each channel at one K position and one accumulator column");

// q: [BH,N,64] T  kv: [BH, 64·64 + 64] fp32 (S, then z)  o: [BH,N,64] T.
// grid: (blocks per head, BH), 128 threads (one warpgroup), wgmma_out_smem_bytes() dynamic smem.
// O = φ(Q)·S on wgmma m64n64k16, A = φ(Q) from registers, B = S split into bf16 hi + lo parts
// (as linear_out_mma: bf16 φ(Q), two products summed in the fp32 accumulators, the smaller
// first) resident in shared memory, built once per block. Per 64-row tile a warpgroup reads
// 16 KB of B (8 wgmma), against 64 KB of S fragments that linear_out_mma's 4 warps ldmatrix.
// The denominator φ(q_i)·z is not a column of B: hopper.cuh's register-A wgmma has no n80
// form, and 32 FMAs a thread beside the wgmma cost less than a quarter more tensor work and 8
// more accumulators. Each thread sums its 16 channels of its two rows in fp32 against z held
// in registers, from the same bf16 φ(Q) as the numerator (O stays a weighted mean of V's
// rows), while the wgmma run; a quad's four threads then add their parts.
// Q tiles stream through a ring of WG_STAGES slots by cp.async, each thread copying and later
// reading only its own 16-byte chunks (slot index (2h + u)·128 + tid, conflict-free): the wait
// for its own copy group is the only synchronization, so the loop has no block barrier.
// 5 blocks an SM (41 KB of shared memory, ≤ 102 registers each) keep 2 tiles each, 80 KB, of
// Q in flight: Little's law asks ~32 KB at 4.3 TB/s; a fourth stage would cost the fifth block.
template <typename T>
__global__ void __launch_bounds__(128, 5)
    linear_out_wgmma(const T *q, const float *kv, T *o, int64_t N)
{
#if HOPPER_WGMMA
    typedef __nv_bfloat16 M;
    constexpr int D = WG_D;
    extern __shared__ unsigned char smem_raw[];
    unsigned char *smem = hopper_smem_align1024(smem_raw);
    const uint32_t sBhi = smem_u32(smem), sBlo = sBhi + WG_B_BLOCK, sQ = sBlo + WG_B_BLOCK;
    const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32, g = lane / 4, t = lane % 4;
    const int64_t bh = blockIdx.y;
    const float *kvb = kv + bh * (D * D + D);
    const T *qb = q + bh * N * D;
    T *ob = o + bh * N * D;

    // This block's tiles: rows 64·blockIdx.x, then every 64·gridDim.x rows; tile j of them goes
    // to slot j % WG_STAGES. The thread's rows in tile j: row_of(j) + 8h, h = 0, 1; its 16-byte
    // chunk (h, u) of a tile is byte (2h + u)·2048 + 16·tid of the slot.
    const int64_t tiles = (N + MMA_ROWS - 1) / MMA_ROWS;
    const int64_t mine = blockIdx.x < tiles ? (tiles - blockIdx.x + gridDim.x - 1) / gridDim.x : 0;
    const int64_t stride = (int64_t)gridDim.x * MMA_ROWS;
    const int64_t first = (int64_t)blockIdx.x * MMA_ROWS + 16 * warp + g;
    auto row_of = [&](int64_t j) { return first + j * stride; };
    // The slots of the tile in use and of the one loaded next, as byte offsets from smem:
    // stepped, not j % WG_STAGES (a 64-bit division by 3: ~15 instructions a tile).
    const uint32_t own = (sQ - sBhi) + 16 * tid;
    uint32_t use_slot = own, load_slot = own + (WG_STAGES - 1) * WG_Q_SLOT;
    auto next_slot = [&](uint32_t at) {
        return at + WG_Q_SLOT == own + WG_STAGES * WG_Q_SLOT ? own : at + WG_Q_SLOT;
    };
    auto stage = [&](int64_t j, uint32_t slot) {
        if (j < mine) {
            const int64_t row = row_of(j);
            const T *src = qb + row * D + 8 * t;
            const uint32_t dst = sBhi + slot;
#pragma unroll
            for (int h = 0; h < 2; h++) {
                const bool ok = row + 8 * h < N; // rows past N: zeros, never read from memory
#pragma unroll
                for (int u = 0; u < 2; u++)
                    cp_async16(dst + (2 * h + u) * 2048, ok ? src + 8 * h * D + 32 * u : qb,
                               ok ? 16 : 0);
            }
        }
        cp_async_commit(); // an empty group past the end keeps the wait count uniform
    };
#pragma unroll
    for (int j = 0; j < WG_STAGES - 1; j++) stage(j, own + j * WG_Q_SLOT);

    // B while the first tiles load: thread's items (B row n, K chunk c), consecutive threads
    // on consecutive rows n (one row of S, 256 bytes, per 8 K positions).
#pragma unroll // all 32 loads of S in flight at once
    for (int i = 0; i < D * (D / 8) / 128; i++) {
        const int idx = tid + 128 * i, n = idx % D, c = idx / D, col = wg_n_channel(n);
        uint4 hi, lo;
        uint32_t *h4 = &hi.x, *l4 = &lo.x;
#pragma unroll
        for (int e = 0; e < 4; e++)
            split_pack<M>(kvb[wg_k_channel(8 * c + 2 * e) * D + col],
                          kvb[wg_k_channel(8 * c + 2 * e + 1) * D + col], h4[e], l4[e]);
        const uint32_t at = hopper_sw128_offset(n, c, WG_B_BLOCK);
        *reinterpret_cast<uint4 *>(smem + at) = hi;
        *reinterpret_cast<uint4 *>(smem + WG_B_BLOCK + at) = lo;
    }
    float z[2][8]; // z of the thread's channels: chunks t and t + 4
#pragma unroll
    for (int u = 0; u < 2; u++) {
        const float4 z0 = *reinterpret_cast<const float4 *>(kvb + D * D + 8 * (t + 4 * u));
        const float4 z1 = *reinterpret_cast<const float4 *>(kvb + D * D + 8 * (t + 4 * u) + 4);
        z[u][0] = z0.x, z[u][1] = z0.y, z[u][2] = z0.z, z[u][3] = z0.w;
        z[u][4] = z1.x, z[u][5] = z1.y, z[u][6] = z1.z, z[u][7] = z1.w;
    }
    hopper_fence_proxy_async(); // B's st.shared, before the wgmma read it
    __syncthreads();

    // B_lo's, then B_hi's k-steps: the same for every tile. The empty asm keeps them computed
    // once: the compiler otherwise rebuilt all 8 from the shared window's base every tile (~30
    // instructions of ~490 a tile).
    uint64_t desc[2][D / 16];
#pragma unroll
    for (int kk = 0; kk < D / 16; kk++) {
        desc[0][kk] = hopper_desc_kmajor(sBlo, WG_B_BLOCK, kk);
        desc[1][kk] = hopper_desc_kmajor(sBhi, WG_B_BLOCK, kk);
        asm volatile("" : "+l"(desc[0][kk]), "+l"(desc[1][kk]));
    }
    float acc[D / 2] = {};
    for (int64_t j = 0; j < mine; j++) {
        // Into the slot this thread read a tile ago (its values used since: the read is done).
        stage(j + WG_STAGES - 1, load_slot);
        load_slot = next_slot(load_slot);
        cp_async_wait<WG_STAGES - 1>(); // tile j's copies of this thread are in
        uint4 phi[2][2]; // [row h][chunk u]: φ rounded to bf16
#pragma unroll
        for (int h = 0; h < 2; h++)
#pragma unroll
            for (int u = 0; u < 2; u++)
                phi[h][u] = phi_bf16x8<T>(
                    *reinterpret_cast<const uint4 *>(smem + use_slot + (2 * h + u) * 2048));
        use_slot = next_slot(use_slot);
        uint32_t a[D / 16][4]; // a[kk][2·half + h] = word 2(kk%2) + half of chunk kk/2, row h
#pragma unroll
        for (int kk = 0; kk < D / 16; kk++)
#pragma unroll
            for (int h = 0; h < 2; h++) {
                const uint32_t *w = &phi[h][kk / 2].x;
                a[kk][h] = w[2 * (kk % 2)];
                a[kk][2 + h] = w[2 * (kk % 2) + 1];
            }
#pragma unroll
        for (int kk = 0; kk < D / 16; kk++) hopper_pin(a[kk]); // written before the fence
        hopper_wgmma_fence();
#pragma unroll
        for (int kk = 0; kk < D / 16; kk++)
            hopper_wgmma_rs<M, D, 0>(acc, a[kk], desc[0][kk], kk > 0);
#pragma unroll
        for (int kk = 0; kk < D / 16; kk++) hopper_wgmma_rs<M, D, 0>(acc, a[kk], desc[1][kk], 1);
        hopper_wgmma_commit();

        float inv[2];
#pragma unroll
        for (int h = 0; h < 2; h++) {
            float den = 0.f;
#pragma unroll
            for (int u = 0; u < 2; u++) {
                const uint32_t *w = &phi[h][u].x;
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    den = fmaf(bf16_low(w[e]), z[u][2 * e], den);
                    den = fmaf(bf16_high(w[e]), z[u][2 * e + 1], den);
                }
            }
            den += __shfl_xor_sync(0xffffffffu, den, 1);
            den += __shfl_xor_sync(0xffffffffu, den, 2);
            inv[h] = 1.f / (den + 1e-6f);
        }
        hopper_wgmma_wait<0>();
        hopper_pin(acc);

        const int64_t row = row_of(j);
        T *dst = ob + row * D + 8 * t;
#pragma unroll
        for (int h = 0; h < 2; h++) {
            if (row + 8 * h >= N) continue;
#pragma unroll
            for (int u = 0; u < 2; u++) {
                float f[8]; // channels 8(t + 4u) .. +7: columns 8b + 2t + e, b = 4u .. 4u+3
#pragma unroll
                for (int i = 0; i < 8; i++)
                    f[i] = acc[4 * (4 * u + i / 2) + 2 * h + i % 2] * inv[h];
                // __stcs: a vector store the compiler keeps whole (it split the plain uint4
                // store of row g into four 4-byte ones), streaming (O is not read again).
                __stcs(reinterpret_cast<uint4 *>(dst + 8 * h * D + 32 * u), pack8<T>(f));
            }
        }
    }
#endif
}

// ---- host launchers -----------------------------------------------------------------------

// The kernels of each storage type and their launch shapes: fp32 runs the simt version (no
// TF32: docs/methods.md, "Numeric types and arithmetic"), bf16/fp16 the mma one, with the
// wgmma output pass instead at d = 64 where the sm_90a image runs (WGMMA_OUT).
template <typename T, int D> struct linear_version {
    static constexpr int KV_ROWS_PER_TILE = MMA_ROWS, KV_THREADS = mma_kv_threads<D>();
    static constexpr int OUT_ROWS_PER_TILE = MMA_ROWS, OUT_THREADS = 128;
    static constexpr size_t KV_SMEM = mma_kv_smem_bytes<D>(), OUT_SMEM = mma_out_smem_bytes<D>();
    static constexpr auto kv = linear_kv_partial_mma<T, D>;
    static constexpr auto out = linear_out_mma<T, D>;
    static constexpr bool WGMMA_OUT = D == WG_D;
};
template <int D> struct linear_version<float, D> {
    static constexpr int KV_ROWS_PER_TILE = KV_ROWS, KV_THREADS = kv_threads<D>();
    static constexpr int OUT_ROWS_PER_TILE = OUT_ROWS, OUT_THREADS = out_threads<D>();
    static constexpr size_t KV_SMEM = 0, OUT_SMEM = out_smem_bytes<D>();
    static constexpr auto kv = linear_kv_partial_simt<float, D>;
    static constexpr auto out = linear_out_simt<float, D>;
    static constexpr bool WGMMA_OUT = false;
};

// Blocks of `kernel` that the current device runs at once (after allowing it `smem` bytes of
// dynamic shared memory): the grid of one full wave.
template <typename K> cudaError_t wave_blocks(K kernel, int threads, size_t smem, int64_t *blocks)
{
    int device, sms, per_sm;
    CUDA_CHECK(allow_shared_memory(kernel, smem));
    CUDA_CHECK(cudaGetDevice(&device));
    CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
    CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, threads, smem));
    *blocks = (int64_t)sms * (per_sm > 0 ? per_sm : 1);
    return cudaSuccess;
}

// How kv_partial splits N: `chunks` per batch-head of `rows_per_chunk` rows (whole tiles),
// about one full wave of blocks over all batch-heads together.
struct kv_split {
    int64_t chunks, rows_per_chunk;
};

template <typename T, int D> cudaError_t plan_kv_split(int64_t bh, int64_t N, kv_split *s)
{
    typedef linear_version<T, D> V;
    int64_t wave;
    CUDA_CHECK(wave_blocks(V::kv, V::KV_THREADS, V::KV_SMEM, &wave));
    const int64_t tiles = (N + V::KV_ROWS_PER_TILE - 1) / V::KV_ROWS_PER_TILE;
    int64_t chunks = wave / bh > 1 ? wave / bh : 1;
    if (chunks > tiles) chunks = tiles;
    const int64_t tiles_per_chunk = (tiles + chunks - 1) / chunks;
    s->rows_per_chunk = tiles_per_chunk * V::KV_ROWS_PER_TILE;
    s->chunks = (tiles + tiles_per_chunk - 1) / tiles_per_chunk;
    return cudaSuccess;
}

// Floats of the workspace: partials [BH, chunks, width], then (S, z) [BH, width].
template <int D> int64_t workspace_floats(int64_t bh, const kv_split &s)
{
    return bh * (s.chunks + 1) * (D * D + D);
}

// An output pass: a wave of blocks shared among the batch-heads (no more per head than it has
// tiles of rows_per_tile rows), each walking its head's tiles gridDim.x apart.
template <typename T, typename K>
cudaError_t launch_out(K kernel, int threads, size_t smem, int64_t rows_per_tile, const void *q,
                       const float *kv, void *o, int64_t bh, int64_t N, cudaStream_t stream)
{
    int64_t wave;
    CUDA_CHECK(wave_blocks(kernel, threads, smem, &wave));
    const int64_t tiles = (N + rows_per_tile - 1) / rows_per_tile;
    int64_t per_head = wave / bh > 1 ? wave / bh : 1;
    if (per_head > tiles) per_head = tiles;
    kernel<<<dim3((unsigned)per_head, (unsigned)bh), threads, smem, stream>>>(
        static_cast<const T *>(q), kv, static_cast<T *>(o), N);
    CUDA_CHECK_LAUNCH();
    return cudaSuccess;
}

template <typename T, int D>
cudaError_t launch_linear(const void *q, const void *k, const void *v, void *o, int64_t bh,
                          int64_t N, float *workspace, cudaStream_t stream)
{
    typedef linear_version<T, D> V;
    if (bh > 65535) return cudaErrorInvalidValue; // grid.y holds the batch-heads
    kv_split s;
    CUDA_CHECK((plan_kv_split<T, D>(bh, N, &s)));
    constexpr int width = D * D + D;
    float *partial = workspace, *kv = workspace + bh * s.chunks * width;

    V::kv<<<dim3((unsigned)s.chunks, (unsigned)bh), V::KV_THREADS, V::KV_SMEM, stream>>>(
        static_cast<const T *>(k), static_cast<const T *>(v), partial, N, s.rows_per_chunk);
    CUDA_CHECK_LAUNCH();
    linear_kv_reduce<<<dim3((width + 255) / 256, (unsigned)bh), 256, 0, stream>>>(
        partial, kv, (int)s.chunks, width);
    CUDA_CHECK_LAUNCH();

    if constexpr (V::WGMMA_OUT) {
        bool sm90a;
        CUDA_CHECK(hopper_sm90a_runs(&sm90a));
        // Its stores of O are 16 bytes wide (the mma pass's 4): an O or Q off that alignment
        // takes the mma pass.
        if (sm90a && aligned16(q) && aligned16(o)) {
            // 5 blocks an SM (41 KB each) need the carveout at its maximum, as the occupancy
            // query behind the grid assumes: set, not left to the driver.
            CUDA_CHECK(kernel_shared_memory(reinterpret_cast<const void *>(linear_out_wgmma<T>),
                                            wgmma_out_smem_bytes()));
            return launch_out<T>(linear_out_wgmma<T>, 128, wgmma_out_smem_bytes(), MMA_ROWS, q,
                                 kv, o, bh, N, stream);
        }
    }
    return launch_out<T>(V::out, V::OUT_THREADS, V::OUT_SMEM, V::OUT_ROWS_PER_TILE, q, kv, o, bh,
                         N, stream);
}

// dispatch_dtype's callables: the workspace size and the forward for storage type T.
struct linear_sizer {
    int64_t bh, N;
    int d;
    size_t *bytes;
    template <typename T> cudaError_t operator()() const
    {
        kv_split s;
        if (d == 64) {
            CUDA_CHECK((plan_kv_split<T, 64>(bh, N, &s)));
            *bytes = sizeof(float) * (size_t)workspace_floats<64>(bh, s);
        } else if (d == 128) {
            CUDA_CHECK((plan_kv_split<T, 128>(bh, N, &s)));
            *bytes = sizeof(float) * (size_t)workspace_floats<128>(bh, s);
        }
        return cudaSuccess;
    }
};

struct linear_launch {
    const void *q, *k, *v;
    void *o;
    int64_t bh, N;
    int d;
    float *workspace;
    cudaStream_t stream;
    template <typename T> cudaError_t operator()() const
    {
        switch (d) {
        case 64:
            return launch_linear<T, 64>(q, k, v, o, bh, N, workspace, stream);
        case 128:
            return launch_linear<T, 128>(q, k, v, o, bh, N, workspace, stream);
        default:
            return cudaErrorInvalidValue;
        }
    }
};

} // namespace

extern "C" size_t linear_attn_workspace_bytes(int B, int H, int64_t N, int d, int dtype)
{
    size_t bytes = 0;
    if (dispatch_dtype(dtype, linear_sizer{(int64_t)B * H, N, d, &bytes}) != cudaSuccess) {
        cudaGetLastError(); // a failed query leaves no error behind, sticky or recorded
        cuda_check_clear();
        return 0;
    }
    return bytes;
}

extern "C" cudaError_t linear_attn_forward(const void *q, const void *k, const void *v, void *o,
                                           int B, int H, int64_t N, int d, int dtype,
                                           void *workspace, cudaStream_t stream)
{
    if (B < 1 || H < 1 || N < 1) return cudaErrorInvalidValue;
    return dispatch_dtype(dtype, linear_launch{q, k, v, o, (int64_t)B * H, N, d,
                                               static_cast<float *>(workspace), stream});
}
