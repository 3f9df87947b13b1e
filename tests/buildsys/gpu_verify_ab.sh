#!/usr/bin/env bash
# gpu_verify_ab.sh BUILD_DIR — scripts/gpu_verify.sh's `ab` step end to end on the CPU
# backend (AB_ARGS picks two tiny fp32 points): the base build's rows, this build's rows and
# `attnbench compare`'s verdicts land in OUT_DIR; without BASE the step refuses with a message.
build=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
bench=$build/harness/attnbench
args="--backend cpu --dtype fp32 --methods linear,agent --seqlen 2^8 --B 1 --H 1 --reps 3 --warmup 0"
BASE=$bench AB_ARGS=$args bash "$root/scripts/gpu_verify.sh" "$build" "$out" ab >"$out/log" 2>&1
fail=0
for f in ab-base.csv ab-new.csv; do
    rows=$(($(wc -l <"$out/$f" 2>/dev/null || echo 1) - 1))
    [ "$rows" = 2 ] || { echo "FAIL: $f has $rows rows, want 2"; fail=1; }
done
grep -q '^compare: 2 points in both' "$out/ab.txt" 2>/dev/null ||
    { echo "FAIL: no compare summary in ab.txt"; cat "$out/log"; fail=1; }
if bash "$root/scripts/gpu_verify.sh" "$build" "$out/nobase" ab >"$out/nobase.log" 2>&1 ||
   ! grep -q 'ab needs BASE' "$out/nobase.log"; then
    echo "FAIL: without BASE the step must stop and say why"; cat "$out/nobase.log"; fail=1
fi
[ $fail = 0 ] && echo "ok: the ab step writes both runs and compare's verdicts"
exit $fail
