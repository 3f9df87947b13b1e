/* backend.c — picks a backend; asks, without touching CUDA in this process,
 * whether a GPU is there. */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "measure/backend.h"
#include "config.h"

#if HAVE_CUDA
#include <cuda_runtime_api.h>
extern struct backend backend_cuda;
#endif
extern struct backend backend_cpu;

struct backend *backend_get(enum attn_backend kind)
{
#if HAVE_CUDA
    if (kind == ATTN_CUDA) return &backend_cuda;
#endif
    return kind == ATTN_CPU ? &backend_cpu : NULL;
}

int backend_cuda_device_count(void)
{
#if HAVE_CUDA
    /* A CUDA context does not survive fork(), and sweep points run in forked
     * children: ask in a child of our own so that this process stays clean.
     * Asked once: each child creates a CUDA context, which takes a while. */
    static int count = -2;
    if (count != -2) return count;
    count = -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return count;
    if (pid == 0) {
        int n = 0;
        if (cudaGetDeviceCount(&n) != cudaSuccess) _exit(255);
        _exit(n < 254 ? n : 254);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) != 255)
        count = WEXITSTATUS(status);
    return count;
#else
    return -1;
#endif
}

int backend_cuda_available(void) { return backend_cuda_device_count() > 0; }
