#!/bin/sh
# paired.sh DIR [N]: N alternating passes of glassbox's side and Captum's
# (so both meet the same background load in turn), then the table with
# each time the median over the passes and the ratio the median of the
# passes' ratios. Run from the repository root.
set -e
dir=${1:?usage: bench/captum/paired.sh DIR [N]}
n=${2:-3}
mkdir -p "$dir"
go build -o "$dir/glassbox-side" ./bench/captum
for k in $(seq "$n"); do
	"$dir/glassbox-side" -dir "$dir" -threads 1 >"$dir/glassbox-$k.log"
	/usr/bin/python3 bench/captum/captum_side.py "$dir" >"$dir/captum-$k.log" 2>&1
	cp "$dir/results.json" "$dir/results-$k.json"
done
/usr/bin/python3 bench/captum/captum_side.py --paired "$dir" "$n"
