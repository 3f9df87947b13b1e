# roofline.gp — one point per method and N: achieved TFLOP/s against
# arithmetic intensity (FLOP/byte), under the ceilings min(intensity × DRAM
# copy bandwidth, peak), as harness/measure/profile.c places its roofline columns.
# Also set by harness/plot/roofline.c:
#   roof_count, roof_tflops[j], roof_label[j]   a compute peak per dtype plotted
#   dram_gbps                                   the memory roof's slope (GB/s)
#   ai_lo, ai_hi, tf_lo, tf_hi                  the axes' ranges
#   n_lo                                        the smallest N (marker sizes)
#   ceiling_note, bytes_note                    where ceilings and bytes come from
# series_file columns: N flop_per_byte tflops.
load plots_dir.'/common.gp'
set logscale xy 10
set xrange [ai_lo : ai_hi]
set yrange [tf_lo : tf_hi]
set format x '%g'
set format y '%g'
set xlabel 'arithmetic intensity (FLOP/byte)'
set ylabel 'throughput (TFLOP/s, from the FLOP model)'
set title title('Roofline') noenhanced
set bmargin 6
set label 1 ceiling_note."\n".bytes_note at screen 0.01, screen 0.055 left font ',10' noenhanced
set samples 400
roof(x, peak) = (x * dram_gbps / 1000 < peak) ? x * dram_gbps / 1000 : peak
size(n) = 0.6 + 0.12 * log(n / n_lo) / log(2)
array roof_greys[3] = ['#222222', '#777777', '#aaaaaa']
plot for [j=1:roof_count] roof(x, roof_tflops[j]) with lines \
        lc rgb roof_greys[(j - 1) % 3 + 1] dt 2 lw 1.4 title roof_label[j], \
    for [i=1:|series_file|] series_file[i] using 2:3:(size($1)) with linespoints \
        lc rgb colour(i) dt series_dash[i] lw 0.8 pt marker(i) ps variable title series_label[i]
