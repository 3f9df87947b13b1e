#!/usr/bin/env bash
# test.sh — set up, build and run every test (GPU tests skip without a GPU).
# Ends with the line "N passed, N failed".
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$root/scripts/setup.sh" || exit 1
log=$(mktemp)
meson test -C build --print-errorlogs "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
ok=$(awk '/^Ok:/ {print $2}' "$log")
fail=$(awk '/^(Fail|Timeout|Unexpected Pass):/ {n += $NF} END {print n + 0}' "$log")
skipped=$(awk '/^Skipped:/ {print $2}' "$log")
rm -f "$log"
echo "${ok:-0} passed, ${fail:-0} failed, ${skipped:-0} skipped"
exit $status
