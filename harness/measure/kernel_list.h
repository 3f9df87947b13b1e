/* kernel_list.h — the `kernels` cell of a row: the kernels one forward of the
 * point launched, in launch order, as the GPU names them. It says which
 * version a method picked at run time (full:flash's wgmma version or
 * flash_w4, MiTA's routing kernel and its probe's floors), so that two rows of the same
 * point from two builds or two GPUs can be told apart by what ran, not only
 * by how long it took. */
#ifndef HARNESS_KERNEL_LIST_H
#define HARNESS_KERNEL_LIST_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Appends the kernel `name` (demangled, without its parameters, as
 * profiler.h's names are) to the list `list` of `len` bytes:
 *
 *   "landmarks_kernel<__nv_bfloat16>; select_one_pass<__nv_bfloat16, 64> x2"
 *
 * "; " between kernels; a kernel launched again right after itself raises
 * its count (" xN") instead of repeating it; "(anonymous namespace)::" is
 * dropped. A list that would not fit ends in "; ..." (or is "..." when not
 * even one kernel fits) and takes no more. */
void kernel_list_add(char *list, size_t len, const char *name);

#ifdef __cplusplus
}
#endif

#endif
