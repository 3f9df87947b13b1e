// linear_attn.cu — non-causal linear attention (kernels/linear_attn.h).
//
// Both versions run three launches: kv_partial (split-N reduction: one block per chunk of rows
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

#include "linear_attn.h"

#include "cuda_util.cuh"
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
            float f[8];
            unpack8<T>(raw[n], f);
#pragma unroll
            for (int e = 0; e < 8; e++) f[e] = elu_plus_one_fast(f[e]);
            *reinterpret_cast<uint4 *>(s8 + (sQ - sShi) + swz<D>(r, c)) = pack8<M>(f);
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

// ---- host launchers -----------------------------------------------------------------------

// The kernels of each storage type and their launch shapes: fp32 runs the simt version (no
// TF32: docs/methods.md, "Numeric types and arithmetic"), bf16/fp16 the mma one.
template <typename T, int D> struct linear_version {
    static constexpr int KV_ROWS_PER_TILE = MMA_ROWS, KV_THREADS = mma_kv_threads<D>();
    static constexpr int OUT_ROWS_PER_TILE = MMA_ROWS, OUT_THREADS = 128;
    static constexpr size_t KV_SMEM = mma_kv_smem_bytes<D>(), OUT_SMEM = mma_out_smem_bytes<D>();
    static constexpr auto kv = linear_kv_partial_mma<T, D>;
    static constexpr auto out = linear_out_mma<T, D>;
};
template <int D> struct linear_version<float, D> {
    static constexpr int KV_ROWS_PER_TILE = KV_ROWS, KV_THREADS = kv_threads<D>();
    static constexpr int OUT_ROWS_PER_TILE = OUT_ROWS, OUT_THREADS = out_threads<D>();
    static constexpr size_t KV_SMEM = 0, OUT_SMEM = out_smem_bytes<D>();
    static constexpr auto kv = linear_kv_partial_simt<float, D>;
    static constexpr auto out = linear_out_simt<float, D>;
};

// Blocks of `kernel` that the current device runs at once (after raising its dynamic shared
// memory limit where it needs more than 48 KB): the grid of one full wave.
template <typename K> cudaError_t wave_blocks(K kernel, int threads, size_t smem, int64_t *blocks)
{
    int device, sms, per_sm;
    if (smem > 48 * 1024)
        CUDA_CHECK(
            cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem));
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

    int64_t wave;
    CUDA_CHECK(wave_blocks(V::out, V::OUT_THREADS, V::OUT_SMEM, &wave));
    const int64_t tiles = (N + V::OUT_ROWS_PER_TILE - 1) / V::OUT_ROWS_PER_TILE;
    int64_t per_head = wave / bh > 1 ? wave / bh : 1;
    if (per_head > tiles) per_head = tiles;
    V::out<<<dim3((unsigned)per_head, (unsigned)bh), V::OUT_THREADS, V::OUT_SMEM, stream>>>(
        static_cast<const T *>(q), kv, static_cast<T *>(o), N);
    CUDA_CHECK_LAUNCH();
    return cudaSuccess;
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
