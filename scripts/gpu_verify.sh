#!/usr/bin/env bash
# gpu_verify.sh BUILD_DIR OUT_DIR [what...] — the GPU checks of an issue in one
# go, for a lent GPU machine where the build was made elsewhere and carried
# (scripts/carry_build.sh packs it, the libraries that machine lacks included):
#   tests      every GPU test (the meson suite `gpu`, run without meson: each
#              CUDA method against the reference, the same through the
#              portable kernels, --verify's check, timing, the gathers, MiTA
#              under every gather, MiTA's kernels, the inputs, the counters),
#              a log each in OUT_DIR. JOBS=N runs N at once (test_gpu_methods,
#              both runs, split in three by method), then timing and the
#              counters alone: they read clocks and counters that other
#              processes move;
#              TEST_LIMIT=SECONDS stops a test that runs longer (rc 124)
#   list-tests (alone) the names of the GPU tests `tests` runs, one a line,
#              running none (the unit test gpu-verify-list checks them against
#              meson's)
#   sanitizer  the GPU tests at small sizes under compute-sanitizer memcheck
#   racecheck  compute-sanitizer racecheck on the long-N kernels the tests'
#              small shapes do not reach (run --verify, a process a shape):
#              MiTA's expert runs (N = 2^17, bf16 d = 64 and fp16 d = 128),
#              pair mode, the short path at 2^14, Nyström's windows pass
#              (B·H = 8, N = 2^17), agent's and linear's wgmma passes; about
#              3 min on an H100
#   check      attnbench check --backend cuda, d = 64 and 128
#   ab         a kernel change's A/B: with BASE=another build's attnbench in the
#              environment, the seqlen suite's points (AB_ARGS, the run flags
#              that pick them: default --methods mita --seqlen 2^14,2^17,2^20)
#              by that build, then by this one, into OUT_DIR/ab-base.csv and
#              ab-new.csv, and `attnbench compare` of the two (ab.txt).
#              AB_ROUNDS=R alternates the two builds R times (ab-base-2.csv,
#              ab-new-2.csv, ...), each round compared, and compares the base
#              build's first two rounds: what differs there is run-to-run noise
#   ceilings   attnbench ceilings into OUT_DIR/ceilings.csv (kept once all five
#              are measured): run it first in a session whose rows you keep
#   seqlen     the seqlen suite, CSV to OUT_DIR/seqlen.csv (called again on
#              the same OUT_DIR, it measures only the points still missing);
#              BUDGET=SECONDS passes --budget (a point's share of time)
#   peers      the PyTorch peers (suites/peers/torch_peers.py) on the seqlen
#              suite's points, to OUT_DIR/seqlen-torch.csv, resumed likewise
#              (BUDGET likewise)
#   flash_peers  full attention's versions and the PyTorch peers (SDPA's
#              backends, FlexAttention) on the flash_peers suite, one after
#              the other: OUT_DIR/flash_peers.csv and flash_peers-torch.csv,
#              resumed likewise
#   flash_long full:flash and full:flash_w4, then SDPA's cuDNN and flash
#              backends, at the seqlen suite's shape at N = 2^17 and 2^20 (the
#              flash_long suite, about 2.5 min): OUT_DIR/flash_long.csv and
#              flash_long-torch.csv, resumed likewise
#   mita       the mita suite (MiTA and route_only over s_r, 2^10 to 2^20)
#              to OUT_DIR/mita.csv, resumed likewise
#   mita_steps run --profile of the mita_steps suite (each MiTA kernel's time
#              and bytes at 2^10, 2^12 and 2^20) to OUT_DIR/mita_steps.csv and its
#              .steps.csv, with the roofs of OUT_DIR/ceilings.csv when the
#              ceilings step measured them
#   verify     run --verify of every method at N = 2^20 (the verify_2e20 suite)
#              and of linear, agent and mita at B·H·N·d = 2^32, to
#              OUT_DIR/verify_2e20.csv and verify_2e32.csv, resumed likewise;
#              verify_2e20 and verify_2e32 run one of the two
#   ncu        Nsight Compute on one launch of each kernel that NCU_KERNELS
#              names (a comma list of regexes; default
#              select_wgmma,attend_expert_runs: MiTA's two longest at long N) in
#              a forward of the seqlen suite's point that NCU_ARGS picks
#              (default --methods mita --seqlen 2^20), `--set full` with the
#              clocks as they run (--clock-control none): per kernel
#              OUT_DIR/ncu-KERNEL-details.csv (every section's metrics, each
#              row with the profiled run's device, git_rev and status in
#              front: scripts/ncu_run_metadata.py) and
#              ncu-KERNEL-source.csv (the SASS with each instruction's
#              executions, samples and stall reasons), the report itself
#              removed (large); its summary line has the kernel's duration
#   profile    attnbench ceilings, then `run --profile --ceilings` of the
#              profile and profile_long suites and of the gather suite's
#              variants at N = 2^14, 2^20, m, k = 64, 1024, d = 64, 128: CSV
#              and steps CSV to OUT_DIR (profile.csv, profile_long.csv,
#              gather-profiled.csv, each with its .steps.csv). About 8 min at
#              most: each run stops at its share of it and keeps its rows;
#              the step called again on the same OUT_DIR resumes them.
# Without steps: tests sanitizer check seqlen. Logs go to OUT_DIR; the last
# lines printed are a summary.
# LIMIT=SECONDS bounds the whole call (a lent machine's command limit, less a margin):
# at LIMIT the step running is stopped (its rows kept, as by Ctrl-C), its summary line
# says so, and the steps after it do not start. PACK=FILE packs OUT_DIR into one
# .tar.gz at the end, also when LIMIT stopped the call: one file to bring back.
set -uo pipefail
# Under LIMIT the script runs again under timeout(1), which stops it and every program it
# started (its process group) at the limit; the EXIT trap below still summarizes and packs.
if [ -n "${LIMIT:-}" ] && [ -z "${GPU_VERIFY_TIMED:-}" ]; then
    GPU_VERIFY_TIMED=1 exec timeout -k 30 "$LIMIT" bash "$0" "$@"
fi
build=$(realpath "${1:?usage: gpu_verify.sh BUILD_DIR OUT_DIR [tests|sanitizer|racecheck|check|ab|ceilings|seqlen|peers|flash_peers|flash_long|mita|mita_steps|verify|verify_2e20|verify_2e32|ncu|profile]...}")
out=$(realpath -m "${2:?usage}")
shift 2
mkdir -p "$out"
what=("$@")
[ ${#what[@]} -gt 0 ] || what=(tests sanitizer check seqlen)
bench=$build/harness/attnbench
summary=()
# The suites of this checkout: a build carried from another machine looks first where its
# source tree was there (harness/sweep/suite.c), which need not exist here.
export ATTNBENCH_SUITES=${ATTNBENCH_SUITES:-$(cd "$(dirname "$0")/../suites" && pwd)}
# A build carried from another machine (scripts/carry_build.sh) brings the libraries this one lacks.
if [ -d "$build/carried-libs" ]; then
    export LD_LIBRARY_PATH=$build/carried-libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
fi
# The PyTorch peers' rows carry the build's revision: a copied tree's .git, if any, may be
# older than the tree (suites/peers/attnpeers/results.py reads ATTNBENCH_GIT_REV first).
if [ -z "${ATTNBENCH_GIT_REV:-}" ] && [ -x "$bench" ]; then
    ATTNBENCH_GIT_REV=$("$bench" --version 2>/dev/null | sed -n 's/.*(git \(.*\)).*/\1/p')
    [ -n "$ATTNBENCH_GIT_REV" ] && export ATTNBENCH_GIT_REV
fi

# "ROWS COUNTED": a results file's rows and those with counters (python3's
# csv: notes are quoted and hold commas); "ROWS ?" without python3.
rows_with_counters() {
    python3 - "$1" 2>/dev/null <<'PY' || echo "$(($(wc -l <"$1") - 1)) ?"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
print(len(rows), sum(1 for r in rows if r["dram_read_bytes"]))
PY
}

# "ok 2, error: ... 1": a results file's statuses and their counts (python3's csv).
statuses() {
    python3 - "$1" 2>/dev/null <<'PY' || echo "?"
import collections, csv, sys
counts = collections.Counter(r["status"] for r in csv.DictReader(open(sys.argv[1], newline="")))
print(", ".join("%s %d" % kv for kv in sorted(counts.items())) or "none")
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
# A results file's rows (0 when there is none).
rows() {
    if [ -s "$1" ]; then echo $(($(wc -l <"$1") - 1)); else echo 0; fi
}

# suite_run SUITE: the suite by attnbench into OUT_DIR/SUITE.csv, resumed; adds its summary
# line (rows and their statuses).
suite_run() {
    local name=$1 rc
    "$bench" run "$name" --out "$out/$name.csv" --resume --quiet 2>"$out/$name.err"
    rc=$?
    summary+=("$name: $(rows "$out/$name.csv") rows, $(statuses "$out/$name.csv") (rc $rc)")
}

# with_peers SUITE [peer flags]: suite_run, then the PyTorch peers on the same points into
# OUT_DIR/SUITE-torch.csv, resumed; adds a summary line each.
with_peers() {
    local name=$1 rc
    shift
    suite_run "$name"
    ATTNBENCH=$bench python3 "$(dirname "$0")/../suites/peers/torch_peers.py" "$name" "$@" \
        --out "$out/$name-torch.csv" --resume >"$out/$name-torch.log" 2>&1
    rc=$?
    summary+=("$name (PyTorch): $(rows "$out/$name-torch.csv") rows, $(statuses "$out/$name-torch.csv") (rc $rc)")
}

# ab_compare TITLE BASE.csv NEW.csv: `attnbench compare` of the two appended to OUT_DIR/ab.txt
# under TITLE; adds its verdict line (the counts of slower, faster, same) to the summary.
ab_compare() {
    local rc
    echo "== $1" >>"$out/ab.txt"
    "$bench" compare "$2" "$3" >>"$out/ab.txt" 2>&1
    rc=$?
    summary+=("ab, $1: $(rows "$2") and $(rows "$3") rows; $(tail -1 "$out/ab.txt" |
        sed -n 's/^compare: \([^;]*\);.*/\1/p') (compare rc $rc)")
}

# verify_run NAME LABEL [flags]: `run --verify` of the verify_2e20 suite (with flags picking
# other points) into OUT_DIR/NAME.csv, resumed; adds a summary line "verify LABEL: ...".
verify_run() {
    local name=$1 label=$2 rc
    shift 2
    "$bench" run verify_2e20 "$@" --out "$out/$name.csv" --resume 2>"$out/$name.err" |
        tee "$out/$name.txt"
    rc=$?   # attnbench's (pipefail)
    summary+=("verify $label: $(rows "$out/$name.csv") rows, $(statuses "$out/$name.csv") (rc $rc)")
}
# Every method at N = 2^20; linear, agent and mita at B·H·N·d = 2^32 elements (B = 1, H = 32,
# N = 2^20, d = 128).
verify_2e20() { verify_run verify_2e20 2^20; }
verify_2e32() { verify_run verify_2e32 2^32 --methods linear,agent,mita --H 32 --d 128; }

# The ceilings once (kept when a call before measured all five).
measure_ceilings() {
    if [ "$(ceilings_ok)" = 5 ]; then
        summary+=("ceilings: kept, 5 of 5 ok")
        return
    fi
    timeout -k 10 90 "$bench" ceilings --out "$out/ceilings.csv" >"$out/ceilings.txt" \
        2>"$out/ceilings.err"
    local rc=$?
    cat "$out/ceilings.txt"
    summary+=("ceilings: $(ceilings_ok) of 5 ok (rc $rc)")
}

# gpu_test NAME PROGRAM [ARGS]: one GPU test, its output to OUT_DIR/gpu-NAME.log;
# adds its last line and exit status (77: skipped) to the summary. Under JOBS > 1
# it runs in the background, at most JOBS at once, and its summary line waits in
# OUT_DIR/gpu-NAME.summary until gpu_tests_wait collects it.
parallel=${JOBS:-1}
test_limit=${TEST_LIMIT:-0}
# Stopped from outside (a call's time limit, Ctrl-C), the tests running in the background
# stop too, rather than hold the GPU for whatever runs next.
trap 'exit 143' TERM INT
trap finish EXIT
# At exit, normal or not: the tests in the background stopped, the summary printed (the step
# that was running named as stopped), OUT_DIR packed into PACK.
finish() {
    local rc=$?
    kill $(jobs -p) 2>/dev/null
    if [ -n "${running:-}" ]; then
        summary+=("$running: stopped after $(( $(date +%s) - start ))s (exit $rc${LIMIT:+; LIMIT=$LIMIT s}); its rows so far are kept")
    fi
    [ -n "${listing:-}" ] || [ ${#summary[@]} -eq 0 ] || printf '%s\n' "${summary[@]}"
    if [ -n "${PACK:-}" ] && [ -z "${listing:-}" ]; then
        tar czf "$PACK" -C "$(dirname "$out")" "$(basename "$out")" &&
            echo "packed $out into $PACK ($(du -h "$PACK" | cut -f1))"
    fi
}
gpu_test() {
    local name=$1 prog=$2
    shift 2
    if [ -n "${listing:-}" ]; then
        echo "gpu-$name"
        return
    fi
    if [ "$parallel" -le 1 ]; then
        gpu_test_run "$name" "$prog" "$@"
        gpu_tests_wait
        return
    fi
    while [ "$(jobs -rp | wc -l)" -ge "$parallel" ]; do wait -n; done
    gpu_test_run "$name" "$prog" "$@" &
}
gpu_test_run() {
    local name=$1 prog=$2 start=$(date +%s) limit=()
    shift 2
    [ "$test_limit" -gt 0 ] && limit=(timeout -k 10 "$test_limit")
    # The program in the background and waited for, so that a TERM (the EXIT trap's, in a
    # background subshell) reaches it rather than leaving it orphaned.
    ${limit[@]+"${limit[@]}"} "$build/tests/gpu/$prog" "$@" >"$out/gpu-$name.log" 2>&1 &
    local child=$!
    trap 'kill "$child" 2>/dev/null; exit 143' TERM INT
    wait "$child"
    local rc=$?
    trap 'exit 143' TERM INT
    echo "gpu-$name: $(tail -1 "$out/gpu-$name.log") (rc $rc) $(($(date +%s) - start))s" \
        >"$out/gpu-$name.summary"
}
# The summary lines of the tests that ran, in the order they finished, and their failures.
gpu_tests_wait() {
    wait
    local f
    for f in $(ls -tr "$out"/gpu-*.summary 2>/dev/null); do
        summary+=("$(cat "$f")")
        grep -h '^FAIL' "${f%.summary}.log" | head -5
        rm -f "$f"
    done
}
# test_gpu_methods as test NAME, or under JOBS > 1 as NAME-full, -mita and -rest (the other
# four methods): the longest test in three processes, so that it is not the last to finish.
gpu_methods() {
    local name=$1
    if [ "$parallel" -gt 1 ] && [ -z "${listing:-}" ]; then
        gpu_test "$name-full" test_gpu_methods --methods full
        gpu_test "$name-mita" test_gpu_methods --methods mita
        gpu_test "$name-rest" test_gpu_methods --methods linear,agent,nystrom,topk
    else
        gpu_test "$name" test_gpu_methods
    fi
}
# Every GPU test: tests/gpu/meson.build's list, with its arguments and environment.
gpu_tests() {
    local plugin=(--plugin "$build/attn/examples/libattn_gather_rows.so")
    gpu_methods methods
    ATTNBENCH_PORTABLE_KERNELS=1 gpu_methods methods-portable
    gpu_test verify test_verify_gpu
    gpu_test gather test_gather "${plugin[@]}"
    gpu_test mita-gather test_mita_gather "${plugin[@]}"
    gpu_test mita-kernels test_mita_kernels
    gpu_test topk-select test_topk_select
    gpu_test window-means test_window_means
    gpu_test inputs test_inputs_fill
    [ -n "${listing:-}" ] || gpu_tests_wait
    # timing and the counters alone: they read clocks and counters
    parallel=1 gpu_test timing test_timing_gpu
    if [ -x "$build/tests/gpu/test_profiler" ]; then parallel=1 gpu_test profiler test_profiler; fi
}
if [ "${what[*]}" = list-tests ]; then
    listing=1 gpu_tests
    exit 0
fi
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,memory.used --format=csv | tee "$out/gpu.txt"
for step in "${what[@]}"; do
    start=$(date +%s) running=$step
    case $step in
    tests)
        gpu_tests
        summary+=("tests: logs gpu-*.log in $out") ;;
    sanitizer)
        compute-sanitizer --tool memcheck --error-exitcode 9 \
            "$build/tests/gpu/test_gpu_methods" --small >"$out/sanitizer.log" 2>&1
        rc=$?
        summary+=("sanitizer: $(grep -E 'ERROR SUMMARY' "$out/sanitizer.log" | tail -1) (rc $rc)") ;;
    racecheck)
        n=0
        for shape in "--methods mita,mita:route_only --dtype bf16 --H 1 --seqlen 2^17" \
                     "--methods mita --dtype fp16 --d 128 --H 1 --seqlen 2^17" \
                     "--methods mita,mita:route_only --dtype bf16 --H 1 --seqlen 20000 --m 16 --k 32 --s_r 2" \
                     "--methods mita,mita:route_only --dtype bf16 --H 1 --seqlen 2^14" \
                     "--methods nystrom --dtype bf16 --H 8 --seqlen 2^17" \
                     "--methods linear,agent --dtype bf16 --H 2 --seqlen 65573 --d 64,128"; do
            n=$((n + 1))
            # shellcheck disable=SC2086 # the shape's flags split on purpose
            compute-sanitizer --tool racecheck --error-exitcode 9 "$bench" run --no-isolate \
                --B 1 --reps 1 --warmup 0 --verify --quiet --timeout 0 $shape \
                --out "$out/racecheck-$n.csv" >"$out/racecheck-$n.log" 2>&1
            rc=$?
            summary+=("racecheck [$shape]: $(grep 'RACECHECK SUMMARY' "$out/racecheck-$n.log" |
                tail -1 | sed 's/^=* *//'); rows $(statuses "$out/racecheck-$n.csv") (rc $rc)")
        done ;;
    ab)
        base=${BASE:?gpu_verify: ab needs BASE, the attnbench of the build to compare with}
        # shellcheck disable=SC2206 # AB_ARGS splits into flags on purpose
        ab_args=(run seqlen --quiet --force ${AB_ARGS:---methods mita --seqlen 2^14,2^17,2^20})
        rounds=${AB_ROUNDS:-1}
        [[ $rounds =~ ^[1-9][0-9]*$ ]] || { running=; echo "gpu_verify: AB_ROUNDS=$rounds is not a count of 1 or more" >&2; exit 2; }
        : >"$out/ab.txt"
        for ((round = 1; round <= rounds; round++)); do
            sfx=$([ $round = 1 ] || echo "-$round")
            "$base" "${ab_args[@]}" --out "$out/ab-base$sfx.csv" 2>"$out/ab-base$sfx.err"
            "$bench" "${ab_args[@]}" --out "$out/ab-new$sfx.csv" 2>"$out/ab-new$sfx.err"
            ab_compare "round $round, base then new" "$out/ab-base$sfx.csv" "$out/ab-new$sfx.csv"
        done
        # The base build against itself: the differences that are run-to-run noise.
        [ "$rounds" -lt 2 ] ||
            ab_compare "base (round 1) against base (round 2)" "$out/ab-base.csv" "$out/ab-base-2.csv"
        cat "$out/ab.txt"
        summary[-1]+=" (ab.txt)" ;;
    ncu)
        if ! command -v ncu >/dev/null; then
            summary+=("ncu: no ncu on PATH")
        else
            IFS=, read -ra kernels <<<"${NCU_KERNELS:-select_wgmma,attend_expert_runs}"
            # shellcheck disable=SC2206 # NCU_ARGS splits into flags on purpose
            ncu_run=(run seqlen --no-isolate --quiet --force --reps 1 --warmup 0
                     ${NCU_ARGS:---methods mita --seqlen 2^20})
            for k in "${kernels[@]}"; do
                rep=$out/ncu-$k
                ncu --clock-control none --set full --import-source no -k "regex:$k" -c 1 -f \
                    -o "$rep" "$bench" "${ncu_run[@]}" --out "$rep-run.csv" >"$rep.log" 2>&1
                rc=$?
                if [ -s "$rep.ncu-rep" ]; then
                    ncu --import "$rep.ncu-rep" --page details --csv >"$rep-details.csv" 2>>"$rep.log"
                    # The profiled run's device, git_rev and status on each row of the page.
                    python3 "$(dirname "$0")/ncu_run_metadata.py" "$rep-details.csv" "$rep-run.csv" \
                        2>>"$rep.log"
                    ncu --import "$rep.ncu-rep" --page source --csv --print-source sass \
                        >"$rep-source.csv" 2>>"$rep.log"
                    rm -f "$rep.ncu-rep"
                    # The details page's first "Duration" row: its value and unit.
                    took=$(python3 -c 'import csv, sys
for r in csv.DictReader(open(sys.argv[1], newline="")):
    if r.get("Metric Name") == "Duration":
        print(r["Metric Value"], r["Metric Unit"])
        break' "$rep-details.csv" 2>>"$rep.log")
                    summary+=("ncu $k: ${took:-?} (ncu-$k-details.csv, ncu-$k-source.csv; rc $rc)")
                else
                    summary+=("ncu $k: no launch profiled (rc $rc; ncu-$k.log)")
                fi
            done
        fi ;;
    check)
        "$bench" check --backend cuda --d 64,128 >"$out/check.log" 2>&1
        rc=$?
        summary+=("check: $(tail -1 "$out/check.log") (rc $rc)")
        grep FAIL "$out/check.log" | head -20 ;;
    ceilings) measure_ceilings ;;
    seqlen)
        "$bench" run seqlen ${BUDGET:+--budget "$BUDGET"} --out "$out/seqlen.csv" --resume \
            2>"$out/seqlen.err" |
            tee "$out/seqlen.txt"
        rc=$?
        summary+=("seqlen: $(rows "$out/seqlen.csv") rows (rc $rc)") ;;
    peers)
        # The peers read attnbench's inputs through the program (inputs other than iid).
        ATTNBENCH=$bench python3 "$(dirname "$0")/../suites/peers/torch_peers.py" seqlen \
            ${BUDGET:+--budget "$BUDGET"} --out "$out/seqlen-torch.csv" --resume >"$out/peers.log" 2>&1
        rc=$?
        summary+=("peers: $(rows "$out/seqlen-torch.csv") rows (rc $rc)") ;;
    flash_peers) with_peers flash_peers ;;
    flash_long) with_peers flash_long --peers sdpa-cudnn,sdpa-flash ;;
    mita) suite_run mita ;;
    mita_steps)
        ceilings=()
        [ "$(ceilings_ok)" = 5 ] && ceilings=(--ceilings "$out/ceilings.csv")
        "$bench" run mita_steps --profile ${ceilings[@]+"${ceilings[@]}"} --out "$out/mita_steps.csv" \
            --resume --quiet 2>"$out/mita_steps.err"
        rc=$?
        summary+=("mita_steps: $(rows "$out/mita_steps.csv") rows, $(rows "$out/mita_steps.steps.csv") step rows (rc $rc)") ;;
    verify) verify_2e20; verify_2e32 ;;
    verify_2e20) verify_2e20 ;;
    verify_2e32) verify_2e32 ;;
    profile)
        measure_ceilings
        ceilings=()
        [ "$(ceilings_ok)" = 5 ] && ceilings=(--ceilings "$out/ceilings.csv")
        # Shares of ~8 min (480 s, the ceilings' included).
        profile_run profile profile 180
        profile_run profile_long profile_long 90
        profile_run gather gather-profiled 120 --seqlen 2^14,2^20 --m 64,1024 --k 64,1024
        summary+=("profile: CSV in $out") ;;
    *) running=; echo "gpu_verify: unknown step $step" >&2; exit 2 ;;
    esac
    summary[-1]+=" $(( $(date +%s) - start ))s"
    running=
done
