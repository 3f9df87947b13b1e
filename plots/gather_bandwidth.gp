# gather_bandwidth.gp — the gather kernels' effective bandwidth (the `gbps`
# column: bytes read + written over the median time) against N: one line per
# variant, one panel per shape (d, m, k), a column per d and a row for the
# smallest and one for the largest m·k (harness/plot/gather_bandwidth.c picks them). Each
# panel has the copy ceiling (dram_copy_gbps of the ceilings file) as a
# dashed line, and a right axis that reads the bandwidth as a share of it;
# every panel has the same axes, and one legend above them serves them all.
# MiTA's own gather (its step "gather", where one ran) is a line like the
# variants', dotted (line_dash 3).
# Set instead of the series_* arrays:
#   line_count, line_label[l], line_colour[l] (1-based among the gathers),
#   line_dash[l] (1 solid, 2 dashed peers, 3 dotted MiTA's), line_reference[l]
#   (1: the copy, drawn grey, listed last);
#   grid_columns, grid_rows, and for panel i: panel_title[i],
#   panel_column[i], panel_row[i], panel_line_count[i], and for its j-th
#   line panel_line[(i-1)*line_count + j] (which line) and
#   panel_file[(i-1)*line_count + j] (its .dat: N gbps);
#   copy_gbps, gbps_hi (the top of the axis), note (the ceiling's source),
#   shapes_note (what the copy is; the shapes left out, if any).
canvas_height = grid_rows > 1 ? 1000 : 760
load plots_dir.'/common.gp'
load plots_dir.'/n_axis.gp'

# The grid in pixels: outer margins for the axes' labels (the GB/s axis
# labelled left of the first column only, the share right of the last: the
# panels share both), a gutter between columns, a gap between rows for the
# upper panel's N ticks and the lower one's title.
canvas_width = 1280.0
left = 95; right = 95; gutter = 45; top = 150; bottom = 130; row_gap = 80
panel_w = (canvas_width - left - right - (grid_columns - 1) * gutter) / grid_columns
panel_h = (canvas_height - top - bottom - (grid_rows - 1) * row_gap) / (1.0 * grid_rows)
sx(px) = px / canvas_width
sy(px) = px / (1.0 * canvas_height)

line_of(i, j) = panel_line[(i - 1) * line_count + j]
line_rgb(l) = line_reference[l] ? '#8c8c8c' : colours[(line_colour[l] - 1) % |colours| + 1]
line_pt(l) = line_reference[l] ? 6 : markers[(line_colour[l] - 1) % |markers| + 1]
line_dt(l) = line_reference[l] ? 4 : line_dash[l]
ceiling_style = "lc rgb '#333333' dt 2 lw 1.2"

set multiplot title title('Gather kernels against the copy ceiling') noenhanced
unset key
set yrange [0 : gbps_hi]
set y2range [0 : 100 * gbps_hi / copy_gbps]
set format y '%g'
set ytics nomirror
set label 1 note at screen 0.01, screen sy(40) left font ',10' noenhanced
set label 2 shapes_note at screen 0.01, screen sy(20) left font ',10' noenhanced
do for [i = 1:|panel_title|] {
    x0 = left + (panel_column[i] - 1) * (panel_w + gutter)
    y1 = canvas_height - top - (panel_row[i] - 1) * (panel_h + row_gap)
    set lmargin at screen sx(x0)
    set rmargin at screen sx(x0 + panel_w)
    set tmargin at screen sy(y1)
    set bmargin at screen sy(y1 - panel_h)
    set title panel_title[i] noenhanced font ',12'
    if (panel_column[i] == 1) {
        set ylabel 'effective bandwidth (GB/s, read + written)'
        set format y '%g'
    } else {
        unset ylabel
        set format y ''
    }
    if (panel_column[i] == grid_columns) {
        set y2label 'share of the copy ceiling'
        set y2tics 20 nomirror out scale 0.6 format '%g%%'
    } else {
        unset y2label
        unset y2tics
    }
    if (panel_row[i] == grid_rows) { set xlabel 'sequence length N (tokens)' } \
    else { unset xlabel }
    plot for [j = 1:panel_line_count[i]] panel_file[(i - 1) * line_count + j] using 1:2 \
            with linespoints lc rgb line_rgb(line_of(i, j)) dt line_dt(line_of(i, j)) \
            pt line_pt(line_of(i, j)) ps 0.9 notitle, \
        copy_gbps with lines @ceiling_style notitle
    unset label  # the notes once, with the first panel
}

# The one legend: a row under the title, drawn by an empty plot.
unset title; unset xlabel; unset ylabel; unset y2label; unset logscale; unset grid
unset border; unset tics
set xrange [0 : 1]
set yrange [0 : 1]
set lmargin at screen 0.01
set rmargin at screen 0.99
set tmargin at screen sy(canvas_height - 62)
set bmargin at screen sy(canvas_height - 100)
set key inside center top horizontal reverse Left \
    noenhanced samplen 3 width 0 font ',11'
plot for [l = 1:line_count] NaN with linespoints lc rgb line_rgb(l) dt line_dt(l) pt line_pt(l) \
        ps 0.9 title line_label[l], \
    NaN with lines @ceiling_style title 'copy ceiling'
unset multiplot
