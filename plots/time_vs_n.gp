# time_vs_n.gp — median time per forward against N, log-log, one line per
# method/variant (rows with status ok only).
load dir.'common.gp'
set logscale y 10
set ylabel 'time per forward (ms, median)'
set title sprintf('attention forward time — %s, %s', device, date) noenhanced
plot for [s in series] csv using \
    ((strcol('method').'/'.strcol('variant') eq s && strcol('status') eq 'ok') ? column('N') : NaN):(column('ms_median')) \
    title s noenhanced pt 7 ps 0.8
