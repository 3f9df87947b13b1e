# common.gp — what every figure shares: terminal, colours, title, legend.
#
# `attnbench plot` (harness/plot/plot.c) runs each figure as
#   gnuplot -e "term='png'; out='DIR/NAME.png'; plots_dir='.../plots'" SETTINGS NAME.gp
# where SETTINGS, written for that figure from the results CSV, sets
#   device, date            the title's second line
#   series_file[i]          one whitespace-separated .dat file per series,
#   series_label[i]         its legend text ("mita/shared", "full/flash (d=64)"),
#   series_colour[i]        its colour (1-based; a series keeps it in every
#                           figure of the same kind; a peer has its method's),
#   series_dash[i]          1 solid (attnbench), 2 to 5 dashed (peers: torch-*;
#                           with the colour, it picks the marker),
#   n_lo, n_step, n_hi      the N axis (n_axis.gp),
# and what the figure's own script lists at its top.
# 1280x760, unless the figure's script set canvas_height before loading
# this file (the gather figure's grid of panels).
if (!exists('canvas_height')) canvas_height = 760
if (term eq 'png') {
    set terminal pngcairo size 1280,canvas_height enhanced font 'Sans,12' linewidth 1.4
} else {
    set terminal svg size 1280,canvas_height dynamic enhanced font 'Sans,12' linewidth 1.4 \
        background '#ffffff'
}
set output out
set encoding utf8

# Colour-blind-safe colours (Okabe–Ito, then Tol's muted), cycled past 12.
array colours[12] = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', \
                     '#000000', '#882255', '#44AA99', '#999933', '#AA4499', '#661100']
array markers[8] = [7, 5, 9, 11, 13, 15, 4, 6]
colour(i) = colours[(series_colour[i] - 1) % |colours| + 1]
# A peer drawn in its method's colour takes another marker.
marker(i) = markers[(series_colour[i] + series_dash[i] - 2) % |markers| + 1]

# Two-line titles: what, then where and when (never enhanced: device names
# may hold '_' or '^').
title(what) = sprintf("%s\n%s, %s", what, device, date)

set border 3 lw 1
set tics nomirror out scale 0.6
set grid xtics ytics lc rgb '#dddddd' lw 1 dt 1
# The plot ends at 70% of the width and the legend fills the strip right of
# it, whatever its labels (plot.c cuts them to fit), so that the plot and
# N's tick labels keep their room.
set lmargin 12
set rmargin at screen 0.70
set bmargin 5
set key at screen 0.715, graph 1 left top vertical Left reverse noenhanced samplen 3 \
    spacing 1.15 font ',11'
