#!/usr/bin/env bash
# Coverage-guided fuzzing of the native decoders with libFuzzer (clang), built with ASan + UBSan:
#
#   build-fuzz/wal_recovery_fuzz   recover_wal on arbitrary segment files (native/fuzz/wal_recovery_fuzz.cc)
#   build-fuzz/snapshot_fuzz       load_snapshot on arbitrary bytes        (native/fuzz/snapshot_fuzz.cc)
#
# Each target starts from seeds it writes itself (valid logs and snapshots) plus whatever the
# corpus in build-fuzz/corpus/<target> kept from earlier runs, and runs for a bounded time.
# A crash, a sanitizer report, a timeout (hang) or a broken property (the targets abort) fails
# the script; libFuzzer leaves the input as build-fuzz/crash-* (or timeout-*, leak-*) to
# replay: build-fuzz/<target> build-fuzz/crash-...
#
#   bash scripts/fuzz-native.sh                 both targets, 60 s each (CI)
#   DURABOOK_FUZZ_SECONDS=3600 bash scripts/fuzz-native.sh wal_recovery_fuzz
#
# Needs clang with libFuzzer (Debian: apt-get install clang libclang-rt-14-dev, the version
# matching `clang --version`). Without it: skipped with a message, or an error when CI is set.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(wal_recovery_fuzz snapshot_fuzz)
seconds=${DURABOOK_FUZZ_SECONDS:-60}
cxx=${FUZZ_CXX:-clang++}
out=build-fuzz
jobs=${DURABOOK_JOBS:-$(nproc 2>/dev/null || echo 2)}

if ! command -v "$cxx" >/dev/null || ! echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' |
  "$cxx" -x c++ -fsanitize=fuzzer - -o /tmp/durabook-fuzz-probe.$$ 2>/dev/null; then
  rm -f /tmp/durabook-fuzz-probe.$$
  msg="fuzz-native: no $cxx with libFuzzer (Debian: apt-get install clang libclang-rt-\$(clang -dumpversion | cut -d. -f1)-dev)"
  if [[ -n ${CI:-} ]]; then echo "$msg" >&2; exit 1; fi
  echo "$msg: skipped" >&2
  exit 0
fi
rm -f /tmp/durabook-fuzz-probe.$$

t0=$(date +%s)
flags=(-std=c++20 -O1 -g -fno-omit-frame-pointer -fno-sanitize-recover=undefined -Inative/core)
mkdir -p "$out/obj"
# The core, instrumented for coverage (fuzzer-no-link) and sanitizers; compiled in parallel.
mapfile -t core < <(node -p "require('./native/sources.json').core.join('\n')")
objs=()
pids=()
for src in "${core[@]}"; do
  obj="$out/obj/$(basename "$src" .cc).o"
  objs+=("$obj")
  if [[ ! $obj -nt $src ]] || [[ -n $(find native/core -name '*.h' -newer "$obj" -print -quit) ]]; then
    "$cxx" "${flags[@]}" -fsanitize=fuzzer-no-link,address,undefined -c "$src" -o "$obj" &
    pids+=($!)
    if (( ${#pids[@]} >= jobs )); then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
  fi
done
for p in "${pids[@]}"; do wait "$p"; done
for t in "${targets[@]}"; do
  "$cxx" "${flags[@]}" -fsanitize=fuzzer,address,undefined "native/fuzz/$t.cc" "${objs[@]}" -lpthread -o "$out/$t"
done
echo "fuzz-native: built ${targets[*]} in $(( $(date +%s) - t0 ))s" >&2

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
run() { # target
  local t=$1 corpus="$out/corpus/$1" seeds="$out/seeds/$1"
  rm -rf "$seeds"
  mkdir -p "$corpus" "$seeds"
  DURABOOK_FUZZ_WRITE_SEEDS="$seeds" "$out/$t"
  local max_len=65536
  [[ $t == snapshot_fuzz ]] && max_len=16384
  # -timeout: an input that takes longer than this is a hang. New coverage goes to $corpus.
  "$out/$t" "$corpus" "$seeds" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len="$max_len" -print_final_stats=1 -artifact_prefix="$out/" >"$out/$t.log" 2>&1
}
# The targets run side by side (libFuzzer is single-threaded: one core each).
status=0
declare -A pid_of=()
for t in "${targets[@]}"; do
  run "$t" &
  pid_of[$t]=$!
done
for t in "${targets[@]}"; do
  if wait "${pid_of[$t]}"; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/$t.log" | grep -o '[0-9]*$' || echo '?')
    cov=$(grep -o 'cov: [0-9]*' "$out/$t.log" | tail -1 || true)
    echo "fuzz-native: $t: $runs inputs in ${seconds}s, $cov, corpus $(ls "$out/corpus/$t" | wc -l) files, no failure" >&2
  else
    status=1
    echo "fuzz-native: $t FAILED; last lines of $out/$t.log:" >&2
    tail -40 "$out/$t.log" >&2
  fi
done
echo "fuzz-native: done in $(( $(date +%s) - t0 ))s" >&2
exit $status
