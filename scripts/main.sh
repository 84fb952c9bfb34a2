#!/usr/bin/env bash
# Installs, builds, and runs Lookalike's main job on a fresh Debian 12 machine: get a CLIP
# model (the real one from the hub where there is internet, otherwise a full-size random-weight
# TEST model), then embed a text and an image and benchmark the engine.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh release
bin=build/release/src/apps/lookalike
model=${LOOKALIKE_MODEL:-models/clip-vit-base-patch32}
if [[ ! -f "$model/model.safetensors" ]]; then
  if ! "$bin" model pull --dir "$model" --retries 1; then
    echo "The hub is unreachable: using a random-weight TEST model (speed is real, meaning is not)." >&2
    model=models/vit-b32-random
    [[ -f "$model/model.safetensors" ]] || "$bin" model init-random --like ../shared/clip/vocab --out "$model"
  fi
fi
"$bin" model info --model "$model"
"$bin" embed text --model "$model" "red leather handbag" | cut -c1-120
"$bin" bench embed --model "$model" --batch 16 --seconds 5

# A small demo catalogue from the conformance photos, in the seed's layout, ingested and searched.
demo=$(mktemp -d)
trap 'rm -rf "$demo"' EXIT
n=0
for photo in ../shared/clip/conformance/images/*; do
  n=$((n + 1))
  mkdir -p "$demo/$n"
  cp "$photo" "$demo/$n/image_1.${photo##*.}"
done
"$bin" ingest "$demo" --model "$model" --data-dir data --id-prefix demo_ --report data/report.jsonl
"$bin" stats --model "$model" --data-dir data
"$bin" search --model "$model" --data-dir data --text "red leather handbag" --top-k 3 | cut -c1-300
"$bin" search --model "$model" --data-dir data --image ../shared/clip/conformance/images/photo_640x480_q90.jpg --top-k 1 | cut -c1-300

# The same catalogue through the HTTP service: start it, wait until ready, search, stop it.
port=${LOOKALIKE_PORT:-8008}
"$bin" serve --model "$model" --data-dir data --port "$port" 2>"$demo/serve.log" &
server=$!
for _ in $(seq 1 300); do
  curl -sf "http://127.0.0.1:$port/api/v1/health/ready" >/dev/null && break
  sleep 0.1
done
curl -sf "http://127.0.0.1:$port/api/v1/health/ready"; echo
curl -sf -F file=@../shared/clip/conformance/images/photo_640x480_q90.jpg \
  "http://127.0.0.1:$port/api/v1/search/by-image?top_k=1" | cut -c1-300; echo
curl -sf -d '{"query": "red leather handbag", "top_k": 3}' \
  "http://127.0.0.1:$port/api/v1/search/by-text" | cut -c1-300; echo
kill -TERM "$server"
wait "$server"
echo "serve: http://127.0.0.1:$port/ (web page), /docs (API), /metrics — run it with: $bin serve --model $model --data-dir data"
