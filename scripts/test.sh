#!/usr/bin/env bash
# The test command (npm test): native core tests, the type check, then the vitest suite.
# Expects `npm run build` to have run (the addon, the core test binary and dist/).
#
# In CI (CI set), or with DURABOOK_HARDENING=1, also the hardening runs of issue 7: the core
# tests under ASan + UBSan and the threaded ones under TSan, the vitest suite against an ASan
# addon (scripts/sanitizers.sh), and a bounded libFuzzer run (scripts/fuzz-native.sh). Not
# when arguments select part of the vitest suite.
#
# Every stage runs even when an earlier one failed (a failing core test does not hide the
# vitest results); the exit status is non-zero if any failed, and the failed stages are named.
set -uo pipefail
cd "$(dirname "$0")/.."
failed=()
stage() { # name command...
  local name=$1 t0=$SECONDS
  shift
  if "$@"; then
    echo "test.sh: $name passed ($((SECONDS - t0)) s)" >&2
  else
    echo "test.sh: $name FAILED ($((SECONDS - t0)) s)" >&2
    failed+=("$name")
  fi
}
stage core bash scripts/test-core.sh
stage types npx tsc -p tsconfig.test.json
stage vitest npx vitest run "$@"
if [[ $# -eq 0 && (-n ${CI:-} || ${DURABOOK_HARDENING:-} == 1) ]]; then
  stage sanitizers bash scripts/sanitizers.sh
  stage fuzz-native bash scripts/fuzz-native.sh
fi
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "test.sh: FAILED: ${failed[*]}" >&2
  exit 1
fi
