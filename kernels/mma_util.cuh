// mma_util.cuh — the tensor-core building blocks that the fused kernels share (softmax.cu,
// linear_attn.cu, flash_attn.cu, topk_select.cu, mita_route.cu, gathered_attention.cu):
// cp.async copies and the double-buffered loop over tiles staged by them, ldmatrix loads from
// XOR-swizzled tiles, the m16n8k16 mma.sync of the two 16-bit input types with fp32
// accumulators (sm_80 and later), and the P·V step of an online softmax on them.
//
// Fragment layouts of mma.m16n8k16 (lane = 4·g + t): A (16×16, row-major) in four registers,
// a0 = (row g, cols 2t..2t+1), a1 = (row g+8, same), a2 = (row g, cols 2t+8..), a3 = (row g+8,
// cols 2t+8..); B (16×8) in two, b0 = (rows 2t..2t+1, col g), b1 = (rows 2t+8.., col g);
// C (16×8) in four floats, c0..c1 = (row g, cols 2t..2t+1), c2..c3 = (row g+8, same).
#ifndef KERNELS_MMA_UTIL_CUH
#define KERNELS_MMA_UTIL_CUH

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdint.h>

__device__ __forceinline__ uint32_t smem_u32(const void *p)
{
    return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// 16 bytes from shared address addr (16-byte aligned).
__device__ __forceinline__ uint4 lds128(uint32_t addr)
{
    uint4 u;
    asm volatile("ld.shared.v4.b32 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(u.x), "=r"(u.y), "=r"(u.z), "=r"(u.w)
                 : "r"(addr));
    return u;
}

// 4 bytes from shared address addr.
__device__ __forceinline__ int32_t lds32(uint32_t addr)
{
    int32_t x;
    asm volatile("ld.shared.b32 %0, [%1];\n" : "=r"(x) : "r"(addr));
    return x;
}

// 16 bytes to global address p where ok, by a predicated store: a branch around a store costs
// its warp a reconvergence point (BSSY/BSYNC), which a predicate does not.
__device__ __forceinline__ void stg128_if(void *p, uint4 v, bool ok)
{
    asm volatile("{\n\t.reg .pred q;\n\tsetp.ne.b32 q, %5, 0;\n\t"
                 "@q st.global.v4.b32 [%0], {%1, %2, %3, %4};\n}\n" ::"l"(p),
                 "r"(v.x), "r"(v.y), "r"(v.z), "r"(v.w), "r"((int)ok)
                 : "memory");
}

// 16 bytes global → shared; src_bytes = 0 zero-fills the destination (rows past the end).
__device__ __forceinline__ void cp_async16(uint32_t dst, const void *src, int src_bytes)
{
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src),
                 "r"(src_bytes));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int PENDING> __device__ __forceinline__ void cp_async_wait()
{
    asm volatile("cp.async.wait_group %0;\n" ::"n"(PENDING) : "memory");
}

// The block's loop over `tiles` tiles in two shared-memory buffers, each tile's copy in flight
// while the block works on the one before: stage(j, buf) issues tile j's cp.async copies into
// buffer buf (0 or 1) and commits them as one group; use(j, buf) reads tile j from buffer buf.
// The caller has staged tile 0 into buffer 0 (and committed it, with whatever else the first
// use needs). Every thread of the block calls it: it holds two barriers a tile. landed() runs
// in each thread once its copies of the tile are complete, before the barrier that lets the
// block read them (a proxy fence where wgmma reads them: hopper_fence_proxy_async).
template <typename Stage, typename Use, typename Landed>
__device__ __forceinline__ void for_each_staged_tile(int64_t tiles, Stage &&stage, Use &&use,
                                                     Landed &&landed)
{
    for (int64_t j = 0; j < tiles; j++) {
        const int buf = (int)(j & 1);
        if (j + 1 < tiles) {
            stage(j + 1, buf ^ 1);
            cp_async_wait<1>();
        } else {
            cp_async_wait<0>();
        }
        landed();
        __syncthreads();
        use(j, buf);
        __syncthreads(); // this buffer is refilled two tiles on
    }
}
template <typename Stage, typename Use>
__device__ __forceinline__ void for_each_staged_tile(int64_t tiles, Stage &&stage, Use &&use)
{
    for_each_staged_tile(tiles, stage, use, [] {});
}

// Four 8×8 matrices of 16-bit elements; lanes 8i..8i+7 give the row addresses of matrix i.
__device__ __forceinline__ void ldsm_x4(uint32_t (&r)[4], uint32_t addr)
{
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(addr));
}
// The same, each matrix transposed: a [k][n] tile read as B fragments, or [k][m] as A.
__device__ __forceinline__ void ldsm_x4_trans(uint32_t (&r)[4], uint32_t addr)
{
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(addr));
}

// Two fp32 → one register of two T (low half = lower column), and D = A·B + D.
template <typename T> struct mma_t;
template <> struct mma_t<__nv_bfloat16> {
    static __device__ __forceinline__ uint32_t pack(float lo, float hi)
    {
        __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);
        return *reinterpret_cast<uint32_t *>(&h);
    }
    static __device__ __forceinline__ void mma(float (&c)[4], const uint32_t (&a)[4], uint32_t b0,
                                               uint32_t b1)
    {
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
                     "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                     : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
    }
};
template <> struct mma_t<__half> {
    static __device__ __forceinline__ uint32_t pack(float lo, float hi)
    {
        __half2 h = __floats2half2_rn(lo, hi);
        return *reinterpret_cast<uint32_t *>(&h);
    }
    static __device__ __forceinline__ void mma(float (&c)[4], const uint32_t (&a)[4], uint32_t b0,
                                               uint32_t b1)
    {
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
                     "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                     : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
    }
};

// fp32 (x, y) as two registers of two T, hi = (x, y) rounded and lo = the rest rounded, so that
// hi + lo keeps ~16 mantissa bits: an fp32 operand (mita's landmarks) on the tensor cores as two
// mma whose products, summed in fp32, are within ~2^-16 of the fp32 products.
template <typename T> __device__ __forceinline__ float2 unpack2(uint32_t r);
template <> __device__ __forceinline__ float2 unpack2<__nv_bfloat16>(uint32_t r)
{
    return __bfloat1622float2(*reinterpret_cast<__nv_bfloat162 *>(&r));
}
template <> __device__ __forceinline__ float2 unpack2<__half>(uint32_t r)
{
    return __half22float2(*reinterpret_cast<__half2 *>(&r));
}
template <typename T>
__device__ __forceinline__ void split_pack(float x, float y, uint32_t &hi, uint32_t &lo)
{
    hi = mma_t<T>::pack(x, y);
    const float2 h = unpack2<T>(hi);
    lo = mma_t<T>::pack(x - h.x, y - h.y);
}

// Byte offset of 16-byte chunk c of row r in a tile of rows of D 16-bit elements (D >= 64):
// the chunk index XOR r mod 8, so that the 8 rows an ldmatrix phase reads (same logical chunk,
// consecutive rows) land in 8 different bank groups.
template <int D> __device__ __forceinline__ uint32_t swz(int r, int c)
{
    return static_cast<uint32_t>(r * (D * 2) + ((c ^ (r & 7)) << 4));
}

// O += P·V over one tile of KEYS keys, for a warp's 16 rows. p: the probabilities in the
// layout of the S = Q·Kᵀ accumulators (C fragments of KEYS/8 key blocks), whose fragments of
// key blocks 2kb and 2kb+1, rounded to T, are the A fragment of keys [16kb, 16kb+16): P never
// goes through shared memory. V's B fragments come from shared memory by ldmatrix.trans:
// v_addr(kb, n2) is the address this lane gives for keys [16kb, 16kb+16) and channels
// [16n2, 16n2+16). o: the C fragments of the D/8 channel blocks.
template <typename T, int KEYS, int D, typename VAddr>
__device__ __forceinline__ void mma_pv(float (&o)[D / 8][4], const float (&p)[KEYS / 8][4],
                                       VAddr &&v_addr)
{
#pragma unroll
    for (int kb = 0; kb < KEYS / 16; kb++) {
        const uint32_t pa[4] = {mma_t<T>::pack(p[2 * kb][0], p[2 * kb][1]),
                                mma_t<T>::pack(p[2 * kb][2], p[2 * kb][3]),
                                mma_t<T>::pack(p[2 * kb + 1][0], p[2 * kb + 1][1]),
                                mma_t<T>::pack(p[2 * kb + 1][2], p[2 * kb + 1][3])};
#pragma unroll
        for (int n2 = 0; n2 < D / 16; n2++) {
            uint32_t vb[4];
            ldsm_x4_trans(vb, v_addr(kb, n2));
            mma_t<T>::mma(o[2 * n2], pa, vb[0], vb[1]);
            mma_t<T>::mma(o[2 * n2 + 1], pa, vb[2], vb[3]);
        }
    }
}

// mma_pv with V in a swizzled tile (swz) of KEYS rows of D elements at shared address v_tile.
template <typename T, int KEYS, int D>
__device__ __forceinline__ void mma_pv_swizzled(float (&o)[D / 8][4],
                                                const float (&p)[KEYS / 8][4], uint32_t v_tile,
                                                int lane)
{
    // The lane's row and column parts outside the lambda: inside it, the compiler kept 32
    // swizzled offsets for softmax.cu's d = 128 kernel instead of 8 (253 registers, not 245).
    const int r = lane % 8 + 8 * ((lane / 8) & 1), c = lane / 16;
    mma_pv<T, KEYS, D>(o, p,
                       [=](int kb, int n2) { return v_tile + swz<D>(16 * kb + r, 2 * n2 + c); });
}

#endif
