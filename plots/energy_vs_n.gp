# energy_vs_n.gp — energy per forward (J, the GPU's energy counter over
# forwards back to back; docs/measurement.md "GPU readings and energy")
# against N, log-log.
# series_file columns: N energy_j.
load plots_dir.'/common.gp'
load plots_dir.'/n_axis.gp'
set logscale y 10
set format y '%g'
set ylabel 'energy per forward (J)'
set title title('Energy per forward') noenhanced
plot for [i=1:|series_file|] series_file[i] using 1:2 with linespoints \
    lc rgb colour(i) dt series_dash[i] pt marker(i) ps 0.9 title series_label[i]
