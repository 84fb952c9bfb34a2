#!/usr/bin/env bash
# Installs every Debian package Lookalike needs to build, test and benchmark. A no-op (no apt
# calls at all) when everything is already installed. Usage: scripts/install-deps.sh [--test] [--bench]
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config clang-format
  libdnnl-dev            # oneDNN: matrix products of the CLIP engine
  libvips-dev            # image decoding (JPEG, PNG, WebP, GIF, TIFF, HEIF, ...)
  libicu-dev             # tokenizer normalisation (NFC, lowercase, character classes)
  libcurl4-openssl-dev libssl-dev curl
  libpugixml-dev         # S3's XML answers (ListObjectsV2, errors)
  nlohmann-json3-dev libcli11-dev
  libgtest-dev libgmock-dev libcpp-httplib-dev libsqlite3-dev libpq-dev libhnswlib-dev libcsv-dev postgresql-15 redis-server nginx
  libhiredis-dev         # Redis job queue
)
for arg in "$@"; do
  case "$arg" in
    --test) packages+=(chromium openssl) ;;  # the web page driven headless; TLS certs for nginx tests
    --bench) packages+=(python3-torch python3-numpy python3-pil time bc) ;;  # PyTorch baseline, timing
    *) echo "unknown option $arg" >&2; exit 2 ;;
  esac
done

# Node and npm run the test stand-ins in tests/js (s3rver for S3).
if ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} > 0)); then
  echo "installing: ${missing[*]}" >&2
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The pinned npm packages: web/ (Swagger UI, built into the binary) and tests/js (test stand-ins,
# playwright-core). Each is reinstalled only when its package-lock.json is newer than what npm last
# installed (npm writes node_modules/.package-lock.json on every install).
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
for js_dir in "$root/web" "$root/tests/js"; do
  [[ -f "$js_dir/package-lock.json" ]] || continue
  if [[ ! -f "$js_dir/node_modules/.package-lock.json" ||
        "$js_dir/package-lock.json" -nt "$js_dir/node_modules/.package-lock.json" ]]; then
    echo "installing the npm packages of ${js_dir#$root/}" >&2
    npm ci --prefix "$js_dir" --no-audit --no-fund
  fi
done
