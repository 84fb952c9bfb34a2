#!/usr/bin/env bash
# Installs every Debian package Lookalike needs to build, test and benchmark. A no-op (no apt
# calls at all) when everything is already installed. Usage: scripts/install-deps.sh [--bench]
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config clang-format
  libdnnl-dev            # oneDNN: matrix products of the CLIP engine
  libvips-dev            # image decoding (JPEG, PNG, WebP, GIF, TIFF, HEIF, ...)
  libicu-dev             # tokenizer normalisation (NFC, lowercase, character classes)
  libcurl4-openssl-dev libssl-dev
  nlohmann-json3-dev libcli11-dev
  libgtest-dev libgmock-dev libcpp-httplib-dev libsqlite3-dev libpq-dev libhnswlib-dev postgresql-15 redis-server nginx
)
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(python3-torch python3-numpy python3-pil)  # the PyTorch baseline in bench/
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
echo "installing: ${missing[*]}" >&2
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
