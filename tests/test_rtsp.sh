#!/usr/bin/env bash
# test_rtsp.sh - `openlfr scan` against a real RTSP server: GStreamer's
# gst-rtsp-server (tools/rtsp-server.py), with DIGEST authentication, over
# TCP and UDP, H.264 and H.265, and with the server killed mid-stream and
# started again on the same port.  Needs the models (make setup) and
# GStreamer's Python bindings (tools/setup.sh deps); no shared data: the clips
# are made here with ffmpeg from the face-api demo photo models/photos/
# sample1.jpg (three faces), 960x640 at 10 fps, 60 s (2 s encoded, then
# repeated by stream copy).
#
#   1. TCP, cameras [0] H.264 and [1] H.265, both with user:password (the
#      password holds a raw '@'): both go live within 1.8 s of connecting
#      (FFmpeg's frame-rate probing used to hold the first frame back 2.4 s),
#      show 960x640 frames with faces, and alert on the enrolled face.  The
#      H.264 server is then killed (SIGTERM) and started again on its port:
#      camera [0] goes stalled/connecting and comes back live by itself and
#      its frame count grows again; camera [1] stays live throughout.
#   2. The same over UDP (--rtsp-transport udp), restarting the H.265 server,
#      with the URLs given by --camera-file (the password stays off the
#      command line, where ps shows it to every user).
#   3. A wrong password and no password: scan exits 1, each camera FAILED
#      with "authentication failed" / "authentication required" and the
#      RTSP 401, at once (no retrying).
#   4. Per-camera transport in a served deployment: `camera add
#      --rtsp-transport udp` against a server that accepts only UDP, and a
#      default (TCP) camera against the H.264 server, both in the live
#      deployment; `openlfr serve` starts them, both reach LIVE (camera.stats
#      through the API says live, with frames, and rtsp_transport udp / tcp),
#      and the servers saw SETUPs over exactly those transports.
#   5. The password (and any part of it) appears in no output, no debug log
#      line (OPENLFR_LOG=debug, the server's too) and not in the database file.
set -uo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build}
name=test_rtsp
B=$PWD/$build/openlfr
PY=/usr/bin/python3
pass=0 fail=0
check() { # ok(0/1) what
  if [ "$1" = 1 ]; then echo "ok   $2"; pass=$((pass + 1)); else echo "FAIL $2"; fail=$((fail + 1)); fi
}
skip() {
  echo "  SKIP $name: $*"
  echo "$name: 0 passed, 0 failed, 1 skipped ($*)"
  exit 0
}

# Prerequisites --------------------------------------------------------------
if ! "$PY" - <<'PY' 2>/dev/null; then
import sys
import gi
gi.require_version("Gst", "1.0"); gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import Gst, GstRtsp, GstRtspServer
Gst.init(None)
need = ("qtdemux", "h264parse", "h265parse", "rtph264pay", "rtph265pay")
sys.exit(0 if all(Gst.ElementFactory.find(e) for e in need) else 1)
PY
  skip "GStreamer's RTSP server is not usable from $PY: install python3-gi gir1.2-gst-rtsp-server-1.0 gir1.2-gst-plugins-base-1.0 gstreamer1.0-plugins-good gstreamer1.0-plugins-bad (tools/setup.sh deps installs them)"
fi
models=${OPENLFR_MODELS:-models}
[ -f "$models/MANIFEST.tsv" ] && [ -f "$models/photos/sample1.jpg" ] ||
  skip "no models in $models (run make setup): scan cannot run"
encs=$(ffmpeg -hide_banner -encoders 2>/dev/null)
grep -q libx264 <<<"$encs" && grep -q libx265 <<<"$encs" || skip "ffmpeg lacks libx264/libx265: cannot make the clips"

tmp=$(mktemp -d /tmp/lfr_rtsp_XXXXXX)
declare -A srv_pid=() srv_port=()
scan_pid= serve_pid=
cleanup() {
  [ -n "$scan_pid" ] && kill "$scan_pid" 2>/dev/null
  [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null
  for k in "${!srv_pid[@]}"; do kill "${srv_pid[$k]}" 2>/dev/null; done
  wait 2>/dev/null
  if [ -n "${KEEP_TMP:-}" ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
export OPENLFR_DB="$tmp/o.db" OPENLFR_KEY="$tmp/o.key" OPENLFR_MODELS="$models"
USER_=cam PW='Pa@ss-w0rd-7Q'   # a raw '@': the credentials end at the last one
t_start=$SECONDS

# Clips and a live deployment ------------------------------------------------
photo=$models/photos/sample1.jpg
clip() { # 264|265: 2 s encoded, repeated to 60 s by stream copy
  local enc=(-c:v libx264 -preset ultrafast -g 10)
  [ $1 = 265 ] && enc=(-c:v libx265 -preset ultrafast -x265-params log-level=error:keyint=10 -tag:v hvc1)
  ffmpeg -v error -y -loop 1 -framerate 10 -i "$photo" -vf "scale=960:-2,format=yuv420p" \
    -frames:v 20 "${enc[@]}" "$tmp/s$1.mp4" &&
    ffmpeg -v error -y -stream_loop 29 -i "$tmp/s$1.mp4" -c copy "$tmp/h$1.mp4"
}
clip 264 & c264=$!
clip 265 & c265=$!
ffmpeg -v error -y -i "$photo" -vf crop=440:520:280:220 "$tmp/face.jpg"   # one of the three
(
  export OPENLFR_LOG=warn
  "$B" deployment create --name rtsp --location t --purpose t --legal-basis t \
    --start 2026-01-01T00:00Z --end 2036-01-01T00:00Z --threshold 0.70 --by "PC 1" &&
    "$B" watchlist add --deployment 1 --ref R1 --name "Test Person" --category other \
      --category-other test --reason test --source test --date 2024 \
      --by "PC 1" "$tmp/face.jpg" &&
    "$B" deployment authorise 1 --by "Supt 2" && "$B" deployment start 1 --by "Supt 2"
) >"$tmp/setup.log" 2>&1 || { cat "$tmp/setup.log"; check 0 "a live deployment"; exit 1; }
wait $c264 && wait $c265 || { check 0 "making the clips"; exit 1; }
echo "clips and deployment: $((SECONDS - t_start)) s"

# Servers ------------------------------------------------------------------------
start_server() { # key file port(0 = free) [protocols]; SETUP transports are appended to srv_KEY.setup
  local k=$1 f=$2 port=$3 log="$tmp/srv_$1.log"
  : >"$log"
  "$PY" tools/rtsp-server.py --file "$f" --port "$port" --user "$USER_" --password "$PW" \
    --protocols "${4:-both}" >"$log" 2>>"$tmp/srv_$1.setup" &
  srv_pid[$k]=$!
  for _ in $(seq 100); do grep -q '^ready ' "$log" && break; sleep 0.1; done
  local url; url=$(awk '/^ready /{print $2}' "$log")
  [ -n "$url" ] || { cat "$log"; check 0 "RTSP server $k starts"; exit 1; }
  srv_port[$k]=$(sed -E 's|.*:([0-9]+)/.*|\1|' <<<"$url")
}
stop_server() { # key
  kill -TERM "${srv_pid[$1]}"; wait "${srv_pid[$1]}"; local rc=$?
  unset "srv_pid[$1]"
  return $rc
}
start_server a "$tmp/h264.mp4" 0
start_server b "$tmp/h265.mp4" 0
url() { # key [userinfo]
  echo "rtsp://${2:+$2@}127.0.0.1:${srv_port[$1]}/cam"
}

# Scans --------------------------------------------------------------------------
stamp() { # every stderr line prefixed with the wall-clock time
  "$PY" -u -c 'import sys, time
for l in sys.stdin:
    sys.stdout.write("%.3f %s" % (time.time(), l))'
}
start_scan() { # tag args...   (background; scan_pid)
  local t=$1; shift
  OPENLFR_LOG=debug "$B" scan --deployment 1 --json --status-every 1 --duration 60 "$@" \
    >"$tmp/$t.out" 2> >(stamp >"$tmp/$t.err") &
  scan_pid=$!
}
end_scan() { # tag -> rc in $scan_rc
  kill -INT "$scan_pid" 2>/dev/null
  wait "$scan_pid"; scan_rc=$?
  scan_pid=
  for _ in $(seq 50); do grep -q '"type":"summary"' "$tmp/$1.err" && break; sleep 0.1; done
}
wait_state() { # tag camera state nth timeout_s -> 0 when the camera's nth line with that state came
  local n=0
  for _ in $(seq $(($5 * 10))); do
    n=$(grep -c "\"type\":\"camera\",\"index\":$2,[^}]*\"state\":\"$3\"" "$tmp/$1.err")
    [ "$n" -ge "$4" ] && return 0
    sleep 0.1
  done
  return 1
}
# analyse tag camera t_kill -> "states time_to_live frames_before frames_after faces alerts w h
# span" (span: seconds from the last status line before the kill to the summary)
# Frames are those the camera delivered: analysed + dropped (newest frame
# wins: how many get analysed depends on the machine's load, not on RTSP).
analyse() {
  "$PY" - "$tmp/$1.err" "$2" "$3" <<'PY'
import json, sys
path, cam, t_kill = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
states, first_conn, first_live, before, summary = [], None, None, 0, None
t_before, t_end = None, None
for line in open(path):
    t, _, rest = line.partition(" ")
    if not rest.startswith("{"):
        continue
    o = json.loads(rest)
    if o.get("type") == "camera" and o["index"] == cam:
        states.append(o["state"])
        if o["state"] == "connecting" and first_conn is None:
            first_conn = float(t)
        if o["state"] == "live" and first_live is None:
            first_live = float(t)
    elif o.get("type") == "status" and float(t) < t_kill:
        k = o["cameras"][cam]["counters"]
        before = k["frames"] + k["dropped"]
        t_before = float(t)
    elif o.get("type") == "summary":
        summary = o["cameras"][cam]
        t_end = float(t)
if summary is None:
    print("none 99 0 0 0 0 0 0 0")
    sys.exit()
k = summary["counters"]
ttl = first_live - first_conn if first_live and first_conn else 99
# seconds between the last status before the kill and the summary
span = t_end - t_before if t_end is not None and t_before is not None else 0
print(",".join(states), "%.2f" % ttl, before, k["frames"] + k["dropped"], k["faces"], k["alerts"],
      summary["src_w"], summary["src_h"], "%.2f" % span)
PY
}

restart_run() { # tag transport restarted-key(a|b) how(arg|file)
  local tag=$1 tr=$2 rk=$3 how=$4
  local ci=0 oi=1 cams=()
  [ "$rk" = b ] && ci=1 oi=0
  for f in "$tmp"/srv_?.setup; do : >"$f"; done   # (servers append to them)
  for k in a b; do
    if [ "$how" = file ]; then
      (umask 077; url $k "$USER_:$PW" >"$tmp/cam_$k.url")
      cams+=(--camera-file "$tmp/cam_$k.url")
    else
      cams+=(--camera "$(url $k "$USER_:$PW")")
    fi
  done
  start_scan "$tag" --rtsp-transport "$tr" "${cams[@]}"
  if [ "$how" = file ]; then
    tr '\0' ' ' <"/proc/$scan_pid/cmdline" | grep -q -F -e "$PW" -e "ss-w0rd" && ok=0 || ok=1
    check $ok "--camera-file: the password is not on scan's command line (ps)"
  fi
  wait_state "$tag" 0 live 1 10 && wait_state "$tag" 1 live 1 10 && ok=1 || ok=0
  check $ok "$tr: both cameras live (H.264 and H.265, digest authentication)"
  sleep 2
  local t_kill; t_kill=$(date +%s.%N)
  stop_server "$rk" && ok=1 || ok=0
  check $ok "$tr: the RTSP server stops cleanly on SIGTERM"
  wait_state "$tag" $ci stalled 1 8 && ok=1 || ok=0
  check $ok "$tr: camera [$ci] goes stalled when its server dies mid-stream"
  start_server "$rk" "$tmp/h26$([ "$rk" = a ] && echo 4 || echo 5).mp4" "${srv_port[$rk]}"
  wait_state "$tag" $ci live 2 15 && ok=1 || ok=0
  check $ok "$tr: camera [$ci] comes back live by itself after the server restarts"
  sleep 1.6
  end_scan "$tag"
  check $((scan_rc == 0)) "$tr: scan exits 0 ($scan_rc)"
  local want='RTP/AVP/TCP;unicast;interleaved=' bad='client_port='
  [ "$tr" = udp ] && want='RTP/AVP/UDP;unicast;client_port=' bad='interleaved='
  n=$(cat "$tmp"/srv_?.setup | grep -c "^setup $want")
  m=$(cat "$tmp"/srv_?.setup | grep -c "$bad")
  check $((n == 3 && m == 0)) "$tr: the servers saw 3 SETUPs, all over $tr ($n, $m otherwise)"
  grep '"type":"camera",[^}]*"state":"live","reason":"[^"]' "$tmp/$tag.err" && ok=0 || ok=1
  check $ok "$tr: a camera back live shows no stale reason"
  read -r st ttl fb fa faces alerts w h span <<<"$(analyse "$tag" $ci "$t_kill")"
  echo "  [$ci] states $st; first frame $ttl s after connecting; frames delivered: $fb before the kill, $fa at the end; $faces faces, $alerts alerts, ${w}x$h"
  [[ "$st" == *live*stalled*connecting*live* ]] && ok=1 || ok=0
  check $ok "$tr: camera [$ci] went live -> stalled -> connecting -> live"
  check $((fb >= 15 && fa >= fb + 15)) "$tr: camera [$ci] frames continue after the restart ($fb -> $fa)"
  check $((faces > 0 && alerts >= 1)) "$tr: camera [$ci] sees faces ($faces) and alerts on the enrolled one ($alerts)"
  check $((w == 960 && h == 640)) "$tr: camera [$ci] frames are 960x640 (${w}x$h)"
  check "$("$PY" -c "print(int($ttl < 1.8))")" "$tr: camera [$ci] first frame within 1.8 s of connecting ($ttl s)"
  read -r st ttl fb fa faces alerts w h span <<<"$(analyse "$tag" $oi "$t_kill")"
  echo "  [$oi] states $st; first frame $ttl s after connecting; frames delivered: $fb before the kill, $fa at the end ($span s later); $faces faces, $alerts alerts, ${w}x$h"
  check "$([ "$st" = connecting,live ] && echo 1 || echo 0)" "$tr: camera [$oi] stays live while the other camera's server restarts ($st)"
  # the clip is 10 fps: at least 80 % of the frames of the span, less the
  # two a camera's queue may still hold (pipeline.h), and never under 15
  local want; want=$("$PY" -c "print(max(15, int(0.8 * 10 * $span) - 2))")
  check $((fa >= fb + want && faces > 0 && alerts >= 1)) "$tr: camera [$oi] frames ($fb -> $fa, at least $want more in $span s), faces ($faces), alerts ($alerts)"
  check "$("$PY" -c "print(int($ttl < 1.8))")" "$tr: camera [$oi] first frame within 1.8 s of connecting ($ttl s)"
}

t0=$SECONDS
restart_run tcp tcp a arg
echo "TCP run: $((SECONDS - t0)) s"
t0=$SECONDS
restart_run udp udp b file
echo "UDP run: $((SECONDS - t0)) s"

# Wrong and missing credentials ---------------------------------------------
t0=$SECONDS
start_scan auth --camera "$(url a "$USER_:wrong-password")" --camera "$(url b)"
wait "$scan_pid"; scan_rc=$?; scan_pid=
for _ in $(seq 50); do grep -q '"type":"summary"' "$tmp/auth.err" && break; sleep 0.1; done
echo "auth run: $((SECONDS - t0)) s"
check $((scan_rc == 1)) "wrong/missing password: scan exits 1 by itself ($scan_rc)"
grep -q "camera \[0\] $(url a) never delivered a frame: failed: authentication failed: .*401 Unauthorized" "$tmp/auth.err" && ok=1 || ok=0
check $ok "wrong password: FAILED, \"authentication failed\", 401 Unauthorized"
grep -q "camera \[1\] $(url b) never delivered a frame: failed: authentication required: .*401 Unauthorized" "$tmp/auth.err" && ok=1 || ok=0
check $ok "no password: FAILED, \"authentication required\", 401 Unauthorized"
[ $ok = 1 ] || grep -v "openlfr debug" "$tmp/auth.err" | tail -n 8
grep -q '"index":0,[^}]*"state":"stalled\|"index":0,[^}]*"state":"connecting","reason":"[^"]' "$tmp/auth.err" && ok=0 || ok=1
check $ok "wrong password: no retry"

# Cameras of a served deployment, each with its own transport ------------------
# `openlfr serve` starts the live deployment's cameras (src/app/registry.c):
# "udp cam" (--rtsp-transport udp) on a server that accepts only UDP, and
# "tcp cam" (the default) on the H.264 server.  camera.stats is read through
# the API as an admin (accounts are made here, after the scans: from now on
# --by names an account).
t0=$SECONDS
start_server u "$tmp/h264.mp4" 0 udp
: >"$tmp/srv_a.setup"
(umask 077; url u "$USER_:$PW" >"$tmp/cam_u.url"; url a "$USER_:$PW" >"$tmp/cam_a.url")
ADMIN_PW=$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 16)
(
  export OPENLFR_LOG=warn OPENLFR_PASSWORD=$ADMIN_PW
  "$B" user add adm --name "Admin" --role admin &&
    "$B" user add opr --name "Operator" --role operator --by adm
) >"$tmp/accounts.log" 2>&1 || { cat "$tmp/accounts.log"; check 0 "accounts for the server"; }
out=$(OPENLFR_LOG=warn "$B" camera add --deployment 1 --name "udp cam" --url-file "$tmp/cam_u.url" \
  --rtsp-transport udp --by opr 2>&1)
grep -q "RTSP over udp" <<<"$out" && ok=1 || ok=0
check $ok "camera add --rtsp-transport udp: added, says udp ($out)"
OPENLFR_LOG=warn "$B" camera add --deployment 1 --name "tcp cam" --url-file "$tmp/cam_a.url" \
  --by opr >/dev/null 2>&1 && ok=1 || ok=0
check $ok "camera add without --rtsp-transport (tcp)"
out=$(OPENLFR_LOG=warn "$B" camera add --deployment 1 --name "bad" --url-file "$tmp/cam_u.url" \
  --rtsp-transport sctp --by opr 2>&1); rc=$?
[ $rc = 1 ] && grep -q 'rtsp_transport "sctp": must be tcp (the default) or udp' <<<"$out" && ok=1 || ok=0
check $ok "camera add --rtsp-transport sctp: refused, naming the value (exit $rc)"
list=$(OPENLFR_LOG=warn "$B" camera list --deployment 1 --by opr --json 2>&1)
"$PY" -c 'import json, sys
c = {x["name"]: x["rtsp_transport"] for x in json.load(sys.stdin)["cameras"]}
sys.exit(0 if c == {"udp cam": "udp", "tcp cam": "tcp"} else 1)' <<<"$list" && ok=1 || ok=0
check $ok "camera list shows each camera's transport"
port=
for _ in 1 2 3 4 5; do
  p=$((20000 + RANDOM % 20000))
  # (serve reads the key file's name from OPENLFR_KEY, as the commands above did)
  OPENLFR_LOG=debug "$B" serve --listen 127.0.0.1 --port "$p" --tls-dir "$tmp/tls" --web-root web \
    >"$tmp/serve.err" 2>&1 &
  serve_pid=$!
  for _ in $(seq 100); do
    grep -q "serving https" "$tmp/serve.err" 2>/dev/null && break
    kill -0 "$serve_pid" 2>/dev/null || break
    sleep 0.1
  done
  if grep -q "serving https" "$tmp/serve.err"; then port=$p; break; fi
  kill "$serve_pid" 2>/dev/null; wait "$serve_pid" 2>/dev/null; serve_pid=
done
[ -n "$port" ] && ok=1 || ok=0
check $ok "openlfr serve starts ($((SECONDS - t0)) s into this part)"
api="https://127.0.0.1:$port"
[ -n "$port" ] && tok=$(curl -sS --cacert "$tmp/tls/ca.pem" -H 'Content-Type: application/json' --data @- \
  "$api/api/session" <<<"{\"login\": \"adm\", \"password\": \"$ADMIN_PW\"}" |
  "$PY" -c 'import json, sys; print(json.load(sys.stdin)["token"])' 2>/dev/null)
(umask 077; echo "Authorization: Bearer $tok" >"$tmp/auth.h")
# both cameras live with frames, within 10 s of the server starting
verdict=
[ -n "$port" ] && for _ in $(seq 50); do
  curl -sS --cacert "$tmp/tls/ca.pem" -H @"$tmp/auth.h" "$api/api/deployments/1/camera-stats" \
    >"$tmp/stats.json" 2>/dev/null
  verdict=$("$PY" - "$tmp/stats.json" <<'PY' 2>/dev/null
import json, sys
c = {x["name"]: x for x in json.load(open(sys.argv[1]))["cameras"]}
u, t = c.get("udp cam", {}), c.get("tcp cam", {})
live = all(x.get("state") == "live" and x.get("frames", 0) + x.get("frames_dropped", 0) > 0 for x in (u, t))
print("%s %s %s %s %s" % (int(live), u.get("state"), u.get("rtsp_transport"), t.get("state"), t.get("rtsp_transport")))
PY
)
  [ "${verdict%% *}" = 1 ] && break
  sleep 0.2
done
echo "  camera.stats after $((SECONDS - t0)) s: live, udp cam state/transport, tcp cam state/transport: ${verdict:-none}"
[ "$verdict" = "1 live udp live tcp" ] && ok=1 || ok=0
check $ok "served: \"udp cam\" and \"tcp cam\" LIVE with frames; camera.stats says udp and tcp"
[ $ok = 1 ] || { tail -n 5 "$tmp/stats.json"; grep -v "openlfr debug" "$tmp/serve.err" | tail -n 8; }
n=$(grep -c "^setup .*client_port=" "$tmp/srv_u.setup"); m=$(grep -c "interleaved=" "$tmp/srv_u.setup")
check $((n >= 1 && m == 0)) "served: the UDP-only server saw the camera's SETUP over UDP ($n UDP, $m TCP)"
n=$(grep -c "^setup .*interleaved=" "$tmp/srv_a.setup"); m=$(grep -c "client_port=" "$tmp/srv_a.setup")
check $((n >= 1 && m == 0)) "served: the default camera's SETUP was over TCP ($n TCP, $m UDP)"
rc=1
[ -n "$serve_pid" ] && { kill -TERM "$serve_pid"; wait "$serve_pid"; rc=$?; serve_pid=; }
check $((rc == 0)) "openlfr serve stops cleanly ($rc)"
echo "served run: $((SECONDS - t0)) s"

# The password never shows -----------------------------------------------------
leaks=$(cat "$tmp"/*.out "$tmp"/*.err | grep -c -F -e "$PW" -e "ss-w0rd" -e "wrong-password")
lines=$(cat "$tmp"/*.out "$tmp"/*.err | wc -l)
check $((leaks == 0)) "the password is in none of $lines output and debug log lines ($leaks)"
dbleak=$(cat "$OPENLFR_DB"* | grep -a -c -F -e "$PW" -e "ss-w0rd")
check $((dbleak == 0)) "the password is not in the database ($dbleak)"
grep -q "\"name\":\"$(url a)\"" "$tmp/tcp.err" && ok=1 || ok=0
check $ok "the camera is named by its URL without credentials"

echo "total: $((SECONDS - t_start)) s"
echo "$name: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
