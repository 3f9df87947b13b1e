#!/usr/bin/env python3
"""test_peers.py — the PyTorch peers (suites/peers/attnpeers) on the CPU, one case per run:

    test_peers.py CASE PEER_DUMP TEST_PEER_CSV

PEER_DUMP is tests/peers/peer_dump (attnbench's C generator and reference, as a
safetensors file); TEST_PEER_CSV reads a results file with the harness's reader.
Exits 77 (skipped) where PyTorch is not installed, 1 with a line per failure.
"""
import csv
import math
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PEERS = os.path.join(HERE, "..", "..", "suites", "peers")
sys.path.insert(0, PEERS)

try:
    import torch
except ImportError:
    print("skip: PyTorch is not installed")
    sys.exit(77)

from attnpeers import check, gpu, inputs, methods, reference, results, runner, samples  # noqa: E402
from attnpeers.suite import PEER_METHODS, USES, Point, Suite  # noqa: E402

failures = []
torch.set_float32_matmul_precision("highest")


def expect(ok, what):
    if not ok:
        failures.append(what)
        print("FAIL: " + what)


def dump(method, B, H, N, d, dtype, m=1, k=1, s_r=1, scale="official", seed=1):
    """attnbench's inputs, reference O and selection of one point (peer_dump)."""
    path = os.path.join(WORK, "dump.safetensors")
    subprocess.run([PEER_DUMP, method] + [str(x) for x in (B, H, N, d, dtype, m, k, s_r, scale,
                                                           seed)] + [path], check=True)
    return inputs.read_safetensors(path)


def bits(t):
    return t.view(torch.int32 if t.dtype == torch.float32 else torch.int16)


def fixed(reps):
    """The stopping rule of a suite of `reps` samples a point (the timers' measure() takes it)."""
    suite = Suite("test")
    suite.reps = reps
    return samples.Rule(suite, reps)


def point(method, variant, dtype, B, H, N, d, m=1, k=1, s_r=1, scale="official", seed=3,
          peer="eager"):
    params = {key: value for key, value in (("m", m), ("k", k), ("s_r", s_r),
                                            ("shared_scale", scale))
              if key in USES[method]}
    return Point(peer, method, variant, dtype, B, H, N, d, params, "iid", seed)


# The definitions attnbench runs, as (method, variant): MiTA's two variants compute different
# things; full's variants (flash, naive, ...) are ways to compute one.
DEFINITIONS = (("full", ""), ("linear", ""), ("agent", ""), ("nystrom", ""), ("topk", ""),
               ("mita", "shared"), ("mita", "route_only"))
# attnbench check's awkward shapes (docs/correctness.md): (B, H, N, m, k, s_r, shared_scale)
SHAPES = [(1, 2, 256, 16, 32, 1, "official"), (2, 1, 300, 7, 5, 2, "paper"),
          (1, 1, 97, 1, 1, 1, "official"), (1, 1, 64, 64, 64, 1, "official")]


def case_inputs():
    """iid inputs bit for bit as attn_random_fill_host draws them, in every dtype, at seeds
    that exercise the 64-bit wrap-around, across the generator's chunks."""
    for dtype in ("fp32", "fp16", "bf16"):
        for seed in (0, 1, 12345678901, 2 ** 64 - 1):
            got = dump("full", 2, 3, 97, 8, dtype, seed=seed)
            for which, name in enumerate("qkv"):
                # 2*3*97*8 elements in several chunks, the last short
                mine = inputs.random_tensor((2, 3, 97, 8), dtype, seed, which, "cpu", chunk=1000)
                expect(torch.equal(bits(mine), bits(got[name])),
                       "%s %s seed %d: not attnbench's bits" % (name, dtype, seed))
    expect(torch.equal(inputs.random_tensor((2, 3, 97, 8), "bf16", 5, 1, "cpu"),
                       inputs.random_tensor((2, 3, 97, 8), "bf16", 5, 1, "cpu", chunk=7)),
           "the chunk changes the values")
    expect(inputs.same_as_on_cpu("cpu"), "the CPU hashes differently from itself")
    print("ok: iid inputs are attnbench's, bit for bit (fp32, fp16, bf16; 4 seeds)")


def case_reference():
    """reference.py against attn/reference.c: every definition at attnbench check's shapes,
    in double, to rounding; the same selections."""
    for method, variant in DEFINITIONS:
        for B, H, N, m, k, s_r, scale in SHAPES:
            for dtype in ("fp32", "bf16"):
                name = method + (":" + variant if variant else "")
                got = dump(name, B, H, N, 16, dtype, m, k, s_r, scale, seed=7)
                params = {"m": m, "k": k, "s_r": s_r, "shared_scale": scale}
                o, chosen = reference.reference(method, variant, got["q"], got["k"], got["v"],
                                                params)
                error = ((o - got["o"]).norm() / got["o"].norm()).item()
                expect(error <= 1e-12, "%s N=%d %s: %.3g from attn/reference.c"
                       % (name, N, dtype, error))
                for sel, t in chosen.items():
                    expect(torch.equal(t.to(torch.int32), got[sel]),
                           "%s N=%d %s: its %s differ from attn/reference.c's"
                           % (name, N, dtype, sel))
    print("ok: the float64 definitions equal attn/reference.c (%d definitions x %d shapes)"
          % (len(DEFINITIONS), len(SHAPES)))


def check_all(peer_name, dtypes, shapes, d=16, device="cpu"):
    peer = methods.make_peer(peer_name)
    for method, variant in DEFINITIONS:
        if method not in PEER_METHODS[peer_name]:
            continue
        for B, H, N, m, k, s_r, scale in shapes:
            for dtype in dtypes:
                p = point(method, variant, dtype, B, H, N, d, m, k, s_r, scale)
                try:
                    why = check.check_peer(peer, p, device)
                except Exception as e:  # noqa: BLE001 — a peer that fails to run fails the case
                    why = "%s: %s" % (type(e).__name__, runner.first_line(e))
                expect(why is None, "%s %s/%s N=%d m=%d k=%d s_r=%d %s: %s" % (
                    peer_name, method, variant, N, m, k, s_r, dtype, why))


def case_eager():
    """torch-eager within its dtype's bound of the definitions, selections valid, every
    element written, at awkward shapes, chunked (the check takes about N/3 rows at a time)."""
    check_all("eager", ("fp32", "fp16", "bf16"), SHAPES)
    # chunks sized from memory: a budget of a few rows takes many chunks, the last short
    q, k, v = (inputs.random_tensor((2, 2, 300, 16), "fp32", 9, w, "cpu") for w in range(3))
    params = {"m": 7, "k": 5, "s_r": 2, "shared_scale": "paper"}
    for method, variant in DEFINITIONS:
        p = methods.method_params(method, variant, 16, params)
        memory = methods.row_bytes(method, 2, 2, 300, 16, torch.float32, p) * 40
        call = methods.make_peer("eager").prepare_call(method, variant, q, k, v, params, memory)
        expect(call.chunk == 32, "%s: chunk %d from room for 40 rows, want 32"
               % (method, call.chunk))
        o, selection = call()
        ref, _ = reference.reference(method, variant, q, k, v, params, given=selection or None)
        error = ((o.double() - ref).norm() / ref.norm()).item()
        expect(error <= 1e-4, "%s in chunks of 32 rows: error %.3g" % (method, error))
    print("ok: torch-eager passes the check (fp32, fp16, bf16; %d shapes), in chunks too"
          % len(SHAPES))


def case_sdpa():
    """SDPA's flash backend (the one the CPU has) within the bound; the others are refused
    as `invalid:` rows, not errors."""
    check_all("sdpa-flash", ("fp32", "bf16"), SHAPES)
    out = os.path.join(WORK, "sdpa.csv")
    rc = runner.main(["quick", "--device", "cpu", "--peers", "sdpa-flash,sdpa-cudnn",
                      "--seqlen", "2^7", "--dtype", "fp32", "--reps", "2", "--warmup", "0",
                      "--out", out])
    rows = open(out).read().splitlines()[1:]
    expect(rc == 1 and len(rows) == 2, "sdpa run: exit %d, %d rows" % (rc, len(rows)))
    expect(",torch-sdpa-flash,torch-sdpa-flash," in rows[0] and ",ok," in rows[0],
           "sdpa-flash row: " + rows[0])
    expect(",invalid:torch-sdpa-cudnn has no kernel for fp32 d=64," in rows[1],
           "sdpa-cudnn row: " + rows[1])
    print("ok: torch-sdpa-flash passes the check; a backend without a kernel is invalid:")


def case_compile():
    """torch-compile and torch-flex (compiled on the CPU: slow) pass the check in fp32."""
    check_all("compile", ("fp32",), SHAPES[1:2])
    check_all("flex", ("fp32",), SHAPES[:2])
    # A sweep's many shapes are each compiled, past dynamo's default of 8 recompilations.
    peer = methods.make_peer("compile")
    graphs = torch._dynamo.utils.counters["stats"]["unique_graphs"]
    for N in range(8, 18):
        q, k, v = (inputs.random_tensor((1, 1, N, 8), "fp32", 2, w, "cpu") for w in range(3))
        peer.prepare_call("linear", "", q, k, v, {}, 1 << 20)()
    compiled = torch._dynamo.utils.counters["stats"]["unique_graphs"] - graphs
    expect(compiled >= 20, "%d graphs for prepare and attend at 10 shapes, want 20" % compiled)
    print("ok: torch-compile and torch-flex pass the check; every shape is compiled")


def case_ties():
    """topk_lower_index: the k largest, largest first, ties to the lower index (as a stable
    sort), -0.0 equal to +0.0, negative scores ordered by value."""
    g = torch.Generator().manual_seed(5)
    scores = torch.randint(-3, 4, (4, 3, 50), generator=g).float()   # many exact ties
    scores[0, 0, :4] = torch.tensor([-0.0, 0.0, -0.0, 0.0])
    for k in (1, 7, 50):
        mine = methods.topk_lower_index(scores, k)
        want = torch.sort(scores, dim=-1, descending=True, stable=True).indices[..., :k]
        expect(torch.equal(mine, want), "k=%d: not the stable order" % k)
    expect(methods.topk_lower_index(torch.tensor([-1.5, -0.25, -1.5, -3.0]), 4).tolist() ==
           [1, 0, 2, 3], "negative scores")
    # MiTA and topk on inputs with tied keys: every key duplicated, so each tie is exact
    q, k, v = (inputs.random_tensor((1, 2, 64, 8), "fp32", 4, w, "cpu") for w in range(3))
    k = k[:, :, :32].repeat_interleave(2, dim=2)
    params = {"m": 4, "k": 5, "s_r": 1, "shared_scale": "official"}
    for method, variant in (("topk", ""), ("mita", "shared")):
        call = methods.make_peer("eager").prepare_call(method, variant, q, k, v, params, 0,
                                                       chunk=30)
        _, mine = call()
        _, want = reference.reference(method, variant, q, k, v, params)
        expect(torch.equal(mine["keys"], want["keys"]), "%s: tied keys not to the lower index"
               % method)
    print("ok: ties go to the lower index")


class Broken:
    """A peer that computes eager's method and then spoils it."""
    compiles = False

    def __init__(self, how):
        self.how, self.name = how, "torch-broken-" + how
        self.eager = methods.make_peer("eager")

    def prepare_call(self, method, variant, q, k, v, params, memory_bytes, chunk=None, out=None):
        call = self.eager.prepare_call(method, variant, q, k, v, params, memory_bytes, chunk)

        def broken():
            o, selection = call()
            if self.how == "off":
                o = o * 1.01
            elif self.how == "unwritten":
                o[0, 0, -1, 0] = math.nan
            elif self.how == "selection":
                selection["keys"][..., -1] = selection["keys"][..., 0]   # a key chosen twice
            return o, selection
        return broken


def case_check():
    """The check fails a peer 1 % off, one with an element not written, one whose selection
    is invalid; the runner then writes an error:check: row and times nothing."""
    p = point("topk", "", "fp32", 1, 2, 128, 16, k=8)
    expect("accuracy: error" in (check.check_peer(Broken("off"), p, "cpu") or ""), "1 % off")
    expect((check.check_peer(Broken("unwritten"), p, "cpu") or "").startswith(
        "output: 1 of 4096 elements not finite"), "an element not written")
    expect("keys: an index chosen twice" in (check.check_peer(Broken("selection"), p, "cpu")
                                             or ""), "an invalid selection")
    timer = runner.TorchTimer("cpu", "")
    timer.peers["eager"] = Broken("off")
    status, taken, gpu_cells = timer.measure(p, fixed(3), 1)
    expect(status.startswith("error:check: accuracy: error") and not taken and not gpu_cells,
           "the runner's row: %s" % status)
    print("ok: the check fails wrong peers; their rows are error:check:")


def write_safetensors(path, tensors, header_extra=b""):
    """A minimal writer for the tests (attnbench inputs writes the real ones)."""
    import json
    header, offset, blobs = {}, 0, []
    names = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16"}
    for name, t in tensors.items():
        raw = t.contiguous().view(torch.uint8).numpy().tobytes()
        header[name] = {"dtype": names[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    text = json.dumps(header).encode() + header_extra
    with open(path, "wb") as f:
        f.write(len(text).to_bytes(8, "little") + text + b"".join(blobs))


def case_safetensors():
    """The reader refuses broken files with a message; inputs other than iid come from the
    attnbench program's `inputs` command (a stand-in script here), checked for shape and dtype."""
    path = os.path.join(WORK, "x.safetensors")
    t = {"q": torch.arange(6, dtype=torch.float32).reshape(2, 3)}
    write_safetensors(path, t)
    expect(torch.equal(inputs.read_safetensors(path)["q"], t["q"]), "read back")
    data = open(path, "rb").read()
    for what, blob, message in (
            ("short", data[:5], "too short"),
            ("cut", data[:-4], "data_offsets"),
            ("header", (1000).to_bytes(8, "little") + data[8:], "its header claims"),
            ("json", (3).to_bytes(8, "little") + b"{x}", "not JSON")):
        with open(path, "wb") as f:
            f.write(blob)
        try:
            inputs.read_safetensors(path)
            expect(False, "%s: a broken file was read" % what)
        except ValueError as e:
            expect(message in str(e), "%s: message '%s'" % (what, e))
    # A stand-in attnbench: writes q, k, v of the shape asked for and logs its arguments.
    fake = os.path.join(WORK, "attnbench")
    log = os.path.join(WORK, "args.txt")
    with open(fake, "w") as f:
        f.write("#!%s\nimport sys\nsys.path.insert(0, %r)\nsys.path.insert(0, %r)\n"
                "import torch, test_peers\nopen(%r, 'w').write(' '.join(sys.argv[1:]))\n"
                "a = dict(zip(sys.argv[2::2], sys.argv[3::2]))\n"
                "shape = [int(a['--' + x]) for x in ('B', 'H', 'seqlen', 'd')]\n"
                "n = 2 if a['--inputs'] == 'wrong' else shape[2]\n"
                "t = torch.ones(shape[0], shape[1], n, shape[3], dtype=torch.bfloat16)\n"
                "test_peers.write_safetensors(a['--out'], {'q': t, 'k': t * 2, 'v': t * 3})\n"
                % (sys.executable, PEERS, HERE, log))
    os.chmod(fake, 0o755)
    p = point("full", "", "bf16", 1, 2, 16, 8)
    p.inputs = "clustered"
    q, k, v = inputs.attnbench_inputs(fake, p, "cpu")
    expect(open(log).read() == "inputs --B 1 --H 2 --seqlen 16 --d 8 --dtype bf16 --seed 3 "
           "--inputs clustered --out " + open(log).read().split("--out ")[1],
           "attnbench inputs' arguments: " + open(log).read())
    expect(q.shape == (1, 2, 16, 8) and float(v[0, 1, 15, 7]) == 3.0, "q, k, v read back")
    p.inputs = "wrong"
    try:
        inputs.attnbench_inputs(fake, p, "cpu")
        expect(False, "a wrong shape was taken")
    except ValueError as e:
        expect("'q' is [1,2,2,8]" in str(e), "wrong shape's message: %s" % e)
    status, _, _ = runner.TorchTimer("cpu", fake).measure(p, fixed(2), 0)
    expect(status.startswith("error:inputs: attnbench inputs: 'q' is [1,2,2,8]"),
           "the runner's row for inputs it could not have: " + status)
    p.inputs = "clustered"
    status, taken, gpu_cells = runner.TorchTimer("cpu", fake).measure(p, fixed(2), 0)
    expect(status == "ok" and len(taken) == 2, "a point on attnbench's inputs: " + status)
    expect(gpu_cells == {"gpu_note": "not a GPU"}, "a CPU point's GPU columns: %s" % gpu_cells)
    print("ok: safetensors read and refused; non-iid inputs through `attnbench inputs`")


def case_runner():
    """A sweep on the CPU: every definition's rows, read back by the harness's reader;
    invalid rows where m or k exceed N; --resume runs nothing twice."""
    out = os.path.join(WORK, "cpu.csv")
    argv = ["quick", "--device", "cpu", "--peers", "eager", "--seqlen", "2^3,2^7", "--H", "2",
            "--d", "16", "--m", "16", "--k", "16", "--s_r", "1,2", "--dtype", "fp32,bf16",
            "--reps", "2", "--warmup", "1", "--out", out]
    rc = runner.main(argv)
    rows = open(out).read().splitlines()[1:]
    expect(rc == 1, "exit %d, want 1 (invalid rows at N=8)" % rc)
    # full, linear: 2 dtypes x 2 N; agent, nystrom, topk: the same; mita x 2 variants x 2 s_r
    expect(len(rows) == 5 * 4 + 2 * 2 * 4, "%d rows" % len(rows))
    invalid = [r for r in rows if ",invalid:" in r]
    expect(len(invalid) == 3 * 2 + 4 * 2 and all(",8,16," in r for r in invalid),
           "invalid rows: %s" % invalid)
    expect(all(",ok," in r for r in rows if ",128,16," in r), "a row at N=128 not ok")
    expect(any(r.startswith("quick,mita,route_only-torch-eager,torch-eager,") for r in rows),
           "no route_only row")
    done = subprocess.run([TEST_PEER_CSV, out], capture_output=True, text=True)
    expect(done.returncode == 0, "the harness's reader: " + done.stdout + done.stderr)
    rc = runner.main(argv + ["--resume"])
    expect(rc == 0 and len(open(out).read().splitlines()) == len(rows) + 1,
           "--resume ran points again")
    # A file of an earlier attnbench (without the gather axis and the kernels column): --resume
    # rewrites it under today's header, keeps its rows, and measures nothing again.
    with open(out, newline="") as f:
        table = list(csv.reader(f))
    drop = [table[0].index("gather"), table[0].index("kernels")]
    earlier = os.path.join(WORK, "cpu-earlier.csv")
    with open(earlier, "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(
            [c for i, c in enumerate(r) if i not in drop] for r in table)
    rc = runner.main(argv[:-1] + [earlier, "--resume"])
    with open(earlier, newline="") as f:
        again = list(csv.reader(f))
    expect(rc == 0 and again[0] == results.CSV_COLUMNS and len(again) == len(table),
           "--resume of an earlier file: exit %d, %d rows" % (rc, len(again) - 1))
    expect(again == table, "the rewritten file differs from the one its rows came from")
    done = subprocess.run([TEST_PEER_CSV, earlier], capture_output=True, text=True)
    expect(done.returncode == 0, "the harness's reader of the rewritten file: " + done.stdout)
    print("ok: a CPU sweep of every definition, read back by the harness; --resume, also of an "
          "earlier attnbench's file")


class FakeNvml:
    """gpu.Nvml's interface over scripted readings and an energy counter that runs 2 mJ a
    forward while forwards run."""

    def __init__(self, readings, counter=True):
        self.note, self.device = "", "fake"
        self.readings, self.counter, self.mj = list(readings), counter, 1000

    def read(self):
        return self.readings.pop(0) if self.readings else None

    def energy_mj(self):
        return self.mj if self.counter else None


def case_readings():
    """The GPU columns of a peer's row (gpu.py), as attnbench writes them: medians of the
    clocks and power, the hottest reading, the throttled samples, energy from the counter
    (else median power × median time) and FLOP/s per watt; NVML absent or failing: the
    columns empty and gpu_note saying why."""
    R = gpu.Reading
    taken = [R(1980, 2619, 300.0, 40, False), R(1755, 2619, 700.4, 62, True),
             R(1830, 2619, 650.0, 55, True)]
    nvml = FakeNvml(taken)
    readings = gpu.Readings(nvml)
    for _ in taken:
        readings.take()

    def forwards(count):
        expect(count == 300, "forwards under the counter: %d, want 0.3 s / 1 ms" % count)
        nvml.mj += 2 * count

    readings.energy(forwards, 1.0)
    cells = readings.cells(4e12)
    want = {"gpu_note": "", "sm_clock_median_mhz": "1830", "mem_clock_median_mhz": "2619",
            "power_median_w": "650.0", "temp_max_c": "62", "throttled_samples": "2",
            "discarded_samples": "0", "energy_j": "0.002", "tflops_per_w": "2000"}
    expect(cells == want, "cells from the counter: %s" % cells)
    # No counter: the median power times the median time.
    readings = gpu.Readings(FakeNvml(taken, counter=False))
    for _ in taken:
        readings.take()
    readings.energy(lambda count: expect(False, "forwards run without a counter"), 2.0)
    expect(readings.cells(1e9)["energy_j"] == "1.3", "power x time: %s" % readings.cells(1e9))
    # A reading that fails stops them, with a note; no GPU; no NVML.
    readings = gpu.Readings(FakeNvml(taken[:1]))
    readings.take()
    readings.take()
    expect(readings.cells(1.0) == {"gpu_note": "NVML stopped answering during the samples"},
           "a failed reading: %s" % readings.cells(1.0))
    expect(gpu.Readings(gpu.Nvml(None)).cells(1.0) == {"gpu_note": "not a GPU"}, "no GPU")
    missing = gpu.Nvml("0000:18:00.0", library="libnvidia-ml-not-here.so.1")
    expect(missing.note == "no NVML (libnvidia-ml-not-here.so.1 not found)" and
           missing.read() is None and missing.energy_mj() is None, "no NVML: " + missing.note)
    # The row: the cells of an ok row, none of another; the harness's reader takes it.
    p = point("linear", "", "bf16", 1, 2, 64, 16)
    suite = Suite("readings")
    out = os.path.join(WORK, "readings.csv")
    with open(out, "w") as f:
        f.write(",".join(results.CSV_COLUMNS) + "\n")
        meta = {"git_rev": "test", "suite_hash": "0123456789abcdef", "shard": "1/1"}
        f.write(results.make_row(suite.name, p, runner.FakeTimer(), "ok", [1.0, 1.1], "max-samples",
                                 meta, cells))
        f.write(results.make_row(suite.name, p, runner.FakeTimer(), "oom", [], "", meta, {}))
    with open(out, newline="") as f:
        rows = list(csv.DictReader(f))
    expect(rows[0]["power_median_w"] == "650.0" and rows[0]["energy_j"] == "0.002" and
           rows[1]["power_median_w"] == "" and rows[1]["gpu_note"] == "",
           "the rows' GPU columns: %s" % [(r["power_median_w"], r["gpu_note"]) for r in rows])
    done = subprocess.run([TEST_PEER_CSV, out], capture_output=True, text=True)
    expect(done.returncode == 0, "the harness's reader: " + done.stdout + done.stderr)
    print("ok: a peer row's GPU columns as attnbench's, and their absence explained")


def case_gpu():
    """On a GPU (skipped without one): the GPU's inputs are the CPU's; every peer passes its
    check at d = 64 in every dtype it has kernels for (the compiled ones in bf16, at one
    shape: compiling takes seconds a shape); short sweeps of every peer are ok and carry the
    GPU's readings (NVML)."""
    if not torch.cuda.is_available():
        print("skip: no CUDA device")
        sys.exit(77)
    expect(inputs.same_as_on_cpu("cuda"), "the GPU draws other inputs than the CPU")
    every = ("fp32", "bf16", "fp16")
    for peer_name, dtypes, shapes in (
            ("eager", every, SHAPES), ("sdpa-efficient", every, SHAPES),
            # SDPA's flash and cuDNN backends have no fp32 kernel (their rows say invalid:)
            ("sdpa-flash", ("bf16", "fp16"), SHAPES), ("sdpa-cudnn", ("bf16", "fp16"), SHAPES),
            ("flex", every, SHAPES[:1]), ("compile", ("bf16",), SHAPES[:1])):
        check_all(peer_name, dtypes, shapes, d=64, device="cuda")
    for name, argv in (
            ("gpu.csv", ["--peers", "eager,flex,sdpa-flash,sdpa-cudnn,sdpa-efficient",
                         "--seqlen", "2^10,2^12"]),
            ("gpu-compile.csv", ["--peers", "compile", "--methods", "full,mita",
                                 "--seqlen", "2^10"])):
        out = os.path.join(WORK, name)
        rc = runner.main(["seqlen", "--reps", "3", "--warmup", "1", "--out", out] + argv)
        rows = open(out).read().splitlines()[1:]
        expect(rc == 0 and all(",ok," in r for r in rows), "%s: exit %d, rows not ok: %s"
               % (name, rc, [r for r in rows if ",ok," not in r]))
        # NVML read through ctypes: every ok row has its clocks, power and energy
        with open(out, newline="") as f:
            unread = [(r["variant"], r["N"], r["gpu_note"]) for r in csv.DictReader(f)
                      if not (r["sm_clock_median_mhz"] and r["power_median_w"] and r["energy_j"])]
        expect(not unread, "%s: rows without the GPU's readings: %s" % (name, unread))
        done = subprocess.run([TEST_PEER_CSV, out], capture_output=True, text=True)
        expect(done.returncode == 0, "%s: the harness's reader: %s%s"
               % (name, done.stdout, done.stderr))
    print("ok: every peer passes its check on the GPU; sweeps of every peer are ok, with readings")


CASES = {"inputs": case_inputs, "reference": case_reference, "eager": case_eager,
         "sdpa": case_sdpa, "compile": case_compile, "ties": case_ties, "check": case_check,
         "safetensors": case_safetensors, "runner": case_runner, "readings": case_readings,
         "gpu": case_gpu}

if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in CASES:
        print("usage: test_peers.py {%s} PEER_DUMP TEST_PEER_CSV" % "|".join(CASES))
        sys.exit(2)
    PEER_DUMP, TEST_PEER_CSV = os.path.abspath(sys.argv[2]), os.path.abspath(sys.argv[3])
    with tempfile.TemporaryDirectory() as WORK:
        CASES[sys.argv[1]]()
    sys.exit(1 if failures else 0)
