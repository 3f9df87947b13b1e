#!/usr/bin/env bash
# main.sh — the main job: set up, build, run the default sweep and draw it.
# On a machine with a GPU: the seqlen suite on the GPU; without one: the
# quick suite on the CPU. CSV and figures go to out/ (override: OUT=dir).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$root/scripts/setup.sh"
out=${OUT:-$root/out}
mkdir -p "$out"

if ./build/harness/attnbench list | grep -q "cuda  available"; then
    suite=seqlen backend=cuda
else
    suite=quick backend=cpu
fi
csv=$out/$suite-$backend.csv
echo "main: suite $suite on $backend -> $csv" >&2
# The device's measured ceilings, once: the roofs of the roofline figure
# (a CPU's rows are drawn under the CPU's own roofs only).
ceilings=$out/ceilings-$backend.csv
[ -s "$ceilings" ] || ./build/harness/attnbench ceilings --backend "$backend" --out "$ceilings" ||
    echo "main: the ceilings failed (exit $?); the roofline uses what it has" >&2
# --resume: a re-run (or a run after an interruption) measures only what is missing.
./build/harness/attnbench run "$suite" --backend "$backend" --out "$csv" --resume
results=("$csv")
# The PyTorch peers on the same points, where PyTorch is installed: every
# method as a researcher would write it in PyTorch, eager and compiled,
# FlexAttention and SDPA's backends for full attention, each checked against
# the definitions before it is timed. Their rows go to a file of their own
# and into the same figures (dashed). Failed rows there (a backend without a
# kernel for a shape) must not cost the figures.
if [ "$backend" = cuda ] && command -v python3 >/dev/null && python3 -c 'import torch' 2>/dev/null; then
    peers=$out/$suite-torch.csv
    python3 suites/peers/torch_peers.py "$suite" --out "$peers" --resume ||
        echo "main: the PyTorch peers failed (exit $?); see $peers" >&2
    if [ -s "$peers" ]; then results+=("$peers"); fi
fi
plot_ceilings=()
[ -s "$ceilings" ] && plot_ceilings=(--ceilings "$ceilings")
# With the peers, figures/peers.md begins with every method against its fastest peer at
# N = 2^14 and 2^20, side by side.
./build/harness/attnbench plot "${results[@]}" ${plot_ceilings[@]+"${plot_ceilings[@]}"} \
    --out "$out/figures" --peers-at 2^14,2^20
