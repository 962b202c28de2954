#!/usr/bin/env bash
# bench_http.sh - the van's server, measured on loopback (nothing else is a
# target).  Bounded: wrk runs 10 s; every wait has a time-out.
#
#   bench/bench_http.sh [BUILD]      (default build; needs BUILD/openlfr)
#
#   1. requests per second on GET /api/health (wrk, 2 threads, 64 connections)
#   2. SSE fan-out: 100 clients on /api/events, one event published (a
#      deployment created by the operator), time until the last client has it
#   3. photo check round trip, 12-megapixel JPEG (upload to answer), median
#      and p95, alone (20 in a row) and 20 devices at once -- needs the face
#      models, a live deployment with a watchlist and an officer's device
#      token: BENCH_DEVICE_TOKEN, BENCH_DEPLOYMENT and BENCH_PHOTO (a 12 MP
#      JPEG) given in the environment, else skipped with the reason.
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
srv_pid=
cleanup() { [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
port=$((20000 + RANDOM % 20000))
export OPENLFR_DB=$tmp/bench.db OPENLFR_PORT=$port OPENLFR_REQUESTS_PER_MIN=100000 \
       OPENLFR_MAX_STREAMS=300 OPENLFR_TLS_DIR=$tmp/tls
"$build/openlfr" user add --login bench-op --roles operator --password 'bench password 1' >/dev/null
"$build/openlfr" serve > "$tmp/serve.log" 2>&1 & srv_pid=$!
for _ in $(seq 100); do grep -q serving "$tmp/serve.log" && break; sleep 0.1; done
url=https://127.0.0.1:$port
ca=$tmp/tls/ca.pem
tok=$(curl -s --cacert "$ca" -H 'Content-Type: application/json' \
      -d '{"login":"bench-op","password":"bench password 1"}' "$url/api/session" |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')

echo "== 1. GET /api/health, wrk -t2 -c64 -d10s"
wrk -t2 -c64 -d10s "$url/api/health" | grep -E 'Requests/sec|Latency|requests in'

echo "== 2. SSE fan-out to 100 clients"
for i in $(seq 100); do
  curl -sN --max-time 30 --cacert "$ca" -H "Authorization: Bearer $tok" "$url/api/events" > "$tmp/sse.$i" &
done
for _ in $(seq 200); do [ "$(grep -l 'openlfr events' "$tmp"/sse.* 2>/dev/null | wc -l)" -ge 100 ] && break; sleep 0.05; done
t0=$(date +%s%N)
curl -s -o /dev/null --cacert "$ca" -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
  -d '{"name":"bench","location":"loopback","purpose":"bench","threshold":0.6}' "$url/api/deployments"
while [ "$(grep -l '^id: ' "$tmp"/sse.* 2>/dev/null | wc -l)" -lt 100 ]; do
  [ $(( ($(date +%s%N) - t0) / 1000000 )) -gt 10000 ] && { echo "not every client got the event in 10 s"; break; }
  sleep 0.001
done
t1=$(date +%s%N)
echo "event to the last of 100 clients: $(( (t1 - t0) / 1000 )) us (includes the creating request; polling files every 1 ms)"
kill $(jobs -p | grep -v "^$srv_pid\$") 2>/dev/null || true

echo "== 3. photo check, 12 MP JPEG"
if [ -z "${BENCH_DEVICE_TOKEN:-}" ] || [ -z "${BENCH_DEPLOYMENT:-}" ] || [ ! -f "${BENCH_PHOTO:-}" ]; then
  echo "SKIPPED: set BENCH_DEVICE_TOKEN, BENCH_DEPLOYMENT and BENCH_PHOTO (a live deployment of this server)"
  exit 0
fi
check() { curl -s -o /dev/null -w '%{time_total}\n' --cacert "$ca" -H "Authorization: Bearer $BENCH_DEVICE_TOKEN" \
  -H 'Content-Type: image/jpeg' --data-binary "@$BENCH_PHOTO" "$url/api/deployments/$BENCH_DEPLOYMENT/checks?reason=bench"; }
stats() { sort -n | awk '{a[NR]=$1} END {printf "median %.0f ms, p95 %.0f ms (n=%d)\n", a[int((NR+1)/2)]*1000, a[int(NR*0.95+0.5)]*1000, NR}'; }
echo -n "alone: "; for _ in $(seq 20); do check; done | stats
echo -n "20 at once: "; { for _ in $(seq 20); do check & done; wait; } | stats
