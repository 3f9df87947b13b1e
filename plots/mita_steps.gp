# mita_steps.gp — MiTA's time by step, from the steps file that
# `attnbench run --profile` writes beside the results: one stacked bar per
# N, each step's share of the steps' summed kernel time, the sum written
# above the bar. Set by harness/plot/mita_steps.c: steps_file (columns: N label, total
# ms, then one column per step in step_name order), step_name[s], note (the
# configuration).
load plots_dir.'/common.gp'
set style data histograms
set style histogram rowstacked
set style fill solid 0.9 border lc rgb '#ffffff'
set boxwidth 0.7
set yrange [0 : 112]
set ytics 0, 20, 100
set format y '%g%%'
set grid noxtics ytics
set xtics scale 0
set key invert  # the legend top to bottom, as the stack
set ylabel "share of MiTA's kernel time"
set xlabel 'sequence length N (tokens); above each bar: the steps’ summed kernel time (ms)'
set title title("MiTA's time by step") noenhanced
set label 1 note at screen 0.01, screen 0.025 left font ',10' noenhanced
nsteps = |step_name|
step_colour(s) = colours[(s - 1) % |colours| + 1]
plot for [s=1:nsteps] steps_file using (100 * column(s + 2) / column(2)):xtic(1) \
        lc rgb step_colour(s) title step_name[s], \
    steps_file using ($0):(100):(sprintf('%.3g', $2)) with labels offset 0, 0.8 \
        font ',10' notitle
