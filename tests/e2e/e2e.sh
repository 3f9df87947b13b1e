#!/usr/bin/env bash
# e2e.sh — the attnbench program end to end, one case per invocation:
#   e2e.sh ATTNBENCH PLUGIN CASE
# Each case prints what it checked and exits non-zero on the first failure.
set -u
bench=$(realpath "$1") plugin=$(realpath "$2") case=$3
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
# Data rows (the results never contain quoted newlines in these cases).
rows() { tail -n +2 "$1" | wc -l; }

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
    # Resume with everything done: nothing new.
    run run quick --backend cpu --reps 1 --warmup 0 --out q.csv --resume
    [ "$(rc)" = 0 ] && [ "$(rows q.csv)" = 24 ] || fail "resume of a complete run added rows"
    grep -q "24 already there" err.txt || fail "resume did not report skipped points"
    pass "resume of a complete file runs nothing"
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
plugin)
    run run --plugin "$plugin" --methods local_window,full --seqlen 256 --k 16 --backend cpu \
        --reps 2 --out p.csv
    [ "$(rc)" = 0 ] || { cat err.txt; fail "plugin run exit $(rc)"; }
    grep -q "^quick,local_window,.*,ok," p.csv || fail "no ok row for the plugin method"
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
    [ "$(rc)" = 0 ] && grep -q "N=1048576" out.txt || fail "list seqlen lacks N=2^20"
    pass "list shows methods, suites, devices and a suite's points"
    ;;
*) fail "unknown case $case" ;;
esac
