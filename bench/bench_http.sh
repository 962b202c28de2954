#!/usr/bin/env bash
# bench_http.sh - the van's server measured on loopback (nothing else is a
# target).  Bounded: wrk runs 10 s, every wait has a time-out, the memory
# run does BENCH_CHECKS photo checks (default 10000; a few minutes).
#
#   bench/bench_http.sh [BUILD]      (default build; needs BUILD/openlfr,
#                                     the face models in $OPENLFR_MODELS or
#                                     ./models, curl, ffmpeg, wrk)
#
# It makes its own installation in a temporary folder: accounts (openlfr
# user add), a live deployment whose watchlist holds one face of
# models/photos/sample3.jpg, officers' devices paired to it, then measures:
#   1. requests per second on GET /api/health (wrk, 2 threads, 64 connections)
#   2. SSE fan-out: 100 clients on /api/events, one event (a deployment
#      created by the operator), time until the last client has it
#   3. photo check round trip of a 12-megapixel JPEG (sample3.jpg scaled to
#      4266x3000: upload to answer, curl's time_total), median and p95,
#      alone (20 in a row) and 20 devices at once (3 rounds)
#   4. the server's RSS after 1,000 and after BENCH_CHECKS photo checks
#      (the 1920x1350 sample photo, 4 devices at a time), to see growth
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/.."
lfr=$PWD/$build/openlfr
models=${OPENLFR_MODELS:-$PWD/models}
checks=${BENCH_CHECKS:-10000}
tmp=$(mktemp -d)
srv_pid=
cleanup() { [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
port=$((20000 + RANDOM % 20000))
export OPENLFR_DB=$tmp/bench.db OPENLFR_PORT=$port OPENLFR_REQUESTS_PER_MIN=100000 \
       OPENLFR_MAX_STREAMS=300 OPENLFR_TLS_DIR=$tmp/tls OPENLFR_MODELS=$models OPENLFR_LOG=warn
unset OPENLFR_KEY OPENLFR_KEY_FILE
pw='bench password 1'
printf '%s\n' "$pw" > "$tmp/pw"
"$lfr" user add boss --name Boss --role admin --password-file "$tmp/pw" >/dev/null
"$lfr" user add op --name Operator --role operator --password-file "$tmp/pw" --by boss >/dev/null
"$lfr" user add sup --name Supt --role authorising_officer --password-file "$tmp/pw" --by boss >/dev/null
for i in $(seq 20); do
  "$lfr" user add "pc$i" --name "PC $i" --role officer --password-file "$tmp/pw" --by boss >/dev/null
done
"$lfr" serve --models "$models" > "$tmp/serve.log" 2>&1 & srv_pid=$!
for _ in $(seq 200); do grep -q fingerprint "$tmp/serve.log" && break; sleep 0.1; done
url=https://127.0.0.1:$port
ca=$tmp/tls/ca.pem
C=(curl -s --max-time 120 --cacert "$ca")
jget() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
post() { local auth=(); [ -n "$1" ] && auth=(-H "Authorization: Bearer $1")
         "${C[@]}" "${auth[@]}" -H 'Content-Type: application/json' --data-binary "$3" "$url$2"; }
token() { "${C[@]}" -H 'Content-Type: application/json' -d "{\"login\":\"$1\",\"password\":\"$pw\"}" "$url/api/session" | jget 'd["token"]'; }
op=$(token op); sup=$(token sup)
rss() { awk '/VmRSS/ {print $2 " kB"}' "/proc/$srv_pid/status"; }
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "server RSS at start (face models loaded): $(rss)"

# the pictures
ffmpeg -v error -y -i "$models/photos/sample3.jpg" -vf crop=432:520:961:98 "$tmp/wl.jpg"
ffmpeg -v error -y -i "$models/photos/sample3.jpg" -vf scale=4266:3000:flags=lanczos -q:v 2 "$tmp/12mp.jpg"
cp "$models/photos/sample3.jpg" "$tmp/phone.jpg"
echo "12 MP photo: $(python3 -c "import os; print(os.path.getsize('$tmp/12mp.jpg'))") bytes, 4266x3000"

# a live deployment with a watchlist, and 20 paired devices
now=$(date +%s)
dep=$(post "$op" /api/deployments "{\"name\":\"bench\",\"location\":\"loopback\",\"purpose\":\"bench\",\"legal_basis\":\"bench\",\"start\":$now,\"end\":$((now + 86400)),\"threshold\":0.6}" | jget 'd["id"]')
python3 -c "import base64,json; print(json.dumps({'subject_ref':'B1','display_name':'Bench One','category':'other','category_other':'bench','reason':'bench','image_source':'bench','image_date':'2024','image_base64':base64.b64encode(open('$tmp/wl.jpg','rb').read()).decode()}))" > "$tmp/wl.json"
post "$op" "/api/deployments/$dep/watchlist" "@$tmp/wl.json" | jget 'd["id"]' >/dev/null
post "$sup" "/api/deployments/$dep/authorise" '{}' >/dev/null
post "$sup" "/api/deployments/$dep/start" '{}' | jget 'd["state"]' >/dev/null
for i in $(seq 20); do
  code=$(post "$op" "/api/deployments/$dep/pair-codes" '{}' | jget 'd["code"]')
  post "" /api/devices/pair "{\"code\":\"$code\",\"device_name\":\"tablet $i\",\"login\":\"pc$i\",\"password\":\"$pw\"}" |
    jget 'd["token"]' > "$tmp/dev.$i"
done
dev1=$(cat "$tmp/dev.1")
check() { # token photo -> seconds
  "${C[@]}" -o "$tmp/check.out.$BASHPID" -w '%{time_total}\n' -H "Authorization: Bearer $1" \
    -H 'Content-Type: image/jpeg' --data-binary "@$2" "$url/api/deployments/$dep/checks?reason=matches_description"
}
stats() { sort -n | awk '{a[NR]=$1} END {printf "median %.0f ms, p95 %.0f ms, max %.0f ms (n=%d)\n", a[int((NR+1)/2)]*1000, a[int(NR*0.95+0.999)]*1000, a[NR]*1000, NR}'; }

echo "== 1. GET /api/health, wrk -t2 -c64 -d10s"
wrk -t2 -c64 -d10s "$url/api/health" | grep -E 'Requests/sec|Latency|requests in|Non-2xx' || echo "wrk missing"

echo "== 2. SSE fan-out to 100 clients"
for i in $(seq 100); do
  curl -sN --max-time 60 --cacert "$ca" -H "Authorization: Bearer $op" "$url/api/events" > "$tmp/sse.$i" &
  echo $! >> "$tmp/sse.pids"
done
for _ in $(seq 400); do [ "$(grep -l 'openlfr events' "$tmp"/sse.* 2>/dev/null | wc -l)" -ge 100 ] && break; sleep 0.05; done
t0=$(date +%s%N)
post "$op" /api/deployments "{\"name\":\"fan-out\",\"location\":\"loopback\",\"purpose\":\"bench\",\"legal_basis\":\"bench\",\"start\":$now,\"end\":$((now + 3600)),\"threshold\":0.6}" >/dev/null
t1=$(date +%s%N)
while [ "$(grep -l '^event: deployment.state' "$tmp"/sse.* 2>/dev/null | wc -l)" -lt 100 ]; do
  [ $(( ($(date +%s%N) - t0) / 1000000 )) -gt 10000 ] && { echo "not every client got the event in 10 s"; break; }
done
t2=$(date +%s%N)
echo "request answered after $(( (t1 - t0) / 1000000 )) ms; event at the last of 100 clients $(( (t2 - t0) / 1000000 )) ms after the request was sent (the poll over 100 files adds a few ms)"
kill $(cat "$tmp/sse.pids") 2>/dev/null || true

echo "== 3. photo check, 12 MP JPEG (upload to answer)"
check "$dev1" "$tmp/12mp.jpg" >/dev/null   # warm-up
python3 -c "import json; d=json.load(open('$(ls "$tmp"/check.out.* | head -1)')); print('answer:', d['result'], d['message'], 'candidates', [(c['entry']['subject_ref'], c['likeness'], c['image']) for c in d['candidates']], 'decode 1/%d' % d['decode_reduction'])"
echo -n "alone (20 in a row):       "; for _ in $(seq 20); do check "$dev1" "$tmp/12mp.jpg"; done | stats
echo -n "20 devices at once (x3):   "; for _ in 1 2 3; do
  for i in $(seq 20); do check "$(cat "$tmp/dev.$i")" "$tmp/12mp.jpg" & done; wait
done | stats

echo "== 4. memory over $checks photo checks (1920x1350 photo, 4 at a time)"
run_checks() { seq "$1" | xargs -P4 -I{} sh -c 'i=$(( {} % 20 + 1 )); curl -s -o /dev/null --max-time 120 --cacert "$0" \
  -H "Authorization: Bearer $(cat "$1/dev.$i")" -H "Content-Type: image/jpeg" --data-binary "@$1/phone.jpg" \
  "$2/api/deployments/$3/checks?reason=matches_description"' "$ca" "$tmp" "$url" "$dep"; }
t0=$(date +%s)
run_checks 1000; echo "RSS after 1000 checks: $(rss)"
run_checks $((checks - 1000)); echo "RSS after $checks checks: $(rss) ($(( $(date +%s) - t0 )) s in all)"
echo "checks recorded: $("${C[@]}" -H "Authorization: Bearer $op" "$url/api/deployments/$dep/checks?limit=1000" | jget 'len(d["checks"])') (the newest 1000 listed)"
