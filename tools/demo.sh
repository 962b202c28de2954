#!/usr/bin/env bash
# demo.sh BUILD - `make demo`: the face engine on the face-api demo photos
# (fetched and checked by `make setup` into $OPENLFR_MODELS/photos).
# Writes demo-out/index.html (which faces are most alike), annotated photos
# and aligned face crops, and prints where they are.
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/.."
models=${OPENLFR_MODELS:-models}
shopt -s nullglob
photos=("$models"/photos/*.jpg)
if [ ${#photos[@]} -eq 0 ]; then
  echo "demo: no photos in $models/photos (run make setup)" >&2
  exit 1
fi
"$build"/openlfr models
echo
"$build"/openlfr demo --out demo-out "${photos[@]}"
echo
echo "Open $(pwd)/demo-out/index.html in a browser."
