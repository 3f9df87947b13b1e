"""The peers: each method of docs/methods.md as a researcher would write it in PyTorch.

Batched over B and H (whole [B,H,...] tensors in every call), with no Python
loop over heads or queries. Where a score matrix with a row per query (N x N
for full and topk) would not fit, the queries are taken a chunk of rows at a
time: a method is a `prepare` (what every query shares: landmarks, experts,
S and z, pinv(M) (G V), ...) and an `attend` (one chunk of query rows), and
ChunkedPeer runs prepare once, then attend over the chunks. The chunk is
sized from memory (chunk_rows): the whole N when it fits.

Arithmetic follows docs/methods.md, "Numeric types and arithmetic": products
in the inputs' dtype (fp32 accumulation inside cuBLAS), softmax and sums in
fp32, probabilities rounded to the dtype where they feed a product, O stored
in the dtype; fp32 products without TF32 (runner.py sets "highest"). Scores
that decide a selection are fp32 from the stored inputs, and a selection's
ties go to the lower index (topk_lower_index). Selection-based methods hand
back what they chose, so that the check (check.py) can judge it.

Peers (the `backend` and `variant` of their rows):
  torch-eager       every method, as below
  torch-compile     the same functions under torch.compile
  torch-flex        full: FlexAttention (torch.nn.attention.flex_attention), compiled
  torch-sdpa-NAME   full: F.scaled_dot_product_attention with one SDPA backend
                    (flash, cudnn, efficient)
"""
import math

import torch
import torch.nn.functional as F

from .suite import USES

DTYPE_BYTES = {torch.float32: 4, torch.float16: 2, torch.bfloat16: 2}


# ---- building blocks ------------------------------------------------------------------------

def landmarks(x, m):
    """m window means of the rows of x [B,H,N,d], in fp32: window j is rows
    [floor(j*N/m), floor((j+1)*N/m)), so windows differ in size by at most one when m does
    not divide N. Each window's rows are gathered into a [m, widest] block, the slots past a
    window's end pointing at an appended zero row, and summed in fp32."""
    B, H, N, d = x.shape
    j = torch.arange(m, device=x.device)
    begin = j * N // m
    size = (j + 1) * N // m - begin
    offset = torch.arange(-(-N // m), device=x.device)
    rows = torch.where(offset < size[:, None], begin[:, None] + offset, N)   # N: the zero row
    padded = torch.cat([x, x.new_zeros(B, H, 1, d)], dim=2)
    block = padded.index_select(2, rows.reshape(-1)).reshape(B, H, m, -1, d)
    return block.sum(dim=-2, dtype=torch.float32) / size[:, None].to(torch.float32)


def topk_lower_index(scores, k):
    """Indices of the k largest fp32 scores of each row, largest first; of equal scores the
    lower index (docs/methods.md, "Selection"), which torch.topk does not promise. Each score
    becomes an int64 that orders as (score, -index): the float's bits made monotonic in the
    high 32 bits (negative floats' magnitude bits flipped; -0.0 taken as +0.0), N-1-index in
    the low 32."""
    n = scores.shape[-1]
    bits = torch.where(scores == 0, 0.0, scores).view(torch.int32).to(torch.int64)
    bits = torch.where(bits < 0, bits ^ 0x7FFFFFFF, bits)
    order = bits * (1 << 32) + (n - 1 - torch.arange(n, device=scores.device))
    return torch.topk(order, k, dim=-1).indices


def gather_rows(x, idx):
    """Rows of x [B,H,N,d] per batch-head: idx [B,H,r,t] -> [B,H,r,t,d]."""
    B, H, r, t = idx.shape
    flat = idx.reshape(B, H, r * t, 1).expand(B, H, r * t, x.shape[-1])
    return torch.gather(x, 2, flat).reshape(B, H, r, t, x.shape[-1])


def softmax_attend(q, k, v, s):
    """softmax(q kᵀ s) v: scores from a product in q's dtype, softmax in fp32, the
    probabilities in v's dtype for the second product."""
    p = torch.softmax(torch.matmul(q, k.transpose(-1, -2)).float() * s, dim=-1)
    return torch.matmul(p.to(v.dtype), v)


def in_chunks(fn, rows, chunk, *args):
    """fn(rows[..., i:i+chunk, :], *args) over chunks of rows, concatenated: for the passes of
    m landmark rows over all N keys in prepare."""
    n = rows.shape[-2]
    return torch.cat([fn(rows[..., i:i + chunk, :], *args) for i in range(0, n, chunk)], dim=-2)


def pinv_newton_schulz(M, iterations=6):
    """Nyström's pseudo-inverse, exactly as defined: Z0 = Mᵀ / (‖M‖∞ ‖M‖1) per batch-head,
    then `iterations` times Z <- ¼ Z (13I − MZ (15I − MZ (7I − MZ)))."""
    I = torch.eye(M.shape[-1], dtype=M.dtype, device=M.device)
    norms = M.abs().sum(dim=-1).amax(dim=-1) * M.abs().sum(dim=-2).amax(dim=-1)
    Z = M.transpose(-1, -2) / norms[..., None, None]
    for _ in range(iterations):
        MZ = M @ Z
        Z = 0.25 * Z @ (13 * I - MZ @ (15 * I - MZ @ (7 * I - MZ)))
    return Z


# ---- the methods: prepare(q, k, v, p, landmark_chunk) -> ctx; attend(q_rows, ctx, p) -> (o, chosen) --
# p: the point's parameters (m, k, s_r, shared_scale, route_only, s = 1/sqrt(d)).

def full_prepare(q, k, v, p, chunk):
    return (k, v)


def full_attend(q, ctx, p):
    k, v = ctx
    return softmax_attend(q, k, v, p["s"]), None


def linear_prepare(q, k, v, p, chunk):
    phi_k = F.elu(k.float()) + 1
    return (phi_k.transpose(-1, -2) @ v.float(), phi_k.sum(dim=-2))       # S [d,d], z [d]


def linear_attend(q, ctx, p):
    S, z = ctx
    phi_q = F.elu(q.float()) + 1
    return (phi_q @ S) / ((phi_q @ z.unsqueeze(-1)) + 1e-6), None


def agent_prepare(q, k, v, p, chunk):
    agents = landmarks(q, p["m"]).to(q.dtype)                            # A [m,d]
    return (agents, in_chunks(softmax_attend, agents, chunk, k, v, p["s"]))  # V_A [m,d]


def agent_attend(q, ctx, p):
    agents, agent_values = ctx
    return softmax_attend(q, agents, agent_values, p["s"]), None


def nystrom_prepare(q, k, v, p, chunk):
    q_l, k_l = landmarks(q, p["m"]).to(q.dtype), landmarks(k, p["m"]).to(k.dtype)
    M = torch.softmax(torch.matmul(q_l, k_l.transpose(-1, -2)).float() * p["s"], dim=-1)
    GV = in_chunks(softmax_attend, q_l, chunk, k, v, p["s"])              # G V [m,d]
    return (k_l, pinv_newton_schulz(M) @ GV.float())                     # pinv(M) G V, fp32


def nystrom_attend(q, ctx, p):
    k_l, W = ctx
    return softmax_attend(q, k_l, W, p["s"]), None                       # F pinv(M) G V


def topk_prepare(q, k, v, p, chunk):
    return (k.float(), v)          # the selection's scores are fp32 products of stored inputs


def topk_attend(q, ctx, p):
    k32, v = ctx
    S = torch.matmul(q.float(), k32.transpose(-1, -2))                    # [rows, N]
    keys = topk_lower_index(S, p["k"])
    weights = torch.softmax(torch.gather(S, -1, keys) * p["s"], dim=-1)
    o = torch.matmul(weights.unsqueeze(-2).to(v.dtype), gather_rows(v, keys)).squeeze(-2)
    return o, keys


def mita_experts(q_l, k32, v, p):
    """Steps 2-4 for a chunk of landmarks: the probe P = Q̃ Kᵀ (fp32, unscaled), each
    expert's k keys topk(P_j, k), and the shared values V̂ = softmax(P s) V."""
    P = torch.matmul(q_l, k32.transpose(-1, -2))
    experts = topk_lower_index(P, p["k"])
    v_hat = torch.matmul(torch.softmax(P * p["s"], dim=-1).to(v.dtype), v)
    return experts, v_hat


def mita_prepare(q, k, v, p, chunk):
    q_l = landmarks(q, p["m"])                                            # 1. Q̃, fp32
    k32 = k.float()
    parts = [mita_experts(q_l[..., i:i + chunk, :], k32, v, p)
             for i in range(0, p["m"], chunk)]
    experts = torch.cat([e for e, _ in parts], dim=-2)                    # 3. E [m,k]
    v_hat = torch.cat([h for _, h in parts], dim=-2)                      # 4. V̂ [m,d]
    return (q_l, experts, v_hat, k, v)


def mita_attend(q, ctx, p):
    q_l, experts, v_hat, k, v = ctx
    B, H, rows, _ = q.shape
    R = torch.matmul(q.float(), q_l.transpose(-1, -2))                    # 5. routing, fp32
    routes = topk_lower_index(R, p["s_r"])                                # best first
    # 6. each query's keys: its s_r experts' k keys, in routing order, duplicates kept
    chosen = torch.gather(experts, 2, routes.reshape(B, H, rows * p["s_r"], 1)
                          .expand(B, H, rows * p["s_r"], p["k"])).reshape(B, H, rows, -1)
    k_e, v_e = gather_rows(k, chosen), gather_rows(v, chosen)             # [rows, s_r k, d]
    routed = torch.matmul(q.unsqueeze(-2), k_e.transpose(-1, -2)).squeeze(-2).float() * p["s"]
    if p["route_only"]:
        weights = torch.softmax(routed, dim=-1)
        o = torch.matmul(weights.unsqueeze(-2).to(v.dtype), v_e).squeeze(-2)
        return o, routes
    # 7. one softmax over [shared ; routed]: the shared keys are Q̃, scaled by s_sh
    weights = torch.softmax(torch.cat([R * p["s_sh"], routed], dim=-1), dim=-1)
    shared, own = weights[..., :p["m"]], weights[..., p["m"]:]
    o = (torch.matmul(shared.to(v.dtype), v_hat).float() +
         torch.matmul(own.unsqueeze(-2).to(v.dtype), v_e).squeeze(-2).float())
    return o, routes


METHODS = {
    "full": (full_prepare, full_attend),
    "linear": (linear_prepare, linear_attend),
    "agent": (agent_prepare, agent_attend),
    "nystrom": (nystrom_prepare, nystrom_attend),
    "topk": (topk_prepare, topk_attend),
    "mita": (mita_prepare, mita_attend),
}


def row_bytes(method, B, H, N, d, dtype, p):
    """Bytes one query row of attend() holds at once (its scores and their fp32 copies, the
    gathered rows), over all B·H heads: what chunk_rows divides the memory by."""
    e = DTYPE_BYTES[dtype]
    per_head = {
        "full": N * (e + 4 + 4 + e),                        # scores, fp32, softmax, in dtype
        "linear": d * 4 * 4,
        "agent": p.get("m", 1) * (e + 12) + d * 4,
        "nystrom": p.get("m", 1) * (e + 12) + d * 4,
        # fp32 S and its copy without -0.0, the int64 order keys and their temporaries
        "topk": N * (4 + 4 + 8 + 8 + 8) + p.get("k", 1) * (d * e + 32),
        "mita": p.get("m", 1) * 16 + p.get("s_r", 1) * p.get("k", 1) * (2 * d * e + 40),
    }[method]
    return B * H * per_head


def chunk_rows(method, B, H, N, d, dtype, p, memory_bytes):
    """The query rows attend() takes at once: all N when they fit in memory_bytes, else the
    largest power of two that does (at least 1)."""
    fit = max(1, memory_bytes // row_bytes(method, B, H, N, d, dtype, p))
    return N if fit >= N else 1 << (fit.bit_length() - 1)


def method_params(method, variant, d, params):
    """The point's parameters as prepare and attend read them."""
    s = 1.0 / math.sqrt(d)
    p = {"s": s}
    p.update({key: params[key] for key in USES[method]})
    if method == "mita":
        p["route_only"] = variant == "route_only"
        p["s_sh"] = s * s if params["shared_scale"] == "official" else s
    return p


# ---- the peers ------------------------------------------------------------------------------

def compile_every_shape():
    """A sweep compiles each function at many shapes (dynamic=False: a graph per shape), and
    past dynamo's default of 8 recompilations it would run the rest eagerly without saying
    so: allow plenty, and fail (an error: row) rather than fall back past them."""
    torch._dynamo.config.recompile_limit = 1024
    torch._dynamo.config.accumulated_recompile_limit = 8192
    torch._dynamo.config.fail_on_recompile_limit_hit = True


class Peer:
    """One way to run methods: its name (the rows' backend) and how (suite.PEER_METHODS says
    which methods each runs)."""
    name = ""
    compiles = False   # torch.compile: the first call at a shape compiles, so it is not timed

    # prepare_call(method, variant, q, k, v, params, memory_bytes, chunk=None, out=None): a
    # function of no arguments that runs one forward of the point on q, k, v and returns
    # (O, selection); a chunked peer sizes its chunk of query rows from memory_bytes unless
    # `chunk` is given, and writes O into `out` when given (the check poisons it first).


class ChunkedPeer(Peer):
    """The methods above, prepare once, then attend chunk by chunk; under torch.compile when
    `compiles`, each of prepare and attend compiled once for the point's shapes."""

    def __init__(self, name, compiles):
        self.name, self.compiles = name, compiles
        self.compiled = {}
        if compiles:
            compile_every_shape()

    def functions(self, method):
        prepare, attend = METHODS[method]
        if not self.compiles:
            return prepare, attend
        if method not in self.compiled:
            self.compiled[method] = (torch.compile(prepare, dynamic=False),
                                     torch.compile(attend, dynamic=False))
        return self.compiled[method]

    def prepare_call(self, method, variant, q, k, v, params, memory_bytes, chunk=None,
                     out=None):
        B, H, N, d = q.shape
        p = method_params(method, variant, d, params)
        scan = chunk
        if chunk is None:
            chunk = chunk_rows(method, B, H, N, d, q.dtype, p, memory_bytes)
            # prepare's passes of landmark rows over all N keys hold N-long score rows, as
            # topk's queries do: their chunk is sized as topk's.
            scan = chunk_rows("topk", B, H, N, d, q.dtype, {"k": p.get("k", 1)}, memory_bytes)
        prepare, attend = self.functions(method)

        def call():
            ctx = prepare(q, k, v, p, scan)
            o = torch.empty_like(q) if out is None else out
            chosen = []
            for i in range(0, N, chunk):
                o[:, :, i:i + chunk], picked = attend(q[:, :, i:i + chunk], ctx, p)
                chosen.append(picked)
            if method == "topk":
                return o, {"keys": torch.cat(chosen, dim=2)}
            if method == "mita":
                return o, {"keys": ctx[1], "routes": torch.cat(chosen, dim=2)}
            return o, {}
        call.chunk = chunk
        return call


class FlexPeer(Peer):
    """full through FlexAttention: no score or mask modification, scale 1/sqrt(d); compiled,
    as FlexAttention is meant to be run (its eager form is a reference loop)."""
    name, compiles = "torch-flex", True

    def __init__(self):
        from torch.nn.attention.flex_attention import flex_attention
        compile_every_shape()
        self.flex = torch.compile(flex_attention, dynamic=False)

    def prepare_call(self, method, variant, q, k, v, params, memory_bytes, chunk=None,
                     out=None):
        def call():
            return self.flex(q, k, v), {}
        return call


class SdpaPeer(Peer):
    """full through F.scaled_dot_product_attention, restricted to one SDPA backend; a point
    that backend has no kernel for raises "No available kernel" (an `invalid:` row)."""
    def __init__(self, backend):
        from torch.nn.attention import SDPBackend, sdpa_kernel
        self.name = "torch-sdpa-" + backend
        self.sdpa_kernel = sdpa_kernel
        self.backend = {"flash": SDPBackend.FLASH_ATTENTION,
                        "cudnn": SDPBackend.CUDNN_ATTENTION,
                        "efficient": SDPBackend.EFFICIENT_ATTENTION}[backend]

    def prepare_call(self, method, variant, q, k, v, params, memory_bytes, chunk=None,
                     out=None):
        def call():
            with self.sdpa_kernel(self.backend):
                return F.scaled_dot_product_attention(q, k, v), {}
        return call


def make_peer(name):
    """A peer by its short name (suite.PEER_METHODS); its rows say torch-NAME."""
    if name == "eager":
        return ChunkedPeer("torch-eager", compiles=False)
    if name == "compile":
        return ChunkedPeer("torch-compile", compiles=True)
    if name == "flex":
        return FlexPeer()
    return SdpaPeer(name[len("sdpa-"):])
