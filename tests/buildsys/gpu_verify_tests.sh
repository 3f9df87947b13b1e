#!/usr/bin/env bash
# gpu_verify_tests.sh — scripts/gpu_verify.sh's `tests` step with JOBS and TEST_LIMIT, run over
# stand-in test programs (a build directory of shell scripts named as tests/gpu's), so that it
# checks the runner itself on any machine: one summary line a test (both runs of
# test_gpu_methods in three by method), a failure's FAIL lines shown, JOBS tests at most at
# once and at least two, timing and the counters alone, TEST_LIMIT stopping a test that hangs
# (rc 124), the build's revision (attnbench --version) exported as ATTNBENCH_GIT_REV for the
# PyTorch peers, and the tests in the background stopped with the script; and the flash_long
# step: the suite by attnbench (ATTNBENCH_SUITES this checkout's suites/, where a carried
# build would look in its own machine's source tree), then the peers, a summary line each;
# the verify_2e32 step alone; the ncu step over a stand-in ncu, and without one; PACK, one
# .tar.gz of OUT_DIR; and LIMIT, which stops a call at its time.
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
build=$tmp/build out=$tmp/out events=$tmp/events
mkdir -p "$build/tests/gpu" "$build/harness" "$out"
# A stand-in attnbench: its version, and the arguments of each run, in $tmp/runs, and the
# ATTNBENCH_SUITES it saw in $tmp/suites (a run hangs under HANG_RUN, in a sleep whose PID it
# leaves in $tmp/hang.pid).
printf '#!/bin/sh\ncase "$1" in\n--version) echo "attnbench 0.1.0 (git 0123456789ab-dirty)" ;;\nrun) echo "$*" >>"%s"; echo "$ATTNBENCH_SUITES" >"%s"; [ -z "$HANG_RUN" ] || { sleep 60 & echo $! >"%s"; wait; } ;;\nesac\n' \
    "$tmp/runs" "$tmp/suites" "$tmp/hang.pid" >"$build/harness/attnbench"
chmod +x "$build/harness/attnbench"
# A stand-in: logs its start and end (also when TEST_LIMIT stops it), runs 1 s;
# test_topk_select fails, test_window_means hangs.
for t in test_gpu_methods test_verify_gpu test_gather test_mita_gather test_mita_kernels \
         test_topk_select test_window_means test_inputs_fill test_timing_gpu test_profiler; do
    cat >"$build/tests/gpu/$t" <<SH
#!/usr/bin/env bash
echo "start \$(date +%s%N) $t" >>"$events"
trap 'echo "end \$(date +%s%N) $t" >>"$events"; exit 143' TERM
[ $t = test_window_means ] || [ -n "\${HANG_ALL:-}" ] && { sleep 30 & wait \$!; }
sleep 1
echo "end \$(date +%s%N) $t" >>"$events"
if [ $t = test_topk_select ]; then echo "FAIL: a planted failure"; echo "0 passed, 1 failed"; exit 1; fi
echo "args: \$* portable=\${ATTNBENCH_PORTABLE_KERNELS:-} rev=\${ATTNBENCH_GIT_REV:-}"
echo "1 passed, 0 failed"
SH
    chmod +x "$build/tests/gpu/$t"
done
JOBS=4 TEST_LIMIT=3 bash "$root/scripts/gpu_verify.sh" "$build" "$out" tests >"$tmp/log" 2>&1
fail=0
expect() { grep -q -- "$1" "$tmp/log" || { echo "FAIL: no line matching '$1'"; fail=1; }; }
for name in methods-full methods-mita methods-rest methods-portable-full methods-portable-mita \
            methods-portable-rest verify gather mita-gather \
            mita-kernels inputs timing profiler; do
    expect "^gpu-$name: 1 passed, 0 failed (rc 0)"
done
expect "^gpu-topk-select: 0 passed, 1 failed (rc 1)"
expect "^FAIL: a planted failure"
expect "^gpu-window-means: .*(rc 124)"
grep -q -- '--methods mita' "$out/gpu-methods-mita.log" || { echo "FAIL: the mita part lacks --methods mita"; fail=1; }
grep -q 'portable=1' "$out/gpu-methods-portable-mita.log" || { echo "FAIL: the portable run lacks ATTNBENCH_PORTABLE_KERNELS=1"; fail=1; }
grep -q 'rev=0123456789ab-dirty' "$out/gpu-inputs.log" || { echo "FAIL: ATTNBENCH_GIT_REV is not the build's revision"; fail=1; }
grep -q 'portable= ' "$out/gpu-methods-full.log" || { echo "FAIL: ATTNBENCH_PORTABLE_KERNELS leaked into another test"; fail=1; }
# The events in time order: how many ran at once, and who ran beside timing and the counters.
read -r most alone_ok < <(sort -k2,2n "$events" | awk '
    $1 == "start" { n++; if (n > most) most = n; if (($3 == "test_timing_gpu" || $3 == "test_profiler") && n > 1) bad = 1 }
    $1 == "end" { n-- }
    END { print most, (bad ? 0 : 1) }')
[ "$most" -ge 2 ] && [ "$most" -le 5 ] || { echo "FAIL: $most tests at once with JOBS=4"; fail=1; }
[ "$alone_ok" = 1 ] || { echo "FAIL: timing or the counters ran beside another test"; fail=1; }
# Stopped from outside while tests run in the background (every stand-in hangs), it stops them.
rm -f "$events"
HANG_ALL=1 JOBS=4 bash "$root/scripts/gpu_verify.sh" "$build" "$tmp/out2" tests >"$tmp/log2" 2>&1 &
sleep 2
kill -TERM $!   # the script alone, not its process group
wait $!
sleep 1
started=$(grep -c '^start' "$events") ended=$(grep -c '^end' "$events")
[ "$started" -ge 2 ] && [ "$started" = "$ended" ] ||
    { echo "FAIL: stopped after 2 s, it left $((started - ended)) of $started tests running"; fail=1; }
pkill -f "$tmp/build/tests/gpu" 2>/dev/null   # what a failure above left running
# flash_long: attnbench runs the suite into OUT_DIR, resumed; then the peers (which fail here
# without PyTorch or a GPU: their line says so, with their exit status).
env -u ATTNBENCH_SUITES PACK="$tmp/out3.tgz" bash "$root/scripts/gpu_verify.sh" "$build" "$tmp/out3" \
    flash_long >"$tmp/log3" 2>&1
out3=$(realpath -m "$tmp/out3")
grep -qx "run flash_long --out $out3/flash_long.csv --resume --quiet" "$tmp/runs" ||
    { echo "FAIL: flash_long's attnbench run: $(cat "$tmp/runs")"; fail=1; }
[ "$(cat "$tmp/suites")" = "$root/suites" ] ||
    { echo "FAIL: ATTNBENCH_SUITES is '$(cat "$tmp/suites")', not this checkout's suites"; fail=1; }
grep -qF 'flash_long: 0 rows, ? (rc 0)' "$tmp/log3" &&
    grep -q '^flash_long (PyTorch): 0 rows, .*(rc [1-9][0-9]*)' "$tmp/log3" &&
    [ -s "$out3/flash_long-torch.log" ] ||
    { echo "FAIL: flash_long's summary:"; cat "$tmp/log3" "$out3/flash_long-torch.log"; fail=1; }
tar tzf "$tmp/out3.tgz" 2>/dev/null | grep -q '^out3/flash_long-torch.log$' ||
    { echo "FAIL: PACK did not pack OUT_DIR: $(tar tzf "$tmp/out3.tgz" 2>&1 | head -3)"; fail=1; }
# verify_2e32 alone: the 2^32-element run of the verify step, without its 2^20 run.
: >"$tmp/runs"
bash "$root/scripts/gpu_verify.sh" "$build" "$tmp/out5" verify_2e32 >"$tmp/log5" 2>&1
out5=$(realpath -m "$tmp/out5")
[ "$(cat "$tmp/runs")" = "run verify_2e20 --methods linear,agent,mita --H 32 --d 128 --out $out5/verify_2e32.csv --resume" ] &&
    grep -q '^verify 2^32: 0 rows' "$tmp/log5" ||
    { echo "FAIL: verify_2e32: $(cat "$tmp/runs")"; cat "$tmp/log5"; fail=1; }
# ncu: a stand-in Nsight Compute on PATH records its calls; profiling writes the report (-o)
# and, for select_wgmma, the run's row (--out), --import prints a page. Each kernel of
# NCU_KERNELS: one launch of the run NCU_ARGS picks, its details and source pages kept, the
# details' rows with the run's device, git_rev and status in front (a status that says so
# where the run wrote no row), the report removed, its duration in the summary line.
mkdir -p "$tmp/bin"
cat >"$tmp/bin/ncu" <<SH
#!/usr/bin/env bash
echo "\$*" >>"$tmp/ncu-calls"
case " \$* " in
*" --import "*) case " \$* " in
    *" details "*) printf '"ID","Kernel Name","Section Name","Metric Name","Metric Unit","Metric Value"\n"0","k","GPU Speed Of Light Throughput","Duration","usecond","901.50"\n' ;;
    *) printf '"Address","Source","Warp Stall Sampling (All Samples)"\n' ;;
    esac ;;
*) while [ \$# -gt 0 ]; do
       [ "\$1" = -o ] && { echo report >"\$2.ncu-rep"; }
       [ "\$1" = --out ] && case "\$2" in *select_wgmma*)
           printf 'method,device,git_rev,status\nmita,GPU X,0123456789ab,ok\n' >"\$2" ;; esac
       shift
   done ;;
esac
SH
chmod +x "$tmp/bin/ncu"
PATH=$tmp/bin:$PATH NCU_KERNELS=select_wgmma,attend_expert_runs NCU_ARGS="--methods mita --seqlen 2^17" \
    bash "$root/scripts/gpu_verify.sh" "$build" "$tmp/out6" ncu >"$tmp/log6" 2>&1
out6=$(realpath -m "$tmp/out6")
for k in select_wgmma attend_expert_runs; do
    grep -q -- "--clock-control none --set full --import-source no -k regex:$k -c 1 -f -o $out6/ncu-$k $build/harness/attnbench run seqlen --no-isolate --quiet --force --reps 1 --warmup 0 --methods mita --seqlen 2^17 --out $out6/ncu-$k-run.csv" "$tmp/ncu-calls" &&
        [ -s "$out6/ncu-$k-details.csv" ] && [ -s "$out6/ncu-$k-source.csv" ] && [ ! -e "$out6/ncu-$k.ncu-rep" ] &&
        grep -q "^ncu $k: 901.50 usecond (ncu-$k-details.csv, ncu-$k-source.csv; rc 0)" "$tmp/log6" ||
        { echo "FAIL: ncu of $k:"; cat "$tmp/ncu-calls" "$tmp/log6"; fail=1; }
done
[ "$(head -1 "$out6/ncu-select_wgmma-details.csv" | cut -d, -f1-4)" = 'device,git_rev,status,ID' ] &&
    grep -q '^GPU X,0123456789ab,ok,0,k,' "$out6/ncu-select_wgmma-details.csv" &&
    grep -q '^,,error: the profiled run wrote no row,0,k,' "$out6/ncu-attend_expert_runs-details.csv" ||
    { echo "FAIL: the details' rows lack the run's metadata:"; cat "$out6"/ncu-*-details.csv; fail=1; }
# Without ncu on PATH the step says so and the call goes on.
PATH=/usr/bin:/bin bash "$root/scripts/gpu_verify.sh" "$build" "$tmp/out7" ncu >"$tmp/log7" 2>&1
grep -q '^ncu: no ncu on PATH' "$tmp/log7" || { echo "FAIL: ncu missing:"; cat "$tmp/log7"; fail=1; }
# LIMIT: a run that hangs is stopped at the limit with the programs it started, its step named
# as stopped, the steps after it not started, and OUT_DIR packed all the same.
begin=$(date +%s)
HANG_RUN=1 LIMIT=3 PACK=$tmp/out4.tgz bash "$root/scripts/gpu_verify.sh" "$build" "$tmp/out4" \
    flash_long mita >"$tmp/log4" 2>&1
took=$(( $(date +%s) - begin ))
[ "$took" -lt 20 ] && grep -q '^flash_long: stopped after .*LIMIT=3 s' "$tmp/log4" &&
    ! grep -q '^mita' "$tmp/log4" && ! grep -q 'run mita' "$tmp/runs" && [ -s "$tmp/out4.tgz" ] ||
    { echo "FAIL: LIMIT=3 (took ${took}s):"; cat "$tmp/log4"; fail=1; }
# (A stopped sleep whose parent died may stay a zombie, unreaped: that one is gone too.)
hung=$(cat "$tmp/hang.pid" 2>/dev/null)
[ -n "$hung" ] && ! ps -o stat= -p "$hung" | grep -qv '^Z' ||
    { echo "FAIL: the run did not hang, or LIMIT left it behind (pid '$hung')"; fail=1; }
if [ $fail = 0 ]; then
    echo "ok: JOBS=4 ran up to $most tests at once, each with its summary line; TEST_LIMIT stopped the hang; flash_long ran the suite, then the peers; verify_2e32 alone; ncu profiled each kernel named and kept its pages with the run's metadata; PACK packed; LIMIT stopped a hung run"
else
    cat "$tmp/log"
fi
exit $fail
