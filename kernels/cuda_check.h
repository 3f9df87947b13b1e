/* cuda_check.h — the project's one CUDA error check, for C and CUDA C++ alike
 * (kernels/, attn/cuda/, harness/): a failing call returns its error to the
 * caller, and where it failed is kept for whoever reports it.
 *
 *   CUDA_CHECK(call)     In a function that returns cudaError_t: evaluates
 *                        `call` (an expression of type cudaError_t) once; if
 *                        it is not cudaSuccess, records the failure (see
 *                        below) and returns that error from the function.
 *                        Helpers return cudaError_t, so that their caller's
 *                        check names the line that called them.
 *   CUDA_CHECK_LAUNCH()  After a kernel launch, CUDA_CHECK(cudaGetLastError()):
 *                        a bad launch configuration is reported at its launch,
 *                        not at the next synchronization.
 *
 * The record. Each thread keeps one record of a failure: the error, and the
 * file, line and text of the check that saw it first. A failure usually
 * travels outwards through several checks (the kernel launcher's, its
 * caller's, the method's); while the error stays the same the record keeps
 * the innermost site, the one nearest its cause. A check that sees a
 * different error replaces the record. Successful checks never touch it (the
 * fast path is one compare and branch), so a record stays until it is
 * described or cleared:
 *
 *   cuda_check_describe(err, why, why_len)  For the reporter of `err` (what a
 *       function returned): writes "file:line: call: cudaErrorX (text)" into
 *       `why` when this thread's record holds `err`, else "cudaErrorX (text)"
 *       (an error returned without a check, e.g. cudaErrorInvalidValue from a
 *       launcher's own argument test); then clears the record. Returns
 *       (int)err, so that `return cuda_check_describe(err, why, why_len);`
 *       reports and fails in one statement. For cudaSuccess: "", 0.
 *   cuda_check_last_failure()  The record as that same text, or "" when there
 *       is none; does not clear it. The pointer is this thread's own buffer,
 *       valid until this thread's next call of it.
 *   cuda_check_clear()  Forgets the record. Call it where a failure is handled
 *       without being described (an allocation failure taken as `oom`, a size
 *       query that answers 0), so that a later failure with the same error is
 *       not reported at the old site.
 *
 * The file is as the compiler saw it, less leading "./" and "../" (Meson
 * compiles from the build directory: "../kernels/gemm.cu" reads as
 * "kernels/gemm.cu"). The functions are in kernels/cuda_check.c (libattn),
 * with C linkage; the record is thread-local (_Thread_local).
 *
 * Example, from a harness function that reports through `why`:
 *     static cudaError_t make_events(cudaEvent_t *start, cudaEvent_t *stop)
 *     {
 *         CUDA_CHECK(cudaEventCreate(start));
 *         CUDA_CHECK(cudaEventCreate(stop));
 *         return cudaSuccess;
 *     }
 *     ...
 *     cudaError_t err = make_events(&s, &e);
 *     if (err != cudaSuccess) return cuda_check_describe(err, why, why_len);
 *     → "harness/measure/x.c:12: cudaEventCreate(stop): cudaErrorMemoryAllocation (out of memory)"
 */
#ifndef KERNELS_CUDA_CHECK_H
#define KERNELS_CUDA_CHECK_H

#include <stddef.h>

#include <cuda_runtime_api.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What CUDA_CHECK calls when `call` (its text) failed with `err` at
 * file:line: updates this thread's record as described above. */
void cuda_check_failed(cudaError_t err, const char *call, const char *file, int line);

const char *cuda_check_last_failure(void);
int cuda_check_describe(cudaError_t err, char *why, size_t why_len);
void cuda_check_clear(void);

#ifdef __cplusplus
}
#endif

#define CUDA_CHECK(call)                                                                           \
    do {                                                                                           \
        const cudaError_t cuda_check_err_ = (call);                                                \
        if (cuda_check_err_ != cudaSuccess) {                                                      \
            /* the error itself: the compiler sees that the caller's check fails too */            \
            cuda_check_failed(cuda_check_err_, #call, __FILE__, __LINE__);                         \
            return cuda_check_err_;                                                                \
        }                                                                                          \
    } while (0)

#define CUDA_CHECK_LAUNCH() CUDA_CHECK(cudaGetLastError())

#endif
