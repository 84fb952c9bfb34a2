#!/usr/bin/env bash
# Ingestion throughput against the embedding engine alone, same model, same machine, same run:
# the target is ingest images/s >= 90% of `bench embed` images/s (embedding is the bottleneck;
# decoding, hashing, storing and catalogue/index writes overlap it).
# usage: bench/ingest_bench.sh MODEL_DIR [PRODUCTS=200] [IMAGES_PER_PRODUCT=2]
set -euo pipefail
cd "$(dirname "$0")/.."
model=$1
products=${2:-200}
per_product=${3:-2}
bin=${LOOKALIKE_BIN:-build/release/src/apps/lookalike}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 bench/make_catalogue.py "$work/photos" "$products" "$per_product"
embed=$("$bin" bench embed --model "$model" --batch 16 --seconds 15 2>/dev/null)
ingest=$("$bin" ingest "$work/photos" --data-dir "$work/data" --model "$model" 2>/dev/null)
rerun=$("$bin" ingest "$work/photos" --data-dir "$work/data" --model "$model" 2>/dev/null)
/usr/bin/python3 - "$embed" "$ingest" "$rerun" <<'PY'
import json, sys
embed, ingest, rerun = (json.loads(a) for a in sys.argv[1:4])
engine = embed["images_per_s"]
print(json.dumps({
    "engine_images_per_s": round(engine, 2),
    "ingest_images_per_s": round(ingest["images_per_s"], 2),
    "ratio": round(ingest["images_per_s"] / engine, 3),
    "images": ingest["images_embedded"],
    "ingest_seconds": round(ingest["seconds"], 1),
    "rerun_seconds": round(rerun["seconds"], 2),
    "rerun_skipped": rerun["skipped"],
}))
PY
