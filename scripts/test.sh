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
# The last line adds up what the test runners reported, as the bare "N passed, N failed" line
# that CI reads (with a "total:" word before it, CI's record said the run had no test): the
# core runner's "core: N passed, N failed" lines, vitest's "Tests N passed | N failed" lines
# (the sanitizer stage runs both again), one check for the type check and one per libFuzzer
# target; a stage that failed without reporting a failed test counts as one failure.
set -uo pipefail
cd "$(dirname "$0")/.."
failed=()
passed_total=0
failed_total=0
stage() { # name command...
  local name=$1 t0=$SECONDS log status p f
  shift
  log=$(mktemp)
  "$@" 2>&1 | tee "$log"
  status=$?
  # Counts reported in this stage's output (colour codes stripped).
  read -r p f < <(sed 's/\x1b\[[0-9;]*m//g' "$log" | awk '
    /^core: [0-9]+ passed, [0-9]+ failed/ { p += $2; f += $4 }
    /^ *Tests +[0-9]/ { for (i = 1; i < NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
    /^fuzz-native: .*no failure/ { p += 1 }
    END { print p + 0, f + 0 }')
  rm -f "$log"
  if [[ $name == types ]]; then
    if [[ $status -eq 0 ]]; then p=1; else f=1; fi
  fi
  if [[ $status -eq 0 ]]; then
    echo "test.sh: $name passed ($((SECONDS - t0)) s)" >&2
  else
    echo "test.sh: $name FAILED ($((SECONDS - t0)) s)" >&2
    failed+=("$name")
    [[ $f -gt 0 ]] || f=1
  fi
  passed_total=$((passed_total + p))
  failed_total=$((failed_total + f))
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
fi
echo "$passed_total passed, $failed_total failed"
[[ ${#failed[@]} -eq 0 ]]
