// mma_util.cuh — the tensor-core building blocks that the fused kernels of softmax.cu and
// linear_attn.cu share: cp.async copies, ldmatrix loads from XOR-swizzled tiles, and the
// m16n8k16 mma.sync of the two 16-bit input types with fp32 accumulators (sm_80 and later).
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

#endif
