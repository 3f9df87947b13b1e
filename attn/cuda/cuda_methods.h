/* cuda_methods.h — the CUDA backend's methods, for the registry's table. */
#ifndef ATTN_CUDA_METHODS_H
#define ATTN_CUDA_METHODS_H

#include "attn.h"

extern const struct attn_method attn_cuda_full, attn_cuda_linear, attn_cuda_agent,
    attn_cuda_nystrom, attn_cuda_topk, attn_cuda_mita, attn_cuda_gather;

/* Entries of the registry's table (registry.c), each followed by a comma. */
#define ATTN_CUDA_METHODS \
    &attn_cuda_full, &attn_cuda_linear, &attn_cuda_agent, \
    &attn_cuda_nystrom, &attn_cuda_topk, &attn_cuda_mita, &attn_cuda_gather,

/* Where the `gather` method (not attention: it writes no O) keeps its
 * outputs KE and VE, [B,H,m,k,d], in the workspace given to its setup():
 * for tests/gpu/test_gather.c, which checks them. */
void attn_cuda_gather_outputs(const struct attn_problem *p, const struct attn_params *a,
                              void *workspace, void **ke, void **ve);

#endif
