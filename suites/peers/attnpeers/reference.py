"""The definitions of docs/methods.md in float64, written to be read beside them.

The check's reference (check.py): whole [B,H,N,d] tensors in double, every score
materialised, so only for the small N a check runs at. It reads exactly the
values stored in the inputs (widened from the dtype, as attn/reference.c does),
and tests/peers compares it with attn/reference.c number for number.

Selection-based methods return what they chose ({"keys": ..., "routes": ...},
int64) and can be given a selection instead, so that an implementation's output
is compared for its own choice (docs/correctness.md, "Selection-based methods").
"""
import math

import torch


def landmarks(x, m):
    """m window means of the rows of x [B,H,N,d]: window j is rows
    [floor(j*N/m), floor((j+1)*N/m))."""
    N = x.shape[-2]
    rows = [x[..., j * N // m:(j + 1) * N // m, :].mean(dim=-2) for j in range(m)]
    return torch.stack(rows, dim=-2)


def topk_lower_index(scores, k):
    """The k largest entries of each row, largest first; of equal entries the lower index.
    A stable sort keeps equal entries in index order."""
    return torch.sort(scores, dim=-1, descending=True, stable=True).indices[..., :k]


def gather_rows(x, idx):
    """x [B,H,N,d], idx [B,H,...] -> [B,H,...,d]: rows of x per batch-head."""
    B, H, _, d = x.shape
    flat = idx.reshape(B, H, -1)
    rows = torch.gather(x, 2, flat.unsqueeze(-1).expand(B, H, flat.shape[-1], d))
    return rows.reshape(*idx.shape, d)


def full(q, k, v, s):
    return torch.softmax(q @ k.transpose(-1, -2) * s, dim=-1) @ v


def linear(q, k, v):
    phi_q, phi_k = torch.nn.functional.elu(q) + 1, torch.nn.functional.elu(k) + 1
    S = phi_k.transpose(-1, -2) @ v                                   # [d, d]
    z = phi_k.sum(dim=-2)                                             # [d]
    return (phi_q @ S) / ((phi_q * z.unsqueeze(-2)).sum(-1, keepdim=True) + 1e-6)


def agent(q, k, v, s, m):
    A = landmarks(q, m)
    V_A = torch.softmax(A @ k.transpose(-1, -2) * s, dim=-1) @ v
    return torch.softmax(q @ A.transpose(-1, -2) * s, dim=-1) @ V_A


def pinv_newton_schulz(M, iterations=6):
    """Z0 = M^T / (max row sum of |M| * max column sum of |M|), per batch-head; then
    Z <- Z (13I - MZ (15I - MZ (7I - MZ))) / 4, `iterations` times."""
    I = torch.eye(M.shape[-1], dtype=M.dtype, device=M.device)
    norm_inf = M.abs().sum(dim=-1).amax(dim=-1)
    norm_1 = M.abs().sum(dim=-2).amax(dim=-1)
    Z = M.transpose(-1, -2) / (norm_inf * norm_1)[..., None, None]
    for _ in range(iterations):
        MZ = M @ Z
        Z = 0.25 * Z @ (13 * I - MZ @ (15 * I - MZ @ (7 * I - MZ)))
    return Z


def nystrom(q, k, v, s, m):
    q_l, k_l = landmarks(q, m), landmarks(k, m)
    F = torch.softmax(q @ k_l.transpose(-1, -2) * s, dim=-1)
    M = torch.softmax(q_l @ k_l.transpose(-1, -2) * s, dim=-1)
    G = torch.softmax(q_l @ k.transpose(-1, -2) * s, dim=-1)
    return F @ pinv_newton_schulz(M) @ (G @ v)


def topk(q, k, v, s, kk, given=None):
    S = q @ k.transpose(-1, -2)
    keys = given["keys"] if given else topk_lower_index(S, kk)
    logits = torch.gather(S, -1, keys) * s
    o = (torch.softmax(logits, dim=-1).unsqueeze(-2) @ gather_rows(v, keys)).squeeze(-2)
    return o, {"keys": keys}


def mita(q, k, v, s, m, kk, s_r, route_only, shared_scale, given=None):
    B, H, N, _ = q.shape
    q_l = landmarks(q, m)                                             # 1. Q~ [m,d]
    P = q_l @ k.transpose(-1, -2)                                     # 2. probe, unscaled
    experts = given["keys"] if given else topk_lower_index(P, kk)     # 3. E [m,k]
    v_hat = torch.softmax(P * s, dim=-1) @ v                          # 4. V^ [m,d]
    R = q @ q_l.transpose(-1, -2)                                     # 5. routing [N,m]
    routes = given["routes"] if given else topk_lower_index(R, s_r)   #    best first
    # 6. each query's routed keys: its experts' k keys, concatenated in routing order
    chosen = torch.gather(experts.unsqueeze(2).expand(B, H, N, m, kk), 3,
                          routes.unsqueeze(-1).expand(B, H, N, s_r, kk)).reshape(B, H, N, -1)
    routed = (q.unsqueeze(-2) @ gather_rows(k, chosen).transpose(-1, -2)).squeeze(-2) * s
    values = gather_rows(v, chosen)                                   # [N, s_r k, d]
    if route_only:
        o = (torch.softmax(routed, dim=-1).unsqueeze(-2) @ values).squeeze(-2)
        return o, {"keys": experts, "routes": routes}
    # 7. one softmax over [shared ; routed]: m weights on V^, then s_r k on the gathered rows
    s_sh = s * s if shared_scale == "official" else s
    weights = torch.softmax(torch.cat([R * s_sh, routed], dim=-1), dim=-1)
    o = weights[..., :m] @ v_hat + (weights[..., m:].unsqueeze(-2) @ values).squeeze(-2)
    return o, {"keys": experts, "routes": routes}


def reference(method, variant, q, k, v, params, given=None):
    """O (float64) and the selection ({} for methods that select nothing) of one point's
    inputs; params: m, k, s_r, shared_scale as the point gives them."""
    q, k, v = q.double(), k.double(), v.double()
    s = 1.0 / math.sqrt(q.shape[-1])
    if method == "full":
        return full(q, k, v, s), {}
    if method == "linear":
        return linear(q, k, v), {}
    if method == "agent":
        return agent(q, k, v, s, params["m"]), {}
    if method == "nystrom":
        return nystrom(q, k, v, s, params["m"]), {}
    if method == "topk":
        return topk(q, k, v, s, params["k"], given)
    if method == "mita":
        return mita(q, k, v, s, params["m"], params["k"], params["s_r"],
                    variant == "route_only", params["shared_scale"], given)
    raise ValueError("no reference for method '%s'" % method)


def selection_valid(method, q, k, selection, params, tol):
    """None when the selection is valid, else why: every index in range and once in its set,
    every chosen score >= every unchosen score - tol, scores recomputed in double and unscaled;
    MiTA's routes best first within tol (docs/correctness.md)."""
    q, k = q.double(), k.double()
    if method == "topk":
        sets = [("keys", q @ k.transpose(-1, -2), selection["keys"], False)]
    else:
        q_l = landmarks(q, params["m"])
        sets = [("keys", q_l @ k.transpose(-1, -2), selection["keys"], False),
                ("routes", q @ q_l.transpose(-1, -2), selection["routes"], True)]
    for name, scores, chosen, ordered in sets:
        n = scores.shape[-1]
        chosen = chosen.to(torch.int64)
        if chosen.min() < 0 or chosen.max() >= n:
            return "%s: an index out of [0, %d)" % (name, n)
        if (chosen.sort(dim=-1).values.diff(dim=-1) == 0).any():
            return "%s: an index chosen twice in one set" % name
        picked = torch.gather(scores, -1, chosen)
        unchosen = scores.scatter(-1, chosen, -math.inf)
        gap = unchosen.amax(dim=-1) - picked.amin(dim=-1)
        if chosen.shape[-1] < n and (gap > tol).any():
            return "%s: an unchosen score exceeds a chosen one by %.3g (tolerance %.3g)" % (
                name, gap.max().item(), tol)
        if ordered and (picked.diff(dim=-1) > tol).any():
            return "%s: not listed best first" % name
    return None
