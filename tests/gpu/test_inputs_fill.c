/* test_inputs_fill.c — the generated inputs drawn on the GPU
 * (kernels/inputs_fill.cu, through backend->fill_inputs) are bit for bit
 * those drawn on the host (core/inputs.c), for every distribution, dtype and
 * tensor, at shapes where every index path counts: B·H > 1, N not a square
 * (image's grid), odd d (rising's halves), and a large N.
 *
 * Exits 77 (skipped) where there is no GPU. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu_test.h"
#include "core/inputs.h"
#include "measure/backend.h"

int main(void)
{
    struct device_info info;
    int exit_status;
    struct backend *b = gpu_test_open(&info, &exit_status);
    if (!b) return exit_status;
    static const struct {
        int B, H;
        int64_t N;
        int d;
    } shapes[] = {{2, 3, 1000, 64}, {1, 1, 97, 5}, {1, 2, 1 << 16, 128}};
    int passed = 0, failed = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
        for (int dt = 0; dt < 3; dt++)
            for (int kind = 0; kind < ATTN_INPUTS_COUNT; kind++)
                for (int which = 0; which < 3; which++) {
                    const struct attn_problem p = {shapes[s].B, shapes[s].H, shapes[s].N,
                                                   shapes[s].d, (enum attn_dtype)dt, ATTN_CUDA,
                                                   12345 + s};
                    const size_t bytes = (size_t)attn_tensor_elems(&p) * attn_dtype_size(p.dtype);
                    void *dev = b->alloc(bytes);
                    unsigned char *got = malloc(bytes), *want = malloc(bytes);
                    int64_t first = -1;
                    if (!dev || !got || !want) {
                        printf("FAIL out of memory\n");
                        return 1;
                    }
                    int rc = b->fill_inputs(b, dev, &p, (enum attn_inputs)kind, which);
                    if (!rc) rc = b->copy_to_host(b, got, dev, bytes);
                    inputs_fill_host(want, &p, (enum attn_inputs)kind, which);
                    const size_t elem = attn_dtype_size(p.dtype);
                    int64_t wrong = 0;
                    for (size_t i = 0; !rc && i < bytes; i += elem)
                        if (memcmp(got + i, want + i, elem)) {
                            if (first < 0) first = (int64_t)(i / elem);
                            wrong++;
                        }
                    const int ok = !rc && !wrong;
                    printf("%-4s %-9s %-4s %c B=%d H=%d N=%-6" PRId64 " d=%-3d", ok ? "ok" : "FAIL",
                           inputs_kind_name((enum attn_inputs)kind), attn_dtype_name(p.dtype),
                           "QKV"[which], p.B, p.H, p.N, p.d);
                    if (rc) printf("  the fill failed (%d)", rc);
                    else if (wrong)
                        printf("  %" PRId64 " elements differ, the first at %" PRId64, wrong, first);
                    printf("\n");
                    ok ? passed++ : failed++;
                    b->release(dev);
                    free(got);
                    free(want);
                }
    b->shutdown(b);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
