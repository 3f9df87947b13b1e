# speedup_vs_full.gp — each method's speedup over a baseline of full attention
# on the same device, dtype, shape, inputs and N, against N (the MiTA paper's
# Fig. 6). baseline_axis names it for the y axis and the legend's 1× line;
# baseline_label, which lists the series it was, goes under the figure, where
# a long list has the figure's width (harness/plot/speedup_vs_full.c).
# series_file columns: N speedup (the baseline's time over the method's).
load plots_dir.'/common.gp'
load plots_dir.'/n_axis.gp'
set logscale y 10
set format y '%g×'
set ylabel 'speedup over '.baseline_axis.' (same device, dtype, shape, N)' noenhanced
set title title('Speedup over full attention') noenhanced
set label 1 '1× = '.baseline_label at screen 0.01, screen 0.025 left font ',10' noenhanced
plot for [i=1:|series_file|] series_file[i] using 1:2 with linespoints \
        lc rgb colour(i) dt series_dash[i] pt marker(i) ps 0.9 title series_label[i], \
    1 with lines lc rgb '#555555' dt 3 lw 1 title '1× = '.baseline_axis
