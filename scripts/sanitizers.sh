#!/usr/bin/env bash
# Sanitizer runs (issue 7), each in a build directory of its own so nothing touches build/:
#
#   build-asan/        core library + core tests, AddressSanitizer + UndefinedBehaviorSanitizer:
#                      every core test (durabook_core_tests, no filter)
#   build-tsan/        core library + core tests, ThreadSanitizer: the tests with threads in
#                      them, by name filter (argv[1] of the test binary is a substring filter):
#                      ring_* (SPSC ring) and wal_writer_* (writer thread, group commit)
#   build-asan-addon/  the Node addon, ASan + UBSan, then the vitest suite against it, with the
#                      ASan runtime preloaded into node (LD_PRELOAD) and the addon picked by
#                      node-gyp-build's DURABOOK_PREBUILD override (build/ is left alone)
#
# Compiler: the system's g++ (its libasan/libubsan/libtsan come with gcc on Debian); CXX=clang++
# works too. Usage:
#
#   bash scripts/sanitizers.sh               all three
#   bash scripts/sanitizers.sh asan tsan     any of: asan tsan addon
#
# Expects `npm ci` to have run (cmake-js, vitest) and, for `addon`, `npm run build` (dist/ for
# the CLI tests). A sanitizer report fails the run (halt_on_error, -fno-sanitize-recover). Every
# step runs even if an earlier one failed; the exit status says whether all passed.
set -uo pipefail
cd "$(dirname "$0")/.."

steps=("$@")
[[ ${#steps[@]} -gt 0 ]] || steps=(asan tsan addon)
jobs=${DURABOOK_JOBS:-$(nproc 2>/dev/null || echo 2)}
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)

# Symbolized, fail-fast reports. Leak checking stays on for the core tests.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:history_size=4}

stamp() { date +%s; }
took() { echo "sanitizers: $1 took $(( $(stamp) - $2 ))s" >&2; }

core_build() { # dir sanitize
  cmake -S . -B "$1" "${gen[@]}" -DDURABOOK_ADDON=OFF -DDURABOOK_CORE_TESTS=ON \
    -DDURABOOK_SANITIZE="$2" >/dev/null
  cmake --build "$1" --target durabook_core_tests -j"$jobs" >/dev/null
}

# ThreadSanitizer maps its shadow memory at fixed addresses; with the kernel's larger mmap
# randomisation (vm.mmap_rnd_bits > 28, the default on recent kernels) older runtimes die with
# "unexpected memory mapping". Running without address randomisation avoids that.
tsan_run() {
  if setarch "$(uname -m)" -R true 2>/dev/null; then
    setarch "$(uname -m)" -R "$@"
  else
    "$@"
  fi
}

step_asan() {
  echo "sanitizers: core tests under ASan + UBSan (build-asan/)" >&2
  core_build build-asan address,undefined || return 1
  build-asan/durabook_core_tests
}

step_tsan() {
  echo "sanitizers: ring and writer-thread tests under TSan (build-tsan/)" >&2
  core_build build-tsan thread || return 1
  local status=0
  for filter in ring_ wal_writer_; do
    tsan_run build-tsan/durabook_core_tests "$filter" || status=1
  done
  return $status
}

step_addon() {
  echo "sanitizers: vitest suite against an ASan + UBSan addon (build-asan-addon/)" >&2
  local runtime
  runtime=$(${CXX:-g++} -print-file-name=libasan.so)
  [[ -f $runtime ]] || { echo "sanitizers: no libasan.so for ${CXX:-g++}" >&2; return 1; }
  npx cmake-js compile --out build-asan-addon/build --CDDURABOOK_SANITIZE=address,undefined \
    --CDDURABOOK_CORE_TESTS=OFF >/dev/null || return 1
  local addon=build-asan-addon/build/Release/durabook.node
  [[ -f $addon ]] || { echo "sanitizers: $addon was not built" >&2; return 1; }
  # node-gyp-build loads $DURABOOK_PREBUILD/build/Release/durabook.node instead of ./build.
  export DURABOOK_PREBUILD=$PWD/build-asan-addon
  # Node itself is not built with ASan: its own allocations at exit are not leaks we can act on
  # (detect_leaks=0). V8 handles SIGSEGV itself (WebAssembly trap handler), so ASan must not
  # take the signal over (handle_segv=0; allow_user_segv_handler lets V8 install its handler).
  local asan_node="abort_on_error=1:detect_leaks=0:handle_segv=0:allow_user_segv_handler=1:detect_stack_use_after_return=0"
  # Proof that the sanitized addon is the one loaded, with the runtime preloaded.
  LD_PRELOAD=$runtime ASAN_OPTIONS=$asan_node node -e "
    const p = require('node-gyp-build').resolve('.');
    if (!p.startsWith(process.env.DURABOOK_PREBUILD)) { console.error('wrong addon: ' + p); process.exit(1); }
    require(p);
    const maps = require('fs').readFileSync('/proc/self/maps', 'utf8');
    if (!/libasan/.test(maps)) { console.error('ASan runtime not mapped'); process.exit(1); }
    console.error('sanitizers: loaded ' + p + ' with the ASan runtime');" || return 1
  # test/package packs and installs the package (npm, node-gyp, a compiler) under the preload:
  # minutes of compiling under ASan for nothing this run checks. It runs in the ordinary run.
  LD_PRELOAD=$runtime ASAN_OPTIONS=$asan_node npx vitest run --exclude 'test/package/**'
}

failed=()
for step in "${steps[@]}"; do
  t0=$(stamp)
  case "$step" in
    asan | tsan | addon) "step_$step" || failed+=("$step") ;;
    *)
      echo "usage: scripts/sanitizers.sh [asan] [tsan] [addon]" >&2
      exit 2
      ;;
  esac
  took "$step" "$t0"
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "sanitizers: FAILED: ${failed[*]}" >&2
  exit 1
fi
