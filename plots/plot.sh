#!/usr/bin/env bash
# plot.sh RESULTS.csv OUTDIR — figures from a results CSV (gnuplot):
#   time_vs_n.{png,svg}        median time per run against N, one line per method
#   throughput_vs_n.{png,svg}  achieved TFLOP/s (from the FLOP model) against N
set -euo pipefail
csv=${1:?usage: plot.sh RESULTS.csv OUTDIR}
outdir=${2:?usage: plot.sh RESULTS.csv OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
[ -r "$csv" ] || { echo "plot: cannot read $csv" >&2; exit 1; }
header=$(head -1 "$csv")
for col in method variant N ms_median tflops status device timestamp; do
    case ",$header," in *",$col,"*) ;; *) echo "plot: $csv has no '$col' column" >&2; exit 1;; esac
done
[ "$(tail -n +2 "$csv" | grep -c ',ok,')" -gt 0 ] || { echo "plot: $csv has no 'ok' rows" >&2; exit 1; }
command -v gnuplot >/dev/null || { echo "plot: gnuplot is not installed (apt-get install gnuplot-nox)" >&2; exit 1; }
mkdir -p "$outdir"
# One series per method/variant with at least one ok row, in file order.
series=$(awk -F, -v h="$header" 'BEGIN { n = split(h, c, ","); for (i = 1; i <= n; i++) col[c[i]] = i }
    NR > 1 && $col["status"] == "ok" { s = $col["method"] "/" $col["variant"]; if (!(s in seen)) { seen[s]; printf "%s ", s } }' "$csv")
device=$(awk -F, -v h="$header" 'BEGIN { n = split(h, c, ","); for (i = 1; i <= n; i++) col[c[i]] = i }
    NR > 1 && $col["status"] == "ok" { print $col["device"]; exit }' "$csv" | tr -d '"')
date=$(awk -F, -v h="$header" 'BEGIN { n = split(h, c, ","); for (i = 1; i <= n; i++) col[c[i]] = i }
    NR > 1 && $col["status"] == "ok" { print substr($col["timestamp"], 1, 10); exit }' "$csv")
for fig in time_vs_n throughput_vs_n; do
    for term in png svg; do
        gnuplot -e "dir='$here/'; csv='$csv'; out='$outdir/$fig.$term'; term='$term'; series='$series'; device='$device'; date='$date'" \
            "$here/$fig.gp"
    done
done
echo "plot: figures in $outdir" >&2
