#!/usr/bin/env bash
# bench/run.sh BUILD - openlfr's NN engine against ONNX Runtime, one thread.
#
# Called by `make bench` once the models exist (tools/setup.sh models).
#   1. installs the pinned ONNX Runtime (bench/package-lock.json) into
#      bench/node_modules with `npm ci --ignore-scripts` (skipped when
#      already installed from the same lock);
#   2. exports ONNX models into BUILD/bench/: MobileFaceNet and O-Net from
#      our .lfrm files (bench/export_onnx.py, i.e. our converted graph), and
#      the RFB detector from the original fr_detect.onnx (from the verified
#      tarball in MODELS_DIR/.cache), input fixed to each size and cut at
#      its raw heads;
#   3. checks the exported models in ONNX Runtime against the reference
#      outputs (OPENLFR_GOLDEN, default /work/shared/golden or
#      tests/data/golden), which shows the exporter and the converter are
#      faithful;
#   4. times BUILD/bench_nn (ours) and bench/ort_bench.js (ORT) on the same
#      networks and sizes, both pinned to one core, and writes
#      bench/results.md (also printed);
#   5. whole pipeline: times BUILD/bench_face (detect, embed, detect+embed
#      on the six demo photos at 640x360, 1280x720, 1920x1080), which
#      records the network calls it made (workload JSON), exports the ONNX
#      models that workload needs (RFB per working size, O-Net and
#      MobileFaceNet per batch) and replays the same calls in ORT
#      (bench/ort_face.js, networks only); appends that table to
#      bench/results.md.  Skipped, with a message, without BUILD/bench_face.
#   6. the pipeline table (issue 13): bench/pipeline.sh BUILD - 1..4
#      cameras of 1080p25 and 720p25 in real time through the live pipeline
#      (BUILD/bench_pipeline), ONNX Runtime on the same network calls, and
#      the decode cost per frame by codec; appended to bench/results.md.
#      Skipped, with a message, without BUILD/bench_pipeline or with
#      PIPELINE=0 (12 runs of BENCH_DURATION_S = 20 s plus warm-ups, decoding
#      and ORT: about 12 minutes on 2 cores; 1080p, 720p, and 1080p with
#      the cameras started together).
#
# Environment: OPENLFR_MODELS (models dir, default ./models), RUNS (50),
# WARMUP (5), PASSES (15, whole-pipeline passes), FACE_WARMUP (2),
# OPENLFR_GOLDEN, PYTHON (default /usr/bin/python3: needs python3-onnx and
# python3-numpy).
set -euo pipefail

die() { printf 'bench/run.sh: error: %s\n' "$*" >&2; exit 1; }
say() { printf 'bench/run.sh: %s\n' "$*" >&2; }

[ $# -ge 1 ] || die "usage: bench/run.sh BUILD"
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(cd "$1" 2>/dev/null && pwd) || die "no build directory $1"
bench=$root/bench
models=${OPENLFR_MODELS:-$root/models}
out=$build/bench
runs=${RUNS:-50}
warmup=${WARMUP:-5}
py=${PYTHON:-/usr/bin/python3}
lock=${OPENLFR_MODELS_LOCK:-$root/tools/models.lock}
mkdir -p "$out"

command -v node >/dev/null || die "node not found (tools/setup.sh deps)"
"$py" -c 'import onnx, numpy' 2>/dev/null ||
    die "$py cannot import onnx and numpy (Debian: apt-get install python3-onnx python3-numpy)"

pin=()
if command -v taskset >/dev/null 2>&1 && taskset -c 0 true 2>/dev/null; then
    pin=(taskset -c 0)
fi

# --- 1. ONNX Runtime ---------------------------------------------------------
stamp=$bench/node_modules/.openlfr-lock-sha256
want=$(sha256sum "$bench/package-lock.json" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] ||
    ! (cd "$bench" && node -e 'require("onnxruntime-node")' 2>/dev/null); then
    say "installing onnxruntime-node (npm ci --ignore-scripts)"
    (cd "$bench" && npm ci --ignore-scripts --prefer-offline --no-audit --no-fund --loglevel=error) ||
        die "npm ci failed in bench/ (is the npm registry reachable? npm's cache is used when it has the packages)"
    (cd "$bench" && node -e 'require("onnxruntime-node")') ||
        die "onnxruntime-node installed but does not load"
    echo "$want" >"$stamp"
fi
ort_version=$(cd "$bench" && node -p 'require("onnxruntime-node").env.versions.node')

ort() { # ort MODEL SHAPE [args...] -> JSON on stdout
    local model=$1 shape=$2
    shift 2
    "${pin[@]}" node "$bench/ort_bench.js" "$model" --shape "$shape" "$@"
}

# --- 2. models ---------------------------------------------------------------
export_lfrm() { # export_lfrm NAME SHAPE -> prints path of the .onnx (or nothing)
    local arch=$1 shape=$2 dst
    dst=$out/${arch}_${shape//,/x}.onnx
    [ -f "$models/$arch.lfrm" ] || return 0
    if [ ! -f "$dst" ] || [ "$models/$arch.lfrm" -nt "$dst" ] || [ "$bench/export_onnx.py" -nt "$dst" ]; then
        "$py" "$bench/export_onnx.py" "$models/$arch.lfrm" "$dst" --input "$shape" ||
            die "export of $models/$arch.lfrm failed"
    fi
    printf '%s\n' "$dst"
}

# The original RFB ONNX file, from the verified tarball setup.sh cached.
rfb_src=$out/fr_detect.onnx
if [ ! -f "$rfb_src" ]; then
    line=$(grep -E '^[^#].*[[:space:]]rfb[[:space:]]' "$lock" | head -n1) ||
        die "no rfb entry in $lock"
    read -r spec _integ path sha _ <<<"$line"
    pkg=${spec%@*} ver=${spec##*@}
    pkg=${pkg#@}
    tgz=$models/.cache/${pkg//\//-}-$ver.tgz
    [ -f "$tgz" ] || die "$tgz not found: run 'make models' (tools/setup.sh models) first"
    tmpx=$(mktemp -d)
    tar -xzf "$tgz" -C "$tmpx" -- "$path"
    [ "$(sha256sum "$tmpx/$path" | cut -d' ' -f1)" = "$sha" ] ||
        die "$path in $tgz does not match the sha256 in $lock"
    mv "$tmpx/$path" "$rfb_src"
    rm -rf "$tmpx"
fi
export_rfb() { # export_rfb H W -> path
    local dst=$out/rfb_orig_1x3x$1x$2.onnx
    if [ ! -f "$dst" ] || [ "$bench/export_onnx.py" -nt "$dst" ]; then
        "$py" "$bench/export_onnx.py" --cut-onnx "$rfb_src" "$dst" \
            --input "1,3,$1,$2" --outputs scores,462 || die "cutting $rfb_src failed"
    fi
    printf '%s\n' "$dst"
}

# --- 3. golden check -----------------------------------------------------------
golden=${OPENLFR_GOLDEN:-}
if [ -z "$golden" ]; then
    for g in "$root/tests/data/golden" /work/shared/golden; do
        [ -f "$g/reference.json" ] && { golden=$g; break; }
    done
fi
ours_bin=$build/bench_nn
checks=$out/golden_checks.tsv
: >"$checks"
check_fail=0
golden_check() { # label model shape input-f32 ref-f32...
    local label=$1 model=$2 shape=$3 input=$4
    shift 4
    rm -f "$out/gold_"*.f32
    if [[ "$model" == *.lfrm ]]; then
        # ours: bench_nn writes its first output only; one run, no warm-up
        local s
        IFS=, read -r -a s <<<"$shape"
        "$ours_bin" "$model" "${s[0]}" "${s[1]}" "${s[2]}" --input "$input" \
            --output "$out/gold_0.f32" --warmup 0 --runs 1 >/dev/null
    else
        ort "$model" "$shape" --input "$input" --warmup 0 --runs 1 --out-prefix "$out/gold_" >/dev/null
    fi
    # compare each reference with the ORT output of the same size
    # a mismatch of ORT on an exported model fails the run (the exporter or
    # converter is wrong); a mismatch of ours is reported (that is what the
    # engine's own tests are for)
    local fatal=1
    [[ "$label" == ours:* ]] && fatal=0
    "$py" - "$label" "$checks" "$out" "$@" <<'EOF' || check_fail=$((check_fail + fatal))
import glob, sys
import numpy as np
label, checks, outdir, refs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
outs = [np.fromfile(f, "<f4") for f in sorted(glob.glob(outdir + "/gold_*.f32"))]
worst, ok, used = 0.0, True, set()
for r in refs:
    ref = np.fromfile(r, "<f4")
    cand = [i for i, o in enumerate(outs) if o.size == ref.size and i not in used]
    if not cand and len(outs) == 1:
        continue   # bench_nn: first output only
    if not cand:
        print("%s: no output of %d values for %s" % (label, ref.size, r)); ok = False; continue
    errs = [float(np.abs(outs[i] - ref).max()) for i in cand]
    k = int(np.argmin(errs)); used.add(cand[k]); worst = max(worst, errs[k])
if not used:
    print("%s: no output matches any reference in size" % label); ok = False
tol = 1e-3
ok = ok and worst <= tol
with open(checks, "a") as f:
    f.write("%s\t%.3g\t%s\n" % (label, worst, "ok" if ok else "FAIL"))
print("golden %-40s max abs error %.3g  %s" % (label, worst, "ok" if ok else "FAIL (tolerance %g)" % tol))
sys.exit(0 if ok else 1)
EOF
}
if [ -n "$golden" ]; then
    gn=$golden/net
    m=$(export_lfrm mobilefacenet 3,112,112,3) || exit 1
    if [ -n "$m" ]; then
        golden_check "mobilefacenet.lfrm -> ONNX (3x112x112)" "$m" 3,112,112,3 "$gn/mfn_in.f32" "$gn/mfn_out.f32"
    fi
    m=$(export_lfrm onet 4,48,48,3) || exit 1
    if [ -n "$m" ]; then
        golden_check "onet.lfrm -> ONNX (4x48x48)" "$m" 4,48,48,3 "$gn/onet_in.f32" \
            "$gn/onet_out_prob.f32" "$gn/onet_out_reg.f32" "$gn/onet_out_landmarks.f32"
    fi
    m=$(export_lfrm rfb 1,240,320,3) || exit 1
    if [ -n "$m" ]; then
        # the reference input is NCHW; our graph takes NHWC
        "$py" -c 'import sys, numpy as np
np.fromfile(sys.argv[1], "<f4").reshape(1, 3, 240, 320).transpose(0, 2, 3, 1).astype("<f4").tofile(sys.argv[2])' \
            "$gn/rfb_in.f32" "$out/rfb_in_nhwc.f32"
        golden_check "rfb.lfrm -> ONNX (1x240x320)" "$m" 1,240,320,3 "$out/rfb_in_nhwc.f32" \
            "$gn/rfb_out_scores.f32" "$gn/rfb_out_regression.f32"
    fi
    if [ -x "$ours_bin" ]; then   # our engine on the same inputs
        if [ -f "$models/mobilefacenet.lfrm" ]; then
            golden_check "ours: mobilefacenet.lfrm (3x112x112)" \
                "$models/mobilefacenet.lfrm" 3,112,112,3 "$gn/mfn_in.f32" "$gn/mfn_out.f32"
        fi
        if [ -f "$models/onet.lfrm" ]; then
            golden_check "ours: onet.lfrm (4x48x48), 1st output" \
                "$models/onet.lfrm" 4,48,48,3 "$gn/onet_in.f32" \
                "$gn/onet_out_prob.f32" "$gn/onet_out_reg.f32" "$gn/onet_out_landmarks.f32"
        fi
        if [ -f "$models/rfb.lfrm" ] && [ -f "$out/rfb_in_nhwc.f32" ]; then
            golden_check "ours: rfb.lfrm (1x240x320), 1st output" "$models/rfb.lfrm" 1,240,320,3 \
                "$out/rfb_in_nhwc.f32" "$gn/rfb_out_scores.f32" "$gn/rfb_out_regression.f32"
        fi
    fi
    m=$(export_rfb 240 320) || exit 1
    golden_check "fr_detect.onnx cut (1x240x320)" "$m" 1,3,240,320 "$gn/rfb_in.f32" \
        "$gn/rfb_out_scores.f32" "$gn/rfb_out_regression.f32"
else
    say "no reference outputs found (OPENLFR_GOLDEN): skipping the exporter check"
fi

# --- 4. timing -------------------------------------------------------------------
[ -x "$ours_bin" ] || say "$ours_bin not found: timing ONNX Runtime only"
rows=$out/rows.tsv
: >"$rows"
bench_row() { # name arch H W ort-model ort-shape
    local name=$1 arch=$2 h=$3 w=$4 model=$5 shape=$6 ours='' theirs=''
    say "timing $name ${h}x${w}"
    if [ -x "$ours_bin" ] && [ -f "$models/$arch.lfrm" ]; then
        ours=$("${pin[@]}" "$ours_bin" "$models/$arch.lfrm" 1 "$h" "$w" \
            --runs "$runs" --warmup "$warmup" --json) || die "$ours_bin failed on $arch ${h}x${w}"
    fi
    if [ -n "$model" ]; then
        theirs=$(ort "$model" "$shape" --runs "$runs" --warmup "$warmup") ||
            die "ort_bench failed on $model"
    fi
    printf '%s\t1x%sx%s\t%s\t%s\n' "$name" "$h" "$w" "${ours:-null}" "${theirs:-null}" >>"$rows"
}
m=$(export_lfrm mobilefacenet 1,112,112,3) || exit 1
bench_row MobileFaceNet mobilefacenet 112 112 "$m" 1,112,112,3
m=$(export_lfrm onet 1,48,48,3) || exit 1
bench_row O-Net onet 48 48 "$m" 1,48,48,3
m=$(export_rfb 240 320) || exit 1
bench_row RFB rfb 240 320 "$m" 1,3,240,320
m=$(export_rfb 540 960) || exit 1
bench_row RFB rfb 540 960 "$m" 1,3,540,960
# On a CPU with AVX-512, ours again with oneDNN limited to AVX2 (its
# DNNL_MAX_CPU_ISA switch): what an AVX2-only core of the same speed would
# give.  ONNX Runtime has no such switch, so there is no ORT figure.
avx2_rows=$out/avx2_rows.tsv
: >"$avx2_rows"
if grep -q -w avx512f /proc/cpuinfo && [ -x "$ours_bin" ]; then
    for spec in "MobileFaceNet mobilefacenet 112 112" "RFB rfb 540 960"; do
        read -r name arch h w <<<"$spec"
        [ -f "$models/$arch.lfrm" ] || continue
        say "timing $name ${h}x${w}, oneDNN limited to AVX2"
        r=$(DNNL_MAX_CPU_ISA=AVX2 "${pin[@]}" "$ours_bin" "$models/$arch.lfrm" 1 "$h" "$w" \
            --runs "$runs" --warmup "$warmup" --json) || die "$ours_bin failed on $arch (AVX2)"
        printf '%s\t1x%sx%s\t%s\n' "$name" "$h" "$w" "$r" >>"$avx2_rows"
    done
fi

# --- results.md --------------------------------------------------------------------
cpu=$(grep -m1 '^model name' /proc/cpuinfo | sed 's/.*: //' || true)
xnn=$(dpkg-query -W -f='${Version}' libxnnpack-dev 2>/dev/null || echo '?')
dnnl=$(dpkg-query -W -f='${Version}' libdnnl-dev 2>/dev/null || echo '?')
isa=$(grep -m1 '^flags' /proc/cpuinfo | grep -o -w -E 'avx2|fma|avx512f|avx512bw|avx512_vnni' | tr '\n' ' ' || true)
cc_v=$( (${CC:-cc} --version 2>/dev/null || true) | head -n1)
rev=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo 'uncommitted')
peak=null
if [ -x "$build/bench_peak" ]; then
    say "measuring this core's FMA peak (bench_peak)"
    peak=$("${pin[@]}" "$build/bench_peak" --json) || peak=null
fi
"$py" - "$rows" "$checks" "$bench/results.md" "$peak" <<EOF
import json, sys
rows, checks, dst = sys.argv[1], sys.argv[2], sys.argv[3]
peak = json.loads(sys.argv[4]) or {}
top = max(peak.get("avx2_gflops", 0), peak.get("avx512_gflops", 0))
def ms(v):
    return "%.2f" % v if v is not None else "n/a"
L = ["# openlfr NN engine vs ONNX Runtime", "",
     "Single thread, pinned to one core (${pin[*]:-no taskset}); batch 1; float32;",
     "median of $runs runs after $warmup warm-up runs (p90 in brackets).",
     "Ours: \`bench_nn\` (default backend: oneDNN, with XNNPACK for the nodes where it is faster; see src/nn/dnnl.c).  ORT: onnxruntime-node $ort_version, CPU EP,",
     "intra/inter-op threads 1, graph optimisation 'all', sequential.",
     "MobileFaceNet and O-Net run in ORT as ONNX exported from our .lfrm files",
     "(bench/export_onnx.py); RFB runs in ORT as shipped (fr_detect.onnx, input",
     "resized, cut at its raw heads).", "",
     "bound = the network's multiply-add FLOPs (conv and FC, counted by bench_nn) at this",
     "core's measured FMA peak (bench/bench_peak.c: %s): no single-thread engine can be faster." % (
         ", ".join("%s %.0f GFLOP/s" % (k.split("_")[0].upper().replace("AVX512", "AVX-512"), v)
                   for k, v in sorted(peak.items()) if v) or "not measured"), "",
     "| network | input (NxHxW) | ours median ms | ORT median ms | ours / ORT | GFLOP | bound ms | bound / ORT |",
     "|---|---|---:|---:|---:|---:|---:|---:|"]
for line in open(rows):
    name, inp, o, t = line.rstrip("\n").split("\t")
    o = json.loads(o); t = json.loads(t)
    om = o.get("median_ms") if o else None
    tm = t.get("median_ms") if t else None
    op = " (%s)" % ms(o.get("p90_ms")) if o and o.get("p90_ms") is not None else ""
    tp = " (%s)" % ms(t.get("p90_ms")) if t and t.get("p90_ms") is not None else ""
    ratio = "%.2f" % (om / tm) if om and tm else "n/a"
    gf = o.get("gflop") if o else None
    bound = gf / top * 1e3 if gf and top else None
    L.append("| %s | %s | %s%s | %s%s | %s | %s | %s | %s |" % (
        name, inp, ms(om), op, ms(tm), tp, ratio, "%.3f" % gf if gf else "n/a",
        ms(bound), "%.2f" % (bound / tm) if bound and tm else "n/a"))
if any("n/a" in l for l in L[-4:]):
    L += ["", "n/a: not measured (no BUILD/bench_nn or BUILD/bench_peak, or no .lfrm model in the models directory)."]
a2 = [l.rstrip("\n").split("\t") for l in open("$avx2_rows") if l.strip()]
if a2 and peak.get("avx2_gflops"):
    L += ["", "Ours with oneDNN limited to AVX2 (DNNL_MAX_CPU_ISA=AVX2; the few nodes delegated",
          "to XNNPACK still use the widest ISA): what a core of this speed without AVX-512",
          "would give.  ONNX Runtime has no such switch: no ORT column.", "",
          "| network | input (NxHxW) | ours median ms, AVX2 | bound ms at the AVX2 peak | ours / bound |",
          "|---|---|---:|---:|---:|"]
    for name, inp, o in a2:
        o = json.loads(o)
        b = o["gflop"] / peak["avx2_gflops"] * 1e3
        L.append("| %s | %s | %s (%s) | %s | %.2f |" % (name, inp, ms(o["median_ms"]), ms(o["p90_ms"]),
                                                       ms(b), o["median_ms"] / b))
L += ["", "Exporter / converter check (ORT on the exported model vs the reference outputs):", ""]
chk = [l.rstrip("\n").split("\t") for l in open(checks) if l.strip()]
if chk:
    L += ["| model | max abs error | |", "|---|---:|---|"]
    L += ["| %s | %s | %s |" % tuple(c) for c in chk]
else:
    L.append("(not run: no reference outputs)")
L += ["", "Machine:", "",
      "- CPU: $cpu ($(nproc) cores visible)",
      "- kernel: $(uname -sr)",
      "- date: $(date -u '+%Y-%m-%d %H:%M UTC')",
      "- CPU vector extensions: ${isa:-?}",
      "- compiler: $cc_v; oneDNN (Debian libdnnl-dev) $dnnl; XNNPACK (Debian libxnnpack-dev) $xnn",
      "- node $(node --version), onnxruntime-node $ort_version",
      "- openlfr: $rev", ""]
open(dst, "w").write("\n".join(L))
print("\n".join(L))
EOF
say "wrote $bench/results.md"

# --- 5. whole pipeline: detect, embed, chain at three frame sizes -------------------
# build/bench_face times the face engine on the six demo photos (16:9 centre
# crops resized to each size) and writes the network calls it made
# (--workload); bench/ort_face.js replays exactly those calls in ORT
# (networks only: no pre/post-processing).  The table is appended to
# results.md.
face_bin=$build/bench_face
passes=${PASSES:-15}
face_warmup=${FACE_WARMUP:-2}
photos=$models/photos
if [ ! -x "$face_bin" ]; then
    say "$face_bin not found (make $(basename "$build")/bench_face): no whole-pipeline table"
else
    for i in 1 2 3 4 5 6; do
        [ -f "$photos/sample$i.jpg" ] || die "$photos/sample$i.jpg not found: run 'make setup' (the demo photos)"
    done
    wl=$out/face_workload.json
    say "timing the face engine (bench_face: detect, embed, chain; $passes passes)"
    OMP_NUM_THREADS=1 "${pin[@]}" "$face_bin" "$models" --photos "$photos" \
        --passes "$passes" --warmup "$face_warmup" --workload "$wl" --json >"$out/face_ours.json" ||
        die "$face_bin failed"
    # the ONNX models the workload needs: RFB per working size, O-Net and
    # MobileFaceNet per batch size
    needs=$("$py" - "$wl" <<'EOF'
import json, sys
wl = json.load(open(sys.argv[1]))
rfb, onet, mfn = set(), set(), set()
for s in wl["sizes"]:
    for f in s["frames"]:
        rfb.add((f["rfb"][1], f["rfb"][2]))
        onet.update(f["onet"])
        mfn.update(f["mfn"])
for h, w in sorted(rfb): print("rfb", h, w)
for n in sorted(onet): print("onet", n)
for n in sorted(mfn): print("mfn", n)
EOF
    ) || die "cannot read the workload $wl"
    while read -r kind a b; do
        case $kind in
        rfb) m=$(export_rfb "$a" "$b") || exit 1 ;;
        onet) m=$(export_lfrm onet "$a,48,48,3") || exit 1 ;;
        mfn) m=$(export_lfrm mobilefacenet "$a,112,112,3") || exit 1 ;;
        *) die "unexpected workload line: $kind $a $b" ;;
        esac
        [ -n "$m" ] || die "no model for $kind $a $b (missing .lfrm in $models?)"
    done <<<"$needs"
    say "timing the same network calls in ONNX Runtime (ort_face.js)"
    "${pin[@]}" node "$bench/ort_face.js" "$wl" \
        --rfb "$out/rfb_orig_1x3x{H}x{W}.onnx" --rfb-layout nchw \
        --onet "$out/onet_{N}x48x48x3.onnx" --mfn "$out/mobilefacenet_{N}x112x112x3.onnx" \
        --passes "$passes" --warmup "$face_warmup" >"$out/face_ort.json" || die "ort_face.js failed"
    backend=$(grep -o 'lfr_nn_ctx_new(e->rfb\.m, LFR_NN_BACKEND_[A-Z]*' "$root/src/face/face.c" |
        sed 's/.*LFR_NN_BACKEND_//' | tr '[:upper:]' '[:lower:]' || true)
    "$py" - "$bench/results.md" "${backend:-?}" "$passes" "$face_warmup" "${pin[*]:-no taskset}" \
        "$out/face_ours.json" "$out/face_ort.json" <<'EOF' || die "cannot write the whole-pipeline table"
import json, sys
dst, backend, passes, warmup, pin, fo, ft = sys.argv[1:8]
ours, theirs = json.load(open(fo)), json.load(open(ft))
tz = {(s["w"], s["h"]): s for s in theirs["sizes"]}
L = ["", "# Whole pipeline: openlfr face engine vs ONNX Runtime (networks only)", "",
     "Six demo photos (`models/photos/sample1..6.jpg`), each centre-cropped to 16:9 and",
     "resized to the frame size before timing; one thread, pinned (%s)." % pin,
     "One pass = the 6 frames; median of %s passes after %s warm-up passes." % (passes, warmup),
     "Ours: `build/bench_face` = `lfr_face_detect` (resize to the RFB working size,",
     "normalise, RFB, box decoding, NMS, O-Net crops, O-Net) / `lfr_face_embed` (alignment",
     "warps + MobileFaceNet + L2 normalisation) / both; nn backend: %s (the one" % backend,
     "`lfr_face_ctx_new` picks).  ORT %s: `bench/ort_face.js` replays the same network" % theirs["ort_version"],
     "calls (RFB at the same working size, O-Net and MobileFaceNet with the same batch",
     "sizes, see the workload below) on inputs prepared before timing, one session per",
     "shape: **ORT gets no pre/post-processing work, which favours ORT**.",
     "RFB in ORT is the shipped fr_detect.onnx (input fixed to the working size, cut at",
     "its raw heads); O-Net and MobileFaceNet are exported from our .lfrm files.",
     "photos/s = 6 / median pass time; faces/s = faces found (detect) or embedded",
     "(embed, chain) in the 6 frames / median pass time.  ratio = ours / ORT median time",
     "(< 1: ours faster).", "",
     "| resolution | stage | ours photos/s | ours faces/s | ORT photos/s (networks only) "
     "| ORT faces/s (networks only) | ratio ours/ORT time |",
     "|---|---|---:|---:|---:|---:|---:|"]
for s in ours["sizes"]:
    t = tz.get((s["w"], s["h"]))
    for st in ("detect", "embed", "chain"):
        o = s[st]
        r = t[st] if t else None
        L.append("| %dx%d | %s | %.1f | %.1f | %s | %s | %s |" % (
            s["w"], s["h"], st, o["photos_per_s"], o["faces_per_s"],
            "%.1f" % r["photos_per_s"] if r else "n/a", "%.1f" % r["faces_per_s"] if r else "n/a",
            "%.2f" % (o["median_ms"] / r["median_ms"]) if r else "n/a"))
L += ["", "Workload: the network runs the face engine made, recorded by bench_face and",
      "replayed by ort_face.js; per frame (sample1..6), a+b = two runs of batch a and b.", "",
      "| resolution | RFB input (HxW) | O-Net batches (RFB candidates after NMS) "
      "| MobileFaceNet batches (faces embedded) |",
      "|---|---|---|---|"]
bat = lambda b: "+".join(str(x) for x in b) or "0"
for s in ours["sizes"]:
    fr = s["frames"]
    rfb = sorted({"%dx%d" % (f["rfb"][1], f["rfb"][2]) for f in fr})
    L.append("| %dx%d | %s | %s (total %d) | %s (total %d) |" % (
        s["w"], s["h"], ", ".join(rfb), " ".join(bat(f["onet_batches"]) for f in fr),
        s["onet_inputs"], " ".join(bat(f["mfn_batches"]) for f in fr), s["faces"]))
L.append("")
with open(dst, "a") as f:
    f.write("\n".join(L))
print("\n".join(L))
EOF
    say "appended the whole-pipeline table to $bench/results.md"
fi
# 1:N watchlist search (src/match): scalar and AVX2 against a naive C loop
# in the same run, 1k..1M templates.
if [ -x "$build/bench_match" ]; then
    say "watchlist search benchmark"
    { echo; echo "## Watchlist search (bench_match)"; echo; "${pin[@]}" "$build/bench_match"; } \
        | tee -a "$bench/results.md"
fi
# --- the detector-size frame (bench_convert): our halving against swscale's scaler ---
if [ -x "$build/bench_convert" ]; then
    say "detector-size frame: exact halving against swscale (bench_convert)"
    { echo; echo "## The detector-size frame of a 1080p camera (bench_convert)"; echo
      "${pin[@]}" "$build/bench_convert"
      echo; echo "- CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -n1)"; } \
        | tee -a "$bench/results.md"
fi
# --- 1:N at force scale (bench_scale): int8 scan vs float32, FAISS as the peer --------
# 10k, 100k, 1M templates of 192 and 704 floats (SCALE_SIZES), one core,
# OMP_NUM_THREADS=1; about 7 GB of memory at 1M x 704 (ours + FAISS's two
# indexes).  SCALE=0 skips it.
if [ "${SCALE:-1}" = 0 ]; then
    say "SCALE=0: no force-scale table"
elif [ -x "$build/bench_scale" ]; then
    say "1:N at force scale (bench_scale; a few minutes)"
    { echo; echo "## 1:N at force scale (bench_scale)"; echo
      OMP_NUM_THREADS=1 "${pin[@]}" "$build/bench_scale" --sizes "${SCALE_SIZES:-10000,100000,1000000}"
      echo; echo "- CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -n1)"; } \
        | tee -a "$bench/results.md"
else
    say "$build/bench_scale not found: no force-scale table"
fi
# --- 6. the pipeline table (bench/pipeline.sh: its own header says what) ------------
if [ "${PIPELINE:-1}" = 0 ]; then
    say "PIPELINE=0: no pipeline table"
elif [ ! -x "$build/bench_pipeline" ]; then
    say "$build/bench_pipeline not found (make $(basename "$build")/bench_pipeline): no pipeline table"
else
    "$bench/pipeline.sh" "$build" || die "bench/pipeline.sh failed"
fi
[ "$check_fail" -eq 0 ] || die "ORT output of an exported model differs from the reference (see above)"
