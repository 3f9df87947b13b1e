"""attnbench's inputs in PyTorch.

`iid` inputs are attnbench's own generator ported exactly: element i of Q
(which=0), K (1) or V (2) is attn_random_value(seed, which, i) of attn/attn.h,
a splitmix64-style hash of (seed, which, i) mapped to [-sqrt 3, sqrt 3) in
fp32 and rounded to the dtype (nearest, ties to even), so a peer times and
checks bit for bit the tensors attnbench does (tests/peers checks it against
the C generator). The other input kinds come from `attnbench inputs`, which
writes a point's q, k, v as a safetensors file; read_safetensors() reads it.
"""
import json
import os
import struct
import subprocess
import tempfile

import torch

MASK64 = (1 << 64) - 1
# attn_random_value's constants (attn/attn.h)
GOLDEN = 0x9E3779B97F4A7C15
WHICH_MIX = 0xD1B54A32D192ED03
INDEX_MIX = 0x94D049BB133111EB
OFFSET = 0x2545F4914F6CDD1D
MIX1 = 0xBF58476D1CE4E5B9
MIX2 = 0x94D049BB133111EB
SQRT3_FP32 = 1.7320508

DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
# How many elements are hashed at once: bounds the int64 temporaries (8 bytes each, a few alive).
HASH_CHUNK = 1 << 22


def signed64(x):
    """A 64-bit pattern as the int64 torch holds it (two's complement)."""
    x &= MASK64
    return x - (1 << 64) if x >> 63 else x


def shift_right_logical(z, bits):
    """uint64 `z >> bits` for the int64 tensor `z`: torch's >> is arithmetic (copies the sign
    bit), so the bits it shifted in are masked off."""
    return (z >> bits) & ((1 << (64 - bits)) - 1)


def random_values(seed, which, first, count, device):
    """attn_random_value(seed, which, i) for i in [first, first + count), as fp32. int64
    products wrap modulo 2^64 as C's uint64_t ones do; only the shifts need care."""
    base = signed64(seed * GOLDEN + which * WHICH_MIX + OFFSET)
    z = torch.arange(first, first + count, dtype=torch.int64, device=device)
    z = z * signed64(INDEX_MIX) + base
    z = (z ^ shift_right_logical(z, 30)) * signed64(MIX1)
    z = (z ^ shift_right_logical(z, 27)) * signed64(MIX2)
    z = z ^ shift_right_logical(z, 31)
    u = shift_right_logical(z, 40).to(torch.float32) * (1.0 / 16777216.0)  # 24 bits, exact
    return (2.0 * u - 1.0) * torch.tensor(SQRT3_FP32, dtype=torch.float32, device=device)


def same_as_on_cpu(device):
    """Whether `device` hashes as the CPU does (tests/peers checks the CPU against attnbench's
    C generator): int64 products must wrap there too. A few chunks' worth, the last short."""
    here, cpu = (random_tensor((3, 1000), "fp32", 2 ** 64 - 1, 2, where, chunk=999)
                 for where in (device, "cpu"))
    return torch.equal(here.cpu().view(torch.int32), cpu.view(torch.int32))


def random_tensor(shape, dtype, seed, which, device, chunk=HASH_CHUNK):
    """One of Q, K, V ([B,H,N,d], the point's dtype) as attn_random_fill fills it, `chunk`
    elements hashed at a time."""
    out = torch.empty(shape, dtype=DTYPES[dtype], device=device)
    flat = out.view(-1)
    for first in range(0, flat.numel(), chunk):
        count = min(chunk, flat.numel() - first)
        flat[first:first + count] = random_values(seed, which, first, count, device)
    return out


# ---- safetensors ---------------------------------------------------------------------------

SAFETENSORS_DTYPES = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16,
                      "BF16": torch.bfloat16, "I64": torch.int64, "I32": torch.int32}


def read_safetensors(path):
    """{name: tensor} of a safetensors file: an 8-byte little-endian header length, that many
    bytes of JSON ({name: {dtype, shape, data_offsets}}, plus an optional __metadata__), then
    the tensors' raw little-endian bytes, offsets counted from the end of the header."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError("%s: %d bytes, too short for a safetensors file" % (path, len(blob)))
    (header_len,) = struct.unpack("<Q", blob[:8])
    if 8 + header_len > len(blob):
        raise ValueError("%s: its header claims %d bytes, the file has %d"
                         % (path, header_len, len(blob) - 8))
    try:
        header = json.loads(blob[8:8 + header_len].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError("%s: its header is not JSON (%s)" % (path, e))
    data = blob[8 + header_len:]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = SAFETENSORS_DTYPES.get(info.get("dtype"))
        if dtype is None:
            raise ValueError("%s: tensor '%s' has dtype %s (known: %s)"
                             % (path, name, info.get("dtype"), ", ".join(SAFETENSORS_DTYPES)))
        begin, end = info["data_offsets"]
        shape = info["shape"]
        count = 1
        for n in shape:
            count *= n
        if not 0 <= begin <= end <= len(data) or end - begin != count * dtype.itemsize:
            raise ValueError("%s: tensor '%s' ([%s] %s) has data_offsets [%d, %d] of %d bytes"
                             % (path, name, ",".join(map(str, shape)), info["dtype"], begin, end,
                                len(data)))
        raw = bytearray(data[begin:end])  # writable: torch.frombuffer shares its memory
        flat = torch.frombuffer(raw, dtype=dtype) if count else torch.empty(0, dtype=dtype)
        tensors[name] = flat.reshape(shape)
    return tensors


def attnbench_inputs(binary, point, device):
    """q, k, v of a point whose `inputs` attnbench draws (clustered, image, file:PATH, ...):
    `attnbench inputs` writes them to a safetensors file, read back here. Raises ValueError
    with what went wrong."""
    with tempfile.TemporaryDirectory(prefix="attnpeers-") as folder:
        path = os.path.join(folder, "inputs.safetensors")
        command = [binary, "inputs", "--B", str(point.B), "--H", str(point.H),
                   "--seqlen", str(point.N), "--d", str(point.d), "--dtype", point.dtype,
                   "--seed", str(point.seed), "--inputs", point.inputs, "--out", path]
        try:
            done = subprocess.run(command, capture_output=True, text=True)
        except OSError as e:
            raise ValueError("%s: %s (give the attnbench program with --attnbench)"
                             % (binary, e.strerror))
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
            raise ValueError("attnbench inputs exited %d: %s" % (done.returncode, last))
        tensors = read_safetensors(path)
    shape = [point.B, point.H, point.N, point.d]
    out = []
    for name in ("q", "k", "v"):
        t = tensors.get(name)
        if t is None or list(t.shape) != shape or t.dtype != DTYPES[point.dtype]:
            raise ValueError("attnbench inputs: '%s' is %s, need [%s] %s" % (
                name, "missing" if t is None else "[%s] %s" % (
                    ",".join(map(str, t.shape)), t.dtype), ",".join(map(str, shape)),
                point.dtype))
        out.append(t.to(device))
    return out
