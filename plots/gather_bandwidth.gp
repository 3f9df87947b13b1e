# gather_bandwidth.gp — the gather variants' effective bandwidth (the `gbps`
# column: bytes read + written over the median time) against N, under the
# copy ceiling (dram_copy_gbps of the ceilings file); the right axis reads
# it as a share of that ceiling.
# Also set: copy_gbps, gbps_hi (the top of the axis), note (the ceiling's source).
# series_file columns: N gbps.
load plots_dir.'/common.gp'
load plots_dir.'/n_axis.gp'
set yrange [0 : gbps_hi]
set y2range [0 : 100 * gbps_hi / copy_gbps]
set format y '%g'
set y2tics 20 nomirror out scale 0.6 format '%g%%'
set ylabel 'effective bandwidth (GB/s, read + written)'
set y2label 'share of the copy ceiling'
set rmargin at screen 0.63  # room for the right axis before the legend
set title title('Gather kernels against the copy ceiling') noenhanced
set label 1 note at screen 0.01, screen 0.025 left font ',10' noenhanced
plot for [i=1:|series_file|] series_file[i] using 1:2 with linespoints \
        lc rgb colour(i) dt series_dash[i] pt marker(i) ps 0.9 title series_label[i], \
    copy_gbps with lines lc rgb '#333333' dt 2 lw 1.2 title 'copy ceiling'
