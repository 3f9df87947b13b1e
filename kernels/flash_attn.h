/* flash_attn.h — fused attention forward (docs/methods.md, "full": its variant
 * `flash`, and one variant per version below): O = softmax(Q Kᵀ·scale) V,
 * non-causal, in one pass with an online softmax and O(N) memory. The kernels
 * and the index of their versions are in flash_attn.cu.
 *
 * Tensors are [B,H,N,d], contiguous row-major, in device memory, all four in
 * `dtype` (enum attn_dtype of attn/attn.h: 0 fp32, 1 fp16, 2 bf16). fp16 and
 * bf16 run on the tensor cores with fp32 accumulation and an fp32 softmax;
 * fp32 runs on the CUDA cores in fp32 (no TF32: docs/methods.md, "Numeric
 * types and arithmetic"). O is stored in `dtype`. Supported: d ∈ {64, 128} (and 256 for
 * the flash_wgmma versions), any N >= 1, B, H >= 1, scale > 0.
 *
 * Every function only enqueues work on `stream` and returns the first CUDA
 * error met (cudaErrorInvalidValue for an unsupported shape or dtype).
 */
#ifndef KERNELS_FLASH_ATTN_H
#define KERNELS_FLASH_ATTN_H

#include <stddef.h>
#include <stdint.h>

#include <cuda_runtime.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version the `full` method's variant `flash` runs for head dimension `d`
 * in `dtype` on a device of compute capability `cc` (major·10 + minor; 0:
 * unknown, then only the build is asked): the fastest measured that runs them
 * (flash_attn_version_supports and flash_attn_version_runs_on) — on sm_90a
 * "flash_wgmma_ov" at d = 64, "flash_wgmma_fa3" at 128 and 256; else "flash_w4"
 * (bf16/fp16) or "flash_simt" (fp32); NULL when none does. */
const char *flash_attn_default_version(int d, int dtype, int cc);

/* Every version by name, each run by the `full` method's variant of that name
 * (attn/cuda/full.c); flash_attn.cu's index says what each changes and costs:
 *   "flash_simt"  fp32 on the CUDA cores
 *   "flash_w8"    bf16/fp16, FlashAttention-2's schedule: 8 warps × 16 rows
 *   "flash_w4"    bf16/fp16, 4 warps × 32 rows: mma.sync, for GPUs other than sm_90a
 *   "flash_wgmma" bf16/fp16, sm_90a only: wgmma + TMA, a producer warpgroup and two
 *                 consumer warpgroups that take turns on the tensor cores
 *   "flash_wgmma_nopp"  the same without the turns (the two consumers unsynchronized)
 *   "flash_wgmma_ov"    nopp with each consumer's softmax of tile j under its own
 *                 P(j-1)·V(j-1) (P double-buffered)
 *   "flash_wgmma_emu"   nopp with half the softmax's exponentials on the FMA pipe
 *   "flash_wgmma_bn80"  nopp at d = 256 with 80-key tiles (d = 256 only)
 *   "flash_wgmma_bn176" nopp at d = 128 with 176-key tiles (d = 128 only)
 *   "flash_wgmma_fa3"   FlashAttention-3's consumer: the turns, and each softmax under the
 *                 consumer's own P·V with one P (exponentials in S's registers, packed after)
 *   "flash_wgmma_ov1"   flash_wgmma_fa3 without the turns
 * each at d = 64 and 128 (but bn80: 256 only, bn176: 128 only); flash_wgmma, flash_wgmma_nopp,
 * flash_wgmma_emu, flash_wgmma_fa3 and flash_wgmma_ov1 (these two with 80-key tiles) at 256 too. */

/* 1 when version `name` runs head dimension `d` in `dtype`, else 0 (also for
 * a name that is no version). */
int flash_attn_version_supports(const char *name, int d, int dtype);

/* 1 when version `name` can run on a device of compute capability `cc` (major·10 + minor; 0:
 * unknown, then only the build is asked): always, but for the sm_90a versions, which need a
 * build whose gpu_arch lists 90a, a device of compute capability 9.0 and no
 * ATTNBENCH_PORTABLE_KERNELS in the environment; else 0, with the reason in `why`. Touches no
 * device, for validate(), which must not. */
int flash_attn_version_runs_on(const char *name, int cc, char *why, size_t why_len);

/* O = softmax(Q Kᵀ·scale) V through version `name`; q, k, v, o: [B,H,N,d]; cudaErrorInvalidValue where
 * flash_attn_version_supports(name, d, dtype) is 0, cudaErrorNoKernelImageForDevice where
 * flash_attn_version_runs_on(name, the current device's) is 0. */
cudaError_t flash_attn_forward_version(const char *name, const void *q, const void *k,
                                       const void *v, void *o, int B, int H, int64_t N, int d,
                                       int dtype, float scale, cudaStream_t stream);

#ifdef __cplusplus
}
#endif
#endif
