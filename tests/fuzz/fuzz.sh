#!/usr/bin/env bash
# fuzz.sh TARGET SECONDS ARTIFACTS [SEED_DIR SUFFIX]... — runs a libFuzzer
# target for SECONDS on a fresh corpus seeded with SEED_DIR/*SUFFIX. Exit 0
# when nothing was found; else 1, with the input that failed kept in
# ARTIFACTS/ and shown here (rerun it: TARGET ARTIFACTS/crash-...).
set -u
target=$1 seconds=$2 artifacts=$3
shift 3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$artifacts"
rm -f "$artifacts"/*   # what an earlier run found is in its log
# Inputs are kept to 4096 bytes (-max_len): a longer seed is cut after its
# last whole line within them (a CSV file: its header and first rows).
max_len=4096
while [ $# -ge 2 ]; do
    for seed in "$1"/*"$2"; do
        [ -f "$seed" ] || continue
        if [ "$(stat -c %s "$seed")" -le $max_len ]; then
            cp "$seed" "$work/corpus/"
        else
            head -c $max_len "$seed" | sed '$d' >"$work/corpus/$(basename "$seed")"
        fi
    done
    shift 2
done
echo "fuzz: $(basename "$target") for ${seconds}s from $(ls "$work/corpus" | wc -l) seeds"
# UBSan stops at the first finding, as ASan does; libFuzzer's own exit code
# for a finding (77 by default) would read as "skipped" to meson.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
"$target" -max_total_time="$seconds" -max_len=$max_len -timeout=10 -rss_limit_mb=2048 -error_exitcode=1 \
    -artifact_prefix="$artifacts/" -print_final_stats=1 "$work/corpus" 2>&1 |
    awk '/^###### Recommended dictionary/ {skip = 1} !skip && !/^#[0-9]+[ \t]+(NEW|REDUCE|pulse)/
         /^###### End of recommended dictionary/ {skip = 0}'
rc=${PIPESTATUS[0]}
if [ "$rc" != 0 ]; then
    for found in "$artifacts"/*; do
        [ -f "$found" ] || continue
        echo "fuzz: found $found:"
        od -A d -c "$found" | head -20
    done
    echo "fuzz: $(basename "$target") FAILED (exit $rc)"
    exit 1
fi
echo "fuzz: $(basename "$target"): nothing found, corpus grown to $(ls "$work/corpus" | wc -l) inputs"
