/* backend.c — picks a backend; asks, without touching CUDA in this process,
 * whether a GPU is there. */
#include <sys/wait.h>
#include <unistd.h>

#include "backend.h"
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

int backend_cuda_available(void)
{
#if HAVE_CUDA
    /* A CUDA context does not survive fork(), and sweep points run in forked
     * children: ask in a child of our own so that this process stays clean. */
    pid_t pid = fork();
    if (pid < 0) return 0;
    if (pid == 0) {
        int count = 0;
        _exit(cudaGetDeviceCount(&count) == cudaSuccess && count > 0 ? 0 : 1);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) return 0;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
#else
    return 0;
#endif
}
