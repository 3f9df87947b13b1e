# throughput_vs_n.gp — achieved TFLOP/s (FLOP model over median time)
# against N, one line per method/variant.
load dir.'common.gp'
set logscale y 10
set ylabel 'throughput (TFLOP/s, from the FLOP model)'
set title sprintf('attention throughput — %s, %s', device, date) noenhanced
plot for [s in series] csv using \
    ((strcol('method').'/'.strcol('variant') eq s && strcol('status') eq 'ok') ? column('N') : NaN):(column('tflops')) \
    title s noenhanced pt 7 ps 0.8
