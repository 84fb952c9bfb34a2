#!/usr/bin/env bash
# Search at catalogue scale with a fresh process per query, as a user runs it: fills a data dir with
# a synthetic catalogue (`lookalike bench catalog`, labelled synthetic) of N image vectors under the
# model's fingerprint, then times `lookalike search` by text, by image and by product and reports
# its peak RSS (model + index + catalogue).
# usage: bench/search_bench.sh MODEL_DIR [POINTS=200000] [IMAGE=bench photo]
set -euo pipefail
cd "$(dirname "$0")/.."
model=$1
points=${2:-200000}
bin=${LOOKALIKE_BIN:-build/release/src/apps/lookalike}
work=${LOOKALIKE_BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"
if [[ ! -f "$work/data/catalog.sqlite3" ]]; then
  "$bin" bench catalog --points "$points" --model "$model" --data-dir "$work/data" 2>/dev/null
fi
if [[ -n "${3:-}" ]]; then
  image=$3
else
  /usr/bin/python3 bench/make_catalogue.py "$work/query" 1 1
  image="$work/query/p0/image_1.jpg"
fi
run() {  # prints "took_ms peak_rss_mb"
  /usr/bin/time -f "%M" -o "$work/rss" "$bin" search --model "$model" --data-dir "$work/data" "$@" \
    2>/dev/null >"$work/out.json"
  /usr/bin/python3 -c "import json,sys; print(json.load(open('$work/out.json'))['took_ms'], int(open('$work/rss').read().split()[-1])/1024)"
}
for kind in text image product filtered; do
  for i in 1 2 3 4 5; do
    case $kind in
      text) run --text "red leather handbag $i" ;;
      image) run --image "$image" ;;
      product) run --product "synthetic_$((i * 1000))" ;;
      filtered) run --text "sneaker $i" --category category-3 ;;
    esac
  done | sort -n | awk -v kind="$kind" '{t[NR]=$1; if ($2>r) r=$2} END {printf "{\"query\": \"%s\", \"took_ms_median\": %.2f, \"took_ms_max\": %.2f, \"peak_rss_mb\": %.0f}\n", kind, t[3], t[5], r}'
done
