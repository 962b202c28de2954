#!/usr/bin/env bash
# test_web.sh - the van console and the officers' app in a real browser.
#
# Starts a real `openlfr serve` on loopback with a temporary database and
# accounts (admin, op1 operator, auth1 authorising officer, aud1 auditor,
# pc1 officer), then runs tests/web/*.test.mjs: playwright-core (pinned,
# integrity-checked by tests/web/package-lock.json, installed here with
# `npm ci` when missing) driving Debian's Chromium headless.  The camera is
# a file: the Hamilton clip when OPENLFR_DATA has it, else a clip FFmpeg
# makes from a demo photo (models/photos/sample1.jpg), whose face cropped
# out is the watchlist image; either looped by a concat playlist.  The QR
# scan runs a second Chromium whose fake camera shows the console's QR code.
# Screenshots of every screen go to $BUILD/screenshots/.  WEB_TEST=eval
# runs only tests/web/eval.test.mjs (the evaluation screen: with
# OPENLFR_DATA a run of every 1000th photo, seconds, and a cancelled one).
set -uo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build}
name=test_web
B="$build/openlfr"
models=${OPENLFR_MODELS:-models}
chromium=${CHROMIUM:-/usr/bin/chromium}
skip() { echo "SKIP $name: $*"; echo "$name: 0 passed, 0 failed, 1 skipped"; exit 0; }

[ -x "$B" ] || skip "$B not built"
"$B" serve --help >/dev/null 2>&1 || skip "$B has no serve command"
[ -x "$chromium" ] || skip "no Chromium at $chromium (tools/setup.sh deps installs it)"
command -v node >/dev/null 2>&1 || skip "no node"
command -v ffmpeg >/dev/null 2>&1 || skip "no ffmpeg"
[ -f "$models/MANIFEST.tsv" ] || skip "no models in $models (make setup)"

# playwright-core and axe-core, exactly as the lock file pins them; a rerun
# with node_modules in step with the lock needs no network
web=tests/web
if ! cmp -s "$web/package-lock.json" "$web/node_modules/.package-lock.json" 2>/dev/null &&
   ! node -e 'const a=require("./'$web'/package-lock.json").packages,b=require("./'$web'/node_modules/.package-lock.json").packages;
     for (const k of Object.keys(a)) if (k && (!b[k] || b[k].integrity!==a[k].integrity)) process.exit(1)' 2>/dev/null; then
  (cd "$web" && npm ci --no-audit --no-fund --loglevel=error) || skip "npm ci failed in $web (network?)"
fi

tmp=$(mktemp -d /tmp/lfr_web_XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
export OPENLFR_DB="$tmp/openlfr.db" OPENLFR_KEY_FILE="$tmp/openlfr.key" OPENLFR_LOG=warn
export OPENLFR_PASSWORD="web test password 1"
"$B" user add admin --name "Admin" --role admin >/dev/null || { echo "FAIL user add admin"; exit 1; }
for u in "op1 operator Olive_Operator" "auth1 authorising_officer Arthur_Authoriser" "aud1 auditor Audrey_Auditor" "pc1 officer PC_One"; do
  set -- $u
  "$B" user add "$1" --name "${3//_/ }" --role "$2" --by admin >/dev/null || { echo "FAIL user add $1"; exit 1; }
done

# the watchlisted face and the camera clip
D=${OPENLFR_DATA:-}
if [ -n "$D" ] && [ -f "$D/video/hamilton/short_hamilton_clip.mp4" ]; then
  face="$D/video/hamilton/lin-manuel-miranda.png"
  clip="$D/video/hamilton/short_hamilton_clip.mp4"
  echo "camera: $clip"
else
  photo="$models/photos/sample1.jpg"
  [ -f "$photo" ] || skip "no $photo (make setup)"
  face="$tmp/face.jpg" clip="$tmp/clip.mp4"
  ffmpeg -loglevel error -y -i "$photo" -vf crop=420:500:300:230 "$face" &&
    ffmpeg -loglevel error -y -loop 1 -i "$photo" -t 6 -r 10 -vf scale=1280:-2,format=yuv420p \
      -c:v libx264 -preset veryfast "$clip" || { echo "FAIL making the clip with ffmpeg"; exit 1; }
  echo "camera: a clip of $photo (no OPENLFR_DATA)"
fi
# the cameras loop the clip (an FFmpeg concat playlist, read as one long
# video) so they are still running when the live view and the camera
# figures are checked at the end of the flow
ln -s "$(realpath "$clip")" "$tmp/camera-clip.mp4"
{ echo "ffconcat version 1.0"; for _ in $(seq 1 500); do echo "file camera-clip.mp4"; done; } >"$tmp/camera.ffconcat"
clip="$tmp/camera.ffconcat"
reject="$models/photos/sample1.jpg"   # three faces: refused
warned="$tmp/face-dark.jpg"            # the face, dark: enrolled only with a reason (quality warnings)
ffmpeg -loglevel error -y -i "$face" -vf "lutrgb=r=val*0.35:g=val*0.35:b=val*0.35" "$warned" ||
  { echo "FAIL making the dark photo with ffmpeg"; exit 1; }
[ -f "$reject" ] || skip "no $reject (make setup)"
other="$tmp/other.jpg"                 # one face of someone else: not added to the listed person
ffmpeg -loglevel error -y -i "$reject" -vf crop=420:500:720:300 "$other" ||
  { echo "FAIL making the other person's photo with ffmpeg"; exit 1; }
# the face darker and blurred: a second photo of the listed person that is
# not the same photograph to the engine (cosine 0.89 with the Hamilton
# face, 0.76 with the stock one; the same-photo bar is 0.95) and has
# quality warnings (dark, blur)
second="$tmp/face-second.jpg"
ffmpeg -loglevel error -y -i "$face" -vf "lutrgb=r=val*0.3:g=val*0.3:b=val*0.3,boxblur=4" "$second" ||
  { echo "FAIL making the second photo with ffmpeg"; exit 1; }

# the server, on a free loopback port
port=
for try in 1 2 3 4 5; do
  p=$((20000 + (RANDOM % 20000)))
  "$B" serve --listen 127.0.0.1 --port "$p" --models "$models" --web-root web --tls-dir "$tmp/tls" \
    >"$tmp/serve.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do
    grep -q "serving https" "$tmp/serve.log" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if grep -q "serving https" "$tmp/serve.log"; then port=$p; break; fi
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=
done
[ -n "$port" ] || { echo "FAIL the server did not start:"; cat "$tmp/serve.log"; exit 1; }

shots="$build/screenshots"
mkdir -p "$shots"
echo "screenshots: $shots/"
rc=0
for t in "$web"/${WEB_TEST:-*}.test.mjs; do
  BASE_URL="https://127.0.0.1:$port" PASSWORD="$OPENLFR_PASSWORD" FACE="$(realpath "$face")" \
    REJECT="$(realpath "$reject")" CLIP="$(realpath "$clip")" SHOTS="$(realpath "$shots")" WARNED="$warned" OTHER="$other" SECOND="$second" \
    CHROMIUM="$chromium" timeout 600 node "$t" || rc=1
done
if [ $rc != 0 ]; then echo "--- server log (tail)"; tail -n 30 "$tmp/serve.log"; echo "$name: failed"; fi
exit $rc
