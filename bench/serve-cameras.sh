#!/usr/bin/env bash
# bench/serve-cameras.sh BUILD [SECONDS] - issue 13 end to end: four 1080p25
# RTSP cameras in a live deployment of `openlfr serve`, with an operator's
# console session watching, on this machine.  bench/bench_pipeline.c times
# the pipeline alone; this times the product as it runs in the van.
#
#   1. The clip: bench/make-clips.sh BUILD/bench/clips (clip-1080p-h264.mp4,
#      24 s of 1920x1080 H.264 at 25 fps, 6 Mbit/s: an IP camera's stream),
#      repeated by stream copy (ffmpeg -stream_loop N -c copy) to cover the
#      warm-up, the window and a margin (tools/rtsp-server.py plays a file
#      once per session, it does not loop).
#   2. Four tools/rtsp-server.py (GStreamer's RTSP server) on free ports,
#      TCP only, each playing the long clip in real time.
#   3. A fresh database in a temporary directory: accounts (admin, operator,
#      authorising officer), a deployment in the default model set
#      (fused704) at threshold $THRESHOLD (default 0.62: fused704's
#      equivalent of the 0.70 default, `openlfr deployment create --help`),
#      whose watchlist is the faces of models/photos/sample1.jpg (cropped
#      with a margin and straightened as tools/demo.sh does, warnings
#      accepted as bench_pipeline does; the person on its left is in
#      sample3.jpg, which the clip shows four times in 24 s), the four RTSP
#      URLs as its cameras (TCP, the default), authorised and started.  The
#      camera settings are serve's (detect_every, embed_per_frame,
#      camera_queue, analysis_threads, alert_cooldown_s: `openlfr serve
#      --help`), its defaults unless SERVE_OPTS says otherwise; the report
#      shows those camera.stats says the pipeline runs with.
#   4. `openlfr serve` (the van's own CA in the temporary directory) starts
#      the cameras.  Warm-up: every camera LIVE with frames analysed (at
#      most 60 s) and at least $WARMUP_S (default 10) s since serve started.
#      Then for SECONDS (default 60) the operator's console session is
#      open: the live-event stream (curl -N /api/events, its lines stamped
#      on arrival) and the live view (GET /api/cameras/ID/preview of the
#      first camera every $PREVIEW_MS, default 500 ms, with camera.stats
#      every second as the console's live view reads it).  camera.stats is
#      read at the start and at the end of the window.
#   5. Report (markdown on stdout, JSON in BUILD/bench/serve/): per camera
#      and in total, over the window: frames decoded, analysed, dropped
#      (dropped % = dropped / decoded), decoded and analysed fps, alerts
#      (alert.new events on the stream in the window) and their latency
#      (the event's latency_ms: frame capture -> alert queued) median / p95,
#      with camera.stats' rolling latency p50 / p95 at the end (the
#      pipeline's window of the last alerts, not only this one's); the live
#      view's answers (count, HTTP status, time median / p95); CPU in cores
#      (utime + stime from /proc/PID/stat over the window) of openlfr serve
#      and of the four RTSP servers together; the load average; the CPU
#      model (lscpu); the frames detected in full / near the tracks / not
#      at all, and the due full detections deferred because a camera was
#      behind (camera.stats; pipeline.h OVERVIEW: detect).
#
# Environment: SERVE_OPTS (serve's camera settings, e.g. "--camera-queue 3";
# none), WARMUP_S (10), PREVIEW_MS (500), THRESHOLD (0.62),
# OPENLFR_MODELS (models), KEEP_TMP=1 keeps the temporary directory (the
# database, serve's log, the event stream).  Everything started here is
# stopped on exit, Ctrl-C and errors.  The figures are this machine's at
# this moment: run it on a quiet machine (nothing else building).
set -euo pipefail
die() { printf 'serve-cameras: error: %s\n' "$*" >&2; exit 1; }
say() { printf 'serve-cameras: %s\n' "$*" >&2; }
[ $# -ge 1 ] && [ $# -le 2 ] || die "usage: bench/serve-cameras.sh BUILD [SECONDS]"
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
abs() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$root/$1" ;; esac; }
build=$(abs "$1")
secs=${2:-60}
warmup_s=${WARMUP_S:-10}
preview_ms=${PREVIEW_MS:-500}
threshold=${THRESHOLD:-0.62}
for v in secs warmup_s preview_ms; do
    case ${!v} in '' | *[!0-9]* | 0) die "$v must be a positive whole number, not '${!v}'" ;; esac
done
openlfr=$build/openlfr
[ -x "$openlfr" ] || die "no $openlfr: build it first (make BUILD=${1%/} ${1%/}/openlfr)"
models=$(abs "${OPENLFR_MODELS:-models}")
[ -f "$models/MANIFEST.tsv" ] && [ -f "$models/photos/sample1.jpg" ] ||
    die "no models in $models (run make setup)"
for tool in ffmpeg ffprobe curl python3 lscpu getconf; do
    command -v "$tool" >/dev/null || die "$tool not found (tools/setup.sh deps)"
done
PY=/usr/bin/python3
"$PY" - <<'PY' 2>/dev/null || die "GStreamer's RTSP server is not usable from $PY (tools/setup.sh deps: python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-good gstreamer1.0-plugins-bad)"
import gi
gi.require_version("Gst", "1.0"); gi.require_version("GstRtspServer", "1.0")
from gi.repository import Gst, GstRtspServer
Gst.init(None)
assert all(Gst.ElementFactory.find(e) for e in ("qtdemux", "h264parse", "rtph264pay"))
PY
unset OPENLFR_DB OPENLFR_KEY_FILE OPENLFR_KEY OPENLFR_PORT OPENLFR_LISTEN OPENLFR_TLS_DIR \
      OPENLFR_CERT OPENLFR_CERT_KEY OPENLFR_CONFIG OPENLFR_PASSWORD OPENLFR_CAMERA_URL OPENLFR_LOG
export OPENLFR_MODELS=$models
hz=$(getconf CLK_TCK)
ncam=4

# Everything started here, stopped on exit -----------------------------------
tmp=$(mktemp -d /tmp/lfr_serve_cameras_XXXXXX)
srv_pids=() serve_pid= sse_pid= poll_pid= nap_pid=
stop_pid() { # PID: SIGTERM, SIGKILL after 10 s
    local p=$1
    [ -n "$p" ] && kill -0 "$p" 2>/dev/null || return 0
    kill -TERM "$p" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
}
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_pid "$nap_pid"
    stop_pid "$poll_pid"
    stop_pid "$sse_pid"
    stop_pid "$serve_pid"
    for p in "${srv_pids[@]}"; do stop_pid "$p"; done
    if [ -n "${KEEP_TMP:-}" ] || [ "$rc" != 0 ]; then
        rm -f -- "$tmp/clip-1080p-h264-long.mp4"
        say "kept $tmp (database, serve.log, events.log; remove it when done)"
    else
        rm -rf -- "$tmp"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'say interrupted; exit 130' INT TERM
nap() { sleep "$1" & nap_pid=$!; wait $nap_pid; nap_pid=; }   # a signal interrupts wait, not a sleep

# 1. The clip -------------------------------------------------------------------
bench/make-clips.sh "$build/bench/clips" || die "bench/make-clips.sh failed"
clip=$build/bench/clips/clip-1080p-h264.mp4
dur() { ffprobe -v error -show_entries format=duration -of default=nw=1:nk=1 "$1"; }
clip_s=$(dur "$clip") || die "ffprobe cannot read $clip"
# serve start + warm-up (at most 60 s) + window + reading the end: the
# sessions start when serve connects, so the margin covers a slow warm-up.
need_s=$((warmup_s + secs + 45))
loops=$("$PY" -c "import math, sys; print(math.ceil($need_s / float(sys.argv[1])))" "$clip_s")
long=$tmp/clip-1080p-h264-long.mp4
ffmpeg -nostdin -hide_banner -loglevel error -y -stream_loop $((loops - 1)) -i "$clip" -c copy \
    "$long" || die "ffmpeg could not repeat $clip"
long_s=$(dur "$long")
say "clip: $clip (${clip_s} s) x $loops = ${long_s} s"

# 2. Four RTSP cameras -------------------------------------------------------------
urls=()
for i in $(seq 1 $ncam); do
    "$PY" tools/rtsp-server.py --file "$long" --codec h264 --port 0 --protocols tcp \
        >"$tmp/rtsp$i.out" 2>"$tmp/rtsp$i.err" &
    srv_pids+=($!)
done
for i in $(seq 1 $ncam); do
    for _ in $(seq 100); do grep -q '^ready ' "$tmp/rtsp$i.out" && break; sleep 0.1; done
    u=$(awk '/^ready /{print $2}' "$tmp/rtsp$i.out")
    [ -n "$u" ] || die "RTSP server $i did not start: $(tail -3 "$tmp/rtsp$i.err")"
    urls+=("$u")
done
say "RTSP cameras: ${urls[*]}"

# 3. The database: accounts, deployment, watchlist, cameras --------------------------
export OPENLFR_DB=$tmp/openlfr.db
setup_log=$tmp/setup.log
ol() { "$openlfr" "$@" 2>>"$setup_log" || die "openlfr $1 $2 failed: $(tail -3 "$setup_log")"; }
newpw() { head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 16; }
declare -A pw
for a in admin:admin operator:operator authoriser:authorising_officer; do
    login=${a%%:*} role=${a#*:}
    pw[$login]=$(newpw)
    by=(--by admin)
    [ "$login" = admin ] && by=()
    OPENLFR_PASSWORD=${pw[$login]} ol user add "$login" --name "Bench $login" --role "$role" \
        "${by[@]}" >/dev/null
done
now=$(date +%s)
ol deployment create --name "bench: 4 RTSP cameras" --location "loopback RTSP servers" \
    --purpose "benchmark (issue 13): finds the people of sample1.jpg in the clip" \
    --legal-basis "none: benchmark with demo photos" --start $((now - 60)) \
    --end $((now + 86400)) --threshold "$threshold" --by operator --json >"$tmp/deployment.json"
read -r dep model_set < <("$PY" -c 'import json, sys
j = json.load(open(sys.argv[1])); d = j.get("deployment", j)
print(d["id"], d.get("model_set", "?"))' "$tmp/deployment.json") ||
    die "deployment create answered no id: $(head -c 300 "$tmp/deployment.json")"
# The watchlist: every face of sample1.jpg, cropped with a margin and
# straightened (tools/demo.sh), enrolled with warnings accepted (bench_pipeline).
wl=$tmp/watchlist
mkdir -p "$wl"
ol detect --json "$models/photos/sample1.jpg" >"$tmp/sample1.json"
"$PY" - "$tmp/sample1.json" >"$tmp/crops.txt" <<'PY'
import json, math, sys
j = json.load(open(sys.argv[1]))
W, H = j["width"], j["height"]
for i, f in enumerate(j["faces"]):
    x, y, w, h = f["box"]
    m = 0.8
    x0, y0 = max(0, int(x - m * w)), max(0, int(y - m * h))
    x1, y1 = min(W, int(x + w * (1 + m))), min(H, int(y + h * (1 + m)))
    (ax, ay), (bx, by) = f["landmarks"][0], f["landmarks"][1]
    print(i + 1, x1 - x0, y1 - y0, x0, y0, "%.4f" % -math.atan2(by - ay, bx - ax))
PY
[ -s "$tmp/crops.txt" ] || die "no face found in $models/photos/sample1.jpg"
echo "file,subject_ref,display_name,category,reason,image_source,image_date" >"$wl/manifest.csv"
while read -r i w h x y a; do
    ffmpeg -nostdin -hide_banner -loglevel error -y -i "$models/photos/sample1.jpg" \
        -vf "crop=$w:$h:$x:$y,rotate=$a" -q:v 2 "$wl/face-$i.jpg" || die "ffmpeg could not crop face $i"
    echo "face-$i.jpg,BENCH-$i,Bench person $i,wanted_on_warrant,benchmark: a face of the face-api photo sample1.jpg,face-api demo photo sample1.jpg (npm),2020" \
        >>"$wl/manifest.csv"
done <"$tmp/crops.txt"
ol watchlist import --deployment "$dep" --dir "$wl" --manifest "$wl/manifest.csv" \
    --accept-warnings "benchmark: demo photos, as bench_pipeline enrols them" --by operator \
    >"$tmp/import.txt"
enrolled=$(grep -c ': added' "$tmp/import.txt" || true)
[ "$enrolled" -ge 1 ] || die "no face of sample1.jpg was enrolled: $(cat "$tmp/import.txt")"
for i in $(seq 1 $ncam); do
    ol camera add --deployment "$dep" --name "cam$i" --url "${urls[$((i - 1))]}" --by operator >/dev/null
done
ol deployment authorise "$dep" --by authoriser >/dev/null
ol deployment start "$dep" --by authoriser >/dev/null
say "deployment $dep ($model_set, threshold $threshold): $enrolled watchlist entries, $ncam cameras"

# 4. openlfr serve -------------------------------------------------------------------
log=$tmp/serve.log
port=
for _ in 1 2 3 4 5 6 7 8; do
    p=$((20000 + RANDOM % 30000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue
    # shellcheck disable=SC2086  # SERVE_OPTS: words, e.g. "--camera-queue 3"
    "$openlfr" serve --listen 127.0.0.1 --port "$p" --tls-dir "$tmp/tls" --web-root web \
        --log warn ${SERVE_OPTS:-} >"$log" 2>&1 &
    serve_pid=$!
    for _ in $(seq 300); do
        grep -q '^openlfr: serving https://' "$log" && break
        kill -0 "$serve_pid" 2>/dev/null || break
        sleep 0.1
    done
    if grep -q '^openlfr: serving https://' "$log"; then port=$p; break; fi
    stop_pid "$serve_pid"
    serve_pid=
done
[ -n "$port" ] || die "openlfr serve did not start: $(tail -5 "$log")"
t_serve=$(date +%s.%N)
api=https://127.0.0.1:$port
ca=$tmp/tls/ca.pem
tok=$(curl -sS --fail-with-body --cacert "$ca" -H 'Content-Type: application/json' --data @- \
    "$api/api/session" <<<"{\"login\": \"operator\", \"password\": \"${pw[operator]}\"}" |
    "$PY" -c 'import json, sys; print(json.load(sys.stdin)["token"])') ||
    die "could not sign in as operator on $api"
(umask 077; echo "Authorization: Bearer $tok" >"$tmp/auth.h")
get() { curl -sS --fail-with-body --cacert "$ca" -H @"$tmp/auth.h" "$api$1"; }
stats() { get "/api/deployments/$dep/camera-stats"; }

# The console's live-event stream, open from now on; each line stamped on arrival.
stamp() { "$PY" -u -c 'import signal, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)   # (Ctrl-C: it ends when curl does)
for l in sys.stdin:
    sys.stdout.write("%.3f %s" % (time.time(), l))'; }
curl -sS -N --cacert "$ca" -H @"$tmp/auth.h" "$api/api/events" > >(stamp >"$tmp/events.log") \
    2>"$tmp/events.err" &
sse_pid=$!

# Warm-up: every camera LIVE and analysing, and WARMUP_S since serve started.
ready=
for _ in $(seq 600); do
    kill -0 "$serve_pid" 2>/dev/null || die "openlfr serve stopped: $(tail -5 "$log")"
    ready=$(stats 2>/dev/null | "$PY" -c 'import json, sys
c = json.load(sys.stdin)["cameras"]
print(int(len(c) == int(sys.argv[1]) and all(x["state"] == "live" and x["frames_analysed"] > 0 for x in c)))' \
        "$ncam" 2>/dev/null || echo 0)
    [ "$ready" = 1 ] && break
    sleep 0.1
done
t_live=$(date +%s.%N)
live_s=$("$PY" -c "print('%.1f' % ($t_live - $t_serve))")
if [ "$ready" != 1 ]; then
    stats >"$tmp/stats-warmup.json" 2>&1 || true
    die "the cameras were not all LIVE and analysing 60 s after serve started: $(head -c 600 "$tmp/stats-warmup.json")"
fi
rest=$("$PY" -c "print(max(0.0, $warmup_s - ($t_live - $t_serve)))")
say "all $ncam cameras live and analysing ${live_s} s after serve started; warm-up until ${warmup_s} s"
nap "$rest"
left=$("$PY" -c "print(int($long_s - ($(date +%s.%N) - $t_serve) - $secs - 5))")
[ "$left" -ge 0 ] || die "the long clip ends before the window would (warm-up too slow): lower SECONDS"
kill -0 "$sse_pid" 2>/dev/null || die "the event stream closed: $(cat "$tmp/events.err")"

# The window ------------------------------------------------------------------------
cpu_of() { # PIDs... -> their utime + stime, in clock ticks, summed
    local t=0 p s f
    for p in "$@"; do
        s=$(cat "/proc/$p/stat") || die "process $p is gone"
        read -ra f <<<"${s##*) }"      # from field 3 (state) on: utime, stime are 14, 15
        t=$((t + f[11] + f[12]))
    done
    echo "$t"
}
cam1=$(stats | "$PY" -c 'import json, sys
print(next(c["camera_id"] for c in json.load(sys.stdin)["cameras"] if c["name"] == "cam1"))') ||
    die "camera.stats has no camera cam1"
say "window: $secs s (live view of cam1 every $preview_ms ms, event stream open)"
t0=$(date +%s.%N)
stats >"$tmp/stats0.json" || die "camera.stats failed at the start of the window"
c0_serve=$(cpu_of "$serve_pid")
c0_rtsp=$(cpu_of "${srv_pids[@]}")
pause=$(awk "BEGIN { print $preview_ms / 1000 }")
every=$(( preview_ms >= 1000 ? 1 : 1000 / preview_ms ))   # camera.stats once a second
(
    n=0
    while :; do
        curl -sS -o /dev/null --cacert "$ca" -H @"$tmp/auth.h" \
            -w '%{http_code} %{time_total} %{size_download}\n' "$api/api/cameras/$cam1/preview" \
            >>"$tmp/preview.log" 2>>"$tmp/preview.err" || echo "000 0 0" >>"$tmp/preview.log"
        if [ $((n % every)) = 0 ]; then
            curl -sS -o /dev/null --cacert "$ca" -H @"$tmp/auth.h" -w '%{http_code}\n' \
                "$api/api/deployments/$dep/camera-stats" >>"$tmp/statspoll.log" 2>/dev/null || true
        fi
        n=$((n + 1))
        sleep "$pause"
    done
) &
poll_pid=$!
nap "$("$PY" -c "print(max(0.0, $t0 + $secs - $(date +%s.%N)))")"
t1=$(date +%s.%N)
stats >"$tmp/stats1.json" || die "camera.stats failed at the end of the window"
c1_serve=$(cpu_of "$serve_pid")
c1_rtsp=$(cpu_of "${srv_pids[@]}")
read -r load1 load5 load15 _ </proc/loadavg
stop_pid "$poll_pid"
poll_pid=
sse_open=0
kill -0 "$sse_pid" 2>/dev/null && sse_open=1
sleep 0.5   # the stamper writes out the last lines
stop_pid "$sse_pid"
sse_pid=

# 5. Report --------------------------------------------------------------------------
cpu_model=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
mkdir -p "$build/bench/serve"
out=$build/bench/serve/serve-cameras-$(date -u +%Y%m%dT%H%M%SZ).json
"$PY" - "$tmp" "$out" <<PY
import json, statistics, sys
tmp, out = sys.argv[1], sys.argv[2]
t0, t1 = $t0, $t1
win = t1 - t0
s0 = {c["name"]: c for c in json.load(open(tmp + "/stats0.json"))["cameras"]}
s1 = {c["name"]: c for c in json.load(open(tmp + "/stats1.json"))["cameras"]}
settings = json.load(open(tmp + "/stats1.json")).get("settings") or {}

def pct(xs, q):
    if not xs: return None
    xs = sorted(xs)
    k = min(len(xs) - 1, max(0, int(round(q * (len(xs) - 1)))))
    return xs[k]

# the event stream: "event:" then "data:" lines, stamped on arrival
events, cur = [], None
for line in open(tmp + "/events.log"):
    t, _, rest = line.rstrip("\n").partition(" ")
    if rest.startswith("event:"): cur = rest[6:].strip()
    elif rest.startswith("data:") and cur:
        try: d = json.loads(rest[5:])
        except ValueError: d = {}
        events.append((float(t), cur, d))
    elif rest == "": cur = None
inwin = [(t, e, d) for t, e, d in events if t0 <= t <= t1]
before = sum(1 for t, e, _d in events if t < t0 and e == "alert.new")
types = {}
for _, e, _d in inwin: types[e] = types.get(e, 0) + 1

def lat(name, kind):
    return [d["latency_ms"] for _, e, d in inwin
            if e == kind and "latency_ms" in d and (name is None or d.get("camera") == name)]

rows, tot = [], {"decoded": 0, "frames": 0, "analysed": 0, "dropped": 0, "detect_full": 0,
                 "detect_near": 0, "detect_none": 0, "detect_deferred": 0}
for name in sorted(s1):
    a, b = s0.get(name, {}), s1[name]
    d = {k: b.get(k2, 0) - a.get(k2, 0) for k, k2 in
         (("decoded", "decoded"), ("frames", "frames"), ("analysed", "frames_analysed"),
          ("dropped", "frames_dropped"), ("detect_full", "detect_full"),
          ("detect_near", "detect_near"), ("detect_none", "detect_none"),
          ("detect_deferred", "detect_deferred"))}
    for k in tot: tot[k] += d[k]
    ln = lat(name, "alert.new")
    rows.append({"camera": name, "state_end": b["state"], **d,
                 "dropped_pct": 100.0 * d["dropped"] / d["decoded"] if d["decoded"] else None,
                 "decoded_fps": d["decoded"] / win, "analysed_fps": d["analysed"] / win,
                 "alerts": len(ln), "alert_updates": len(lat(name, "alert.update")),
                 "latency_ms_p50": pct(ln, 0.5), "latency_ms_p95": pct(ln, 0.95),
                 "stats_latency_ms_p50": b.get("latency_p50_ms"),
                 "stats_latency_ms_p95": b.get("latency_p95_ms"),
                 "stats_alerts_delta": b.get("alerts", 0) - a.get("alerts", 0),
                 "alerts_suppressed_delta": b.get("alerts_suppressed", 0) - a.get("alerts_suppressed", 0)})
la = lat(None, "alert.new")
total = {"camera": "total", **tot,
         "dropped_pct": 100.0 * tot["dropped"] / tot["decoded"] if tot["decoded"] else None,
         "decoded_fps": tot["decoded"] / win, "analysed_fps": tot["analysed"] / win,
         "alerts": len(la), "alert_updates": len(lat(None, "alert.update")),
         "latency_ms_p50": pct(la, 0.5), "latency_ms_p95": pct(la, 0.95),
         "stats_alerts_delta": sum(r["stats_alerts_delta"] for r in rows),
         "alerts_suppressed_delta": sum(r["alerts_suppressed_delta"] for r in rows)}
pv = [l.split() for l in open(tmp + "/preview.log")] if __import__("os").path.exists(tmp + "/preview.log") else []
pv_ok = [float(x[1]) * 1000 for x in pv if x[0] == "200"]
codes = {}
for x in pv: codes[x[0]] = codes.get(x[0], 0) + 1
hz = $hz
res = {
    "window_s": win, "warmup_s": $warmup_s, "cameras_live_after_s": $live_s,
    "clip": "$clip", "clip_s": float("$clip_s"), "cameras": $ncam, "rtsp_transport": "tcp",
    "model_set": "$model_set", "threshold": $threshold, "watchlist_entries": $enrolled,
    "camera_settings": settings, "serve_opts": "${SERVE_OPTS:-}",
    "per_camera": rows, "total": total,
    "events_in_window": types, "alerts_before_window": before, "event_stream_open_at_end": bool($sse_open),
    "live_view": {"camera": "cam1", "every_ms": $preview_ms, "requests": len(pv), "status": codes,
                  "time_ms_p50": pct(pv_ok, 0.5), "time_ms_p95": pct(pv_ok, 0.95)},
    "cpu_cores": {"openlfr_serve": ($c1_serve - $c0_serve) / hz / win,
                  "rtsp_servers": ($c1_rtsp - $c0_rtsp) / hz / win},
    "loadavg": [$load1, $load5, $load15], "nproc": $(nproc),
    "cpu_model": """$cpu_model""",
}
json.dump(res, open(out, "w"), indent=1)

f = lambda v, p=1: "-" if v is None else ("%.*f" % (p, v))
print("## openlfr serve: %d RTSP cameras (1080p25 H.264, TCP), %.1f s window" % ($ncam, win))
print()
print("Deployment: model set %s, threshold %s, %d watchlist entries (sample1.jpg); camera settings "
      "(camera.stats): %s. Console session open: event stream + live view of cam1 "
      "every %d ms. CPU: %s (%d cores)." % (res["model_set"], res["threshold"],
      res["watchlist_entries"], ", ".join("%s %s" % kv for kv in sorted(settings.items())),
      $preview_ms, res["cpu_model"], res["nproc"]))
print()
print("| camera | state | decoded | decoded fps | analysed | analysed fps | dropped | dropped % "
      "| alerts | latency p50 / p95 ms | camera.stats p50 / p95 ms (rolling) |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in rows + [total]:
    print("| %s | %s | %d | %s | %d | %s | %d | %s | %d (+%d updates) | %s / %s | %s / %s |" % (
        r["camera"], r.get("state_end", ""), r["decoded"], f(r["decoded_fps"]), r["analysed"],
        f(r["analysed_fps"]), r["dropped"], f(r["dropped_pct"], 2), r["alerts"], r["alert_updates"],
        f(r["latency_ms_p50"], 0), f(r["latency_ms_p95"], 0),
        f(r.get("stats_latency_ms_p50"), 0), f(r.get("stats_latency_ms_p95"), 0)))
print()
c = res["cpu_cores"]
print("CPU over the window: openlfr serve %.2f cores, the %d RTSP servers %.2f cores; "
      "load average %s %s %s." % (c["openlfr_serve"], $ncam, c["rtsp_servers"], $load1, $load5, $load15))
print("Detection over the window, all cameras: %d frames in full, %d near the tracks, %d not "
      "detected; %d due full detections deferred (camera behind)." % (total["detect_full"],
      total["detect_near"], total["detect_none"], total["detect_deferred"]))
lv = res["live_view"]
print("Live view: %d requests, status %s, time p50 %s / p95 %s ms. Events in the window: %s; "
      "event stream open at the end: %s." % (lv["requests"], lv["status"], f(lv["time_ms_p50"], 0),
      f(lv["time_ms_p95"], 0), types or "none", "yes" if $sse_open else "NO"))
print("Alerts: alert.new events that arrived on the stream in the window; latency = their "
      "latency_ms (frame capture -> alert queued). New tracks of a listed person suppressed by the "
      "30 s cooldown in the window: %d; alerts before the window (warm-up, not counted): %d. "
      "camera.stats' latency is the pipeline's rolling window of recent alerts, warm-up ones "
      "included." % (total["alerts_suppressed_delta"], before))
print()
print("JSON: " + out)
PY
