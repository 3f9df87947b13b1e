/* work_models.h — docs/work-models.md, once for every backend: the
 * FLOPs of each method (a multiply-add counts 2) and the byte floors, for the
 * whole problem (all B·H heads). Methods point their flops/bytes operations
 * here; the harness derives TFLOP/s, GB/s and the roofline from them. */
#ifndef ATTN_WORK_MODELS_H
#define ATTN_WORK_MODELS_H

#include "attn.h"

#ifdef __cplusplus
extern "C" {
#endif

double attn_flops_full(const struct attn_problem *p, const struct attn_params *a);    /* 4N²d */
double attn_flops_linear(const struct attn_problem *p, const struct attn_params *a);  /* 4Nd² */
double attn_flops_agent(const struct attn_problem *p, const struct attn_params *a);   /* 8Nmd */
double attn_flops_nystrom(const struct attn_problem *p, const struct attn_params *a);
double attn_flops_topk(const struct attn_problem *p, const struct attn_params *a);    /* 2N²d + 4Nkd */
double attn_flops_mita(const struct attn_problem *p, const struct attn_params *a);

/* Each input read once, the output written once: 4·B·H·N·d·sizeof(dtype). */
double attn_bytes_floor(const struct attn_problem *p, const struct attn_params *a);
/* MiTA's pipeline floor, six passes over a Q-sized tensor: 6·B·H·N·d·sizeof(dtype);
 * with a gather version (params.gather not NULL or "fused") plus the gather's floor
 * (below) and K_E and V_E read back by the attention: B·H·m·k·(6·d·sizeof(dtype) + 4)
 * more. */
double attn_bytes_mita(const struct attn_problem *p, const struct attn_params *a);
/* The gather step alone (the `gather` method): no FLOPs; its floor is the
 * m·k rows of K and of V read, the same written, and the int32 indices:
 * B·H·m·k·(4·d·sizeof(dtype) + 4). */
double attn_flops_gather(const struct attn_problem *p, const struct attn_params *a);
double attn_bytes_gather(const struct attn_problem *p, const struct attn_params *a);

#ifdef __cplusplus
}
#endif
#endif
