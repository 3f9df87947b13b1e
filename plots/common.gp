# common.gp — terminal, fonts and the log-log N axis shared by every figure.
# Expects: out, term, device, date.
if (term eq 'png') { set terminal pngcairo size 1100,700 font 'Sans,11' } else { set terminal svg size 1100,700 font 'Sans,11' }
set output out
set datafile separator ','
set datafile columnheaders
set logscale x 2
set format x '2^{%L}'
set xlabel 'sequence length N (tokens)'
set grid xtics ytics mytics lc rgb '#dddddd'
set key outside right top
set style data linespoints
