#!/usr/bin/env bash
# slurm_e2e.sh ATTNBENCH — `attnbench slurm` against a real Slurm cluster:
# the quick suite on the cpu backend as a 3-task job array and its merge
# job, submitted with the generated submit.sh, waited for (5 minutes at
# most), and the merged file checked: every point once, all ok, each shard's
# label. Skips (77) where no cluster answers, unless ATTNBENCH_REQUIRE_SLURM=1
# (CI, which starts one: tests/slurm/cluster.sh), where that is a failure.
set -u
bench=$(realpath "$1")
export PATH=$PATH:/usr/sbin

fail() { echo "FAIL: $*"; exit 1; }
pass() { echo "ok: $*"; }
skip() {
    [ "${ATTNBENCH_REQUIRE_SLURM:-0}" = 1 ] && fail "$* (and ATTNBENCH_REQUIRE_SLURM=1)"
    echo "skip: $*"
    exit 77
}
command -v sbatch >/dev/null || skip "no sbatch here (Debian: apt-get install slurm-wlm munge)"
timeout 20 sinfo -h >/dev/null 2>&1 ||
    skip "no Slurm controller answers (start one: tests/slurm/cluster.sh start DIR)"

work=$(mktemp -d)
jobs=""
cleanup() {
    [ -n "$jobs" ] && timeout 20 scancel $jobs 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

"$bench" slurm quick --backend cpu --reps 1 --warmup 0 --shards 3 --time 10 --dir "$work/job" \
    >"$work/slurm.txt" 2>&1 || fail "attnbench slurm: $(cat "$work/slurm.txt")"
timeout 60 bash "$work/job/submit.sh" >"$work/submit.txt" 2>&1 ||
    fail "submit.sh: $(cat "$work/submit.txt")"
array=$(sed -n 's/^shards job: \([0-9]*\).*/\1/p' "$work/submit.txt")
merge=$(sed -n 's/^merge job: \([0-9]*\).*/\1/p' "$work/submit.txt")
[ -n "$array" ] && [ -n "$merge" ] || fail "no job ids in: $(cat "$work/submit.txt")"
jobs="$array $merge"
pass "submitted: array job $array, merge job $merge (afterany)"

start=$SECONDS
while [ -n "$(timeout 20 squeue -h -j "$array,$merge" 2>/dev/null)" ]; do
    if [ $((SECONDS - start)) -gt 300 ]; then
        timeout 20 squeue -j "$array,$merge"
        tail -n 5 "$work"/job/logs/*
        fail "the jobs did not finish in 300 s"
    fi
    sleep 2
done
jobs=""
pass "both jobs ended after $((SECONDS - start)) s"

for i in 1 2 3; do
    log=$work/job/logs/shard-$i.out
    [ -f "$log" ] || fail "task $i left no log"
    grep -q "(shard $i/3)" "$log" || fail "task $i did not run shard $i/3: $(tail -3 "$log")"
done
csv=$work/job/quick.csv
[ -f "$csv" ] || fail "no merged file; merge log: $(cat "$work/job/logs/merge.out" 2>/dev/null)"
grep -q "24 rows from 3 files -> quick.csv: 0 duplicated, 0 missing" "$work/job/logs/merge.out" ||
    fail "merge log: $(cat "$work/job/logs/merge.out")"
col() { head -1 "$csv" | tr ',' '\n' | grep -nx "$1" | cut -d: -f1; }
[ "$(tail -n +2 "$csv" | wc -l)" = 24 ] || fail "merged file has $(tail -n +2 "$csv" | wc -l) rows"
[ "$(tail -n +2 "$csv" | cut -d, -f"$(col status)" | sort -u)" = ok ] || fail "rows not all ok"
[ "$(tail -n +2 "$csv" | cut -d, -f"$(col shard)" | sort -u | tr '\n' ' ')" = "1/3 2/3 3/3 " ] ||
    fail "shard labels: $(tail -n +2 "$csv" | cut -d, -f"$(col shard)" | sort | uniq -c)"
pass "merged: 24 points once each, all ok, from shards 1/3, 2/3 and 3/3"
