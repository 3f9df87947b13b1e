#!/usr/bin/env bash
# gpu_verify_ab.sh BUILD_DIR — scripts/gpu_verify.sh's `ab` step end to end on the CPU
# backend (AB_ARGS picks two tiny fp32 points): the base build's rows, this build's rows and
# `attnbench compare`'s verdicts land in OUT_DIR; AB_ROUNDS=2 alternates the builds twice and
# also compares the base with itself; without BASE the step refuses with a message.
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
# AB_ROUNDS=2: base, new, base, new; each round compared, and the base build with itself.
BASE=$bench AB_ARGS=$args AB_ROUNDS=2 bash "$root/scripts/gpu_verify.sh" "$build" "$out/r2" ab \
    >"$out/r2.log" 2>&1
for f in ab-base.csv ab-new.csv ab-base-2.csv ab-new-2.csv; do
    rows=$(($(wc -l <"$out/r2/$f" 2>/dev/null || echo 1) - 1))
    [ "$rows" = 2 ] || { echo "FAIL: AB_ROUNDS=2: $f has $rows rows, want 2"; fail=1; }
done
[ "$(grep -c '^compare: 2 points in both' "$out/r2/ab.txt" 2>/dev/null)" = 3 ] &&
    grep -q '^== base (round 1) against base (round 2)' "$out/r2/ab.txt" &&
    [ "$(grep -c '^ab, .*: 2 and 2 rows; 2 points in both: ' "$out/r2.log")" = 3 ] ||
    { echo "FAIL: AB_ROUNDS=2 should compare three pairs:"; cat "$out/r2.log"; fail=1; }
BASE=$bench AB_ROUNDS=0 bash "$root/scripts/gpu_verify.sh" "$build" "$out/r0" ab >"$out/r0.log" 2>&1
[ $? = 2 ] && grep -q 'AB_ROUNDS=0 is not a count of 1 or more' "$out/r0.log" ||
    { echo "FAIL: AB_ROUNDS=0 must be refused:"; cat "$out/r0.log"; fail=1; }
if bash "$root/scripts/gpu_verify.sh" "$build" "$out/nobase" ab >"$out/nobase.log" 2>&1 ||
   ! grep -q 'ab needs BASE' "$out/nobase.log"; then
    echo "FAIL: without BASE the step must stop and say why"; cat "$out/nobase.log"; fail=1
fi
[ $fail = 0 ] && echo "ok: the ab step writes both runs and compare's verdicts; AB_ROUNDS=2 three comparisons"
exit $fail
