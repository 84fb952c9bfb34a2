#!/usr/bin/env bash
# Installs, builds (warnings as errors) and runs every test: unit, conformance, integration and
# end-to-end, then the unit and conformance tests again under ASan/UBSan, and a format check.
# Needs ../shared beside the checkout. Set LOOKALIKE_SKIP_ASAN=1 to skip the sanitizer pass.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --test

echo "== format check"
git ls-files -z '*.h' '*.cpp' | xargs -0 clang-format --dry-run --Werror

echo "== build (ci preset: release, -Werror)"
bash scripts/build.sh ci
echo "== tests"
ctest --preset ci

if [[ "${LOOKALIKE_SKIP_ASAN:-0}" != "1" ]]; then
  echo "== build (asan preset: ASan + UBSan)"
  bash scripts/build.sh asan
  echo "== unit and conformance tests under ASan/UBSan"
  ctest --preset asan
fi
