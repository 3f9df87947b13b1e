# n_axis.gp — the sequence-length axis: log 2, a tick at every n_step-th
# power of two from n_lo to n_hi (harness/plot/series.c picks n_step so that about
# a dozen labels at most share the axis), labelled 2^{k}.
set logscale x 2
set xrange [n_lo / 1.4 : n_hi * 1.4]
set xtics n_lo, n_step, n_hi
set mxtics 1
set format x '2^{%L}'
set xlabel 'sequence length N (tokens)'
