#!/usr/bin/env bash
# gpu_verify.sh BUILD_DIR OUT_DIR [what...] — the GPU checks of an issue in one
# go, for a lent GPU machine where the build was made elsewhere and carried:
#   tests      the GPU tests (every CUDA method against the reference)
#   sanitizer  the GPU tests at small sizes under compute-sanitizer memcheck
#   check      attnbench check --backend cuda, d = 64 and 128
#   seqlen     the seqlen suite, CSV to OUT_DIR/seqlen.csv
# Logs go to OUT_DIR; the last lines printed are a summary.
set -uo pipefail
build=$(realpath "${1:?usage: gpu_verify.sh BUILD_DIR OUT_DIR [tests|sanitizer|check|seqlen]...}")
out=$(realpath -m "${2:?usage}")
shift 2
mkdir -p "$out"
what=("$@")
[ ${#what[@]} -gt 0 ] || what=(tests sanitizer check seqlen)
bench=$build/harness/attnbench
summary=()
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
        "$bench" run seqlen --out "$out/seqlen.csv" 2>"$out/seqlen.err" | tee "$out/seqlen.txt"
        rc=$?
        summary+=("seqlen: $(($(wc -l <"$out/seqlen.csv") - 1)) rows (rc $rc)") ;;
    *) echo "gpu_verify: unknown step $step" >&2; exit 2 ;;
    esac
    summary[-1]+=" $(( $(date +%s) - start ))s"
done
printf '%s\n' "${summary[@]}"
