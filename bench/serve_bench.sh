#!/usr/bin/env bash
# The HTTP service at catalogue scale: fills a data dir with a synthetic catalogue (`lookalike bench
# catalog`, labelled synthetic) of N image vectors under the model's fingerprint, starts
# `lookalike serve` on it and measures start-to-ready, one-client latency by text (new and cached
# queries) and by image (a 500x500 JPEG), then CLIENTS concurrent clients for SECONDS, next to
# what the embedding engine alone does (`lookalike bench embed`, same image, same batch sizes).
# usage: bench/serve_bench.sh MODEL_DIR [POINTS=200000] [CLIENTS=16] [SECONDS=60]
set -euo pipefail
cd "$(dirname "$0")/.."
model=$1
points=${2:-200000}
clients=${3:-16}
seconds=${4:-60}
bin=${LOOKALIKE_BIN:-build/release/src/apps/lookalike}
work=${LOOKALIKE_BENCH_DIR:-$(mktemp -d)}
port=${LOOKALIKE_BENCH_PORT:-18765}
url="http://127.0.0.1:$port"
mkdir -p "$work"
if [[ ! -f "$work/data/catalog.sqlite3" ]]; then
  "$bin" bench catalog --points "$points" --model "$model" --data-dir "$work/data" >&2
fi
/usr/bin/python3 - "$work/query.jpg" <<'PY'
import sys
from PIL import Image
Image.open("../shared/clip/conformance/images/photo_640x480_q90.jpg").resize((500, 500)).save(sys.argv[1], quality=90)
PY

start=$(date +%s.%N)
"$bin" serve --model "$model" --data-dir "$work/data" --port "$port" --rate-limit 0 \
  2>"$work/serve.log" &
server=$!
trap 'kill -TERM $server 2>/dev/null || true' EXIT
until curl -sf "$url/api/v1/health/ready" >/dev/null; do sleep 0.02; done
ready=$(date +%s.%N)
echo "{\"start_to_ready_s\": $(echo "$ready - $start" | bc)}"

bench() { "$bin" bench http --url "$url" "$@" 2>/dev/null || true; }
bench --kind text --clients 1 --seconds 20
bench --kind text-cached --clients 1 --seconds 10
bench --kind image --image "$work/query.jpg" --clients 1 --seconds 20
bench --kind product --product synthetic_1000 --clients 1 --seconds 10
bench --kind image --image "$work/query.jpg" --clients "$clients" --seconds "$seconds"
bench --kind text --clients "$clients" --seconds "$seconds"
ps -o rss= -p "$server" | awk '{printf "{\"server_rss_mb\": %.0f}\n", $1 / 1024}'
kill -TERM "$server"
wait "$server" || true
trap - EXIT
# The engine alone on the same image: batch 16 (what 16 clients can form) and batch 1.
"$bin" bench embed --model "$model" --batch 16 --seconds 10 --image "$work/query.jpg" 2>/dev/null
"$bin" bench embed --model "$model" --batch 1 --seconds 10 --image "$work/query.jpg" 2>/dev/null
