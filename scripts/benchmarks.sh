#!/usr/bin/env bash
# Regenerates BENCHMARKS.md: builds (addon, core library, native/bench/* executables, dist/),
# then runs every benchmark side by side in one run (bench/report.ts).
#
#   bash scripts/benchmarks.sh            build + full run (a few minutes)
#   bash scripts/benchmarks.sh --no-build run against the current build
#   bash scripts/benchmarks.sh --quick    tiny runs: checks the script, not figures to publish
set -euo pipefail
cd "$(dirname "$0")/.."
build=1
args=()
for a in "$@"; do
  case "$a" in
    --no-build) build=0 ;;
    --quick) args+=(--quick) ;;
    *) echo "usage: scripts/benchmarks.sh [--no-build] [--quick]" >&2; exit 2 ;;
  esac
done
if [[ $build == 1 ]]; then
  npm run build >&2
fi
for f in dist/lib/cli/main.js dist/bench/report.js build/replay_bench build/micro_bench; do
  [[ -e $f ]] || { echo "benchmarks.sh: $f is missing (npm run build)" >&2; exit 1; }
done
# The LOBSTER replay section needs the sample files (read in place, never copied).
if [[ -z ${DURABOOK_LOBSTER_DIR:-} && -d ../shared/data/lobster ]]; then
  export DURABOOK_LOBSTER_DIR="$(cd ../shared/data/lobster && pwd)"
fi
node dist/bench/report.js --out BENCHMARKS.md "${args[@]}"
