#!/usr/bin/env bash
# gpu_verify.sh BUILD_DIR OUT_DIR [what...] — the GPU checks of an issue in one
# go, for a lent GPU machine where the build was made elsewhere and carried:
#   tests      the GPU tests (every CUDA method against the reference)
#   sanitizer  the GPU tests at small sizes under compute-sanitizer memcheck
#   check      attnbench check --backend cuda, d = 64 and 128
#   seqlen     the seqlen suite, CSV to OUT_DIR/seqlen.csv (called again on
#              the same OUT_DIR, it measures only the points still missing)
#   profile    attnbench ceilings, then `run --profile --ceilings` of the
#              profile and profile_long suites and of the gather suite's
#              variants at N = 2^14, 2^20, m, k = 64, 1024, d = 64, 128: CSV
#              and steps CSV to OUT_DIR (profile.csv, profile_long.csv,
#              gather-profiled.csv, each with its .steps.csv). About 8 min at
#              most: each run stops at its share of it and keeps its rows;
#              the step called again on the same OUT_DIR resumes them.
#              Not among the defaults.
# Logs go to OUT_DIR; the last lines printed are a summary.
set -uo pipefail
build=$(realpath "${1:?usage: gpu_verify.sh BUILD_DIR OUT_DIR [tests|sanitizer|check|seqlen|profile]...}")
out=$(realpath -m "${2:?usage}")
shift 2
mkdir -p "$out"
what=("$@")
[ ${#what[@]} -gt 0 ] || what=(tests sanitizer check seqlen)
bench=$build/harness/attnbench
summary=()

# "ROWS COUNTED": a results file's rows and those with counters (python3's
# csv: notes are quoted and hold commas); "ROWS ?" without python3.
rows_with_counters() {
    python3 - "$1" 2>/dev/null <<'PY' || echo "$(($(wc -l <"$1") - 1)) ?"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
print(len(rows), sum(1 for r in rows if r["dram_read_bytes"]))
PY
}

# The rows of OUT_DIR/ceilings.csv whose status is ok.
ceilings_ok() {
    local n
    n=$(grep -c ',ok,' "$out/ceilings.csv" 2>/dev/null)
    echo "${n:-0}"
}

# profile_run NAME OUT SECONDS [axis flags]: `run NAME --profile` into
# OUT_DIR/OUT.csv, resumed, cut at SECONDS; adds its summary line.
profile_run() {
    local name=$1 base=$2 secs=$3 start=$(date +%s)
    local file=$out/$base.csv
    shift 3
    local planned
    planned=$("$bench" list "$name" --points "$@" 2>/dev/null |
        sed -n 's/.*shard 1\/1: [0-9]* of \([0-9]*\) points.*/\1/p')
    timeout -k 10 "$secs" "$bench" run "$name" "$@" --profile ${ceilings[@]+"${ceilings[@]}"} \
        --out "$file" --resume --quiet 2>>"$out/$base.err"
    local rc=$? rows=0 counted=0 steps=0
    [ -s "$file" ] && read -r rows counted < <(rows_with_counters "$file")
    [ -s "$out/$base.steps.csv" ] && steps=$(($(wc -l <"$out/$base.steps.csv") - 1))
    local line="$base: $rows rows of ${planned:-?} points, $counted with counters, $steps step rows"
    line+=" (rc $rc"
    [ $rc = 124 ] && line+=", cut at $secs s: call the step again to resume"
    summary+=("$line) $(($(date +%s) - start))s")
    grep -h "CUPTI set-up" "$out/$base.err" | tail -1
}
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,memory.used --format=csv | tee "$out/gpu.txt"
for step in "${what[@]}"; do
    start=$(date +%s)
    case $step in
    tests)
        "$build/tests/gpu/test_gpu_methods" >"$out/gpu_tests.log" 2>&1
        rc=$?
        summary+=("tests: $(tail -1 "$out/gpu_tests.log") (rc $rc)")
        grep FAIL "$out/gpu_tests.log" | head -20 ;;
    sanitizer)
        compute-sanitizer --tool memcheck --error-exitcode 9 \
            "$build/tests/gpu/test_gpu_methods" --small >"$out/sanitizer.log" 2>&1
        rc=$?
        summary+=("sanitizer: $(grep -E 'ERROR SUMMARY' "$out/sanitizer.log" | tail -1) (rc $rc)") ;;
    check)
        "$bench" check --backend cuda --d 64,128 >"$out/check.log" 2>&1
        rc=$?
        summary+=("check: $(tail -1 "$out/check.log") (rc $rc)")
        grep FAIL "$out/check.log" | head -20 ;;
    seqlen)
        "$bench" run seqlen --out "$out/seqlen.csv" --resume 2>"$out/seqlen.err" |
            tee "$out/seqlen.txt"
        rc=$?
        summary+=("seqlen: $(($(wc -l <"$out/seqlen.csv") - 1)) rows (rc $rc)") ;;
    profile)
        # The ceilings once (kept when a call before measured all five).
        ceilings=()
        if [ "$(ceilings_ok)" != 5 ]; then
            timeout -k 10 90 "$bench" ceilings --out "$out/ceilings.csv" >"$out/ceilings.txt" \
                2>"$out/ceilings.err"
            rc=$?
            cat "$out/ceilings.txt"
            summary+=("ceilings: $(ceilings_ok) of 5 ok (rc $rc)")
        fi
        [ "$(ceilings_ok)" = 5 ] && ceilings=(--ceilings "$out/ceilings.csv")
        # Shares of ~8 min (480 s, the ceilings' included).
        profile_run profile profile 180
        profile_run profile_long profile_long 90
        profile_run gather gather-profiled 120 --seqlen 2^14,2^20 --m 64,1024 --k 64,1024
        summary+=("profile: CSV in $out") ;;
    *) echo "gpu_verify: unknown step $step" >&2; exit 2 ;;
    esac
    summary[-1]+=" $(( $(date +%s) - start ))s"
done
printf '%s\n' "${summary[@]}"
