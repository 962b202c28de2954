#!/usr/bin/env bash
# test_http_serve.sh - `openlfr serve` as a process: --help lists every
# option of the configuration table (src/app/app.h LFR_CONFIG_LIST); it
# starts on a free loopback port with its own CA, prints the URL and the
# CA fingerprint, answers /api/health over HTTPS pinned to that CA, refuses
# a bad option naming it, and stops cleanly on SIGTERM (exit 0).
set -uo pipefail
cd "$(dirname "$0")/.."
lfr=$PWD/${BUILD:-build}/openlfr
tmp=$(mktemp -d)
srv=
trap '[ -n "$srv" ] && kill "$srv" 2>/dev/null; rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { echo "ok   $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }

help=$("$lfr" serve --help 2>&1)
keys=$(sed -n '/^#define LFR_CONFIG_LIST/,/^$/p' src/app/app.h | grep -oE 'X\((STR|INT|BOOL|REAL), [a-z_0-9]+' | awk '{print $2}')
[ -n "$keys" ] || bad "no options found in src/app/app.h"
missing=
for k in $keys; do grep -q -- "--${k//_/-} " <<<"$help" || missing="$missing $k"; done
[ -z "$missing" ] && ok "serve --help lists all $(wc -w <<<"$keys") options" || bad "serve --help lacks:$missing"

out=$("$lfr" serve --no-such-option 1 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q -- "--no-such-option" <<<"$out" && ok "an unknown option is named (exit 2)" || bad "unknown option: $rc $out"
out=$("$lfr" serve --port 99999 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "port" <<<"$out" && ok "an out-of-range port is refused, naming it" || bad "bad port: $rc $out"

port=$((20000 + RANDOM % 20000))
OPENLFR_DB=$tmp/t.db OPENLFR_LOG=warn "$lfr" serve --port "$port" --tls-dir "$tmp/tls" --web-root "$tmp" >"$tmp/log" 2>&1 &
srv=$!
for _ in $(seq 100); do grep -q "fingerprint" "$tmp/log" && break; sleep 0.1; done
grep -q "serving https://127.0.0.1:$port/" "$tmp/log" && ok "prints its URL" || bad "no URL: $(cat "$tmp/log")"
fp=$(grep -oE 'SHA256:[0-9A-F:]+' "$tmp/log")
[ -n "$fp" ] && ok "prints the CA fingerprint" || bad "no fingerprint"
[ "$(stat -c %a "$tmp/tls/ca.key" 2>/dev/null)" = 600 ] && ok "CA key is 0600" || bad "CA key mode"
body=$(curl -s --max-time 10 --cacert "$tmp/tls/ca.pem" "https://127.0.0.1:$port/api/health")
grep -q '"status":"ok"' <<<"$body" && ok "GET /api/health over HTTPS" || bad "health: $body"
kill -TERM "$srv"; wait "$srv"; rc=$?; srv=
[ $rc -eq 0 ] && grep -q "stopping (SIGTERM)" "$tmp/log" && ok "SIGTERM stops it (exit 0)" || bad "stop: $rc $(cat "$tmp/log")"
echo "test_http_serve: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
