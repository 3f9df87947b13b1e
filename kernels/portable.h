/* portable.h — ATTNBENCH_PORTABLE_KERNELS: set in the environment, not empty
 * and not "0", no sm_90a kernel runs, even on an H100/H200, so that the path
 * every other GPU takes is tested and timed there too (docs/correctness.md,
 * "The portable kernels"). Read by hopper.cuh's hopper_sm90a_runs and by
 * flash_attn.cu's flash_attn_version_runs_on; C, so that the tests ask it too. */
#ifndef KERNELS_PORTABLE_H
#define KERNELS_PORTABLE_H

#include <stdlib.h>
#include <string.h>

static inline int attn_portable_kernels_forced(void)
{
    const char *e = getenv("ATTNBENCH_PORTABLE_KERNELS");
    return e && *e && strcmp(e, "0") != 0;
}

#endif
