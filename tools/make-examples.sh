#!/usr/bin/env bash
# make-examples.sh - the README's example reports, regenerated:
#
#   tools/make-examples.sh [--only transparency|evaluation] [BUILD]
#
# (a) docs/examples/transparency/report.{html,json,pdf}: the transparency
#     report (`openlfr report`) of a demo deployment made here headlessly
#     the way tools/demo.sh makes it: demo accounts, a watchlist of the
#     three stock models of the face-api demo photo sample1.jpg (names
#     "Demo Person One/Two/Three"), the demo camera clip of the other demo
#     photos; then through the API: started, alerts from the camera,
#     the operator confirms the first and rejects the second, dispatches
#     the confirmed one to a paired officer's device, which acknowledges
#     it and records the outcome; three photo checks from the device with
#     their reasons; a checkpoint on demand; ended; the watchlist purged
#     (a deletion receipt; the server keeps it 0 s after the end here).
# (b) docs/examples/evaluation/{index.html,report.json}: `openlfr eval
#     report --data $OPENLFR_DATA --sample 10` (every 10th person / image:
#     minutes, not hours), its local data path replaced by $OPENLFR_DATA
#     in report.json and the page redrawn from that JSON (--from-json).
# (c) docs/examples/transparency-checks.png and evaluation-det.png: one
#     chart of each (the page's inline SVG) drawn by rsvg-convert.
# The files hold aggregate numbers only: no face image (checked here: no
# <img>, no data: URL, no JPEG/PNG bytes), no name of anyone not on the
# demo list (the report lists the list itself only as counts).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
only=
build=build
while [ $# -gt 0 ]; do
    case $1 in
        --only) only=$2; shift ;;
        -h|--help) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) build=$1 ;;
    esac
    shift
done
die() { echo "make-examples: $*" >&2; exit 1; }
say() { echo "make-examples: $*"; }
B=$root/$build/openlfr
[ -x "$B" ] || die "no $B: build it first (make)"
models=$(cd "${OPENLFR_MODELS:-models}" && pwd)
photos=$models/photos
for t in ffmpeg curl python3 rsvg-convert; do
    command -v $t >/dev/null || die "$t is needed (tools/setup.sh deps)"
done
out=$root/docs/examples
mkdir -p "$out/transparency" "$out/evaluation"
work=$(mktemp -d /tmp/openlfr-examples.XXXXXX)
srv=
cleanup() { [ -n "$srv" ] && kill "$srv" 2>/dev/null && wait "$srv" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
export OPENLFR_MODELS=$models OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
unset OPENLFR_KEY OPENLFR_KEY_FILE OPENLFR_SIGN_KEY OPENLFR_PORT OPENLFR_LISTEN OPENLFR_TLS_DIR OPENLFR_CONFIG
jq_() { python3 -c 'import json,sys; j=json.load(sys.stdin); r=eval(sys.argv[1]); print("" if r is None else r)' "$1"; }

# An SVG of a page (the N-th <svg>, 0 first, or the first whose title
# matches) to PNG, white background.
svg_png() { # HTML PATTERN PNG
    python3 - "$1" "$2" "$work/chart.svg" <<'EOF'
import re, sys
html = open(sys.argv[1]).read()
svgs = re.findall(r"<svg\b.*?</svg>", html, re.S)
pick = [s for s in svgs if re.search(sys.argv[2], s)] or svgs
if not pick: sys.exit("no <svg> in " + sys.argv[1])
s = pick[0]
if "xmlns=" not in s[:300]: s = s.replace("<svg", '<svg xmlns="http://www.w3.org/2000/svg"', 1)
open(sys.argv[3], "w").write(s)
EOF
    rsvg-convert -b white -w 900 -o "$3" "$work/chart.svg"
}
no_faces() { # FILE...: nothing that could be a face image
    for f in "$@"; do
        if grep -qiE '<img|data:image|base64,' "$f" || LC_ALL=C grep -q $'\xff\xd8\xff' "$f" ||
           LC_ALL=C grep -q $'\x89PNG' "$f"; then die "$f holds an image"; fi
    done
}

# (a) the demo deployment ------------------------------------------------------
transparency() {
    for s in 1 2 3 4 5 6; do [ -f "$photos/sample$s.jpg" ] || die "no $photos/sample$s.jpg (make setup)"; done
    local van=$work/van
    mkdir -p "$van/watchlist" "$van/cameras"
    export OPENLFR_DB=$van/openlfr.db
    declare -gA pw
    local a login role name
    for a in "admin:admin:Demo Admin" "operator:operator:Olu Operator" \
             "authoriser:authorising_officer:Ash Authoriser" "officer:officer:Ola Officer" \
             "auditor:auditor:Audrey Auditor"; do
        IFS=: read -r login role name <<<"$a"
        pw[$login]=$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 16)
        OPENLFR_PASSWORD=${pw[$login]} "$B" user add "$login" --name "$name" --role "$role" \
            $([ "$login" = admin ] || echo --by admin) >/dev/null
    done
    # the watchlist: the people of sample1.jpg (as tools/demo.sh crops them)
    "$B" detect --json "$photos/sample1.jpg" >"$van/sample1.json"
    python3 - "$van/sample1.json" >"$van/crops.txt" <<'EOF'
import json, math, sys
j = json.load(open(sys.argv[1]))
W, H = j["width"], j["height"]
for i, f in enumerate(sorted(j["faces"], key=lambda f: -f["box"][0])[:3]):
    x, y, w, h = f["box"]; m = 0.8
    x0, y0 = max(0, int(x - m * w)), max(0, int(y - m * h))
    x1, y1 = min(W, int(x + w * (1 + m))), min(H, int(y + h * (1 + m)))
    (ax, ay), (bx, by) = f["landmarks"][0], f["landmarks"][1]
    print(i + 1, x1 - x0, y1 - y0, x0, y0, "%.4f" % -math.atan2(by - ay, bx - ax))
EOF
    local people=("Person One" "Person Two" "Person Three") cats=(wanted_on_warrant missing wanted_for_offence)
    echo "file,subject_ref,display_name,category,reason,image_source,image_date" >"$van/watchlist/manifest.csv"
    local i w h x y r
    while read -r i w h x y r; do
        ffmpeg -nostdin -loglevel error -y -i "$photos/sample1.jpg" -vf "crop=$w:$h:$x:$y,rotate=$r" \
            -q:v 2 "$van/watchlist/demo-$i.jpg"
        echo "demo-$i.jpg,DEMO-$i,Demo ${people[$((i - 1))]},${cats[$((i - 1))]},demo: a stock model of the face-api sample photos,face-api demo photo sample1.jpg (npm),2020" \
            >>"$van/watchlist/manifest.csv"
    done <"$van/crops.txt"
    local now dep
    now=$(date +%s)
    dep=$("$B" deployment create --name "Demo: face-api stock photos" --location "loopback demo camera" \
        --purpose "demonstration: finds the people of sample1.jpg in the other photos" \
        --legal-basis "none: demonstration data only" --start $((now - 60)) --end $((now + 3600)) \
        --threshold 0.6 --cameras "demo camera" --by operator --json | jq_ 'j.get("deployment", j)["id"]')
    "$B" watchlist import --deployment "$dep" --dir "$van/watchlist" --manifest "$van/watchlist/manifest.csv" \
        --by operator >"$van/import.txt"
    grep -q "demo-1.jpg: added" "$van/import.txt" || die "the demo person was not enrolled: $(cat "$van/import.txt")"
    # the demo camera: sample3 (the person on the left of sample1), 4, 5, 6, 2, 4 s each, looped
    local inputs=() filter= n=0 s
    for s in 3 4 5 6 2; do
        inputs+=(-loop 1 -framerate 10 -t 4 -i "$photos/sample$s.jpg")
        filter+="[$n:v]scale=1280:720:force_original_aspect_ratio=decrease,pad=1280:720:(ow-iw)/2:(oh-ih)/2,setsar=1,format=yuv420p[v$n];"
        n=$((n + 1))
    done
    for i in $(seq 0 $((n - 1))); do filter+="[v$i]"; done
    ffmpeg -nostdin -loglevel error -y "${inputs[@]}" -filter_complex "${filter}concat=n=$n:v=1:a=0[out]" \
        -map "[out]" -c:v libx264 -preset veryfast -tune stillimage -crf 26 -g 40 -r 10 "$van/cameras/demo.mp4"
    { echo "ffconcat version 1.0"; for _ in $(seq 200); do echo "file demo.mp4"; done; } >"$van/cameras/demo.ffconcat"
    "$B" camera add --deployment "$dep" --name "demo camera" --url "$van/cameras/demo.ffconcat" --by operator >/dev/null
    "$B" deployment authorise "$dep" --by authoriser >/dev/null

    local port url
    for _ in 1 2 3 4 5; do
        port=$((20000 + RANDOM % 20000))
        "$B" serve --port "$port" --web-root web --log warn --watchlist-after-end-s 0 >"$van/serve.log" 2>&1 &
        srv=$!
        for _ in $(seq 300); do grep -q "serving https" "$van/serve.log" && break; kill -0 $srv 2>/dev/null || break; sleep 0.1; done
        grep -q "serving https" "$van/serve.log" && break
        kill $srv 2>/dev/null; wait $srv 2>/dev/null; srv=
    done
    [ -n "$srv" ] || die "the server did not start: $(tail -3 "$van/serve.log")"
    url=https://127.0.0.1:$port
    declare -gA tok
    api() { # WHO METHOD PATH [JSON]
        curl -sS --fail-with-body --cacert "$van/tls/ca.pem" -H "Authorization: Bearer ${tok[$1]}" \
            -H 'Content-Type: application/json' -X "$2" ${4:+--data "$4"} "$url$3"
    }
    for login in operator authoriser admin auditor; do
        tok[$login]=$(curl -sS --fail-with-body --cacert "$van/tls/ca.pem" -H 'Content-Type: application/json' \
            --data "{\"login\":\"$login\",\"password\":\"${pw[$login]}\"}" "$url/api/session" | jq_ 'j["token"]')
    done
    api authoriser POST "/api/deployments/$dep/start" '{}' >/dev/null
    say "deployment $dep live on $url; waiting for two alerts (at most 90 s)"
    local code ids
    code=$(api operator POST "/api/deployments/$dep/pair-codes" '{}' | jq_ 'j["code"]')
    tok[device]=$(curl -sS --fail-with-body --cacert "$van/tls/ca.pem" -H 'Content-Type: application/json' \
        --data "{\"code\":\"$code\",\"device_name\":\"tablet 1\",\"login\":\"officer\",\"password\":\"${pw[officer]}\"}" \
        "$url/api/devices/pair" | jq_ 'j["token"]')
    for _ in $(seq 90); do
        ids=$(api operator GET "/api/deployments/$dep/alerts" | jq_ '" ".join(str(a["id"]) for a in sorted(j["alerts"], key=lambda a: a["id"]))')
        [ "$(wc -w <<<"$ids")" -ge 2 ] && break
        sleep 1
    done
    [ -n "$ids" ] || die "no alert in 90 s: $(tail -5 "$van/serve.log")"
    set -- $ids
    say "alerts: $ids"
    api operator POST "/api/alerts/$1/decision" '{"decision":"confirm","note":"demo: the same person"}' >/dev/null
    api operator POST "/api/alerts/$1/dispatch" '{"all":true}' >/dev/null
    api device POST "/api/alerts/$1/ack" '{}' >/dev/null
    api device POST "/api/alerts/$1/outcome" '{"outcome":"engaged","note":"demo: spoken to"}' >/dev/null
    if [ $# -ge 2 ]; then
        api operator POST "/api/alerts/$2/decision" '{"decision":"reject","note":"demo: not the same person"}' >/dev/null
    fi
    # photo checks from the officer's device: the watchlisted person, two others
    local reason img
    for c in "matches_description:sample3.jpg" "behaviour:sample4.jpg" "intelligence:sample5.jpg"; do
        reason=${c%%:*} img=${c#*:}
        curl -sS --cacert "$van/tls/ca.pem" -H "Authorization: Bearer ${tok[device]}" -H 'Content-Type: image/jpeg' \
            --data-binary @"$photos/$img" "$url/api/deployments/$dep/checks?reason=$reason" |
            jq_ '"check %s (%s): %s" % (j.get("check"), "'"$reason"'", j.get("result") or j.get("error", {}).get("message"))'
    done
    api auditor POST /api/audit/checkpoints '{}' >/dev/null
    api authoriser POST "/api/deployments/$dep/end" '{"reason":"demo finished"}' >/dev/null
    api admin POST /api/retention/purge '{}' | jq_ '"purge: %d watchlist(s), %d receipt(s)" % (j["watchlists"], j["receipts"])'
    kill $srv; wait $srv 2>/dev/null || true; srv=
    local f
    for f in html json pdf; do "$B" report "$dep" --format $f --out "$out/transparency/report.$f"; done
    no_faces "$out/transparency/report.html" "$out/transparency/report.json"
    python3 - "$out/transparency/report.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1])); a = r["activity"]
print("make-examples: transparency report: alerts %s, confirmed %s, rejected %s; photo checks %s" % (
    a.get("alerts"), a.get("confirmed"), a.get("rejected"), r["photo_checks"].get("total", r["photo_checks"].get("checks"))))
EOF
    svg_png "$out/transparency/report.html" "checks-by-reason" "$out/transparency-checks.png"
    say "wrote docs/examples/transparency/report.{html,json,pdf} and docs/examples/transparency-checks.png"
}

# (b) the evaluation ------------------------------------------------------------
evaluation() {
    local D=${OPENLFR_DATA:-}
    [ -n "$D" ] && [ -f "$D/lfw/pairs.txt" ] || die "OPENLFR_DATA is not set (or has no lfw/): the evaluation example needs it"
    D=$(cd "$D" && pwd)
    local t0=$SECONDS
    "$B" eval report --data "$D" --out "$work/eval" --sample 10 --truth docs/lfw-truth.txt \
        2>"$work/eval.log" || die "eval report failed: $(tail -3 "$work/eval.log")"
    say "eval report --sample 10 --truth docs/lfw-truth.txt: $((SECONDS - t0)) s ($(grep -m1 'Model name' <(lscpu) | sed 's/ \+/ /g'))"
    python3 - "$work/eval/report.json" "$out/evaluation/report.json" "$D" <<'EOF'
import sys
t = open(sys.argv[1]).read().replace(sys.argv[3], "$OPENLFR_DATA")
open(sys.argv[2], "w").write(t)
EOF
    "$B" eval report --from-json "$out/evaluation/report.json" --out "$out/evaluation" 2>/dev/null
    no_faces "$out/evaluation/index.html" "$out/evaluation/report.json"
    svg_png "$out/evaluation/index.html" "DET" "$out/evaluation-det.png"
    say "wrote docs/examples/evaluation/{index.html,report.json} and docs/examples/evaluation-det.png"
}

[ "$only" = evaluation ] || transparency
[ "$only" = transparency ] || evaluation
