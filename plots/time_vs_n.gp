# time_vs_n.gp — median time per forward against N, one line per method,
# log-log. series_file columns: N ms_median ms_p10 ms_p90.
load plots_dir.'/common.gp'
load plots_dir.'/n_axis.gp'
set logscale y 10
set format y '%g'
set ylabel 'time per forward (ms; median, bars 10th–90th percentile)'
set title title('Attention forward time') noenhanced
plot for [i=1:|series_file|] series_file[i] using 1:2:3:4 with yerrorlines \
    lc rgb colour(i) dt series_dash[i] pt marker(i) ps 0.9 title series_label[i]
