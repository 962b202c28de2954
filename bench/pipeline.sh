#!/usr/bin/env bash
# bench/pipeline.sh BUILD - the pipeline table of `make bench` (issue 13):
# 1..4 cameras played in real time through the live pipeline, with ONNX
# Runtime's network-only time for the same network calls, and the decode
# cost per frame by codec.  Called at the end of bench/run.sh (which
# installs ONNX Runtime first); can be run alone afterwards.  Appends its
# tables to bench/results.md (and prints them); JSON in BUILD/bench/pipeline/.
#
#   1. clips: bench/make-clips.sh (1080p and 720p H.264, 1080p H.265 and
#      MJPEG, 24 s at 25 fps, from the face-api demo photos);
#   2. decode cost: BUILD/bench_pipeline --decode (the video module: decode
#      + YUV -> RGB at the source size, one decoder thread) and FFmpeg's
#      own decoder (`ffmpeg -threads T -i CLIP -f null -`, T = 1 and 2:
#      frame threading), CPU time per frame;
#   3. pipeline: BUILD/bench_pipeline for PIPE_CAMERAS (1,2,3,4) cameras of
#      the 1080p and of the 720p clip, BENCH_DURATION_S (20) seconds each
#      after a warm-up, recording every network call;
#   4. ONNX Runtime replays the recorded calls of each run (bench/ort_face.js,
#      networks only, one thread, pinned) on the models run.sh exports.
#
# Environment: BENCH_DURATION_S (20), PIPE_CAMERAS (1,2,3,4), PIPE_CLIPS
# ("1080p 720p 1080p-together": "-together" starts the cameras at once,
# the others PIPE_STAGGER (0.75) s apart), PIPE_TABLES_ONLY (1: only the tables again, from the JSON
# of the last run), PIPE_THREADS (analysis workers, 0 = the pipeline's
# default), PIPE_DETECT_EVERY (full detection every N analysed frames, near
# the tracks between: pipeline.h; 0 = the pipeline's default, 1 = every
# frame in full), ORT_PASSES (3), OPENLFR_MODELS, PYTHON, RESULTS (the markdown file
# appended to, default bench/results.md).
set -euo pipefail

die() { printf 'bench/pipeline.sh: error: %s\n' "$*" >&2; exit 1; }
say() { printf 'bench/pipeline.sh: %s\n' "$*" >&2; }

[ $# -ge 1 ] || die "usage: bench/pipeline.sh BUILD"
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(cd "$1" 2>/dev/null && pwd) || die "no build directory $1"
bench=$root/bench
models=${OPENLFR_MODELS:-$root/models}
out=$build/bench
pout=$out/pipeline
py=${PYTHON:-/usr/bin/python3}
dur=${BENCH_DURATION_S:-20}
cams=${PIPE_CAMERAS:-1,2,3,4}
clips=${PIPE_CLIPS:-1080p 720p 1080p-together}
stagger=${PIPE_STAGGER:-0.75}
threads=${PIPE_THREADS:-0}
every=${PIPE_DETECT_EVERY:-0}
ort_passes=${ORT_PASSES:-3}
bin=$build/bench_pipeline
results=${RESULTS:-$bench/results.md}
mkdir -p "$pout"

[ -x "$bin" ] || die "$bin not found (make BUILD=$(basename "$build") $(basename "$build")/bench_pipeline)"
(cd "$bench" && node -e 'require("onnxruntime-node")' 2>/dev/null) ||
    die "onnxruntime-node is not installed in bench/ (bench/run.sh installs it)"
pin=()
if command -v taskset >/dev/null 2>&1 && taskset -c 0 true 2>/dev/null; then pin=(taskset -c 0); fi
ncpu=$(getconf _NPROCESSORS_ONLN)   # not nproc: GNU nproc honours OMP_NUM_THREADS
export OMP_NUM_THREADS=1

if [ "${PIPE_TABLES_ONLY:-0}" != 1 ]; then
# --- 1. clips -------------------------------------------------------------------
"$bench/make-clips.sh" "$out/clips" "$models/photos"
clip_of() { echo "$out/clips/clip-${1%-together}-h264.mp4"; }
# "-together": the cameras start at the same moment (see the table's text)
stagger_of() { case $1 in *-together) echo 0 ;; *) echo "$stagger" ;; esac; }

# --- 2. decode cost ---------------------------------------------------------------
dec=("$out/clips/clip-1080p-h264.mp4" "$out/clips/clip-1080p-hevc.mp4"
     "$out/clips/clip-1080p-mjpeg.mkv" "$out/clips/clip-720p-h264.mp4")
say "decode cost (video module, one decoder thread, pinned)"
args=()
for f in "${dec[@]}"; do args+=(--decode "$f"); done
"${pin[@]}" "$bin" "${args[@]}" --json >"$pout/decode.json" || die "bench_pipeline --decode failed"
say "decode cost (ffmpeg -threads 1 and 2: FFmpeg's decoder alone, frame threading)"
: >"$pout/ffmpeg.tsv"
for f in "${dec[@]}"; do
    for t in 1 2; do
        line=$(ffmpeg -nostdin -hide_banner -benchmark -threads "$t" -i "$f" -f null - 2>&1 |
            grep -o 'bench: utime=.*' | tail -n1) || die "ffmpeg could not decode $f"
        frames=$(ffprobe -v error -count_packets -select_streams v:0 \
            -show_entries stream=nb_read_packets -of csv=p=0 "$f")
        printf '%s\t%s\t%s\t%s\n' "$(basename "$f")" "$t" "$frames" "$line" >>"$pout/ffmpeg.tsv"
    done
done

# --- 3. pipeline runs ----------------------------------------------------------------
for c in $clips; do
    clip=$(clip_of "$c")
    [ -f "$clip" ] || die "no clip $clip"
    say "pipeline: $c, cameras $cams, ${dur} s each (after a warm-up of 3 s or more)"
    BENCH_DURATION_S=$dur "$bin" "$models" --clip "$clip" --label "$c" --cameras "$cams" \
        --threads "$threads" --detect-every "$every" --stagger "$(stagger_of "$c")" --workload "$pout/workload-$c.json" --json >"$pout/pipeline-$c.json" ||
        die "bench_pipeline failed on $clip"
done

# --- 4. ONNX Runtime on the same calls -----------------------------------------------
export_lfrm() { # NAME SHAPE -> path
    local dst=$out/${1}_${2//,/x}.onnx
    [ -f "$models/$1.lfrm" ] || die "$models/$1.lfrm not found"
    if [ ! -f "$dst" ] || [ "$models/$1.lfrm" -nt "$dst" ] || [ "$bench/export_onnx.py" -nt "$dst" ]; then
        "$py" "$bench/export_onnx.py" "$models/$1.lfrm" "$dst" --input "$2" >&2 ||
            die "export of $models/$1.lfrm failed"
    fi
}
# the original RFB ONNX file, from the verified tarball (as bench/run.sh does)
if [ ! -f "$out/fr_detect.onnx" ]; then
    lock=${OPENLFR_MODELS_LOCK:-$root/tools/models.lock}
    line=$(grep -E '^[^#].*[[:space:]]rfb[[:space:]]' "$lock" | head -n1) || die "no rfb entry in $lock"
    read -r spec _integ path sha _ <<<"$line"
    pkg=${spec%@*} ver=${spec##*@}
    pkg=${pkg#@}
    tgz=$models/.cache/${pkg//\//-}-$ver.tgz
    [ -f "$tgz" ] || die "$tgz not found: run 'make models' (tools/setup.sh models) first"
    tmpx=$(mktemp -d)
    tar -xzf "$tgz" -C "$tmpx" -- "$path"
    [ "$(sha256sum "$tmpx/$path" | cut -d' ' -f1)" = "$sha" ] ||
        die "$path in $tgz does not match the sha256 in $lock"
    mv "$tmpx/$path" "$out/fr_detect.onnx"
    rm -rf "$tmpx"
fi
export_rfb() { # H W
    local dst=$out/rfb_orig_1x3x$1x$2.onnx
    if [ ! -f "$dst" ] || [ "$bench/export_onnx.py" -nt "$dst" ]; then
        "$py" "$bench/export_onnx.py" --cut-onnx "$out/fr_detect.onnx" "$dst" \
            --input "1,3,$1,$2" --outputs scores,462 >&2 || die "cutting fr_detect.onnx failed"
    fi
}
for c in $clips; do
    wl=$pout/workload-$c.json
    needs=$("$py" - "$wl" <<'EOF'
import json, sys
wl = json.load(open(sys.argv[1]))
need = set()
for s in wl["sizes"]:
    for f in s["frames"]:
        need.add(("rfb", f["rfb"][1], f["rfb"][2]))
        for k in ("onet", "mfn", "mfn512", "lm68"):
            for n in f.get(k, []): need.add((k, n, 0))
for k, a, b in sorted(need): print(k, a, b)
EOF
    ) || die "cannot read $wl"
    while read -r kind a b; do
        case $kind in
        rfb) export_rfb "$a" "$b" ;;
        onet) export_lfrm onet "$a,48,48,3" ;;
        mfn) export_lfrm mobilefacenet "$a,112,112,3" ;;
        mfn512) export_lfrm mfn512 "$a,112,112,3" ;;
        lm68) export_lfrm lm68 "$a,64,64,1" ;;
        esac
    done <<<"$needs"
    say "ONNX Runtime: the network calls of the $c runs (ort_face.js, $ort_passes passes)"
    "${pin[@]}" node "$bench/ort_face.js" "$wl" \
        --rfb "$out/rfb_orig_1x3x{H}x{W}.onnx" --rfb-layout nchw \
        --onet "$out/onet_{N}x48x48x3.onnx" --mfn "$out/mobilefacenet_{N}x112x112x3.onnx" \
        --mfn512 "$out/mfn512_{N}x112x112x3.onnx" --lm68 "$out/lm68_{N}x64x64x1.onnx" --clock cpu \
        --passes "$ort_passes" --warmup 1 >"$pout/ort-$c.json" || die "ort_face.js failed on $wl"
done

fi   # PIPE_TABLES_ONLY

# --- tables -------------------------------------------------------------------------------
cpu=$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n1)
"$py" - "$results" "$pout" "$clips" "$dur" "$cpu" "$ncpu" "$(uptime | sed 's/.*load average: //')" \
    "${pin[*]:-no taskset}" <<'EOF' || die "cannot write the pipeline tables"
import json, os, re, sys
dst, pout, clips, dur, cpu, ncpu, load, pin = sys.argv[1:9]
clips = clips.split()
f = lambda v, d=1: "n/a" if v is None else ("%.*f" % (d, v))
L = ["", "# Pipeline: cameras in real time (bench_pipeline) vs ONNX Runtime (networks only)", "",
     "Machine: %s, %s cores visible; load average at the end: %s.  **Shared machine**: other" % (cpu, ncpu, load),
     "engineers build on it during the run, so absolute figures move; the ratios against ONNX",
     "Runtime are of the same calls measured in the same run.", "",
     "Each run: a live deployment (model set fused704 at its default threshold, watchlist = the",
     "3 faces of sample1.jpg), cooldown 0 (every new track of a listed person alerts), N cameras",
     "each playing the same 24 s clip looping in real time (`--realtime --loop`), %s s measured" % dur,
     "after a warm-up (at least 3 s and 10 frames analysed per camera: the first frames plan",
     "the networks).  The cameras start %s s apart (a quarter of a 3 s shot: like cameras" % os.environ.get("PIPE_STAGGER", "0.75"),
     "that do not see the same people at the same moment), except in the rows marked",
     "-together, where they start at once and see the same people at the same moment (their",
     "new faces, embeddings and alerts coincide: a worst case).  playback = frames decoded / (N x 25 fps x window): 1.00 = the decoders",
     "kept real time.  dropped = decoded frames that never reached analysis (a camera's queue",
     "of frames waiting was full: video dropped the oldest).",
     "Latency = frame decoded -> alert event, over the alerts in the window (n = alerts).",
     "CPU = process CPU (getrusage) / window, in cores; analysis = the pipeline's per-camera",
     "analysis CPU (cpu_s); decode+rest = the rest (video workers: demux, decode, YUV->RGB; the",
     "benchmark's main loop only waits).", "",
     "detected in full = analysed frames detected in full / all analysed (the others: near the",
     "camera's small tracks only, or not at all: pipeline.h, detect).", "",
     "| clip | cameras | workers | playback | dropped % | analysed fps per camera | detected in full % | alerts | latency median / p95 ms "
     "| CPU cores | CPU per camera | analysis / decode+rest per camera |",
     "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
runs = []
for c in clips:
    pj = json.load(open(os.path.join(pout, "pipeline-%s.json" % c)))
    oj = json.load(open(os.path.join(pout, "ort-%s.json" % c)))
    wj = json.load(open(os.path.join(pout, "workload-%s.json" % c)))
    for r, o, w in zip(pj["runs"], oj["sizes"], wj["sizes"]):
        r["recorded"] = w  # our network CPU over exactly the frames ORT replays
        runs.append((c, r, o))
        d = r.get("detection", {})
        dn = sum(d.get(k, 0) for k in ("full", "near", "none"))
        L.append("| %s | %d | %d | %s | %s | %s | %s | %d | %s / %s | %s | %s | %s / %s |" % (
            c, r["cameras"], r["analysis_threads"], f(r["playback"], 2), f(r["dropped_pct"]),
            f(r["analysed_fps_per_camera"]), f(100.0 * d["full"] / dn, 0) if dn else "n/a", r["alerts"], f(r["latency_median_ms"], 0),
            f(r["latency_p95_ms"], 0), f(r["cpu_cores"], 2), f(r["cpu_per_camera"], 2),
            f(r["analysis_cpu_per_camera"], 2), f(r["decode_rest_cpu_per_camera"], 2)))
L += ["", "Per analysed frame, ours against ONNX Runtime on the same network calls.  Ours:",
      "networks = thread CPU time of each network run (recorded by --wrap=lfr_nn_ctx_run) while",
      "the cameras ran (other threads compete for the 2 cores and their caches); analysis = the",
      "pipeline's analysis CPU (networks + resize/normalise, box decoding, NMS, crops, alignment,",
      "tracking, matching, alerts); whole = process CPU / analysed frames (also decoding EVERY",
      "frame, dropped ones too).  ORT %s: `bench/ort_face.js --clock cpu` replays exactly the" % json.load(open(os.path.join(pout, "ort-%s.json" % clips[0])))["ort_version"],
      "recorded calls (RFB at the working size, O-Net and both embedders at the recorded batch",
      "sizes; each distinct frame once per pass, weighted by how often it occurred), one thread,",
      "pinned (%s), after the pipeline runs; time = the node process's CPU time (user +" % pin,
      "system) around session.run, like ours a CPU time (on a loaded machine the wall clock",
      "would count waiting for a core), networks only (no pre/post-processing: favours ORT).", "",
      "Networks: ours and ORT per recorded frame (a recorded frame = one detector run and the",
      "O-Net and embedder runs that followed it: a full detection, or one window near the",
      "tracks; frames not detected run no network); analysis, whole and ORT per analysed frame",
      "(ORT's total over the recorded frames / frames analysed in the window).", "",
      "| clip | cameras | recorded frames | ours networks ms (detect / embed) | ORT networks ms (detect / embed) "
      "| ours / ORT networks | ours analysis ms | ours whole ms | ORT networks ms per analysed frame | whole / ORT networks |",
      "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
for c, r, o in runs:
    w = r["recorded"]
    n = w["recorded_frames"]
    oc = w["ours_cpu_ms"]
    od, oe = (oc["rfb"] + oc["onet"]) / n, (oc["mfn"] + oc["mfn512"] + oc.get("lm68", 0)) / n
    assert n == o["frames"], "workload and ORT frame counts differ"
    td, te, tc = o["detect"]["median_ms"] / n, o["embed"]["median_ms"] / n, o["chain"]["median_ms"] / n
    whole = r["cpu_cores"] * r["window_s"] * 1e3 / r["analysed"] if r["analysed"] else None
    ta = tc * n / r["analysed"] if r["analysed"] else None
    L.append("| %s | %d | %d | %s (%s / %s) | %s (%s / %s) | %s | %s | %s | %s | %s |" % (
        c, r["cameras"], n, f(od + oe, 2), f(od, 2), f(oe, 2), f(tc, 2), f(td, 2), f(te, 2),
        f((od + oe) / tc, 2), f(r["analysis_ms_per_analysed_frame"]), f(whole), f(ta, 2),
        f(whole / ta, 2) if whole and ta else "n/a"))
L += ["", "Stage times (the pipeline's rolling medians, wall clock, mean over cameras; on a loaded",
      "machine wall clock includes waiting for a core):", "",
      "| clip | cameras | detect | track | embed (frames that embed) | match | frame (p95) | decode+rest ms per decoded frame |",
      "|---|---:|---:|---:|---:|---:|---:|---:|"]
for c, r, o in runs:
    s = r["stages"]
    L.append("| %s | %d | %s | %s | %s | %s | %s (%s) | %s |" % (
        c, r["cameras"], f(s["detect"]["median_ms"]), f(s["track"]["median_ms"], 2),
        f(s["embed"]["median_ms"]), f(s["match"]["median_ms"], 2), f(s["frame"]["median_ms"]),
        f(s["frame"]["p95_ms"]), f(r["decode_rest_ms_per_decoded_frame"], 2)))
# decode cost
dj = json.load(open(os.path.join(pout, "decode.json")))["decode"]
ff = {}
for line in open(os.path.join(pout, "ffmpeg.tsv")):
    name, t, frames, b = line.rstrip("\n").split("\t")
    m = dict(re.findall(r"(\w+)=([0-9.]+)s", b))
    n = int(frames)
    ff[(name, int(t))] = ((float(m["utime"]) + float(m["stime"])) * 1e3 / n, n / float(m["rtime"]))
L += ["", "Decode cost per frame (CPU ms; one 24 s clip, 600 frames).  Ours = the video module",
      "(`bench_pipeline --decode`: demux + decode + YUV -> RGB at the source size, one decoder",
      "thread, pinned).  FFmpeg = `ffmpeg -threads T -i CLIP -f null -` (decode only, no RGB",
      "conversion; -threads 2 = frame threading, not pinned): its CPU per frame and wall fps.", "",
      "| clip | codec | ours ms (decode + RGB) | FFmpeg 1 thread ms (fps) | FFmpeg 2 threads ms (fps) |",
      "|---|---|---:|---:|---:|"]
for d in dj:
    name = os.path.basename(d["file"])
    a, b = ff.get((name, 1)), ff.get((name, 2))
    L.append("| %s | %s %dx%d | %s | %s (%s) | %s (%s) |" % (
        name, d["codec"], d["w"], d["h"], f(d["cpu_ms_per_frame"], 2),
        f(a[0], 2) if a else "n/a", f(a[1], 0) if a else "n/a", f(b[0], 2) if b else "n/a", f(b[1], 0) if b else "n/a"))
# where the analysis CPU goes
L += ["", "Where the CPU goes (ms of CPU; thread CPU time of the pipeline's calls, wrapped at link",
      "time: detect = lfr_face_detect, i.e. resize + normalise + RFB + box decoding + NMS + O-Net",
      "crops + O-Net; embed = lfr_face_embed_set, i.e. alignment + both embedders; alert store =",
      "crop JPEG + sealing + SQLite; liveness = the deployment checks; rest = analysis CPU not in",
      "those calls: tracking, quality gate, templates, events, scheduling).  decode+convert is",
      "per DECODED frame, the others per ANALYSED frame.", "",
      "| clip | cameras | decode+convert | detect (RFB + O-Net networks) | embed (embedder networks) "
      "| match | alert store | liveness | rest | analysis |",
      "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
for c, r, o in runs:
    nn, cp = r["nn_ms_per_analysed_frame"], r.get("cpu_ms_per_analysed_frame", {})
    L.append("| %s | %d | %s | %s (%s) | %s (%s) | %s | %s | %s | %s | %s |" % (
        c, r["cameras"], f(r["decode_rest_ms_per_decoded_frame"], 2), f(cp.get("detect"), 2),
        f(nn["rfb"] + nn["onet"], 2), f(cp.get("embed"), 2),
        f(nn["mfn"] + nn["mfn512"] + nn.get("lm68", 0), 2),
        f(cp.get("match"), 3), f(cp.get("alert_store"), 2), f(cp.get("liveness"), 2),
        f(cp.get("rest"), 2), f(r["analysis_ms_per_analysed_frame"], 2)))
# what limits it: cores needed per camera for every frame at 25 fps
L += ["", "What the CPU goes to, per camera, if every frame at 25 fps were analysed (from the",
      "largest-camera run of each clip: its measured ms per decoded and per analysed frame):", ""]
for c in clips:
    rs = [r for cc, r, o in runs if cc == c and r["analysed"]]
    if not rs: continue
    r = max(rs, key=lambda r: r["cameras"])
    nn = r["nn_ms_per_analysed_frame"]
    dec = r["decode_rest_ms_per_decoded_frame"]
    net = nn["rfb"] + nn["onet"] + nn["mfn"] + nn["mfn512"] + nn.get("lm68", 0)
    other = r["analysis_ms_per_analysed_frame"] - net
    need = 25 * (dec + r["analysis_ms_per_analysed_frame"]) / 1e3
    cp = r.get("cpu_ms_per_analysed_frame", {})
    det_pre = cp.get("detect", 0) - nn["rfb"] - nn["onet"]
    L.append("- %s: decode+convert %.1f ms, RFB %.1f ms, O-Net %.1f ms, detection outside the "
             "networks (resize, normalise, boxes, NMS, crops) %.1f ms, embedders %.1f ms, alignment, "
             "alerts and the rest %.1f ms per frame = %.2f cores per camera at 25 fps; %s cores for 4 cameras, "
             "against %s cores (measured with %d cameras: %.1f %% dropped)." % (
                 c, dec, nn["rfb"], nn["onet"], det_pre, nn["mfn"] + nn["mfn512"] + nn.get("lm68", 0),
                 other - det_pre, need, f(4 * need, 2), ncpu, r["cameras"], r["dropped_pct"]))
L.append("")
with open(dst, "a") as fh:
    fh.write("\n".join(L))
print("\n".join(L))
EOF
say "appended the pipeline tables to $results"
