#!/usr/bin/env bash
# readme-screenshots.sh - the README's three screenshots, taken again.
#
#   tools/readme-screenshots.sh [BUILD]      (default build)
#
# Runs the browser flow (tests/test_web.sh, WEB_TEST=flow) WITHOUT
# OPENLFR_DATA, so every face in it is a demo photo of the pinned
# @vladmandic/face-api npm package (tools/models.lock) and the camera a
# clip FFmpeg makes of one of them: nothing from ../shared/data, which may
# not be redistributed, can reach docs/screenshots/.  The flow's own
# screenshots are then scaled for the README with FFmpeg:
#   console-06-alert-review.png   -> docs/screenshots/console-alert-review.png
#                                    (cropped to the review, 960 px wide)
#   app-02-alert-screen.png       -> docs/screenshots/app-alert-card.png (390 px)
#   app-03-check-answer-screen.png -> docs/screenshots/app-check-answer.png (390 px)
# The flow must pass; a failed flow changes nothing.  Look at the three
# files before committing them.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
shots=$build/screenshots
rm -rf "$shots"
env -u OPENLFR_DATA WEB_TEST=flow BUILD="$build" bash tests/test_web.sh >"$build/readme-screenshots.log" 2>&1 || {
  echo "readme-screenshots: the browser flow failed (see $build/readme-screenshots.log); nothing changed" >&2
  exit 1
}
scale() { # SOURCE DEST FILTER
  [ -f "$shots/$1" ] || { echo "readme-screenshots: the flow wrote no $1" >&2; exit 1; }
  ffmpeg -v error -y -i "$shots/$1" -vf "$3" -frames:v 1 "docs/screenshots/$2"
  echo "readme-screenshots: docs/screenshots/$2 from $1"
}
# The console at 1440x1000: the review ends above y = 830.
scale console-06-alert-review.png console-alert-review.png "crop=1440:830:0:0,scale=960:-1:flags=lanczos"
scale app-02-alert-screen.png app-alert-card.png "scale=390:-1:flags=lanczos"
scale app-03-check-answer-screen.png app-check-answer.png "scale=390:-1:flags=lanczos"
