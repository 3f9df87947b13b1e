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
# --resume: a re-run (or a run after an interruption) measures only what is missing.
./build/harness/attnbench run "$suite" --backend "$backend" --out "$csv" --resume
bash "$root/plots/plot.sh" "$csv" "$out/figures"
