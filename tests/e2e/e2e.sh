#!/usr/bin/env bash
# e2e.sh — the attnbench program end to end, one case per invocation:
#   e2e.sh ATTNBENCH PLUGIN CASE [STALL_PLUGIN [WRONG_FULL PLAIN_FULL ABI1]]
# PLUGIN is the example plugin; STALL_PLUGIN (tests/plugins/stall_plugin.c)
# has methods that take their time, for locks, interruptions and timeouts;
# WRONG_FULL and PLAIN_FULL (tests/plugins/full_plugin.c) compute full
# attention, the first without its scale, and ABI1 (abi1_plugin.c) is a
# plugin built for ABI 1: for run --verify and check.
# Each case prints what it checked and exits non-zero on the first failure.
set -u
bench=$(realpath "$1") plugin=$(realpath "$2") case=$3 stall=${4:+$(realpath "$4")}
wrong_full=${5:+$(realpath "$5")} plain_full=${6:+$(realpath "$6")} abi1=${7:+$(realpath "$7")}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

fail() { echo "FAIL: $*"; exit 1; }
pass() { echo "ok: $*"; }

# Runs attnbench, keeping stdout, stderr and the exit status.
run() { "$bench" "$@" >out.txt 2>err.txt; echo $? >rc.txt; }
rc() { cat rc.txt; }
# Column index (1-based) of a CSV header name, for awk.
col() { head -1 "$1" | tr ',' '\n' | grep -nx "$2" | cut -d: -f1; }
# cells FILE NAME: column NAME of FILE's rows, one a line (read as CSV).
cells() {
    python3 -c 'import csv, sys
for r in csv.DictReader(open(sys.argv[1], newline="")): print(r[sys.argv[2]])' "$1" "$2"
}
# Data rows (the results never contain quoted newlines in these cases).
rows() { tail -n +2 "$1" | wc -l; }
# plant IN OUT BODY: IN's rows into OUT, the samples of each replaced by
# what BODY, a Python function of the row `r` and its `samples` (floats),
# returns: a list ([] empties the cell), or None to keep them.
plant() {
    python3 - "$1" "$2" "$3" <<'EOF' || fail "could not plant the changes in $2"
import csv, sys, textwrap
exec("def planted(r, samples):\n" + textwrap.indent(sys.argv[3].strip("\n"), "    ") +
     "\n    return None")
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
for r in rows:
    new = planted(r, [float(x) for x in r["samples_ms"].split(";")])
    if new is not None:
        r["samples_ms"] = ";".join("%.6g" % x for x in new)
w = csv.DictWriter(open(sys.argv[2], "w", newline=""), fieldnames=rows[0].keys(),
                   lineterminator="\n")
w.writeheader()
w.writerows(rows)
EOF
}
# FILE holds every point of the suite given by the flags that follow exactly
# once, in whole rows (the harness's own reader, through merge --suite).
once() {
    local file=$1
    shift
    rm -f once.csv
    "$bench" merge once.csv "$file" --suite "$@" >/dev/null 2>once.txt ||
        fail "$file: not every point exactly once: $(cat once.txt)"
    grep -q " 0 duplicated, 0 missing" once.txt || fail "$file: $(cat once.txt)"
}
# Whether each process named in STALL_PIDS (the stall plugin's record of a
# worker and its child) has died within 5 s: gone, or a zombie.
stalls_dead() {
    local pid state
    for pid in $(cat "$STALL_PIDS"); do
        for _ in $(seq 100); do
            state=$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null) || state=gone
            [ "$state" = gone ] || [ "$state" = Z ] && break
            sleep 0.05
        done
        [ "$state" = gone ] || [ "$state" = Z ] || return 1
    done
    [ -s "$STALL_PIDS" ]
}
# Waits (up to 10 s) until FILE has N data rows.
wait_rows() {
    for _ in $(seq 200); do
        [ -f "$1" ] && [ "$(rows "$1")" -ge "$2" ] && return 0
        sleep 0.05
    done
    fail "$1: no $2 rows after 10 s"
}

case $case in
quick)
    # The quick suite, every method and N: a row each, all ok, and a table.
    run run quick --backend cpu --reps 1 --warmup 0 --out q.csv
    [ "$(rc)" = 0 ] || { cat err.txt; fail "quick suite exit $(rc)"; }
    n=$(rows q.csv)
    [ "$n" = 24 ] || fail "expected 24 rows (8 methods x 3 N), got $n"
    st=$(col q.csv status)
    bad=$(tail -n +2 q.csv | awk -F, -v c="$st" '$c != "ok"' | wc -l)
    [ "$bad" = 0 ] || fail "$bad rows not ok"
    grep -q "ms_median" out.txt || fail "no table on stdout"
    grep -q "\[24/24\]" err.txt || fail "no progress on stderr"
    for m in full linear agent nystrom topk mita; do
        grep -q "^quick,$m," q.csv || fail "no row for $m"
    done
    pass "quick suite: 24 rows, all ok, table and progress printed"
    # MiTA's routing statistics: in every mita row (imbalance >= 1, overlap in
    # (0, 1]), empty in the others.
    ri=$(col q.csv route_imbalance)
    eo=$(col q.csv expert_overlap)
    mc=$(col q.csv method)
    bad=$(tail -n +2 q.csv | awk -F, -v r="$ri" -v o="$eo" -v m="$mc" '
        $m == "mita" && !($r >= 1 && $o > 0 && $o <= 1) { print }
        $m != "mita" && ($r != "" || $o != "") { print }' | wc -l)
    [ "$bad" = 0 ] || fail "$bad rows with wrong route_imbalance/expert_overlap"
    pass "route_imbalance and expert_overlap in the mita rows only"
    # Resume with everything done: nothing new.
    run run quick --backend cpu --reps 1 --warmup 0 --out q.csv --resume
    [ "$(rc)" = 0 ] && [ "$(rows q.csv)" = 24 ] || fail "resume of a complete run added rows"
    grep -q "24 already there" err.txt || fail "resume did not report skipped points"
    pass "resume of a complete file runs nothing"
    # Without a suite, a run is of the defaults, named for what it is: not
    # the quick suite, nor in its file.
    run run --backend cpu --methods linear --seqlen 256 --H 1 --reps 1 --warmup 0 --quiet
    [ "$(rc)" = 0 ] && [ -f default-cpu.csv ] && [ ! -e quick-cpu.csv ] ||
        fail "a run without a suite: exit $(rc), $(ls): $(cat err.txt)"
    grep -q "suite default, 1 points on cpu -> default-cpu.csv" err.txt &&
        grep -q "^default,linear," default-cpu.csv || fail "not named default: $(cat err.txt)"
    pass "a run without a suite: suite default, default-cpu.csv"
    ;;
killed)
    # Kill a sweep mid-way: every row written is whole; --resume finishes it.
    args=(run --backend cpu --methods full,linear --seqlen 2^8..2^12 --H 1 --reps 3 --out k.csv)
    "$bench" "${args[@]}" >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 200); do
        [ -f k.csv ] && [ "$(rows k.csv)" -ge 3 ] && break
        sleep 0.05
    done
    kill -9 $pid; wait $pid 2>/dev/null
    have=$(rows k.csv)
    [ "$have" -ge 3 ] && [ "$have" -lt 10 ] || fail "expected a partial file, got $have rows"
    [ -z "$(tail -c1 k.csv)" ] || fail "last row is not terminated"
    run "${args[@]}" --resume
    [ "$(rc)" = 0 ] || { cat err.txt; fail "resume exit $(rc)"; }
    [ "$(rows k.csv)" = 10 ] || fail "after resume expected 10 rows, got $(rows k.csv)"
    dups=$(tail -n +2 k.csv | cut -d, -f2,3,9 | sort | uniq -d | wc -l)
    [ "$dups" = 0 ] || fail "resume duplicated points"
    pass "killed after $have rows; resume completed 10 rows without duplicates"
    ;;
bad-input)
    printf 'name bad\nmethods full\nseqlen 2^10\nfoo 3\n' >bad.suite
    run run ./bad.suite --out x.csv
    [ "$(rc)" = 2 ] && grep -q "bad.suite:4" err.txt || fail "malformed suite: $(cat err.txt)"
    pass "malformed suite line named: $(head -1 err.txt)"
    : >empty.suite
    run run ./empty.suite --backend cpu --out x.csv
    [ "$(rc)" = 2 ] && grep -q "empty.suite: the suite is empty" err.txt && [ ! -e x.csv ] ||
        fail "an empty suite: exit $(rc): $(cat err.txt)"
    printf 'name nomethods\nseqlen 256\n' >nomethods.suite
    run run ./nomethods.suite --backend cpu --out x.csv
    [ "$(rc)" = 2 ] && grep -q "nomethods.suite: no 'methods' line" err.txt ||
        fail "a suite without methods: exit $(rc): $(cat err.txt)"
    pass "an empty suite, and one without methods, refused: $(head -1 err.txt)"
    run run --methods nosuch --backend cpu --out x.csv
    [ "$(rc)" = 2 ] && grep -q "unknown method 'nosuch'" err.txt || fail "unknown method"
    pass "unknown method: $(head -1 err.txt)"
    run run --frobnicate
    [ "$(rc)" = 2 ] && grep -q "unknown flag '--frobnicate'" err.txt || fail "unknown flag"
    pass "unknown flag: $(head -1 err.txt)"
    run run --seqlen 0 --backend cpu
    [ "$(rc)" = 2 ] && grep -qi "seqlen" err.txt || fail "zero size: $(cat err.txt)"
    pass "zero size: $(head -1 err.txt)"
    run run --H -3 --backend cpu
    [ "$(rc)" = 2 ] || fail "negative size accepted"
    pass "negative size: $(head -1 err.txt)"
    run run --methods topk --k 4096 --seqlen 1024 --backend cpu --reps 1 --out k.csv
    [ "$(rc)" = 1 ] && grep -q "invalid:k=4096" k.csv || fail "k > N: $(cat k.csv)"
    pass "k > N is a row that says why, exit 1"
    run run --methods agent --m 2048 --seqlen 1024 --backend cpu --reps 1 --out m.csv
    [ "$(rc)" = 1 ] && grep -q "invalid:m=2048" m.csv || fail "m > N"
    pass "m > N is a row that says why, exit 1"
    run run --methods full --dtype bf16 --seqlen 256 --backend cpu --reps 1 --out t.csv
    [ "$(rc)" = 1 ] && grep -q "invalid:" t.csv || fail "bf16 on cpu"
    pass "a dtype the backend lacks is a row that says why"
    run run --methods full --seqlen 256 --backend cpu --out /nonexistent/dir/x.csv
    [ "$(rc)" = 2 ] && grep -q "/nonexistent/dir/x.csv" err.txt || fail "unwritable output"
    pass "unwritable output: $(head -1 err.txt)"
    printf 'suite,method\nquick,full,extra\n' >corrupt.csv
    run run --methods full --seqlen 256 --backend cpu --out corrupt.csv --resume
    [ "$(rc)" = 2 ] && grep -q "corrupt.csv" err.txt || fail "corrupt resume file"
    [ "$(cat corrupt.csv)" = "$(printf 'suite,method\nquick,full,extra')" ] || fail "corrupt file modified"
    pass "corrupt resume file refused and left alone: $(head -1 err.txt)"
    ;;
budget)
    # Under a budget, long points take fewer samples (3 at least) and the
    # longest are skipped; the first of a series has no prediction and runs.
    run run --backend cpu --methods full --H 1 --seqlen 2^9..2^13 --reps 5 --warmup 1 \
        --budget 0.3 --out b.csv
    [ "$(rc)" = 0 ] || { cat err.txt; fail "budget run exit $(rc)"; }
    st=$(col b.csv status) reps=$(col b.csv reps) n=$(col b.csv N)
    first=$(awk -F, -v s="$st" -v r="$reps" 'NR == 2 {print $s, $r}' b.csv)
    [ "$first" = "ok 5" ] || fail "first point: '$first', want 'ok 5'"
    last=$(awk -F, -v s="$st" -v c="$n" 'END {print $c, $s}' b.csv)
    [ "$last" = "8192 skipped:budget" ] || fail "last point: '$last', want skipped"
    bad=$(awk -F, -v s="$st" -v r="$reps" 'NR > 1 && $s == "ok" && ($r < 3 || $r > 5)' b.csv | wc -l)
    [ "$bad" = 0 ] || fail "$bad ok rows with reps outside 3..5"
    pass "budget: first point 5 samples, ok rows 3..5 samples, N=8192 skipped"
    ;;
json)
    # --json: every row with its samples and the run's environment; a run
    # resumed appends its own entry; a file cut short is refused.
    command -v python3 >/dev/null || { echo "no python3: skipped"; exit 77; }
    q=(--backend cpu --methods linear,mita --seqlen 256 --reps 3 --warmup 0 --quiet)
    run run "${q[@]}" --out j.csv --json j.json
    [ "$(rc)" = 0 ] || { cat err.txt; fail "json run exit $(rc)"; }
    run run "${q[@]}" --seqlen 256,512 --out j.csv --json j.json --resume
    [ "$(rc)" = 0 ] || { cat err.txt; fail "json resume exit $(rc)"; }
    python3 - j.json j.csv <<'PY' || fail "the JSON does not match the CSV"
import csv, json, sys
doc = json.load(open(sys.argv[1]))
rows = [r for run in doc["runs"] for r in run["rows"]]
table = list(csv.DictReader(open(sys.argv[2])))
assert [len(run["rows"]) for run in doc["runs"]] == [2, 2], doc["runs"]
assert len(rows) == len(table) == 4
for r, t in zip(rows, table):
    assert r["method"] == t["method"] and str(r["N"]) == t["N"], (r, t)
    assert r["ms_median"] == float(t["ms_median"]) and isinstance(r["suite_hash"], str)
    csv_samples = [float(x) for x in t["samples_ms"].split(";")]  # 6 digits in the CSV
    assert len(r["samples"]) == len(csv_samples)
    assert all(abs(s["ms"] - x) <= 1e-5 * x for s, x in zip(r["samples"], csv_samples))
    assert r["m"] is None if t["m"] == "" else r["m"] == int(t["m"])
assert doc["runs"][1]["environment"]["command"][-1] == "--resume"
PY
    # compare and plot read it as they read the CSV.
    run compare j.csv j.json
    [ "$(rc)" = 0 ] && grep -q "compare: 4 points in both" out.txt ||
        fail "compare CSV against JSON: $(cat out.txt err.txt)"
    head -c -3 j.json >cut.json
    run run "${q[@]}" --out j2.csv --json cut.json --resume
    [ "$(rc)" = 2 ] && grep -q "cut.json: cut short" err.txt || fail "a cut JSON accepted: $(cat err.txt)"
    pass "--json: rows, samples and environment as the CSV has them; resumed runs appended; compare reads it"
    # As the results file: a document there is continued (--resume) or
    # started afresh (--force) on purpose only.
    cp j.json before.json
    run run "${q[@]}" --out j3.csv --json j.json
    [ "$(rc)" = 2 ] && grep -q "j.json already holds results: --resume to add this run to it, or --force to start it afresh" err.txt ||
        fail "a JSON with runs, without --resume or --force: exit $(rc): $(cat err.txt)"
    cmp -s j.json before.json || fail "the refused run changed the JSON"
    run run "${q[@]}" --out j.csv --json j.json --force
    [ "$(rc)" = 0 ] && python3 -c 'import json,sys; d=json.load(open("j.json")); assert len(d["runs"]) == 1 and len(d["runs"][0]["rows"]) == 2' ||
        fail "--force did not start the JSON afresh: $(cat err.txt)"
    pass "--json: a document there refused without --resume or --force; --force starts it afresh"
    ;;
plugin)
    run run --plugin "$plugin" --methods local_window,full --seqlen 256 --k 16 --backend cpu \
        --reps 2 --out p.csv
    [ "$(rc)" = 0 ] || { cat err.txt; fail "plugin run exit $(rc)"; }
    grep -q "^default,local_window,.*,ok," p.csv || fail "no ok row for the plugin method"
    run list --plugin "$plugin"
    grep -q "local_window" out.txt || fail "list does not show the plugin method"
    pass "a plugin method runs in a sweep and is listed"
    ;;
check)
    run check --backend cpu
    [ "$(rc)" = 0 ] || { cat out.txt; fail "check exit $(rc)"; }
    for m in full linear agent nystrom topk mita; do
        grep -q "^ok   $m " out.txt || fail "check did not run $m"
    done
    grep -q " 0 failed" out.txt || fail "check reported failures"
    pass "check: $(tail -1 out.txt)"
    ;;
list)
    run list
    [ "$(rc)" = 0 ] || fail "list exit $(rc)"
    for w in methods suites devices mita quick seqlen; do grep -q "$w" out.txt || fail "list lacks $w"; done
    run list seqlen
    [ "$(rc)" = 0 ] && grep -qw 1048576 out.txt || fail "list seqlen lacks N=2^20"
    # flash_long: both flash versions at the seqlen suite's shape, N = 2^17 and 2^20.
    run list flash_long --points
    [ "$(rc)" = 0 ] && [ "$(grep -cE '^  full +flash(_w4)? +bf16 +1 +8 +(131072|1048576) +64 ' out.txt)" = 4 ] ||
        fail "list flash_long --points: $(cat out.txt err.txt)"
    pass "list shows methods, suites, devices and a suite's points"
    ;;
shard)
    # Shards of the quick suite: each point in exactly one, all of them together.
    q=(--backend cpu --reps 1 --warmup 0)
    run list quick --points "${q[@]}"
    [ "$(rc)" = 0 ] && grep -q "24 of 24 points" out.txt && grep -q est_seconds out.txt ||
        fail "list --points: $(cat out.txt err.txt)"
    for i in 1 2 3; do
        run list quick --points "${q[@]}" --shard $i/3
        grep -E '^  [a-z]' out.txt | grep -v '^  method ' >>listed.txt
    done
    [ "$(wc -l <listed.txt)" = 24 ] && [ -z "$(sort listed.txt | uniq -d)" ] ||
        fail "list --shard i/3 do not cover the 24 points once each"
    pass "list --points --shard: 3 shards hold the 24 points, none twice"
    for i in 1 2 3; do
        run run quick "${q[@]}" --shard $i/3 --out s$i.csv --quiet
        [ "$(rc)" = 0 ] || { cat err.txt; fail "shard $i/3 exit $(rc)"; }
        grep -q "(shard $i/3)" err.txt || fail "shard $i/3 not announced"
    done
    [ $(( $(rows s1.csv) + $(rows s2.csv) + $(rows s3.csv) )) = 24 ] || fail "shards' rows != 24"
    sh=$(col s1.csv shard)
    [ "$(tail -n +2 s2.csv | cut -d, -f"$sh" | sort -u)" = 2/3 ] || fail "shard column of s2.csv"
    run merge all.csv s1.csv s2.csv s3.csv --suite quick "${q[@]}"
    [ "$(rc)" = 0 ] && [ "$(rows all.csv)" = 24 ] || fail "merge: $(cat err.txt)"
    grep -q "24 rows from 3 files -> all.csv: 0 duplicated, 0 missing" err.txt || fail "merge summary"
    pass "3 shards run and merge into 24 rows: $(tail -1 err.txt)"
    run merge part.csv s1.csv s3.csv
    [ "$(rc)" = 1 ] && grep -q "no rows of shard 2/3" err.txt || fail "missing shard not reported"
    run merge part2.csv s1.csv s3.csv --suite quick "${q[@]}"
    [ "$(rc)" = 1 ] && [ "$(grep -c 'missing point (' err.txt)" = "$(rows s2.csv)" ] ||
        fail "missing points not named: $(cat err.txt)"
    pass "a missing shard is reported, and with --suite each of its points"
    run merge twice.csv s1.csv s2.csv s3.csv s2.csv
    [ "$(rc)" = 1 ] && grep -q "is also in" err.txt && [ "$(rows twice.csv)" = $((24 + $(rows s2.csv))) ] ||
        fail "duplicates: $(cat err.txt)"
    pass "a shard given twice: duplicates reported, every row kept"
    run run quick --backend cpu --reps 2 --warmup 0 --shard 2/3 --out other.csv --quiet
    run merge bad.csv s1.csv other.csv s3.csv
    [ "$(rc)" = 2 ] && grep -q "other.csv, row 1: suite_hash" err.txt && [ ! -e bad.csv ] ||
        fail "a shard of another suite definition was not refused: $(cat err.txt)"
    pass "a shard of another definition is refused: $(head -1 err.txt)"
    run merge all.csv s1.csv
    [ "$(rc)" = 2 ] && grep -q "all.csv exists and is not an input" err.txt || fail "overwrite"
    run run quick "${q[@]}" --shard 3/8 --quiet
    [ "$(rc)" = 0 ] && [ -f quick-cpu-shard3of8.csv ] || fail "default --out of a shard"
    pass "a shard's default results file is its own: quick-cpu-shard3of8.csv"
    run run quick --shard 5/4
    [ "$(rc)" = 2 ] && grep -q "out of range" err.txt || fail "--shard 5/4 accepted"
    run check --shard 1/2
    [ "$(rc)" = 2 ] && grep -q "is a flag of 'attnbench run'" err.txt || fail "check --shard"
    pass "bad shards and misplaced flags refused"
    ;;
gpus)
    # run --gpus with cpu workers standing in for GPUs (ATTNBENCH_GPUS_ON_CPU).
    q=(run quick --backend cpu --reps 1 --warmup 0)
    run "${q[@]}" --gpus 0,1 --out g.csv
    [ "$(rc)" = 2 ] && grep -q "runs on the cuda backend" err.txt || fail "--gpus on cpu allowed"
    export ATTNBENCH_GPUS_ON_CPU=1
    run "${q[@]}" --gpus 0,1 --out g.csv
    [ "$(rc)" = 0 ] || { cat err.txt; fail "--gpus 0,1 exit $(rc)"; }
    [ "$(rows g.csv)" = 24 ] || fail "expected 24 merged rows, got $(rows g.csv)"
    dev=$(col g.csv device)
    tags=$(tail -n +2 g.csv | cut -d, -f"$dev" | grep -o '\[gpu [0-9]*\]' | sort | uniq -c | wc -l)
    [ "$tags" = 2 ] || fail "rows do not name both workers' GPUs"
    ls g.csv.part* >/dev/null 2>&1 && fail "workers' files left behind"
    pass "--gpus 0,1: two workers, 24 rows merged, device column says which GPU"
    run "${q[@]}" --gpus 0,1 --out g.csv --resume
    [ "$(rc)" = 0 ] && [ "$(rows g.csv)" = 24 ] && grep -q "already there" err.txt ||
        fail "resume with --gpus: $(cat err.txt)"
    pass "--gpus --resume of a complete file measures nothing"
    CUDA_VISIBLE_DEVICES=3,5 run "${q[@]}" --gpus all --shard 1/2 --out all.csv
    [ "$(rc)" = 0 ] || { cat err.txt; fail "--gpus all exit $(rc)"; }
    for g in 3 5; do grep -q "\[gpu $g\]" all.csv || fail "no row from gpu $g"; done
    run list quick --points --backend cpu --reps 1 --warmup 0 --shard 1/2
    [ "$(rows all.csv)" = "$(grep -o '[0-9]* of 24 points' out.txt | cut -d' ' -f1)" ] ||
        fail "--gpus all --shard 1/2 did not run shard 1/2's points"
    pass "--gpus all takes CUDA_VISIBLE_DEVICES' GPUs and splits one shard among them"
    CUDA_VISIBLE_DEVICES=3,5 run "${q[@]}" --gpus 0,7 --out x.csv
    [ "$(rc)" = 2 ] && grep -q "there is no GPU 7" err.txt || fail "--gpus 0,7: $(cat err.txt)"
    run "${q[@]}" --gpus 0,0 --out x.csv
    [ "$(rc)" = 2 ] && grep -q "listed twice" err.txt || fail "--gpus 0,0 accepted"
    pass "bad GPU lists refused: $(head -1 err.txt)"
    ;;
compare)
    # A real run, and a copy with a planted slowdown and speed-up: samples
    # clear of the real ones (a CPU's spread can be wide), so the answer is known.
    run run --backend cpu --methods full,linear --seqlen 2^8..2^10 --H 1 --reps 6 --warmup 1 \
        --out base.csv --quiet
    [ "$(rc)" = 0 ] || { cat err.txt; fail "base run exit $(rc)"; }
    plant base.csv new.csv '
if r["method"] == "full" and r["N"] == "512":       # over twice the slowest
    return [2 * max(samples) * (1 + 0.01 * i) for i in range(len(samples))]
if r["method"] == "linear" and r["N"] == "1024":    # under half the fastest
    return [0.5 * min(samples) * (1 - 0.01 * i) for i in range(len(samples))]'
    run compare base.csv base.csv --threshold 5%
    [ "$(rc)" = 0 ] && grep -q "^compare: 6 points in both: 0 slower, 0 faster, 6 same" out.txt ||
        fail "a run against itself: $(cat out.txt err.txt)"
    pass "a run against itself: $(tail -1 out.txt)"
    run compare base.csv new.csv
    [ "$(rc)" = 0 ] || fail "no gate, yet exit $(rc)"
    grep "full/flash fp32 B=1 H=1 N=512 " out.txt | grep -q "SLOWER" || fail "slowdown missed"
    grep "^linear fp32 B=1 H=1 N=1024 " out.txt | grep -q "faster" || fail "speed-up missed"
    grep -q "1 slower, 1 faster, 4 same" out.txt || fail "summary: $(tail -1 out.txt)"
    run compare base.csv new.csv --threshold 5%
    [ "$(rc)" = 1 ] && grep -q "1 slower beyond it, 0 lost, 0 unjudged -> FAIL" out.txt ||
        fail "the gate did not fail: $(tail -1 out.txt)"
    pass "planted slowdown fails a 5% gate: $(tail -1 out.txt)"
    # A gate wider than the planted slowdown passes. The slowdown is over twice the base's
    # slowest sample, so its size follows the base's spread: the gate is set from it.
    wide=$(python3 - <<'EOF'
import csv, statistics
def median(f):
    r = [r for r in csv.DictReader(open(f)) if r["method"] == "full" and r["N"] == "512"][0]
    return statistics.median(float(x) for x in r["samples_ms"].split(";"))
print(int(200 * median("new.csv") / median("base.csv")) + 100)
EOF
)
    run compare base.csv new.csv --threshold "$wide%"
    [ "$(rc)" = 0 ] && grep -q -- "-> pass" out.txt || fail "a $wide% gate failed: $(tail -1 out.txt)"
    run compare base.csv
    [ "$(rc)" = 2 ] || fail "one file accepted"
    run compare base.csv new.csv --threshold lots
    [ "$(rc)" = 2 ] && grep -q "need a percentage" err.txt || fail "bad threshold accepted"
    pass "a $wide% gate passes; bad arguments refused"
    # The same rows said to come from another device: said, and a gate across devices
    # fails; a multi-GPU run's " [gpu N]" is the same device.
    plant base.csv other.csv '
r["device"] = "NVIDIA H200"'
    run compare base.csv other.csv --threshold 500%
    [ "$(rc)" = 1 ] && grep -q "6 on another device; gate .*devices differ -> FAIL" out.txt &&
        grep -q "6 of 6 points ran on another device (base '.*', new 'NVIDIA H200')" err.txt ||
        fail "another device: $(cat out.txt err.txt)"
    plant base.csv tagged.csv '
r["device"] += " [gpu 1]"'
    run compare base.csv tagged.csv --threshold 500%
    [ "$(rc)" = 0 ] && ! grep -q "another device" out.txt err.txt ||
        fail "[gpu N] read as another device: $(cat out.txt err.txt)"
    pass "another device: said, a gate across devices fails; [gpu N] is the same device"
    # Three samples a point (as a budget can leave): the test cannot reach
    # p < 0.05, so a 10x slowdown is judged by the ranges and fails the gate;
    # empty samples are unjudged (never -100%), and so is a run against
    # itself, which fails the gate unless --allow-unjudged.
    run run --backend cpu --methods linear --seqlen 2^8,2^9 --H 1 --reps 3 --warmup 0 \
        --out few.csv --quiet
    [ "$(rc)" = 0 ] || { cat err.txt; fail "3-sample run exit $(rc)"; }
    plant few.csv few10.csv '
if r["N"] == "256":     # ten times the slowest
    return [10 * max(samples) * (1 + 0.01 * i) for i in range(3)]
return []               # present, but empty'
    run compare few.csv few10.csv --threshold 5%
    [ "$(rc)" = 1 ] || fail "a 10x slowdown in 3 samples passed the gate: $(cat out.txt)"
    grep "^linear fp32 B=1 H=1 N=256 " out.txt |
        grep -q "SLOWER   3 vs 3 samples: p >= 0.1 > alpha 0.05, judged by ranges: new's fastest" ||
        fail "10x slowdown in 3 samples: $(cat out.txt)"
    grep "^linear fp32 B=1 H=1 N=512 " out.txt | grep -q "unjudged no samples in new" ||
        fail "empty samples: $(cat out.txt)"
    grep -q -- "-100" out.txt && fail "empty samples read as -100%"
    grep -q "gate 5%: 1 slower beyond it, 0 lost, 1 unjudged (--allow-unjudged to pass) -> FAIL" \
        out.txt || fail "gate line: $(tail -1 out.txt)"
    pass "3 samples: 10x slower by the ranges, empty samples unjudged: $(tail -1 out.txt)"
    run compare few.csv few.csv --threshold 5%
    [ "$(rc)" = 1 ] && grep -q "0 same within noise, 2 unjudged" out.txt &&
        grep -q "they overlap" out.txt || fail "3 samples against themselves: $(cat out.txt)"
    run compare few.csv few.csv --threshold 5% --allow-unjudged
    [ "$(rc)" = 0 ] && grep -q "2 unjudged (allowed) -> pass" out.txt ||
        fail "--allow-unjudged: $(cat out.txt err.txt)"
    run compare few.csv few.csv --allow-unjudged
    [ "$(rc)" = 2 ] && grep -q "give the gate too" err.txt || fail "--allow-unjudged without a gate"
    pass "3 samples against themselves: unjudged, failing the gate unless --allow-unjudged"
    ;;
slurm-script)
    # The job's scripts run by hand, as Slurm would (tests/slurm submits them for real).
    run slurm quick --backend cpu --reps 1 --warmup 0 --shards 3 --time 10 --dir job
    [ "$(rc)" = 0 ] || { cat err.txt; fail "slurm exit $(rc)"; }
    for f in quick.suite shards.sbatch merge.sbatch submit.sh logs; do
        [ -e job/$f ] || fail "job/$f not written"
    done
    grep -q "submit with: bash .*/job/submit.sh" out.txt || fail "no submit instruction"
    for i in 1 2 3; do
        (cd job && SLURM_ARRAY_TASK_ID=$i bash shards.sbatch) >/dev/null 2>&1 || fail "task $i"
    done
    (cd job && bash merge.sbatch) 2>err.txt || fail "merge job: $(cat err.txt)"
    [ "$(rows job/quick.csv)" = 24 ] || fail "merged $(rows job/quick.csv) rows, not 24"
    pass "the array's 3 tasks and the merge job, run by hand: 24 rows"
    rm job/shard-2-of-3.csv
    (cd job && bash merge.sbatch) 2>err.txt && fail "merge of 2 shards of 3 exited 0"
    grep -q "missing point (" err.txt || fail "missing points not named"
    pass "a lost shard: the merge job names its points and fails"
    run slurm quick --backend cpu --gpus-per-task 1 --dir job2
    [ "$(rc)" = 2 ] && grep -q "with the cpu backend: use 0" err.txt || fail "gpus on cpu"
    run run quick --partition x
    [ "$(rc)" = 2 ] && grep -q "is a flag of 'attnbench slurm'" err.txt || fail "run --partition"
    run slurm quick --backend cpu --ceilings ceil.csv --dir job3
    [ "$(rc)" = 2 ] && grep -q "\-\-ceilings needs --profile" err.txt || fail "slurm --ceilings alone"
    pass "bad slurm options refused: $(head -1 err.txt)"
    # --profile passed on: the task profiles (on the cpu its rows say there are no counters).
    run slurm quick --backend cpu --reps 1 --warmup 0 --shards 2 --profile --dir job4
    [ "$(rc)" = 0 ] && grep -q -- "--resume --quiet --profile" job4/shards.sbatch || fail "slurm --profile"
    (cd job4 && SLURM_ARRAY_TASK_ID=1 bash shards.sbatch) >/dev/null 2>&1 || fail "profiled task"
    grep -q "no hardware counters on the cpu backend" job4/shard-1-of-2.csv || fail "task not profiled"
    pass "slurm --profile: passed on to the tasks"
    ;;
profile)
    # --profile on the CPU: the sweep runs, the counter columns stay empty,
    # and the run says once why; --ceilings needs --profile and a good file.
    run run --backend cpu --methods full,linear --seqlen 256,512 --H 1 --reps 1 --warmup 0 \
        --profile --out p.csv
    [ "$(rc)" = 0 ] || { cat err.txt; fail "--profile on the cpu: exit $(rc)"; }
    [ "$(rows p.csv)" = 4 ] || fail "--profile on the cpu: expected 4 rows, got $(rows p.csv)"
    why="no hardware counters on the cpu backend"
    [ "$(grep -c "$why" err.txt)" = 1 ] || fail "the reason is not said exactly once: $(cat err.txt)"
    for c in dram_read_bytes dram_write_bytes l2_bytes kernel_ms flops_measured \
        gather_dram_bytes intensity roof_fraction achieved_tflops; do
        i=$(col p.csv $c)
        [ -n "$i" ] || fail "no column $c"
        filled=$(tail -n +2 p.csv | awk -F, -v c="$i" '$c != ""' | wc -l)
        [ "$filled" = 0 ] || fail "$c has values on the cpu"
    done
    n=$(col p.csv profile_note)
    noted=$(tail -n +2 p.csv | awk -F, -v c="$n" -v w="$why" '$c == w' | wc -l)
    [ "$noted" = 4 ] || fail "rows without the note in profile_note"
    [ ! -e p.steps.csv ] || fail "a steps file without counters"
    pass "--profile on the cpu: 4 rows, counter columns empty, said once: $why"
    printf 'name,value,unit,device\ndram_copy_gbps,3000,GB/s,g\nl2_read_gbps,6000,GB/s,g\n%s\n%s\n%s\n' \
        'bf16_tensor_tflops,800,TFLOP/s,g' 'fp16_tensor_tflops,800,TFLOP/s,g' \
        'fp32_tflops,60,TFLOP/s,g' >ceilings.csv
    run run --backend cpu --methods full --seqlen 256 --reps 1 --ceilings ceilings.csv --out c.csv
    [ "$(rc)" = 2 ] && grep -q "needs --profile" err.txt || fail "--ceilings without --profile"
    run run --backend cpu --methods full --seqlen 256 --reps 1 --profile --ceilings none.csv \
        --out c.csv
    [ "$(rc)" = 2 ] && grep -q "none.csv" err.txt || fail "a missing ceilings file"
    run run --backend cpu --methods full --seqlen 256 --reps 1 --profile --ceilings ceilings.csv \
        --out c.csv
    [ "$(rc)" = 0 ] || { cat err.txt; fail "--profile --ceilings on the cpu: exit $(rc)"; }
    run check --profile
    [ "$(rc)" = 2 ] && grep -q "is a flag of 'attnbench run'" err.txt || fail "check --profile"
    pass "--ceilings: needs --profile and a readable file; flags of run only"
    # The device's ceilings: the GPU's five where there is one, else, said
    # so, the CPU's two; each row names the configuration whose figure it is.
    run ceilings --out measured.csv
    [ "$(rc)" = 0 ] || { cat err.txt; fail "ceilings: exit $(rc)"; }
    cfg=$(col measured.csv config)
    [ "$cfg" = 11 ] || fail "ceilings: config is column '$cfg', want 11"
    [ "$(tail -n +2 measured.csv | awk -F, '$4 != "ok"' | wc -l)" = 0 ] || fail "ceilings not ok"
    if grep -q "no usable CUDA device here: measuring the CPU" err.txt; then
        [ "$(rows measured.csv)" = 2 ] || fail "ceilings of the cpu: expected 2 rows"
        grep -q '^fp32_tflops,[0-9.e+-]*,TFLOP/s,ok,"*cpu: ' measured.csv ||
            fail "no fp32_tflops of the cpu: $(cat measured.csv)"
        pass "ceilings without a GPU: the CPU's, said so: $(tr '\n' ' ' <out.txt)"
    else
        [ "$(rows measured.csv)" = 5 ] || fail "ceilings: expected 5 rows"
        pass "ceilings measured: $(tr '\n' ' ' <out.txt)"
    fi
    # The CPU's whatever the machine, and read back by run --ceilings.
    start=$(date +%s)
    run ceilings --backend cpu --out cpu.csv
    took=$(($(date +%s) - start))
    [ "$(rc)" = 0 ] || { cat err.txt; fail "ceilings --backend cpu: exit $(rc)"; }
    [ "$(rows cpu.csv)" = 2 ] || fail "ceilings --backend cpu: expected 2 rows"
    for name in dram_copy_gbps fp32_tflops; do
        grep -qE "^$name,[0-9.e+-]+,[^,]*,ok,\"?cpu: " cpu.csv || fail "no $name: $(cat cpu.csv)"
        grep -q "^  $name .* threads" err.txt || fail "$name's configurations not listed"
    done
    [ "$(grep -c '(best of [0-9]*)' out.txt)" = 2 ] || fail "no best-of configs: $(cat out.txt)"
    ! grep -q "no usable CUDA device" err.txt || fail "--backend cpu said there is no GPU"
    run run --backend cpu --methods full --seqlen 256 --reps 1 --profile --ceilings cpu.csv \
        --out cc.csv
    [ "$(rc)" = 0 ] || { cat err.txt; fail "run --ceilings of the cpu's: exit $(rc)"; }
    run ceilings --backend cpu --seqlen 256
    [ "$(rc)" = 2 ] && grep -q "not a flag of ceilings" err.txt || fail "ceilings --seqlen"
    pass "ceilings --backend cpu: two rows in ${took}s, read back by run --ceilings"
    ;;
lock)
    # One run per results file: a second one stops at once and names the
    # first's PID, whatever its flags; a run killed leaves no lock behind.
    # "At once" is "while the first still runs" (about 3.5 s of naps), not a
    # time, which a loaded machine would stretch.
    nap=(run quick --plugin "$stall" --methods nap --seqlen 2^13..2^15 --H 1 --backend cpu --reps 6
        --warmup 0 --quiet)
    "$bench" "${nap[@]}" --out l.csv 2>first.txt &
    first=$!
    wait_rows l.csv 0
    for flags in "" --resume --force; do
        run "${nap[@]}" --out l.csv $flags
        [ "$(rc)" = 2 ] && grep -q "l.csv is in use by another run (PID $first)" err.txt ||
            fail "a second run ${flags:-without flags}: exit $(rc): $(cat err.txt)"
        kill -0 "$first" 2>/dev/null ||
            fail "a second run ${flags:-without flags} stopped only after the first had ended"
    done
    pass "a second run stops at once: $(head -1 err.txt)"
    wait $first || fail "the first run: $(cat first.txt)"
    once l.csv quick --plugin "$stall" --methods nap --seqlen 2^13..2^15 --H 1 --backend cpu \
        --reps 6 --warmup 0
    pass "the first run, undisturbed, has each point once"
    "$bench" "${nap[@]}" --out l.csv --force 2>/dev/null &
    first=$!
    wait_rows l.csv 0
    kill -9 $first
    wait $first 2>/dev/null
    run "${nap[@]}" --out l.csv --resume
    [ "$(rc)" = 0 ] || fail "after a run was killed: exit $(rc): $(cat err.txt)"
    pass "the lock of a killed run is gone with it"
    # run --gpus: the parent holds the results file while its workers run.
    export ATTNBENCH_GPUS_ON_CPU=1
    "$bench" "${nap[@]}" --gpus 0,1 --out g.csv 2>first.txt &
    first=$!
    wait_rows g.csv 0
    run "${nap[@]}" --gpus 0,1 --out g.csv --resume
    [ "$(rc)" = 2 ] && grep -q "g.csv is in use by another run (PID $first)" err.txt ||
        fail "a second --gpus run: exit $(rc): $(cat err.txt)"
    wait $first || fail "the first --gpus run: $(cat first.txt)"
    pass "run --gpus holds its results file: $(head -1 err.txt)"
    ;;
resume-force)
    # A file with rows is continued (--resume) or started afresh (--force)
    # on purpose only; run --gpus treats its workers' files the same way.
    q=(run quick --backend cpu --methods linear,agent --H 1 --reps 1 --warmup 0 --quiet)
    run "${q[@]}" --out r.csv
    [ "$(rc)" = 0 ] && [ "$(rows r.csv)" = 6 ] || fail "first run: $(cat err.txt)"
    cp r.csv before.csv
    run "${q[@]}" --out r.csv
    [ "$(rc)" = 2 ] || fail "a run into a file with rows: exit $(rc)"
    grep -q "r.csv already holds 6 rows: --resume to continue it (only the points it lacks are measured), or --force to start it afresh" err.txt ||
        fail "the choices are not named: $(cat err.txt)"
    cmp -s r.csv before.csv || fail "the refused run changed the file"
    pass "a file with rows, without --resume or --force: $(head -1 err.txt)"
    run "${q[@]}" --out r.csv --resume --force
    [ "$(rc)" = 2 ] && grep -q "give one of them" err.txt || fail "--resume --force accepted"
    run "${q[@]}" --out r.csv --force
    [ "$(rc)" = 0 ] && [ "$(rows r.csv)" = 6 ] || fail "--force: exit $(rc), $(rows r.csv) rows"
    [ "$(grep -c '^suite,' r.csv)" = 1 ] || fail "--force: more than one header"
    cmp -s r.csv before.csv && fail "--force did not measure afresh"
    pass "--force starts the file afresh: 6 rows, one header"
    # A file with only the header (a run stopped before its first row) is
    # nothing to lose.
    head -1 r.csv >h.csv
    run "${q[@]}" --out h.csv
    [ "$(rc)" = 0 ] && [ "$(rows h.csv)" = 6 ] || fail "a header-only file: $(cat err.txt)"
    export ATTNBENCH_GPUS_ON_CPU=1
    run "${q[@]}" --gpus 0,1 --out g.csv
    [ "$(rc)" = 0 ] && [ "$(rows g.csv)" = 6 ] || fail "--gpus: $(cat err.txt)"
    run "${q[@]}" --gpus 0,1 --out g.csv
    [ "$(rc)" = 2 ] && grep -q "g.csv already holds 6 rows: --resume" err.txt ||
        fail "--gpus into a file with rows: exit $(rc): $(cat err.txt)"
    head -3 g.csv >g.csv.part1of2
    rm g.csv
    run "${q[@]}" --gpus 0,1 --out g.csv
    [ "$(rc)" = 2 ] && grep -q "g.csv.part1of2 holds the rows of a stopped run: --resume" err.txt ||
        fail "--gpus with a worker's file left: exit $(rc): $(cat err.txt)"
    run "${q[@]}" --gpus 0,1 --out g.csv --resume
    [ "$(rc)" = 0 ] && [ ! -e g.csv.part1of2 ] || fail "--gpus --resume: $(cat err.txt)"
    once g.csv quick --backend cpu --methods linear,agent --H 1 --reps 1 --warmup 0
    pass "--gpus: a file with rows and a worker's file refused; --resume continues them"
    ;;
torn)
    # A row cut short (a crash mid-write, a full disk) is cut off by
    # --resume, which says so and measures that point again; a write that
    # fails leaves no part of its row.
    q=(run quick --backend cpu --methods linear,agent --H 1 --reps 1 --warmup 0 --quiet)
    run "${q[@]}" --out t.csv
    [ "$(rc)" = 0 ] || fail "first run: $(cat err.txt)"
    truncate -s -20 t.csv
    [ -n "$(tail -c1 t.csv)" ] || fail "the test did not tear the last row"
    run "${q[@]}" --out t.csv --resume
    [ "$(rc)" = 0 ] || fail "resume of a torn file: exit $(rc): $(cat err.txt)"
    grep -q "t.csv: its last row was cut short (no newline at its end): removed it" err.txt ||
        fail "the cut is not said: $(cat err.txt)"
    grep -q "1 points on cpu .* (5 already there, skipped)" err.txt ||
        fail "the torn point was not measured again: $(cat err.txt)"
    once t.csv quick --backend cpu --methods linear,agent --H 1 --reps 1 --warmup 0
    pass "a torn last row: $(grep 'cut short' err.txt)"
    # A file-size limit stands in for a full disk.
    (ulimit -f 1; "$bench" "${q[@]}" --out f.csv >out.txt 2>err.txt; echo $? >rc.txt)
    [ "$(rc)" = 2 ] && grep -q "writing f.csv failed: File too large" err.txt ||
        fail "a full disk: exit $(rc): $(cat err.txt)"
    [ -z "$(tail -c1 f.csv)" ] && [ "$(rows f.csv)" -lt 6 ] || fail "a full disk left a torn row"
    run "${q[@]}" --out f.csv --resume
    [ "$(rc)" = 0 ] && ! grep -q "cut short" err.txt || fail "resume after a full disk: $(cat err.txt)"
    once f.csv quick --backend cpu --methods linear,agent --H 1 --reps 1 --warmup 0
    pass "a full disk: the run stops with whole rows only; --resume completes it"
    ;;
interrupt)
    # SIGINT or SIGTERM to the run alone: the point's worker (and what it
    # forked) is killed at once, no row is written for it, every row before
    # it is whole, and stderr gives the command that resumes the sweep.
    export STALL_PIDS=$PWD/stall-pids.txt
    for sig in INT TERM; do
        : >"$STALL_PIDS"
        rm -f s.csv
        "$bench" run --plugin "$stall" --methods linear,stall --seqlen 2^8,2^9 --H 1 \
            --backend cpu --reps 1 --warmup 0 --out s.csv --quiet 2>err.txt &
        pid=$!
        wait_rows s.csv 2
        until [ -s "$STALL_PIDS" ]; do sleep 0.05; done
        kill -$sig $pid
        wait $pid
        code=$?
        want=$([ $sig = INT ] && echo 130 || echo 143)
        [ $code = "$want" ] || fail "SIG$sig: exit $code, want $want: $(cat err.txt)"
        grep -q "attnbench: stopped by SIG$sig: every row measured is in s.csv; to resume:" err.txt ||
            fail "SIG$sig: no note: $(cat err.txt)"
        tail -1 err.txt | grep -q -- "--out s.csv --quiet --resume$" || fail "no resume command"
        stalls_dead || fail "SIG$sig: the worker or its child lives on: $(cat "$STALL_PIDS")"
        [ "$(rows s.csv)" = 2 ] && [ -z "$(tail -c1 s.csv)" ] && ! grep -q "error:" s.csv ||
            fail "SIG$sig: the file: $(cat s.csv)"
        pass "SIG$sig: exit $code, the worker and its child killed, 2 whole rows, resume: $(tail -1 err.txt)"
    done
    # The command printed resumes the sweep: every point once in the end.
    q=(run quick --plugin "$stall" --methods linear,nap --seqlen 2^13,2^14 --H 1 --backend cpu
        --reps 3 --warmup 0)
    "$bench" "${q[@]}" --out n.csv --quiet 2>err.txt &
    pid=$!
    wait_rows n.csv 3
    kill -INT $pid
    wait $pid
    [ $? = 130 ] || fail "nap: exit not 130: $(cat err.txt)"
    cmd=$(tail -1 err.txt)
    eval "$cmd" >/dev/null 2>err2.txt || fail "the printed command failed: $cmd: $(cat err2.txt)"
    once n.csv quick --plugin "$stall" --methods linear,nap --seqlen 2^13,2^14 --H 1 \
        --backend cpu --reps 3 --warmup 0
    pass "the printed command resumes the sweep to every point once"
    # run --gpus: the parent passes the signal on to each GPU's process,
    # which ends its point's worker; their files are kept for --resume.
    export ATTNBENCH_GPUS_ON_CPU=1
    : >"$STALL_PIDS"
    "$bench" run --plugin "$stall" --methods stall --seqlen 2^8,2^9 --H 1 --backend cpu \
        --reps 1 --warmup 0 --out g.csv --gpus 0,1 2>err.txt &
    pid=$!
    for _ in $(seq 200); do [ "$(wc -l <"$STALL_PIDS")" = 2 ] && break; sleep 0.05; done
    kill -TERM $pid
    wait $pid
    [ $? = 143 ] || fail "--gpus: exit not 143: $(cat err.txt)"
    grep -q "the rows measured are in g.csv and g.csv.part\*of2; to resume:" err.txt ||
        fail "--gpus: no note: $(cat err.txt)"
    tail -1 err.txt | grep -q -- "--gpus 0,1 --resume$" || fail "--gpus: no resume command"
    stalls_dead || fail "--gpus: a worker lives on: $(cat "$STALL_PIDS")"
    pass "--gpus: SIGTERM ends both GPUs' workers; $(grep -c stopped err.txt) note"
    # Killed outright (SIGKILL: nothing to clean up), the run takes its
    # worker with it all the same.
    : >"$STALL_PIDS"
    "$bench" run --plugin "$stall" --methods stall --seqlen 2^8 --H 1 --backend cpu --reps 1 \
        --out k.csv 2>/dev/null &
    pid=$!
    until [ -s "$STALL_PIDS" ]; do sleep 0.05; done
    kill -9 $pid
    wait $pid 2>/dev/null
    stalls_dead || fail "SIGKILL: the worker or its child lives on: $(cat "$STALL_PIDS")"
    pass "SIGKILL to the run: its worker and the worker's child die with it"
    ;;
timeout)
    # A point over its time is a 'timeout' row, its worker's whole process
    # group killed, and the sweep goes on with a fresh worker; exit 1.
    export STALL_PIDS=$PWD/stall-pids.txt
    : >"$STALL_PIDS"
    printf 'methods stall linear\nseqlen 2^8 2^9\nH 1\nbackend cpu\nreps 1\nwarmup 0\ntimeout 0.5\n' \
        >t.suite
    start=$(date +%s)
    run run ./t.suite --plugin "$stall" --out t.csv
    took=$(( $(date +%s) - start ))
    [ "$(rc)" = 1 ] || fail "exit $(rc), want 1: $(cat err.txt)"
    [ "$took" -lt 10 ] || fail "took $took s"
    st=$(col t.csv status) m=$(col t.csv method)
    got=$(tail -n +2 t.csv | awk -F, -v s="$st" -v m="$m" '{print $m ":" $s}' | tr '\n' ' ')
    [ "$got" = "stall:timeout stall:timeout linear:ok linear:ok " ] || fail "rows: $got"
    stalls_dead || fail "a timed-out worker or its child lives on: $(cat "$STALL_PIDS")"
    [ "$(wc -l <"$STALL_PIDS")" = 2 ] || fail "not a fresh worker per point"
    pass "timeout 0.5 s: $got(exit 1, in $took s, every worker's group killed)"
    run run ./t.suite --plugin "$stall" --methods linear --timeout 30 --no-isolate --out n.csv
    [ "$(rc)" = 0 ] || fail "--no-isolate: exit $(rc): $(cat err.txt)"
    [ "$(grep -c "the timeout (30 s a point) is not enforced" err.txt)" = 1 ] ||
        fail "--no-isolate does not say once that the timeout is not enforced: $(cat err.txt)"
    pass "--no-isolate: $(grep 'not enforced' err.txt)"
    run slurm ./t.suite --plugin "$stall" --timeout 77 --dir job
    grep -q "^timeout *77$" job/t.suite || fail "the Slurm job's suite lost the timeout"
    pass "the Slurm job's suite keeps the timeout"
    ;;
kill-resume)
    # The quick suite killed with SIGKILL at 20 random moments, resumed each
    # time (the lock of the killed run is gone, its workers die with it, a
    # row it left cut short is cut off), then once more to the end: every
    # point exactly once, whole rows, one header.
    out=kill-resume-$$.csv
    q=(run quick --backend cpu --reps 1 --warmup 0 --quiet --out "$out" --resume)
    RANDOM=$$
    killed_after=()
    for i in $(seq 20); do
        "$bench" "${q[@]}" 2>>runs.txt &
        pid=$!
        ms=$((RANDOM % 1200))
        sleep "$(printf '0.%03d' $ms)"
        kill -9 $pid 2>/dev/null
        wait $pid 2>/dev/null
        killed_after+=("$ms ms: $([ -f "$out" ] && rows "$out" || echo 0)")
    done
    run "${q[@]}"
    [ "$(rc)" = 0 ] || fail "the last resume: exit $(rc): $(cat err.txt)"
    once "$out" quick --backend cpu --reps 1 --warmup 0
    [ "$(grep -c '^suite,' "$out")" = 1 ] && [ -z "$(tail -c1 "$out")" ] || fail "headers or a torn end"
    sleep 0.2
    ! pgrep -f "$out" >/dev/null || fail "processes of the killed runs live on: $(pgrep -af "$out")"
    pass "20 kills (rows after each: ${killed_after[*]}), then resumed: 24 points once each"
    ;;
verify)
    # run --verify over the quick shapes, every CPU method: all ok, the
    # verification's columns filled, in the CSV, the JSON and the table.
    run run quick --backend cpu --reps 1 --warmup 0 --verify --out v.csv --json v.json
    [ "$(rc)" = 0 ] || { cat err.txt; fail "quick --verify exit $(rc)"; }
    [ "$(rows v.csv)" = 24 ] || fail "expected 24 rows, got $(rows v.csv)"
    [ -z "$(cells v.csv status | grep -vx ok)" ] || fail "rows not ok: $(cells v.csv status | sort -u)"
    [ -z "$(cells v.csv verify | grep -vx ok)" ] || fail "not verified: $(cells v.csv verify | sort -u)"
    python3 -c '
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
assert all(0 <= float(r["verify_error"]) <= 1e-4 and float(r["verify_s"]) >= 0 for r in rows)
doc = json.load(open(sys.argv[2]))
assert all(r["verify"] == "ok" and isinstance(r["verify_error"], float) and r["samples"]
           for r in doc["runs"][0]["rows"])' v.csv v.json ||
        fail "verify_error or verify_s not filled, or the JSON disagrees"
    [ "$(grep -c "  verify ok " out.txt)" = 24 ] || fail "the table does not show the verification"
    pass "quick --verify: 24 rows ok and verified, verify_error <= 1e-4, verify_s, JSON, table"
    run run --backend cpu --methods linear --seqlen 256 --H 1 --reps 1 --warmup 0 --out plain.csv
    [ "$(cells plain.csv verify)$(cells plain.csv verify_error)$(cells plain.csv verify_s)" = "" ] ||
        fail "without --verify, its columns are filled"
    pass "without --verify its columns stay empty"
    # The suite key: `verify yes` verifies without the flag.
    printf 'name v\nmethods linear mita\nseqlen 256\nH 1\nreps 1\nwarmup 0\nverify yes\n' >v.suite
    run run ./v.suite --backend cpu --out vs.csv
    [ "$(rc)" = 0 ] && [ "$(cells vs.csv verify | sort -u)" = ok ] ||
        fail "verify yes in a suite: exit $(rc), verify '$(cells vs.csv verify)'"
    pass "a suite's 'verify yes' verifies every point"
    run run --backend cpu --methods topk --seqlen 256 --k 512 --reps 1 --warmup 0 --verify \
        --out invalid.csv
    case $(cells invalid.csv status) in invalid:*) ;; *) fail "k > N: $(cells invalid.csv status)" ;; esac
    [ "$(rc)" = 1 ] && [ -z "$(cells invalid.csv verify)$(cells invalid.csv verify_s)" ] ||
        fail "an invalid point: exit $(rc), verify '$(cells invalid.csv verify)'"
    pass "an invalid point is not verified"
    # Head by head: B·H = 6, N = 301 (a multiple of neither m, k nor the rows).
    run run --backend cpu --methods full,agent,nystrom,topk,mita --B 2 --H 3 --seqlen 301 --d 24 \
        --m 7 --k 5 --s_r 2 --reps 1 --warmup 0 --verify --out heads.csv
    [ "$(rc)" = 0 ] && [ -z "$(cells heads.csv verify | grep -vx ok)" ] ||
        fail "B=2 H=3 N=301: exit $(rc), verify $(cells heads.csv verify | sort -u)"
    pass "B=2 H=3 N=301 d=24 m=7 k=5 s_r=2: every head verified ok"
    # A plugin that computes full but forgets 1/sqrt(d): a wrong: row that
    # keeps its times, exit 1; check fails it too.
    run run --plugin "$wrong_full" --methods wrong_full --seqlen 256 --H 2 --backend cpu --reps 2 \
        --warmup 0 --verify --out w.csv
    [ "$(rc)" = 1 ] || { cat err.txt; fail "a wrong output: exit $(rc), want 1"; }
    status=$(cells w.csv status)
    case $status in wrong:*) ;; *) fail "a wrong output's status: $status" ;; esac
    [ "$(cells w.csv verify)" = wrong ] && [ -n "$(cells w.csv ms_median)" ] &&
        python3 -c "import sys; assert float(sys.argv[1]) > 1e-4" "$(cells w.csv verify_error)" ||
        fail "a wrong row: verify $(cells w.csv verify), ms_median '$(cells w.csv ms_median)'"
    grep -q "wrong:" out.txt || fail "the table does not show the wrong row"
    pass "wrong_full --verify: status $status, exit 1, times kept"
    run check --plugin "$wrong_full" --methods wrong_full --backend cpu
    [ "$(rc)" = 1 ] && grep -q "^FAIL wrong_full " out.txt || fail "check of wrong_full: exit $(rc)"
    pass "check --plugin wrong_full fails it: $(grep -m1 "^FAIL" out.txt | tr -s ' ')"
    # Done right, the same plugin passes both.
    run run --plugin "$plain_full" --methods plain_full --seqlen 256 --H 2 --backend cpu --reps 1 \
        --warmup 0 --verify --out right.csv
    [ "$(rc)" = 0 ] && [ "$(cells right.csv verify)" = ok ] ||
        fail "plain_full --verify: exit $(rc), verify $(cells right.csv verify)"
    run check --plugin "$plain_full" --methods plain_full --backend cpu
    [ "$(rc)" = 0 ] && grep -q "^ok   plain_full " out.txt || fail "check of plain_full: exit $(rc)"
    pass "plain_full (computes full): run --verify ok, check passes"
    # Methods that compute no definition (the example; one built for ABI 1)
    # are not verifiable, and not wrong.
    run run --plugin "$plugin" --plugin "$abi1" --methods local_window,abi1_copy --seqlen 256 \
        --k 16 --backend cpu --reps 1 --warmup 0 --verify --out none.csv
    [ "$(rc)" = 0 ] && [ -z "$(cells none.csv status | grep -vx ok)" ] &&
        [ "$(cells none.csv verify | grep -c "^none:.* computes no definition")" = 2 ] ||
        fail "no definition: exit $(rc), verify $(cells none.csv verify)"
    pass "local_window and an ABI-1 plugin's method: verify none:..., status ok, exit 0"
    ;;
help)
    # Every command's --help and -h: its usage on stdout, exit 0, nothing run.
    for c in run list check plot merge compare slurm ceilings inputs; do
        for h in --help -h; do
            run $c $h
            [ "$(rc)" = 0 ] && [ ! -s err.txt ] || fail "$c $h: exit $(rc): $(cat err.txt)"
            head -1 out.txt | grep -q "^usage: attnbench $c " || fail "$c $h: $(head -1 out.txt)"
            grep -q "^exit status:" out.txt || fail "$c $h: no exit status"
        done
        "$bench" help $c >help.txt
        cmp -s out.txt help.txt || fail "attnbench help $c differs from $c -h"
    done
    [ -z "$(ls *.csv 2>/dev/null)" ] || fail "a --help wrote $(ls *.csv)"
    pass "COMMAND --help, -h and help COMMAND: usage and exit status, exit 0"
    # --help wins over other arguments, even bad ones.
    run run quick --methods nosuch --help
    [ "$(rc)" = 0 ] && head -1 out.txt | grep -q "^usage: attnbench run" || fail "run ... --help"
    run compare a.csv --help
    [ "$(rc)" = 0 ] && head -1 out.txt | grep -q "^usage: attnbench compare" || fail "compare --help"
    run nosuch --help
    [ "$(rc)" = 2 ] && grep -q "unknown command 'nosuch'" err.txt || fail "nosuch --help: $(rc)"
    pass "--help after other arguments; an unknown command's --help exits 2"
    # Each flag a command takes is in its help.
    run run --help
    for f in --methods --dtype --B --H --seqlen --d --m --k --s_r --shared_scale --inputs \
        --gather --backend \
        --reps --warmup --max-noise --min-samples --max-samples --min-time --timing --budget \
        --timeout --seed --out --resume --force --json --discard-throttled --no-isolate --quiet \
        --plugin --profile --ceilings --verify --shard --gpus; do
        grep -q -- "$f " out.txt || fail "run --help lacks $f"
    done
    run compare --help
    for f in --threshold --min-effect --alpha --allow-unjudged; do
        grep -q -- "$f" out.txt || fail "compare --help lacks $f"
    done
    run inputs --help
    for f in --B --H --seqlen --d --dtype --seed --inputs --out; do
        grep -q -- "$f " out.txt || fail "inputs --help lacks $f"
    done
    run slurm --help
    for f in --shards --partition --gpus-per-task --time --account --dir --plugin; do
        grep -q -- "$f " out.txt || fail "slurm --help lacks $f"
    done
    run run --frobnicate
    grep -q "see attnbench run --help" err.txt || fail "an unknown flag does not point to --help"
    pass "run, compare and slurm --help list their flags; an unknown flag points to run --help"
    # --version: the version and the git revision the rows record.
    run --version
    [ "$(rc)" = 0 ] || fail "--version exit $(rc)"
    grep -Eqx "attnbench [0-9]+\.[0-9]+\.[0-9]+ \(git [0-9a-z-]+\)" out.txt ||
        fail "--version: $(cat out.txt)"
    version=$(cat out.txt)
    rev=$(sed 's/.*(git \(.*\))/\1/' out.txt)
    run run --backend cpu --methods linear --seqlen 256 --H 1 --reps 1 --warmup 0 --out v.csv
    [ "$(tail -1 v.csv | cut -d, -f"$(col v.csv git_rev)")" = "$rev" ] ||
        fail "--version says $rev, the rows another revision"
    pass "--version: $version, the revision in the rows"
    ;;
inputs)
    # run on each generated distribution: a row each, all ok, the inputs recorded.
    run run --backend cpu --methods topk,mita --seqlen 256 --H 2 --reps 1 --warmup 0 \
        --inputs iid,clustered,image,rising --seed 7 --out gen.csv
    [ "$(rc)" = 0 ] || { cat err.txt; fail "run --inputs exit $(rc)"; }
    c=$(col gen.csv inputs)
    [ "$(tail -n +2 gen.csv | cut -d, -f"$c" | sort -u | tr '\n' ' ')" = \
        "clustered iid image rising " ] || fail "the rows' inputs: $(cut -d, -f"$c" gen.csv)"
    [ "$(tail -n +2 gen.csv | grep -c ',ok,')" = 8 ] || fail "not 8 ok rows: $(cat gen.csv)"
    [ "$(tail -n +2 gen.csv | grep '^[^,]*,mita,' | cut -d, -f"$(col gen.csv gather)" |
        sort -u)" = fused ] || fail "mita's rows do not say gather fused"
    pass "run --inputs iid,clustered,image,rising: 8 ok rows, each with its inputs"
    # A file that is not there: an invalid row naming it, exit 1, the other points run.
    run run --backend cpu --methods linear --seqlen 256 --H 2 --reps 1 --warmup 0 \
        --inputs iid,file:missing.safetensors --out missing.csv
    [ "$(rc)" = 1 ] || fail "a missing inputs file: exit $(rc), want 1"
    grep -q ',invalid:inputs file missing.safetensors: No such file or directory,' missing.csv ||
        fail "no invalid row naming the file: $(cat missing.csv)"
    [ "$(tail -n +2 missing.csv | grep -c ',ok,')" = 1 ] || fail "the iid point did not run"
    pass "--inputs file:missing: an invalid row that names the file, exit 1, iid still ok"
    # inputs writes what run feeds and file: reads it back (test_inputs checks
    # the bits); a point of another N is invalid, both shapes named.
    run inputs --H 2 --seqlen 256 --inputs clustered --seed 7 --out c.safetensors
    [ "$(rc)" = 0 ] && [ -s c.safetensors ] || fail "inputs: exit $(rc): $(cat err.txt)"
    run run --backend cpu --methods topk,mita --seqlen 256,512 --H 2 --reps 1 --warmup 0 \
        --inputs file:c.safetensors --seed 7 --out file.csv
    [ "$(rc)" = 1 ] || fail "a file of another N: exit $(rc), want 1"
    grep -q 'invalid:inputs file c.safetensors: q is \[1,2,256,64\], the point needs \[1,2,512,64\]' file.csv ||
        fail "the mismatch does not name both shapes: $(grep invalid file.csv)"
    [ "$(grep -c ',256,64,.*,ok,' file.csv)" = 2 ] || fail "the N=256 points are not ok"
    run inputs --H 2 --seqlen 256 --inputs nosuch --out x.safetensors
    [ "$(rc)" = 2 ] && grep -q "unknown inputs 'nosuch' (known: iid, clustered, image, rising, file:PATH)" err.txt ||
        fail "inputs --inputs nosuch: exit $(rc): $(cat err.txt)"
    run inputs --H 2 --seqlen 256,512 --out x.safetensors
    [ "$(rc)" = 2 ] && grep -q -- "--seqlen gives 2 values" err.txt || fail "two N: $(cat err.txt)"
    pass "inputs writes a safetensors file that --inputs file: reads; another shape is invalid"
    ;;
*) fail "unknown case $case" ;;
esac
