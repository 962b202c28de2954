#!/usr/bin/env bash
# test_openset.sh - open-set watchlist identification on LFW (needs
# OPENLFR_DATA): a watchlist of 1,000 people enrolled through enrolment
# quality control, mated probes (other photos of them) and non-mated probes
# (2,000 people never enrolled); FNIR and FPIR at the default threshold are
# reported and held to the measured level (docs/likeness.md) so that a
# regression in detection, alignment, embedding or matching fails here.
# Under SANITIZE=1 a smaller list (200 / 400) keeps the run short.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build}
if [ -z "${OPENLFR_DATA:-}" ] || [ ! -f "$OPENLFR_DATA/lfw/people.txt" ]; then
  echo "SKIP test_openset: OPENLFR_DATA not set (or no lfw/): open-set FNIR/FPIR not measured"
  echo "test_openset: 0 passed, 0 failed, 1 skipped"
  exit 0
fi
enrolled=1000 non=2000
case "$build" in *san*) enrolled=200 non=400 ;; esac
out=$("$build"/openlfr eval watchlist --lfw "$OPENLFR_DATA/lfw" --enrolled $enrolled \
      --non-enrolled $non --json 2>/dev/null)
echo "$out"
/usr/bin/python3 - "$out" "$enrolled" <<'PY'
import json, sys
r = json.loads(sys.argv[1]); n = int(sys.argv[2])
d = [t for t in r["thresholds"] if t["default"]][0]
print(f"watchlist {r['enrolled']} (QC rejected {r['failed_enrolment']}), "
      f"{r['mated_probes']} mated, {r['non_mated_probes']} non-mated probes; "
      f"default threshold {d['threshold']:.3f}: FNIR {d['fnir']:.4f}, FPIR {d['fpir']:.4f} "
      f"(expected from calibration {d['fpir_expected']:.4f})")
fails = 0
def check(ok, what):
    global fails
    print(("ok   " if ok else "FAIL ") + what)
    fails += not ok
check(r["enrolled"] >= 0.85 * n, "at least 85 % of the list passes enrolment QC")
check(d["fnir"] <= 0.35, "FNIR at the default threshold <= 0.35 (measured 0.30 at 1,000)")
check(d["fpir"] <= 0.006, "FPIR at the default threshold <= 0.006 (measured 0.0015 at 1,000)")
lo = [t for t in r["thresholds"] if abs(t["threshold"] - 0.5629) < 1e-3][0]
check(lo["fnir"] <= 0.10, "FNIR at the FMR 1e-4 threshold (0.563) <= 0.10 (measured 0.06)")
print(f"test_openset: {4 - fails} passed, {fails} failed")
sys.exit(1 if fails else 0)
PY
