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
