# throughput_vs_n.gp — achieved TFLOP/s (each method's FLOP model,
# docs/work-models.md "FLOPs per method", over its median time) against N,
# log-log.
# series_file columns: N tflops.
load plots_dir.'/common.gp'
load plots_dir.'/n_axis.gp'
set logscale y 10
set format y '%g'
set ylabel 'throughput (TFLOP/s, from the FLOP model)'
set title title('Attention throughput') noenhanced
plot for [i=1:|series_file|] series_file[i] using 1:2 with linespoints \
    lc rgb colour(i) dt series_dash[i] pt marker(i) ps 0.9 title series_label[i]
