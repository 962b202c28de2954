#!/usr/bin/env bash
# bench/make-clips.sh OUT_DIR [PHOTOS_DIR] - the camera clips of the
# pipeline benchmark (bench/bench_pipeline.c), made by FFmpeg from the
# face-api demo photos the project fetches (`make setup`: models/photos).
#
# One 24 s scene, 25 fps: eight 3 s shots of the photos in the order
#   sample3 4 3 5 3 6 3 2
# so the person of sample1.jpg who is in sample3.jpg (bench_pipeline enrols
# the faces of sample1.jpg as the watchlist) comes back four times, each
# time as a new track (the shots between are longer than a track lives),
# and everybody in sample4, 5, 6 and 2 is not on the list.  Each shot
# letterboxes the photo into a frame 10 % larger than the output and pans a
# window of the output size across it (faces move: the tracker works), and
# temporal noise (FFmpeg's noise filter, like sensor noise) keeps the
# encoder from coding a still picture as nearly free P-frames; the encoders
# are capped at the bitrates IP cameras are usually set to (1080p H.264
# 6 Mbit/s, 720p 3 Mbit/s, H.265 half of H.264), so the encoder spends its
# bits as a camera's would and decoding costs what a camera stream costs.
#
# Files (skipped when already there and newer than this script):
#   clip-1080p-h264.mp4   1920x1080 H.264 (libx264 veryfast, 6 Mbit/s capped
#                         VBR, main profile, no B-frames, GOP 50: an IP
#                         camera's kind of stream)
#   clip-720p-h264.mp4    1280x720, same at 3 Mbit/s
#   clip-1080p-hevc.mp4   1920x1080 H.265 (libx265 veryfast, 3 Mbit/s, no
#                         B-frames, GOP 50)
#   clip-1080p-mjpeg.mkv  1920x1080 MJPEG (q 5, yuvj420p: what MJPEG cameras send)
set -euo pipefail
die() { printf 'make-clips: error: %s\n' "$*" >&2; exit 1; }
[ $# -ge 1 ] || die "usage: bench/make-clips.sh OUT_DIR [PHOTOS_DIR]"
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$1
photos=${2:-${OPENLFR_MODELS:-$root/models}/photos}
command -v ffmpeg >/dev/null || die "ffmpeg not found (tools/setup.sh deps)"
order=(3 4 3 5 3 6 3 2)
shot_s=3
fps=25
for s in "${order[@]}"; do
    [ -f "$photos/sample$s.jpg" ] || die "$photos/sample$s.jpg not found: run 'make setup' (the demo photos)"
done
mkdir -p "$out"

fresh() { [ -s "$1" ] && [ "$1" -nt "${BASH_SOURCE[0]}" ]; }

# make W H CODEC-ARGS... -> the scene at WxH, encoded with CODEC-ARGS
make_clip() {
    local w=$1 h=$2 dst=$3
    shift 3
    fresh "$dst" && return 0
    local bw=$((w * 11 / 10 / 2 * 2)) bh=$((h * 11 / 10 / 2 * 2))
    local inputs=() filter='' n=0
    for s in "${order[@]}"; do
        inputs+=(-loop 1 -framerate "$fps" -t "$shot_s" -i "$photos/sample$s.jpg")
        # letterbox into bw x bh, then a w x h window panning right and down
        filter+="[$n:v]scale=$bw:$bh:force_original_aspect_ratio=decrease,pad=$bw:$bh:(ow-iw)/2:(oh-ih)/2,"
        filter+="crop=$w:$h:x='($bw-$w)*t/$shot_s':y='($bh-$h)*t/$shot_s',setsar=1,"
        filter+="noise=alls=12:allf=t+u,format=yuv420p[v$n];"
        n=$((n + 1))
    done
    for i in $(seq 0 $((n - 1))); do filter+="[v$i]"; done
    filter+="concat=n=$n:v=1:a=0[out]"
    printf 'make-clips: %s\n' "$dst" >&2
    ffmpeg -nostdin -hide_banner -loglevel error -y "${inputs[@]}" -filter_complex "$filter" \
        -map "[out]" -r "$fps" "$@" "$dst.tmp.${dst##*.}" || die "ffmpeg could not make $dst"
    mv "$dst.tmp.${dst##*.}" "$dst"
}

x264=(-c:v libx264 -preset veryfast -profile:v main -bf 0 -g 50 -pix_fmt yuv420p)
make_clip 1920 1080 "$out/clip-1080p-h264.mp4" "${x264[@]}" -b:v 6M -maxrate 6M -bufsize 6M
make_clip 1280 720 "$out/clip-720p-h264.mp4" "${x264[@]}" -b:v 3M -maxrate 3M -bufsize 3M
make_clip 1920 1080 "$out/clip-1080p-hevc.mp4" -c:v libx265 -preset veryfast -b:v 3M \
    -x265-params bframes=0:keyint=50:vbv-maxrate=3000:vbv-bufsize=3000:log-level=error \
    -tag:v hvc1 -pix_fmt yuv420p
make_clip 1920 1080 "$out/clip-1080p-mjpeg.mkv" -c:v mjpeg -q:v 5 -pix_fmt yuvj420p
