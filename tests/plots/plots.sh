#!/usr/bin/env bash
# plots.sh — `attnbench plot` and the PyTorch peers' runner end to end, one
# case per invocation:
#   plots.sh ATTNBENCH TEST_PEER_CSV PYTHON3 FIXTURES CASE
# FIXTURES is tests/plots (the fixture files); PYTHON3 may be empty (no
# Python: the peers case skips). Cases that draw skip (exit 77) without
# gnuplot. Each case prints what it checked and exits 1 on the first failure.
set -u
bench=$(realpath "$1") peer_check=$(realpath "$2") python=$3 fixtures=$(realpath "$4") case=$5
adapter=$(realpath "$fixtures/../../suites/peers/torch_peers.py")
gpu=$fixtures/fake-h100.fixture.csv cpu=$fixtures/cpu-quick.fixture.csv
shapes=$fixtures/gather-shapes.fixture.csv
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

fail() { echo "FAIL: $*"; exit 1; }
pass() { echo "ok: $*"; }
need_gnuplot() { command -v gnuplot >/dev/null || { echo "skip: no gnuplot"; exit 77; }; }

# Runs a command, keeping stdout, stderr and the exit status.
run() { "$@" >out.txt 2>err.txt; echo $? >rc.txt; }
rc() { cat rc.txt; }
# The figure files NAME.png and NAME.svg exist in DIR and look like images.
drawn() {
    local dir=$1 name=$2
    [ -s "$dir/$name.png" ] || fail "$name.png missing or empty"
    [ "$(head -c 8 "$dir/$name.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
        fail "$name.png is not a PNG"
    grep -q "<svg" "$dir/$name.svg" || fail "$name.svg is not an SVG"
}
# A refused input: exit 2 and a message holding TEXT.
refused() {
    local what=$1 text=$2
    [ "$(rc)" = 2 ] || { cat err.txt; fail "$what: exit $(rc), want 2"; }
    grep -qF -- "$text" err.txt || { cat err.txt; fail "$what: no '$text' in the message"; }
    pass "$what: $(head -1 err.txt)"
}
# FILE's SVG holds TEXT, or the case fails with WHY.
says() { grep -qF -- "$2" "$1" || fail "$3"; }
# The CPU fixture's device, and a ceilings file of a CPU as `attnbench
# ceilings --backend cpu` writes it: cpu_ceilings FILE DEVICE.
cpu_device="cpu: Intel(R) Xeon(R) Processor (2 threads)"
cpu_ceilings() {
    {
        echo name,value,unit,status,device,driver,runtime,sm_clock_mhz,git_rev,timestamp,config
        echo "dram_copy_gbps,41.5,GB/s,ok,$2,,,,abc,2026-11-22T06:00:00Z,memcpy (best of 2)"
        echo "fp32_tflops,0.234,TFLOP/s,ok,$2,,,,abc,2026-11-22T06:00:00Z,AVX-512 (best of 3)"
    } >"$1"
}
# The stroke of the line whose legend entry starts with LABEL in an SVG of
# gnuplot's: "rgb(...)", then " stroke-dasharray='...'" for a dashed one.
line_style() {
    grep -F -A8 "<title>$2" "$1" | grep -m1 "<path stroke=" |
        sed -E "s/.*stroke='([^']*)'( stroke-dasharray='[^']*')?.*/\1\2/"
}
# How many points the line whose legend entry starts with LABEL joins, in
# an SVG of gnuplot's of a figure drawn `with linespoints`: its path (over
# several lines) is the legend's sample "M x,y L x,y", then the line,
# "M x,y" and an "L x,y" per further point.
joined() {
    local steps
    steps=$(awk -v title="<title>$2" 'index($0, title) { found = 1 }
                found && /<path stroke=/ { path = 1 }
                path { d = d $0 } path && /\/>/ { print d; exit }' "$1" |
        sed -E "s/.* d='M[^M]*M([^M']*).*/\1/" | grep -o L | wc -l)
    echo $((steps + 1))
}
# FILE's SVG has the legend entry LABEL exactly once (a key's text is
# <text>LABEL</text>; its group's <title> repeats it, the text does not).
one_entry() {
    local n
    n=$(grep -cF -- "<text>$2</text>" "$1")
    [ "$n" = 1 ] || fail "$(basename "$1"): legend entry '$2' $n times, want once"
}

case $case in
render-gpu)
    # The fake H100 fixture and the steps file beside it have rows for
    # every figure: all six are drawn.
    need_gnuplot
    run "$bench" plot "$gpu" --out figs
    [ "$(rc)" = 0 ] || { cat err.txt; fail "exit $(rc)"; }
    for f in time_vs_n throughput_vs_n speedup_vs_full roofline gather_bandwidth mita_steps; do
        drawn figs "$f"
    done
    grep -q "6 figures in figs" err.txt || fail "no summary: $(cat err.txt)"
    says figs/time_vs_n.svg "FIXTURE fake H100" "no device in the title"
    says figs/time_vs_n.svg "2026-11-23" "no date in the title"
    for label in full/flash mita/shared mita/route_only full/torch-sdpa-cudnn; do
        says figs/time_vs_n.svg ">$label<" "no legend entry $label"
    done
    # The speedup's baseline: by default the fastest full attention of each
    # point, which the figure names (here attnbench's flash at some N and
    # SDPA cuDNN at others); --baseline flash: attnbench's own.
    says figs/speedup_vs_full.svg \
        "1× = the fastest full attention of each point: full/flash, full/torch-sdpa-cudnn" \
        "the speedup figure does not name its baselines"
    says figs/speedup_vs_full.svg "speedup over the fastest full attention" \
        "the speedup figure's axis does not say what it divides by"
    # Beside the figures, attnbench against its fastest peer (markdown).
    grep -q "^| full/flash | 2^14 | 1.648 | full/torch-sdpa-cudnn | 1.452 | 0.88× |$" figs/peers.md ||
        fail "peers.md: no line of full/flash against SDPA cuDNN at 2^14: $(cat figs/peers.md)"
    grep -q "attnbench against its fastest peer at 16 points" err.txt ||
        fail "peers.md is not announced: $(cat err.txt)"
    # --peers-at: first every series at those N side by side ("—": no ok row there).
    run "$bench" plot "$gpu" --out figs-at --peers-at 2^14,2^20
    [ "$(rc)" = 0 ] || { cat err.txt; fail "--peers-at: exit $(rc)"; }
    grep -q "^attnbench against its fastest peer at N = 2^14 and 2^20: FIXTURE fake H100" \
        figs-at/peers.md || fail "--peers-at: no summary's title: $(head -3 figs-at/peers.md)"
    grep -q "^| full/flash | 1.648 | full/torch-sdpa-cudnn | 1.452 | 0.88× | — | | | |$" \
        figs-at/peers.md || fail "--peers-at: no summary line of full/flash: $(cat figs-at/peers.md)"
    grep -q "^| full/flash | 2^14 | 1.648 | full/torch-sdpa-cudnn | 1.452 | 0.88× |$" \
        figs-at/peers.md || fail "--peers-at: the whole table is gone"
    run "$bench" plot "$gpu" --out figs-flash --baseline flash
    [ "$(rc)" = 0 ] || { cat err.txt; fail "--baseline flash: exit $(rc)"; }
    says figs-flash/speedup_vs_full.svg "1× = attnbench's full/flash" \
        "--baseline flash: the figure does not say so"
    run "$bench" plot "$gpu" --out figs-x --baseline fast
    [ "$(rc)" = 2 ] && grep -q "baseline 'fast': need fastest or flash" err.txt ||
        fail "--baseline fast: exit $(rc), $(cat err.txt)"
    says figs/roofline.svg "nominal H100 SXM5" "the roofline does not say its ceilings are nominal"
    says figs/roofline.svg "bf16 roof (989.4 TFLOP/s)" "no bf16 roof"
    says figs/gather_bandwidth.svg "nominal H100 SXM5 DRAM bandwidth" \
        "the gather figure does not say where its ceiling is from"
    # One shape (d=64, m=64, k=64): one panel, one line per variant.
    says figs/gather_bandwidth.svg ">d=64, m=64, k=64 (8 KB per expert)<" \
        "the gather figure's panel does not name its shape"
    for label in naive warp_row vec16 "copy (reference)" "copy ceiling"; do
        one_entry figs/gather_bandwidth.svg "$label"
    done
    ! grep -q "not shown" figs/gather_bandwidth.svg ||
        fail "the gather figure says shapes were left out of a file of one shape"
    for step in landmarks probe route attend; do
        says figs/mita_steps.svg ">$step<" "no step $step in the MiTA figure"
    done
    says figs/mita_steps.svg "mita/shared, bf16, B=1 H=8 d=64 m=64 k=64 s_r=1" \
        "the MiTA figure does not name its configuration"
    says figs/mita_steps.svg "other configurations not shown" \
        "the MiTA figure does not say it left mita/route_only out"
    pass "fake H100 fixture: six figures, PNG and SVG, titles, legends, ceilings' sources"
    ;;
gather-shapes)
    # Five variants at eight shapes (d in {64, 128} x m, k in {64, 1024}): a
    # 2x2 grid, a column per d, a row for the smallest and one for the
    # largest m·k; one legend with one entry per variant, not per shape.
    need_gnuplot
    run "$bench" plot "$shapes" --out figs
    [ "$(rc)" = 0 ] || { cat err.txt; fail "exit $(rc)"; }
    drawn figs gather_bandwidth
    svg=figs/gather_bandwidth.svg
    grep -q 'width="1280" height="1000"' $svg || fail "the grid is not drawn on 1280x1000"
    for title in "d=64, m=64, k=64 (8 KB per expert)" "d=128, m=64, k=64 (16 KB per expert)" \
                 "d=64, m=1024, k=1024 (128 KB per expert)" \
                 "d=128, m=1024, k=1024 (256 KB per expert)"; do
        says $svg ">$title<" "no panel '$title'"
    done
    for title in "m=64, k=1024" "m=1024, k=64"; do
        ! grep -qF "$title" $svg || fail "a panel for $title, neither the smallest nor the largest"
    done
    says $svg "4 other (d, m, k) shapes not shown" "the figure does not say shapes were left out"
    for label in naive warp_row vec16 sorted "copy (reference)" "copy ceiling"; do
        one_entry $svg "$label"
    done
    [ "$(grep -c '<text>[^<]*</text>' $svg)" -lt 60 ] || fail "more text than a 2x2 grid has"
    ! grep -qE '<text>(gather/|[^<]*d=[0-9]+, m=[0-9]+, k=[0-9]+\))' $svg ||
        fail "a legend entry names a shape"
    says $svg "FIXTURE fake H100" "no device in the title"
    says $svg "2026-11-23" "no date in the title"
    pass "eight shapes: four panels titled by shape, one legend entry per variant"
    # Without d=64/128 m=64 k=64 the smallest m·k is a tie (64x1024, 1024x64):
    # the larger k wins.
    grep -v ',bf16,1,8,[0-9]*,[0-9]*,64,64,' "$shapes" >ties.csv
    run "$bench" plot ties.csv --out figs2
    [ "$(rc)" = 0 ] || { cat err.txt; fail "exit $(rc)"; }
    says figs2/gather_bandwidth.svg ">d=64, m=64, k=1024 (128 KB per expert)<" \
        "a tie of m·k not broken by the larger k"
    ! grep -qF "m=1024, k=64" figs2/gather_bandwidth.svg || fail "the tie went to the smaller k"
    pass "a tie of m·k goes to the larger k"
    # One d and one shape: a single panel on the usual 1280x760.
    { head -1 "$shapes"; grep ',bf16,1,8,[0-9]*,128,1024,1024,' "$shapes"; } >one.csv
    run "$bench" plot one.csv --out figs3
    [ "$(rc)" = 0 ] || { cat err.txt; fail "exit $(rc)"; }
    grep -q 'width="1280" height="760"' figs3/gather_bandwidth.svg ||
        fail "a single panel is not drawn on 1280x760"
    [ "$(grep -c '>d=[0-9]*, m=' figs3/gather_bandwidth.svg)" = 1 ] || fail "not one panel"
    pass "one shape: one panel"
    ;;
mita-gather)
    # MiTA with its gather as a step of its own (profiled, a steps file with
    # the step "gather"), beside the gather kernels of the same shape: the
    # gather figure draws it as a line of its own in the same GB/s, the
    # steps figure shows the step.
    need_gnuplot
    mg=$fixtures/mita-gather.fixture.csv
    run "$bench" plot "$mg" --out figs
    [ "$(rc)" = 0 ] || { cat err.txt; fail "exit $(rc)"; }
    drawn figs gather_bandwidth
    drawn figs mita_steps
    for label in naive vec16 "vec16 in mita/shared" "copy (reference)"; do
        one_entry figs/gather_bandwidth.svg "$label"
    done
    says figs/gather_bandwidth.svg "In mita (dotted): its gather step, the same bytes over" \
        "the gather figure does not say what MiTA's line is"
    says figs/mita_steps.svg ">gather<" "no step gather in the MiTA figure"
    pass "MiTA's own gather beside the gather kernels, and in the steps figure"
    # Without the gather rows: MiTA's gather alone still makes the figure.
    grep -v ",gather," "$mg" >mita-only.csv
    cp "${mg%.csv}.steps.csv" mita-only.steps.csv
    run "$bench" plot mita-only.csv --out figs2
    [ "$(rc)" = 0 ] || { cat err.txt; fail "exit $(rc)"; }
    drawn figs2 gather_bandwidth
    one_entry figs2/gather_bandwidth.svg "vec16 in mita/shared"
    # Without the steps file there is no step time: no MiTA line, no figure.
    cp mita-only.csv no-steps.csv
    run "$bench" plot no-steps.csv --out figs3
    grep -q "gather_bandwidth skipped: no ok rows with method 'gather'" err.txt ||
        fail "no note for MiTA rows without a steps file: $(cat err.txt)"
    pass "MiTA's gather alone draws the figure; without its steps it is skipped"
    ;;
render-cpu)
    # A real CPU run (fp32, 3 N): three figures; gather
    # and MiTA steps skipped with a note, their stale files removed; the
    # roofline too, without a CPU's ceilings: never CPU points under GPU roofs.
    need_gnuplot
    mkdir figs && echo stale >figs/gather_bandwidth.png && echo stale >figs/roofline.png
    echo stale >figs/peers.md
    run "$bench" plot "$cpu" --out figs
    [ "$(rc)" = 0 ] || { cat err.txt; fail "exit $(rc)"; }
    [ ! -e figs/peers.md ] || fail "a table of peers without peers (an earlier run's left)"
    for f in time_vs_n throughput_vs_n speedup_vs_full; do drawn figs "$f"; done
    grep -q "gather_bandwidth skipped: no ok rows with method 'gather'" err.txt ||
        fail "no gather note"
    grep -q "mita_steps skipped: no rows of method 'mita' in a steps file" err.txt ||
        fail "no steps note"
    grep -q "roofline skipped: CPU rows need a CPU's roofs: give --ceilings FILE of \`attnbench ceilings --backend cpu\`" \
        err.txt || fail "no roofline note: $(cat err.txt)"
    [ ! -e figs/gather_bandwidth.png ] && [ ! -e figs/roofline.png ] ||
        fail "a skipped figure's stale file was kept"
    grep -q "3 figures in figs" err.txt || fail "not 3 figures: $(cat err.txt)"
    says figs/time_vs_n.svg "cpu: Intel" "no device in the title"
    pass "CPU fixture: three figures; gather, MiTA steps and the roofline skipped with a note"
    # A GPU's ceilings file does not make GPU roofs a CPU's.
    printf 'name,value,unit,device\nfp32_tflops,60,TFLOP/s,NVIDIA H100 80GB HBM3\n' >gpu-c.csv
    run "$bench" plot "$cpu" --ceilings gpu-c.csv --out figs2
    [ "$(rc)" = 0 ] || { cat err.txt; fail "exit $(rc)"; }
    [ ! -e figs2/roofline.png ] && grep -q "roofline skipped: CPU rows need a CPU's roofs" err.txt ||
        fail "CPU points drawn under a GPU's ceilings"
    # A CPU's ceilings, of the rows' device: the roofline under them.
    cpu_ceilings cpu-c.csv "$cpu_device"
    run "$bench" plot "$cpu" --ceilings cpu-c.csv --out figs3
    [ "$(rc)" = 0 ] || { cat err.txt; fail "exit $(rc)"; }
    drawn figs3 roofline
    says figs3/roofline.svg "fp32 roof (0.234 TFLOP/s)" "not the CPU's fp32 roof"
    says figs3/roofline.svg "Ceilings (DRAM copy 41.5 GB/s): measured, from the ceilings file, on $cpu_device." \
        "the roofline does not credit the CPU's file"
    ! grep -qE "H100|bf16 roof|989" figs3/roofline.svg || fail "a GPU roof under CPU points"
    ! grep -q "left out" err.txt || fail "rows left out: $(cat err.txt)"
    pass "CPU fixture with its CPU's ceilings: the roofline under the CPU's roofs only"
    # A CPU's ceilings of another CPU: the roofline skipped, said why.
    cpu_ceilings other-c.csv "cpu: AMD EPYC 9654 (192 threads)"
    run "$bench" plot "$cpu" --ceilings other-c.csv --out figs4
    [ "$(rc)" = 0 ] || { cat err.txt; fail "exit $(rc)"; }
    [ ! -e figs4/roofline.png ] || fail "CPU points drawn under another CPU's roofs"
    grep -q "roofline skipped: the CPU ceilings are of 'cpu: AMD EPYC 9654 (192 threads)'" err.txt ||
        fail "no note for another CPU's ceilings: $(cat err.txt)"
    # GPU and CPU rows together: the GPU's under GPU roofs, the CPU's left
    # out of the roofline (and in the other figures).
    run "$bench" plot "$gpu" "$cpu" --ceilings cpu-c.csv --out figs5
    [ "$(rc)" = 0 ] || { cat err.txt; fail "exit $(rc)"; }
    drawn figs5 roofline
    n=$(grep -c ',ok,' "$cpu")
    grep -q "roofline: $n CPU rows left out: CPU points go under a CPU's roofs only" err.txt ||
        fail "the CPU rows left out are not counted: $(cat err.txt)"
    ! grep -qE "<text>[^<]*\(cpu,|fp32 roof|DRAM copy 41\.5" figs5/roofline.svg ||
        fail "CPU rows or roofs in the GPU roofline"
    says figs5/roofline.svg "bf16 roof (989.4 TFLOP/s)" "no GPU roof"
    says figs5/time_vs_n.svg "(cpu," "the other figures lost the CPU rows"
    pass "CPU points go under a CPU's roofs only: another CPU's skipped, beside GPU rows left out"
    ;;
cpu-roofline)
    # End to end on this machine: `attnbench ceilings --backend cpu`, then
    # the CPU fixture, as if run here, under the roofs just measured.
    need_gnuplot
    run "$bench" ceilings --backend cpu --out here.csv
    [ "$(rc)" = 0 ] || { cat err.txt; fail "ceilings --backend cpu: exit $(rc)"; }
    here=$(awk -F, 'NR == 2 { print $5 }' here.csv | tr -d '"')
    case $here in "cpu: "*) ;; *) fail "the ceilings' device is '$here'" ;; esac
    awk -F, -v OFS=, -v old="$cpu_device" -v new="$here" 'NR > 1 && $5 == old { $5 = new } 1' \
        "$cpu" >here-results.csv
    grep -qF "$here" here-results.csv || fail "the fixture was not moved to '$here'"
    run "$bench" plot here-results.csv --ceilings here.csv --out figs
    [ "$(rc)" = 0 ] || { cat err.txt; fail "exit $(rc)"; }
    drawn figs roofline
    says figs/roofline.svg "measured, from the ceilings file, on $here." \
        "the roofline does not use the CPU's measured ceilings"
    says figs/roofline.svg "fp32 roof (" "no fp32 roof"
    pass "ceilings --backend cpu on $here, and the roofline of a CPU run under them"
    ;;
newest-wins)
    # A point in two files (a sweep, then a rerun of it): the newer row is
    # drawn, the older set aside and counted, and its date leaves the title.
    need_gnuplot
    head -2 "$gpu" | sed '2s/,2026-11-23T[0-9:]*Z,/,2026-01-01T00:00:00Z,/; 2s/,0\.0375652815,/,9.5,/' \
        >older.csv
    grep -q '2026-01-01' older.csv || fail "the older row was not made"
    run "$bench" plot older.csv "$gpu" --out figs
    [ "$(rc)" = 0 ] || { cat err.txt; fail "exit $(rc)"; }
    grep -q "1 row set aside: a newer row of the same point" err.txt ||
        fail "the superseded row is not counted: $(cat err.txt)"
    ! grep -q "2026-01-01" figs/time_vs_n.svg || fail "the older row's date is in the title"
    says figs/time_vs_n.svg "2026-11-23" "no date in the title"
    # The same rows in one file twice, same timestamps: the later wins, one set aside each.
    run "$bench" plot "$gpu" "$gpu" --out figs2
    [ "$(rc)" = 0 ] || { cat err.txt; fail "exit $(rc)"; }
    n=$(($(grep -c ',ok,' "$gpu")))
    grep -q "$n rows set aside" err.txt || fail "a file given twice: $(cat err.txt), want $n"
    pass "the newest row of a point is drawn; the others are counted and left out"
    ;;
ceilings)
    # A ceilings file as `attnbench ceilings` writes it (harness/measure/ceilings.h).
    need_gnuplot
    {
        echo name,value,unit,device,driver,timestamp,git_rev
        for row in dram_copy_gbps,2800,GB/s l2_read_gbps,9000,GB/s bf16_tensor_tflops,700,TFLOP/s \
                   fp16_tensor_tflops,710,TFLOP/s fp32_tflops,51,TFLOP/s; do
            echo "$row,NVIDIA H100 80GB HBM3,580.1,2026-11-23T09:00:00Z,abc"
        done
    } >c.csv
    run "$bench" plot "$gpu" --ceilings c.csv --out figs
    [ "$(rc)" = 0 ] || { cat err.txt; fail "exit $(rc)"; }
    says figs/roofline.svg "bf16 roof (700 TFLOP/s)" "the file's bf16 peak is not used"
    says figs/roofline.svg \
        "DRAM copy 2800 GB/s): measured, from the ceilings file, on NVIDIA H100 80GB HBM3" \
        "the roofline does not credit the file and its device"
    says figs/gather_bandwidth.svg "Copy ceiling 2800 GB/s (read + written): a device-to-device" \
        "the file's copy ceiling is not used"
    pass "a file of attnbench ceilings sets the roofs and the copy ceiling; the figures say so"
    printf 'name,value,unit\nbf16_tensor_tflops,700,TFLOP/s\n' >partial.csv
    run "$bench" plot "$gpu" --ceilings partial.csv --out figs2
    [ "$(rc)" = 0 ] || { cat err.txt; fail "exit $(rc)"; }
    says figs2/roofline.svg "where given, else nominal" "a partial file is not described as such"
    pass "a partial ceilings file: the figure says the rest are nominal"
    {
        echo name,value,unit,status,device,driver,runtime,sm_clock_mhz,git_rev,timestamp
        meta="NVIDIA H100 80GB HBM3,13.0,13.0,1980,abc,2026-11-23T09:00:00Z"
        echo "dram_copy_gbps,2800,GB/s,ok,$meta"
        echo "bf16_tensor_tflops,,TFLOP/s,error:cublasGemmEx: CUBLAS_STATUS_NOT_SUPPORTED,$meta"
    } >status.csv
    run "$bench" plot "$gpu" --ceilings status.csv --out figs3
    [ "$(rc)" = 0 ] || { cat err.txt; fail "exit $(rc)"; }
    grep -qF "bf16_tensor_tflops was not measured (error:cublasGemmEx" err.txt ||
        fail "a ceiling not measured is not said"
    says figs3/roofline.svg "bf16 roof (989.4 TFLOP/s)" "a ceiling not measured is not nominal"
    says figs3/roofline.svg "DRAM copy 2800 GB/s" "the measured ceiling beside it is not used"
    pass "a ceiling whose status is not ok stays nominal, and the plot says so"
    ;;
profiled)
    # The profiling pass's roofline columns place the points where present
    # (under the roofs of the CPU the rows were measured on).
    need_gnuplot
    cpu_ceilings c.csv "$cpu_device"
    awk 'NR == 1 { print $0 ",intensity,achieved_tflops"; next } { print $0 ",3.5,0.02" }' \
        "$cpu" >profiled.csv
    run "$bench" plot profiled.csv --ceilings c.csv --out figs
    [ "$(rc)" = 0 ] || { cat err.txt; fail "exit $(rc)"; }
    says figs/roofline.svg "Intensity: FLOPs over measured DRAM bytes" \
        "the roofline does not use the measured intensity"
    awk 'NR == 1 { print $0 ",intensity,achieved_tflops"; next }
         NR == 2 { print $0 ",3.5,0.02"; next } { print $0 ",," }' "$cpu" >some.csv
    run "$bench" plot some.csv --ceilings c.csv --out figs
    [ "$(rc)" = 0 ] || { cat err.txt; fail "exit $(rc)"; }
    says figs/roofline.svg "measured DRAM bytes where profiled" \
        "a partly profiled file is not described as such"
    pass "the profiling pass's intensity, where present, places the roofline's points"
    ;;
energy)
    # Rows with an energy figure draw the energy figure; a file without the
    # column (the fixture as it is) skips it with a note.
    need_gnuplot
    run "$bench" plot "$gpu" --out figs
    grep -q "energy_vs_n skipped: no ok attention rows with an energy figure" err.txt || fail "no note for the energy figure: $(cat err.txt)"
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "ms_median") c = i; print $0 ",energy_j"; next }
             { print $0 "," (c && $c != "" ? $c * 0.7 : "") }' "$gpu" >energy.csv
    run "$bench" plot energy.csv --out figs
    [ "$(rc)" = 0 ] || { cat err.txt; fail "exit $(rc)"; }
    drawn figs energy_vs_n
    says figs/energy_vs_n.svg "Energy per forward" "no title in the energy figure"
    says figs/energy_vs_n.svg ">mita/shared<" "no MiTA series in the energy figure"
    pass "the energy figure draws rows with energy_j and skips files without it"
    ;;
zipped)
    # A suite that zips seqlen+B (a fixed number of tokens B·N) and H+d: every
    # N has its own B, so a series keyed on B would be one point. B moves
    # with N instead: one line per (variant, H, d), its points joined, its
    # label saying B·N once; a peer's line pairs with attnbench's.
    need_gnuplot
    printf '%s\n' "name zipped" "methods full full:naive" "dtype fp32" "seqlen 16,32,64" \
        "B 4,2,1" "H 2,1" "d 32,64" "zip seqlen+B H+d" "backend cpu" "reps 3" "warmup 1" \
        >zipped.suite
    run "$bench" run ./zipped.suite --quiet --out zipped.csv
    [ "$(rc)" = 0 ] || { cat err.txt; fail "run of the zipped suite: exit $(rc)"; }
    run "$bench" plot zipped.csv --out figs
    [ "$(rc)" = 0 ] || { cat err.txt; fail "exit $(rc)"; }
    for f in time_vs_n throughput_vs_n speedup_vs_full; do
        svg=figs/$f.svg
        [ "$(grep -c '<text>full/' $svg)" = 4 ] ||
            fail "$f: $(grep -c '<text>full/' $svg) legend entries, want 4 (variant, H, d)"
        for label in "full/flash (H=2, d=32, B·N=64)" "full/flash (H=1, d=64, B·N=64)" \
            "full/naive (H=2, d=32, B·N=64)" "full/naive (H=1, d=64, B·N=64)"; do
            one_entry $svg "$label"
        done
    done
    # Joined, and each point found its baseline (the same B and N): the
    # speedup figure, whose every point is drawn (TFLOP/s that round to 0
    # are not, on a log axis).
    for label in "full/flash (H=2, d=32, B·N=64)" "full/naive (H=1, d=64, B·N=64)"; do
        [ "$(joined figs/speedup_vs_full.svg "$label")" = 3 ] ||
            fail "'$label' joins $(joined figs/speedup_vs_full.svg "$label") points, want 3"
    done
    ! grep -q "B=[0-9]" figs/time_vs_n.svg || fail "a label names B, which moves with N"
    pass "zip seqlen+B: a line per (variant, H, d) through its three N, labelled B·N=64"
    # A peer of the same points (its rows: flash's, renamed) pairs with
    # full/flash line by line: its colour, dashed.
    awk -F, -v OFS=, 'NR == 1 || $3 == "flash" {
        if (NR > 1) $3 = $4 = "torch-sdpa-flash"
        print
    }' zipped.csv >peer.csv
    run "$bench" plot zipped.csv peer.csv --out figs2
    [ "$(rc)" = 0 ] || { cat err.txt; fail "with a peer: exit $(rc)"; }
    for shape in "H=2, d=32" "H=1, d=64"; do
        peer_label="full/torch-sdpa-flash ($shape" # the rest is cut from the legend
        own=$(line_style figs2/time_vs_n.svg "full/flash ($shape")
        peer=$(line_style figs2/time_vs_n.svg "$peer_label")
        [ "$(joined figs2/speedup_vs_full.svg "$peer_label")" = 3 ] ||
            fail "'$peer_label' not joined"
        [ -n "$own" ] && [ "${peer%% stroke-dasharray*}" = "$own" ] &&
            [ "${peer#*dasharray}" != "$peer" ] ||
            fail "'$peer_label': not dashed in full/flash's colour ($peer against $own)"
    done
    pass "a peer's zipped line is dashed in the colour of attnbench's of its shape"
    # Every combination of B and N (no zip): several B at each N, so B stays
    # in the key and the labels, as before.
    printf '%s\n' "name plain" "methods full full:naive" "dtype fp32" "seqlen 16,32" "B 2,1" \
        "H 2" "d 32" "backend cpu" "reps 3" "warmup 1" >plain.suite
    run "$bench" run ./plain.suite --quiet --out plain.csv
    [ "$(rc)" = 0 ] || { cat err.txt; fail "run of the plain suite: exit $(rc)"; }
    run "$bench" plot plain.csv --out figs3
    [ "$(rc)" = 0 ] || { cat err.txt; fail "plain: exit $(rc)"; }
    legend=$(grep -o '<text>full/[^<]*' figs3/time_vs_n.svg | sed 's/<text>//' | tr '\n' '|')
    [ "$legend" = "full/flash (B=2)|full/flash (B=1)|full/naive (B=2)|full/naive (B=1)|" ] ||
        fail "plain: the legend is not a series per (variant, B): $legend"
    for label in "full/flash (B=2)" "full/naive (B=1)"; do
        [ "$(joined figs3/speedup_vs_full.svg "$label")" = 2 ] || fail "plain: '$label' not joined"
    done
    ! grep -q "B·N" figs3/time_vs_n.svg || fail "plain: B·N in a file of every combination"
    pass "every combination of B and N: a series per B, as before"
    ;;
bad-input)
    # Refused before anything is drawn: exit 2, a message that names the fault.
    run "$bench" plot
    refused "no file" "no results file"
    run "$bench" plot nosuch.csv
    refused "a missing file" "nosuch.csv: cannot open"
    run "$bench" plot "$cpu" --frobnicate
    refused "unknown flag" "unknown flag '--frobnicate'"
    run "$bench" plot "$cpu" --out
    refused "flag without its value" "--out needs a value"
    run "$bench" plot "$cpu" --peers-at 2^x
    refused "a bad --peers-at" "--peers-at '2^x': need a list of N such as 2^14,2^20"
    printf 'method,N,ms_median\nfull,1024,1.5\n' >cols.csv
    run "$bench" plot cols.csv
    refused "missing columns" "missing columns 'variant', 'backend'"
    grep -q "'status'" err.txt && grep -q "'tflops'" err.txt ||
        fail "not every missing column named"
    head -1 "$cpu" >header.csv
    run "$bench" plot header.csv
    refused "a header and no rows" "no rows, only a header"
    { head -1 "$gpu"; grep -E ',(oom|skipped:budget),' "$gpu"; } >notok.csv
    run "$bench" plot notok.csv
    refused "no ok rows" "none of the 9 rows has status ok (skipped 4, oom 5)"
    sed '2s/,1024,64,/,many,64,/' "$cpu" >nan.csv
    run "$bench" plot nan.csv
    refused "a number that is not" "N 'many' is not a number"
    printf 'suite,method\nquick,full,extra\n' >ragged.csv
    run "$bench" plot ragged.csv
    refused "a malformed CSV" "ragged.csv:2: row has 3 fields"
    cp "$cpu" r.csv
    printf 'suite,method,variant,N,step\nq,mita,shared,1024,probe\n' >r.steps.csv
    run "$bench" plot r.csv
    refused "a steps file without its columns" "r.steps.csv: missing columns 'backend', 'dtype'"
    printf 'name,value,unit\nhbm_gbps,3000,GB/s\n' >c1.csv
    run "$bench" plot "$cpu" --ceilings c1.csv
    refused "an unknown ceiling" "unknown ceiling 'hbm_gbps' (known: dram_copy_gbps"
    printf 'name,value,unit\ndram_copy_gbps,3,TB/s\n' >c2.csv
    run "$bench" plot "$cpu" --ceilings c2.csv
    refused "a ceiling in the wrong unit" "dram_copy_gbps is in 'TB/s', need 'GB/s'"
    printf 'name,value,unit\nfp32_tflops,-1,TFLOP/s\n' >c3.csv
    run "$bench" plot "$cpu" --ceilings c3.csv
    refused "a ceiling that is not positive" "fp32_tflops = '-1' (need a number > 0)"
    mkdir empty
    ATTNBENCH_PLOTS=$work/empty run "$bench" plot "$cpu"
    refused "no figure scripts" "no figure script $work/empty/time_vs_n.gp"
    PATH=$work/empty run "$bench" plot "$cpu" --out figs
    refused "no gnuplot" "gnuplot is not installed"
    [ ! -e figs ] || fail "something was drawn without gnuplot"
    ;;
gnuplot-failure)
    # A figure gnuplot cannot draw: exit 1, no file for it, the others drawn.
    need_gnuplot
    cp -r "$fixtures/../../plots" scripts
    echo 'plot no_such_variable' >>scripts/throughput_vs_n.gp
    ATTNBENCH_PLOTS=$work/scripts run "$bench" plot "$cpu" --out figs
    [ "$(rc)" = 1 ] || { cat err.txt; fail "exit $(rc), want 1"; }
    grep -q "gnuplot failed on .*throughput_vs_n.gp" err.txt ||
        fail "the failed figure is not named"
    [ ! -e figs/throughput_vs_n.png ] || fail "a failed figure left a file"
    drawn figs time_vs_n
    drawn figs speedup_vs_full
    pass "a failing figure: exit 1, named, no file; the others drawn"
    ;;
peers)
    [ -n "$python" ] || { echo "skip: no python3"; exit 77; }
    # --budget 20: the fake flash takes 1.9 s at 2^19 (8 samples fit after 2
    # warm-ups) and 7.5 s at 2^20 (not 3: skipped).
    sdpa="--peers sdpa-flash,sdpa-cudnn"
    run "$python" "$adapter" seqlen $sdpa --dry-run --budget 20 --out peers.csv
    [ "$(rc)" = 0 ] || { cat err.txt; fail "dry run exit $(rc)"; }
    run "$peer_check" peers.csv
    [ "$(rc)" = 0 ] || { cat out.txt err.txt; fail "the harness's reader disagrees"; }
    grep -q ",skipped:budget," peers.csv || fail "the budget skipped nothing at N=2^20"
    grep -q ",524288,64,,,,,iid,,8," peers.csv ||
        fail "the budget did not cut the samples at N=2^19 to 8"
    pass "dry run of the seqlen suite: $(cat out.txt)"
    run "$python" "$adapter" seqlen $sdpa --dry-run --budget 20 --out peers.csv --resume
    [ "$(rc)" = 0 ] && [ "$(wc -l <peers.csv)" = 23 ] ||
        fail "resume of a complete file added rows"
    grep -q "22 already there" err.txt || fail "resume did not report skipped points"
    pass "resume of a complete file runs nothing"
    # As attnbench run: a file with rows is continued or started afresh on
    # purpose only, and a row cut short is removed by --resume.
    cp peers.csv before.csv
    run "$python" "$adapter" seqlen $sdpa --dry-run --budget 20 --out peers.csv
    refused "a file with rows, without --resume or --force" \
        "peers.csv already holds 22 rows: --resume to continue it (only the points it lacks are measured), or --force to start it afresh"
    cmp -s peers.csv before.csv || fail "the refused run changed the file"
    run "$python" "$adapter" seqlen $sdpa --dry-run --out peers.csv --resume --force
    refused "--resume with --force" "give one of them"
    run "$python" "$adapter" seqlen $sdpa --dry-run --budget 20 --out peers.csv --force
    [ "$(rc)" = 0 ] && [ "$(wc -l <peers.csv)" = 23 ] || fail "--force: $(cat err.txt)"
    [ "$(grep -c '^suite,' peers.csv)" = 1 ] || fail "--force: a second header"
    truncate -s -15 peers.csv
    run "$python" "$adapter" seqlen $sdpa --dry-run --budget 20 --out peers.csv --resume
    [ "$(rc)" = 0 ] && [ "$(wc -l <peers.csv)" = 23 ] && [ -z "$(tail -c1 peers.csv)" ] ||
        fail "resume of a torn file: $(cat err.txt)"
    grep -q "peers.csv: its last row was cut short (no newline at its end): removed it" err.txt ||
        fail "the cut is not said: $(cat err.txt)"
    grep -q "21 already there" err.txt || fail "the torn point was not measured again"
    pass "--force starts afresh; --resume cuts a torn row and measures its point again"
    run "$python" "$adapter" quick --dry-run --peers sdpa-flash,sdpa-efficient --methods full \
        --seqlen 2^8,2^9 --dtype fp16 --reps 3 --out small.csv
    [ "$(rc)" = 0 ] && [ "$(wc -l <small.csv)" = 5 ] || fail "overrides: $(cat err.txt)"
    grep -q "^quick,full,torch-sdpa-efficient,torch-sdpa-efficient,.*,fp16,1,2,512,64," small.csv ||
        fail "overrides not applied: $(cat small.csv)"
    pass "axis and peer overrides"
    # The stopping rule, as attnbench's (docs/measurement.md): the fake samples
    # spread ±1% (27 µs each at this point), so a 2% noise target stops at 6
    # (five have no interval), 0.1 ms of samples at the first five, and 10 s
    # never comes before max_samples.
    stops() { # stops FILE FLAGS...: the one row's "reps noise_pct stop_reason"
        local file=$1
        shift
        run "$python" "$adapter" quick --dry-run --peers sdpa-flash --methods full \
            --seqlen 2^10 --out "$file" "$@"
        [ "$(rc)" = 0 ] || fail "$*: $(cat err.txt)"
        "$python" -c 'import csv, sys
r = next(csv.DictReader(open(sys.argv[1])))
print(r["reps"], r["noise_pct"] or "-", r["stop_reason"])' "$file"
    }
    [ "$(stops noise.csv --max-noise 2%)" = "6 1 noise" ] || fail "noise: $(cat noise.csv)"
    [ "$(stops time.csv --min-time 0.0001)" = "5 - time" ] || fail "time: $(cat time.csv)"
    [ "$(stops most.csv --min-time 10 --max-samples 40)" = "40 0.5 max-samples" ] ||
        fail "max_samples: $(cat most.csv)"
    [ "$(stops fixed.csv --reps 7)" = "7 1 max-samples" ] || fail "fixed: $(cat fixed.csv)"
    run "$python" "$adapter" quick --dry-run --max-noise 1x --out bad.csv
    refused "a noise target that is no number" \
        "--max-noise '1x': max_noise '1x' is not a number (need percent, e.g. 1%)"
    run "$python" "$adapter" quick --dry-run --max-samples 201 --out bad.csv
    refused "more samples than a row keeps" "max_samples=201 (need <= 200)"
    pass "the stopping rule: a noise target, a minimum time, max_samples, a fixed count"
    # zip: the axes of a group take their i-th values together, as attnbench
    # expands them (harness/sweep/suite.c): flash_peers is twelve shapes of
    # B·N = 16384 and H·d = 2048, not every combination.
    run "$python" "$adapter" flash_peers --dry-run --peers sdpa-flash --out zip.csv
    [ "$(rc)" = 0 ] && [ "$(wc -l <zip.csv)" = 13 ] || fail "zip: $(cat err.txt)"
    "$python" -c 'import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert all(int(r["B"]) * int(r["N"]) == 16384 and int(r["H"]) * int(r["d"]) == 2048
           for r in rows), "a row outside the zipped pairs"
assert len({(r["N"], r["d"]) for r in rows}) == 12' zip.csv || fail "zip: the wrong shapes"
    run "$python" "$adapter" flash_peers --dry-run --peers sdpa-flash --seqlen 2^10 --out zip2.csv
    refused "zipped axes of different lengths" \
        "with the flags given: seqlen and B are zipped (they take their i-th values together) but seqlen has 1 value and B 4"
    pass "zip: twelve shapes of one token count and width"
    # name@axis=v+v: the peers hold a method to those values as attnbench does.
    printf 'methods mita@seqlen=1024 full:flash@dtype=fp32 full:flash_w4@d=64\nseqlen 1024,2048\n' >only.suite
    run "$python" "$adapter" ./only.suite --dry-run --peers eager --out only.csv
    [ "$(rc)" = 0 ] || fail "@axis=values: $(cat err.txt)"
    "$python" -c 'import csv, sys
got = sorted((r["method"], r["N"]) for r in csv.DictReader(open(sys.argv[1])))
assert got == [("full", "1024"), ("full", "2048"), ("mita", "1024")], got' only.csv ||
        fail "@axis=values: the wrong points"
    printf 'methods mita@x=1\n' >only-bad.suite
    run "$python" "$adapter" ./only-bad.suite --dry-run --out x.csv
    refused "a restriction on no axis" "'mita@x=1': need name:variant@axis=value+value"
    pass "name@axis=values: a method held to some values of an axis"
    # Every peer of every method of the suite (the default peers): one row
    # per peer, definition and N, MiTA's variants apart, m and k where read.
    run "$python" "$adapter" seqlen --dry-run --budget 20 --out all.csv
    [ "$(rc)" = 0 ] || { cat err.txt; fail "all peers: exit $(rc)"; }
    run "$peer_check" all.csv
    [ "$(rc)" = 0 ] || { cat out.txt err.txt; fail "all peers: the harness's reader disagrees"; }
    # full: 5 peers; linear, agent, nystrom, topk, mita, mita:route_only: 2 each; 11 N
    [ "$(wc -l <all.csv)" = $(((5 + 6 * 2) * 11 + 1)) ] || fail "all peers: $(wc -l <all.csv) lines"
    grep -q "^seqlen,mita,route_only-torch-compile,torch-compile,.*,bf16,1,8,1024,64,64,64,1,official," all.csv ||
        fail "all peers: no route_only row of torch-compile with its parameters"
    pass "every peer of every method: $(cat out.txt)"
    cp "$cpu" foreign.csv
    run "$python" "$adapter" seqlen --dry-run --out foreign.csv
    refused "appending to a file of another header" "foreign.csv: its header is not attnbench's"
    cmp -s foreign.csv "$cpu" || fail "the foreign file was modified"
    # As attnbench run: a file another run holds (its fcntl lock) is refused,
    # untouched; attnbench's own lock (run_file.c) is the same kind of lock.
    cp peers.csv held.csv
    "$python" -c 'import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.lockf(fd, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
time.sleep(60)' held.csv held.ready &
    holder=$!
    for _ in $(seq 100); do [ -e held.ready ] && break; sleep 0.1; done
    run "$python" "$adapter" seqlen $sdpa --dry-run --budget 20 --out held.csv --resume
    kill "$holder"
    refused "a file another run holds" "held.csv is in use by another run"
    cmp -s held.csv peers.csv || fail "the held file was modified"
    printf 'name x\nseqlen 2^\n' >bad.suite
    run "$python" "$adapter" ./bad.suite --dry-run --out x.csv
    refused "a malformed suite" "bad.suite:2: '2^' is not a number"
    printf '# nothing but a comment\n' >empty.suite
    run "$python" "$adapter" ./empty.suite --dry-run --out x.csv
    refused "an empty suite" "empty.suite: the suite is empty"
    # Keys of attnbench the peers do not use, or of a newer attnbench: ignored,
    # the latter with a warning.
    printf 'methods full gather:vec16\ngather vec16\nfuture_key 3\n' >newer.suite
    run "$python" "$adapter" ./newer.suite --dry-run --peers eager --out newer.csv
    [ "$(rc)" = 0 ] && [ "$(wc -l <newer.csv)" = 4 ] || fail "a newer suite: $(cat err.txt)"
    grep -q "newer.suite:3: unknown key 'future_key'.*ignored" err.txt ||
        fail "an unknown key is not warned of: $(cat err.txt)"
    grep -q "no peer computes 'gather:vec16' (not attention): left out" err.txt ||
        fail "gather is not said to be left out: $(cat err.txt)"
    grep -q "newer.suite:2: 'gather' (the version of attnbench's gather kernel) does not apply" err.txt ||
        fail "the gather axis is not said to be ignored: $(cat err.txt)"
    pass "a suite with keys the peers do not know runs, with warnings"
    run "$python" "$adapter" seqlen --dry-run --peers eager,sdpa-math --out x.csv
    refused "an unknown peer" "unknown peer 'sdpa-math'"
    if ! "$python" -c 'import torch' 2>/dev/null; then
        run "$python" "$adapter" seqlen --out nt.csv
        refused "no PyTorch" "PyTorch is not installed here"
        [ ! -e nt.csv ] || fail "a results file was started without PyTorch"
    fi
    # attnbench's figures with the peers' rows next to them.
    if command -v gnuplot >/dev/null; then
        run "$bench" plot "$gpu" all.csv --out figs
        [ "$(rc)" = 0 ] || { cat err.txt; fail "attnbench's and the peers' rows: exit $(rc)"; }
        says figs/time_vs_n.svg "FIXTURE fake H100 and dry-run: fake timer" \
            "the title does not name both devices"
        pass "attnbench plot draws a results file and the peers' file together"
        # A peer is drawn in its method's colour, dashed; its method solid.
        for pair in "full/flash (|full/torch-eager" "mita/route_only (|mita/route_only-torch-compile" \
            "topk (|topk/torch-compile"; do
            own=$(line_style figs/time_vs_n.svg "${pair%|*}")
            peer=$(line_style figs/time_vs_n.svg "${pair#*|}")
            [ -n "$own" ] && [ "${own#*dasharray}" = "$own" ] ||
                fail "${pair%|*}: not drawn solid ($own)"
            [ "${peer%% stroke-dasharray*}" = "$own" ] && [ "${peer#*dasharray}" != "$peer" ] ||
                fail "${pair#*|}: not dashed in ${pair%|*}'s colour ($peer against $own)"
        done
        pass "peers dashed in their method's colour"
        # A column a peer leaves empty (attnbench's gather version, say) does
        # not part it from its method.
        "$python" -c 'import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
col = rows[0].index("shared_scale")
for r in rows[1:]:
    r[col] = ""
csv.writer(open(sys.argv[2], "w", newline=""), lineterminator="\n").writerows(rows)' all.csv blank.csv
        run "$bench" plot "$gpu" blank.csv --out figs-blank
        [ "$(rc)" = 0 ] || { cat err.txt; fail "a peer file with an empty column: exit $(rc)"; }
        own=$(line_style figs-blank/time_vs_n.svg "mita/route_only (")
        peer=$(line_style figs-blank/time_vs_n.svg "mita/route_only-torch-compile")
        [ "${peer%% stroke-dasharray*}" = "$own" ] ||
            fail "an empty column parts a peer from its method ($peer against $own)"
        pass "a column the peer leaves empty does not part it from its method"
    fi
    ;;
*) fail "unknown case $case" ;;
esac
