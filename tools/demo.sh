#!/usr/bin/env bash
# demo.sh - `make demo`: the van's server with a live demo deployment.
#
#   tools/demo.sh [--check] [--dir DIR] [--port N] [--page] [BUILD]
#
# Everything comes from material the project fetches itself (`make setup`:
# the face-api demo photos in $OPENLFR_MODELS/photos, whose stock models
# recur across photos), plus the Hamilton clip when $OPENLFR_DATA has it:
#   - a fresh database in DIR (default demo-run/, wiped at each run) with
#     five accounts (admin, operator, authorising officer, officer, auditor)
#     and generated passwords;
#   - a deployment created by the operator, whose watchlist is the three
#     people of sample1.jpg (faces cropped and straightened with FFmpeg),
#     authorised by the authorising officer;
#   - a looping demo camera: a 1280x720 H.264 clip that FFmpeg makes from
#     sample3, 4, 5, 6 and 2 (4 s each), played by an FFmpeg concat
#     playlist repeating it (about 55 hours): the person on the left of
#     sample1.jpg is in sample3.jpg, so an alert comes in its first seconds;
#     with $OPENLFR_DATA, a second camera plays the Hamilton clip against
#     Lin-Manuel Miranda's reference photo;
#   - `openlfr serve` on 127.0.0.1 (port 8443 or the first free one after
#     it); the deployment is started through the API, which starts its
#     cameras; then it prints the console's URL, the van CA (file and
#     fingerprint), the accounts and an officers' app pairing code, and
#     prints alerts as they arrive, until Ctrl-C.
#
# --check (or OPENLFR_DEMO_CHECK=1): the same without a person: waits for
# the first alert through GET /api/deployments/{id}/alerts (at most
# $OPENLFR_DEMO_WAIT_S, default 60 s), stops the server, removes DIR and
# exits 1 when no alert came.  --page: also the face engine's "most alike"
# page of the photos (demo-out/index.html, `openlfr demo`).
set -euo pipefail

usage() {
    sed -n '2,31p' "$0" | sed 's/^# \{0,1\}//'
    exit "${1:-2}"
}

check=${OPENLFR_DEMO_CHECK:-0}
dir=demo-run
port0=8443
page=0
build=build
while [ $# -gt 0 ]; do
    case $1 in
        --check) check=1 ;;
        --dir) [ $# -ge 2 ] || usage; dir=$2; shift ;;
        --port) [ $# -ge 2 ] || usage; port0=$2; shift ;;
        --page) page=1 ;;
        -h|--help) usage 0 ;;
        -*) echo "demo: unknown option $1" >&2; usage ;;
        *) build=$1 ;;
    esac
    shift
done
case $port0 in ''|*[!0-9]*) echo "demo: --port: '$port0' is not a port number" >&2; exit 2 ;; esac
wait_s=${OPENLFR_DEMO_WAIT_S:-60}

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
die() { echo "demo: $*" >&2; exit 1; }
abs() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$root/$1" ;; esac; }

openlfr=$(abs "$build")/openlfr
[ -x "$openlfr" ] || die "no $openlfr: build it first (make demo does)"
models=$(abs "${OPENLFR_MODELS:-models}")
photos=$models/photos
for s in 1 2 3 4 5 6; do
    [ -f "$photos/sample$s.jpg" ] || die "no $photos/sample$s.jpg (run make setup)"
done
for tool in ffmpeg curl python3; do
    command -v "$tool" >/dev/null || die "$tool is needed (make setup installs it)"
done
export OPENLFR_MODELS=$models
unset OPENLFR_DB OPENLFR_KEY_FILE OPENLFR_KEY OPENLFR_PORT OPENLFR_LISTEN OPENLFR_TLS_DIR \
      OPENLFR_CERT OPENLFR_CERT_KEY OPENLFR_CONFIG OPENLFR_PASSWORD OPENLFR_CAMERA_URL

# The demo folder: made here, so wiped at each run; never a folder that
# this script did not make.
dir=$(abs "$dir")
if [ -e "$dir" ]; then
    if [ -f "$dir/.openlfr-demo" ]; then rm -rf -- "$dir"
    elif [ -n "$(ls -A "$dir" 2>/dev/null)" ]; then
        die "$dir exists and was not made by the demo: choose another --dir"
    fi
fi
mkdir -p "$dir"
chmod 700 "$dir"
: >"$dir/.openlfr-demo"
export OPENLFR_DB=$dir/openlfr.db
log=$dir/serve.log
rel=${dir#"$root"/}

t_begin=$(date +%s)
say() { [ "$check" = 1 ] && echo "demo: $*" || echo "$*"; }

# JSON in a shell: python3 reads the document on stdin, evaluates an
# expression over it (j) and prints the result.
jq_() { python3 -c 'import json,sys; j=json.load(sys.stdin); r=eval(sys.argv[1]); print("" if r is None else r)' "$1"; }

ol() { "$openlfr" "$@"; }

if [ "$page" = 1 ]; then
    ol demo --out "$root/demo-out" "$photos"/*.jpg >/dev/null 2>>"$dir/setup.log" ||
        die "openlfr demo (the photos page) failed: $(tail -3 "$dir/setup.log")"
    say "the photos page: $root/demo-out/index.html (which faces are most alike)"
fi

# 1. Accounts ------------------------------------------------------------------
say "making the demo in $rel (database, accounts, watchlist, cameras)"
accounts=(
    "admin:admin:Demo Admin"
    "operator:operator:Olu Operator (van console)"
    "authoriser:authorising_officer:Ash Authoriser (authorising officer)"
    "officer:officer:Ola Officer (officers' app)"
    "auditor:auditor:Audrey Auditor"
)
declare -A pw
newpw() { head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 16; }
for a in "${accounts[@]}"; do
    IFS=: read -r login role name <<<"$a"
    pw[$login]=$(newpw)
    by=(--by admin)
    [ "$login" = admin ] && by=()
    OPENLFR_PASSWORD=${pw[$login]} ol user add "$login" --name "$name" --role "$role" \
        "${by[@]}" >/dev/null 2>>"$dir/setup.log" || die "user add $login failed: $(tail -3 "$dir/setup.log")"
done
{
    echo "# openlfr demo accounts (made $(date -u +%Y-%m-%dT%H:%MZ)); the database is $OPENLFR_DB"
    for a in "${accounts[@]}"; do
        IFS=: read -r login role _ <<<"$a"
        printf '%-11s %-17s %s\n' "$login" "${pw[$login]}" "$role"
    done
} >"$dir/credentials.txt"
chmod 600 "$dir/credentials.txt"

# 2. The watchlist: the people of sample1.jpg, cropped with a margin and
# straightened (the eye line level: quality control refuses a rolled face).
mkdir -p "$dir/watchlist"
ol detect --json "$photos/sample1.jpg" >"$dir/sample1.json" 2>>"$dir/setup.log" ||
    die "openlfr detect failed on sample1.jpg: $(tail -3 "$dir/setup.log")"
python3 - "$dir/sample1.json" >"$dir/crops.txt" <<'EOF'
import json, math, sys
j = json.load(open(sys.argv[1]))
W, H = j["width"], j["height"]
faces = sorted(j["faces"], key=lambda f: -f["box"][0])   # right to left: the match first
for i, f in enumerate(faces[:3]):
    x, y, w, h = f["box"]
    m = 0.8
    x0, y0 = max(0, int(x - m * w)), max(0, int(y - m * h))
    x1, y1 = min(W, int(x + w * (1 + m))), min(H, int(y + h * (1 + m)))
    (ax, ay), (bx, by) = f["landmarks"][0], f["landmarks"][1]
    print(i + 1, x1 - x0, y1 - y0, x0, y0, "%.4f" % -math.atan2(by - ay, bx - ax))
EOF
[ "$(wc -l <"$dir/crops.txt")" -ge 1 ] || die "no face found in sample1.jpg"
people=("Person One" "Person Two" "Person Three")
cats=(wanted_on_warrant missing wanted_for_offence)
echo "file,subject_ref,display_name,category,reason,image_source,image_date" >"$dir/watchlist/manifest.csv"
while read -r i w h x y a; do
    ffmpeg -nostdin -hide_banner -loglevel error -y -i "$photos/sample1.jpg" \
        -vf "crop=$w:$h:$x:$y,rotate=$a" -q:v 2 "$dir/watchlist/demo-$i.jpg" ||
        die "ffmpeg could not crop face $i of sample1.jpg"
    echo "demo-$i.jpg,DEMO-$i,Demo ${people[$((i - 1))]},${cats[$((i - 1))]},demo: a stock model of the face-api sample photos,face-api demo photo sample1.jpg (npm),2020" \
        >>"$dir/watchlist/manifest.csv"
done <"$dir/crops.txt"

# 3. The deployment ------------------------------------------------------------
now=$(date +%s)
ol deployment create --name "Demo: face-api stock photos" --location "loopback demo camera" \
    --purpose "demonstration: finds the people of sample1.jpg in the other photos" \
    --legal-basis "none: demonstration data only" --start $((now - 60)) --end $((now + 43200)) \
    --threshold 0.6 --cameras "demo camera" --by operator --json \
    >"$dir/deployment.json" 2>>"$dir/setup.log" || die "deployment create failed: $(tail -3 "$dir/setup.log")"
dep=$(jq_ 'j.get("deployment", j)["id"]' <"$dir/deployment.json")
ol watchlist import --deployment "$dep" --dir "$dir/watchlist" \
    --manifest "$dir/watchlist/manifest.csv" --by operator >"$dir/import.txt" 2>>"$dir/setup.log" ||
    die "watchlist import failed: $(cat "$dir/import.txt"; tail -3 "$dir/setup.log")"
grep -q "demo-1.jpg: added" "$dir/import.txt" ||
    die "the person the demo camera finds was not enrolled: $(cat "$dir/import.txt")"
# A photo held back only by quality warnings is added as an enrolling
# officer may: knowingly, with a reason, which is audited and shown to the
# authorising officer (`deployment authorise` prints it).
warned=$(grep "NOT added: [0-9]* quality warning" "$dir/import.txt" | sed 's/^line [0-9]* \([^:]*\):.*/\1/' || true)
if [ -n "$warned" ]; then
    { head -1 "$dir/watchlist/manifest.csv"; for f in $warned; do grep "^$f," "$dir/watchlist/manifest.csv"; done; } \
        >"$dir/watchlist/manifest-warned.csv"
    reason="demo: a stock photo; its quality warning was looked at and the face is usable"
    ol watchlist import --deployment "$dep" --dir "$dir/watchlist" \
        --manifest "$dir/watchlist/manifest-warned.csv" --accept-warnings "$reason" \
        --by operator >"$dir/import-warned.txt" 2>>"$dir/setup.log" ||
        die "watchlist import (warnings accepted) failed: $(cat "$dir/import-warned.txt"; tail -3 "$dir/setup.log")"
    grep "added as entry" "$dir/import-warned.txt" |
        sed 's/^line [0-9]* \([^:]*\): added as entry [0-9]*: added, \(.*\)/demo: watchlist: \1 added with \2; accepted with a reason, audited and shown to the authoriser/' >&2 || true
    grep "NOT added" "$dir/import-warned.txt" | sed 's/^/demo: watchlist: /' >&2 || true
fi
grep "NOT added" "$dir/import.txt" | grep -v "NOT added: [0-9]* quality warning" |
    sed 's/^/demo: watchlist: /' >&2 || true

# 4. Cameras: a clip from the photos (not sample1: the watchlist's), played
# by a concat playlist that repeats it (FFmpeg reads the playlist as one
# long video; a file camera plays at its own pace).
inputs=()
filter=
n=0
for s in 3 4 5 6 2; do
    inputs+=(-loop 1 -framerate 10 -t 4 -i "$photos/sample$s.jpg")
    filter+="[$n:v]scale=1280:720:force_original_aspect_ratio=decrease,pad=1280:720:(ow-iw)/2:(oh-ih)/2,setsar=1,format=yuv420p[v$n];"
    n=$((n + 1))
done
for i in $(seq 0 $((n - 1))); do filter+="[v$i]"; done
filter+="concat=n=$n:v=1:a=0[out]"
mkdir -p "$dir/cameras"
ffmpeg -nostdin -hide_banner -loglevel error -y "${inputs[@]}" -filter_complex "$filter" \
    -map "[out]" -c:v libx264 -preset veryfast -tune stillimage -crf 26 -g 40 -r 10 \
    "$dir/cameras/demo-camera.mp4" || die "ffmpeg could not make the demo clip"
playlist() { # playlist FILE NAME REPEATS: FILE plays NAME (beside it) REPEATS times
    { echo "ffconcat version 1.0"; awk -v n="$3" -v f="$2" 'BEGIN { for (i = 0; i < n; i++) print "file " f }'; } >"$1"
}
playlist "$dir/cameras/demo-camera.ffconcat" demo-camera.mp4 10000
cameras=("demo camera: photos sample3, 4, 5, 6, 2 (4 s each, looping)")
wl_from="sample1.jpg"
ol camera add --deployment "$dep" --name "demo camera" --url "$dir/cameras/demo-camera.ffconcat" \
    --by operator >/dev/null 2>>"$dir/setup.log" || die "camera add failed: $(tail -3 "$dir/setup.log")"

data=${OPENLFR_DATA:-}
[ -n "$data" ] && data=$(abs "$data")
ham=$data/video/hamilton
if [ -n "$data" ] && [ -f "$ham/short_hamilton_clip.mp4" ] && [ -f "$ham/lin-manuel-miranda.png" ]; then
    cp "$ham/lin-manuel-miranda.png" "$dir/watchlist/hamilton-1.png"
    printf '%s\n' "file,subject_ref,display_name,category,reason,image_source,image_date" \
        "hamilton-1.png,DEMO-LMM,Lin-Manuel Miranda (demo),wanted_for_offence,demo: the performer in the Hamilton clip,OPENLFR_DATA reference photo,2016" \
        >"$dir/watchlist/hamilton.csv"
    if ol watchlist import --deployment "$dep" --dir "$dir/watchlist" \
        --manifest "$dir/watchlist/hamilton.csv" --by operator >"$dir/import-hamilton.txt" \
        2>>"$dir/setup.log" && grep -q "hamilton-1.png: added" "$dir/import-hamilton.txt"; then
        ln -s "$ham/short_hamilton_clip.mp4" "$dir/cameras/hamilton.mp4"
        playlist "$dir/cameras/hamilton.ffconcat" hamilton.mp4 20000
        ol camera add --deployment "$dep" --name "hamilton" --url "$dir/cameras/hamilton.ffconcat" \
            --by operator >/dev/null 2>>"$dir/setup.log" || die "camera add (hamilton) failed"
        cameras+=("hamilton: the OPENLFR_DATA clip (10 s, looping)")
        wl_from="sample1.jpg; Lin-Manuel Miranda's reference photo from OPENLFR_DATA"
    else
        cameras+=("(no Hamilton camera: its reference photo was not enrolled: $(head -1 "$dir/import-hamilton.txt"))")
    fi
else
    cameras+=("(no Hamilton camera: OPENLFR_DATA is not set or has no video/hamilton)")
fi
ol deployment authorise "$dep" --by authoriser >/dev/null 2>>"$dir/setup.log" ||
    die "deployment authorise failed: $(tail -3 "$dir/setup.log")"
entries=$(ol watchlist list "$dep" --by operator --json 2>/dev/null |
          jq_ 'len(j.get("entries", j) if isinstance(j, dict) else j)' || echo "?")

# 5. The server ----------------------------------------------------------------
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
srv=
srv_rc=0
stop_server() { # SIGTERM, then its exit status in srv_rc (SIGKILL after 10 s)
    srv_rc=0
    if [ -n "$srv" ]; then
        kill -TERM "$srv" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$srv" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$srv" 2>/dev/null && kill -KILL "$srv" 2>/dev/null
        wait "$srv" 2>/dev/null || srv_rc=$?
    fi
    srv=
}
cleanup() {
    local was=$srv
    stop_server
    if [ "$check" = 1 ]; then
        [ -f "$dir/.openlfr-demo" ] && rm -rf -- "$dir"
    elif [ -n "$was" ]; then
        echo
        echo "demo: server stopped.  $rel/ keeps the database and the log; make demo starts afresh."
    fi
    return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port=$port0
url=
for _ in $(seq 1 50); do
    if port_busy "$port"; then port=$((port + 1)); continue; fi
    "$openlfr" serve --listen 127.0.0.1 --port "$port" --web-root "$root/web" --log warn \
        >"$log" 2>&1 &
    srv=$!
    for _ in $(seq 1 300); do
        grep -q '^openlfr: serving https://' "$log" && break
        kill -0 "$srv" 2>/dev/null || break
        sleep 0.1
    done
    if grep -q '^openlfr: serving https://' "$log"; then
        url=$(sed -n 's/^openlfr: serving \(https:[^ ]*\).*/\1/p' "$log" | head -1)
        break
    fi
    stop_server
    port=$((port + 1))     # taken between the probe and the bind: the next one
done
[ -n "$url" ] || die "openlfr serve did not start: $(tail -5 "$log")"
url=${url%/}
fp=$(sed -n 's/^openlfr: .* fingerprint \(.*\)$/\1/p' "$log" | head -1)
ca=$dir/tls/ca.pem

# The API as a person: sign in once, the token in a header file (never on a
# command line).
api() { # api LOGIN METHOD PATH [JSON]
    local h=$dir/.auth-$1
    curl -sS --fail-with-body --cacert "$ca" -H @"$h" -H 'Content-Type: application/json' \
        -X "$2" ${4:+--data @-} "$url$3" <<<"${4:-}"
}
signin() {
    local tok
    tok=$(curl -sS --fail-with-body --cacert "$ca" -H 'Content-Type: application/json' \
        --data @- "$url/api/session" <<<"{\"login\": \"$1\", \"password\": \"${pw[$1]}\"}" |
        jq_ 'j["token"]') || die "could not sign in as $1 on $url"
    (umask 077; echo "Authorization: Bearer $tok" >"$dir/.auth-$1")
}
signin operator
signin authoriser
t_start=$(date +%s.%N)
api authoriser POST "/api/deployments/$dep/start" '{}' >/dev/null ||
    die "could not start deployment $dep through the API: $(tail -5 "$log")"
code_json=$(api operator POST "/api/deployments/$dep/pair-codes" '{}') ||
    die "could not get a pairing code: $code_json"
code=$(jq_ 'j["code"]' <<<"$code_json")
expires=$(jq_ 'j["expires_at"]' <<<"$code_json")

alerts() { api operator GET "/api/deployments/$dep/alerts" 2>/dev/null || echo '{"alerts": []}'; }
since() { python3 -c 'import sys,time; print("%.1f" % (time.time() - float(sys.argv[1])))' "$t_start"; }
alert_line='"alert %d: %s (%s) on %s, likeness %.0f" % (a["id"], a.get("subject_ref"), a.get("entry"), a.get("camera"), a.get("likeness") or 0)'

if [ "$check" = 1 ]; then
    say "server $url, deployment $dep live (entries: $entries), pairing code $code"
    deadline=$(( $(date +%s) + wait_s ))
    first=
    while [ "$(date +%s)" -lt "$deadline" ]; do
        kill -0 "$srv" 2>/dev/null || die "the server stopped: $(tail -5 "$log")"
        first=$(alerts | jq_ "'' if not j['alerts'] else (lambda a: $alert_line)(min(j['alerts'], key=lambda a: a['id']))")
        [ -n "$first" ] && break
        sleep 1
    done
    [ -n "$first" ] || die "no alert within ${wait_s} s of starting deployment $dep (server log: $(tail -5 "$log"))"
    say "first alert after $(since) s: $first"
    stop_server
    [ "$srv_rc" = 0 ] || die "the server stopped with exit status $srv_rc: $(tail -20 "$log")"
    say "server stopped cleanly; whole run $(( $(date +%s) - t_begin )) s"
    exit 0
fi

cat <<EOF

================================================================================
 openlfr demo: the van's server is running (Ctrl-C stops it)
================================================================================
 Console (operator, authorising officer, auditor, admin):
     $url/console/
 Officers' app (phone or tablet on the same network; here: this machine):
     $url/app/
 API reference:  $url/api/docs

 The van's certificate authority (the browser warns until it trusts it):
     $ca
     fingerprint $fp
     Trust it in the browser (Settings > Certificates > Authorities > Import),
     or compare the fingerprint and accept the warning.

 Accounts (also in $rel/credentials.txt, mode 0600):
EOF
for a in "${accounts[@]}"; do
    IFS=: read -r login role _ <<<"$a"
    printf '     %-11s %-17s %s\n' "$login" "${pw[$login]}" "$role"
done
cat <<EOF

 Deployment $dep "Demo: face-api stock photos": live, threshold 0.60,
 watchlist: $entries people ($wl_from).
 Cameras:
EOF
for c in "${cameras[@]}"; do echo "     $c"; done
cat <<EOF

 Officers' app pairing code: $code   (for deployment $dep, until $expires;
     sign in as officer; a new code: console > Devices)

 Server log: $rel/serve.log.  Alerts as they arrive:
EOF

seen=0
while kill -0 "$srv" 2>/dev/null; do
    out=$(alerts | python3 -c '
import json, sys
j = json.load(sys.stdin); seen = int(sys.argv[1])
for a in sorted(j.get("alerts", []), key=lambda a: a["id"]):
    if a["id"] > seen:
        print("%d\t  %s  alert %d: %s on %s, likeness %.0f" % (a["id"], a.get("at"), a["id"],
              a.get("subject_ref"), a.get("camera"), a.get("likeness") or 0))
' "$seen")
    while IFS=$'\t' read -r id line; do
        [ -n "$id" ] || continue
        [ "$seen" = 0 ] && echo "  (first alert $(since) s after the start)"
        echo "$line"
        seen=$id
    done <<<"$out"
    sleep 2
done
echo "demo: the server stopped: $(tail -3 "$log")" >&2
exit 1
