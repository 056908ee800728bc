#!/usr/bin/env bash
# Runs the Node-free core tests from the cmake-js build (build/), building them if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/durabook_core_tests
[[ -x $bin ]] || bin=build/Release/durabook_core_tests
if [[ ! -x $bin ]]; then
  cmake -S . -B build-core -DDURABOOK_ADDON=OFF -G Ninja >/dev/null 2>&1 || cmake -S . -B build-core -DDURABOOK_ADDON=OFF >/dev/null
  cmake --build build-core -j2 >/dev/null
  bin=build-core/durabook_core_tests
fi
"$bin"
