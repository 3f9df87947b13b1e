/* timeline.c — NVTX ranges and names of the harness (see timeline.h). */
#include "measure/timeline.h"

#include <inttypes.h>
#include <stdio.h>

#include "config.h"

#if HAVE_NVTX
#include <sys/syscall.h>
#include <unistd.h>

#include <nvtx3/nvToolsExt.h>
#include <nvtx3/nvToolsExtCudaRt.h>

void timeline_point_begin(const struct sweep_point *pt, void *stream)
{
    static int named = 0; /* per process: each sweep point may be a fresh child */
    if (!named) {
        nvtxNameOsThreadA((uint32_t)syscall(SYS_gettid), "attnbench");
        if (stream) nvtxNameCudaStreamA((cudaStream_t)stream, "attnbench");
        named = 1;
    }
    char name[2 * SUITE_NAME_LEN + 40];
    snprintf(name, sizeof name, "%s%s%s N=%" PRId64, pt->method, pt->variant[0] ? "/" : "",
             pt->variant, pt->problem.N);
    nvtxRangePushA(name);
}

void timeline_range_begin(const char *name) { nvtxRangePushA(name); }

void timeline_range_end(void) { nvtxRangePop(); }

#else

void timeline_point_begin(const struct sweep_point *pt, void *stream)
{
    (void)pt;
    (void)stream;
}

void timeline_range_begin(const char *name) { (void)name; }

void timeline_range_end(void) {}

#endif
