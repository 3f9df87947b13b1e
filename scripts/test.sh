#!/usr/bin/env bash
# test.sh — set up, build and run every test (GPU tests skip without a GPU).
# With ATTNBENCH_SANITIZE=1 (CI sets it) also the CPU tests again, in
# build-asan/, under AddressSanitizer and UndefinedBehaviorSanitizer, and the
# fuzz targets of tests/fuzz (clang) in build-fuzz/, ATTNBENCH_FUZZ_SECONDS
# each (default 60). Ends with the line "N passed, N failed" over them all.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$root/scripts/setup.sh" || exit 1
set +e   # setup.sh's -e: a failing test must still reach the summary line
log=$(mktemp)
meson test -C build --print-errorlogs "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# A step that could not run counts as a failed test, in meson's own words.
step_failed() {
    echo "test: $*" >&2
    echo "Fail: 1" >>"$log"
    status=1
}

# sanitized DIR CC CXX [SETUP_ARGS] -- TEST_ARGS: configures DIR once, CPU
# only and with the sanitizers, builds it and runs its tests, their summary
# into the log.
sanitized() {
    local dir=$1 cc=$2 cxx=$3 setup=()
    shift 3
    while [ "$1" != -- ]; do setup+=("$1"); shift; done
    shift
    if [ ! -f "$dir/build.ninja" ]; then
        CC=$cc CXX=$cxx meson setup "$dir" --buildtype=release -Dcuda=disabled \
            -Db_sanitize=address,undefined -Db_lundef=false ${setup[@]+"${setup[@]}"} >&2 ||
            { step_failed "$dir: meson setup failed"; return; }
    elif [ ${#setup[@]} -gt 0 ]; then
        meson configure "$dir" "${setup[@]}" >&2
    fi
    ninja -C "$dir" >&2 || { step_failed "$dir: the build failed"; return; }
    local out
    out=$(mktemp)
    meson test -C "$dir" --no-rebuild --print-errorlogs "$@" 2>&1 | tee "$out"
    [ "${PIPESTATUS[0]}" = 0 ] || status=1
    cat "$out" >>"$log"
    grep -q '^Ok:' "$out" || step_failed "$dir: meson test ran no test"
    rm -f "$out"
}

if [ -n "${ATTNBENCH_SANITIZE:-}" ]; then
    echo "test: the CPU tests under AddressSanitizer and UBSan (build-asan/)" >&2
    sanitized build-asan cc c++ -- --suite unit --suite e2e --wrapper "$root/tests/sanitizers.sh"
    if command -v clang >/dev/null; then
        echo "test: the fuzz targets, ${ATTNBENCH_FUZZ_SECONDS:-60} s each (build-fuzz/)" >&2
        sanitized build-fuzz clang clang++ -Dfuzz=enabled \
            -Dfuzz_seconds="${ATTNBENCH_FUZZ_SECONDS:-60}" -- --suite fuzz
    else
        step_failed "no clang for the fuzz targets (Debian: apt-get install clang" \
            "libclang-rt-14-dev libomp-14-dev)"
    fi
fi

ok=$(awk '/^Ok:/ {n += $2} END {print n + 0}' "$log")
fail=$(awk '/^(Fail|Timeout|Unexpected Pass):/ {n += $NF} END {print n + 0}' "$log")
skipped=$(awk '/^Skipped:/ {n += $2} END {print n + 0}' "$log")
rm -f "$log"
echo "$ok passed, $fail failed, $skipped skipped"
exit $status
