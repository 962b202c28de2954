#!/usr/bin/env bash
# test_openset.sh - open-set watchlist identification on LFW (needs
# OPENLFR_DATA).
# 1. `eval watchlist`: a watchlist of 1,000 people enrolled through enrolment
#    quality control, mated probes (other photos of them) and non-mated probes
#    (2,000 people never enrolled); FNIR and FPIR at the default threshold are
#    reported and held to the measured level (docs/likeness.md) so that a
#    regression in detection, alignment, embedding or matching fails here.
#    Under SANITIZE=1 a smaller list (200 / 400) keeps the run short.
# 2. `eval openset` (NIST style, docs/accuracy.md) on a sample: the first
#    400 people of people.txt and 100 UTKFace chips, galleries of 20 and 50
#    (disjoint, pooled) and all accepted people, 2 images per entry, best and
#    mean templates, the galleries cut twice (--draws 2).  Checks that the
#    output is sane: counts add up, the
#    pooling gives every gallery its non-mated searches, FNIR and FPIR lie
#    in [0, 1] (all non-mated searches, and LFW's own only), FPIR never
#    rises and FNIR never falls as the threshold rises,
#    each FNIR-at-FPIR row meets its FPIR, the default-threshold line is
#    there, and small galleries find most people (a broken engine fails);
#    a figure called measurable rests on 10 distinct photos above T.
# 3. `eval openset --truth` (ground-truth corrections, docs/lfw-truth.txt)
#    on the first 150 people: two labels declared one person and one photo
#    relabelled drop exactly the non-mated searches that met the other
#    label's entry (with + dropped = without), leave the mated searches
#    alone, and a bad file is refused with the line named.
# 4. `eval openset --score-norm tnorm|znorm` (a measurement of score
#    normalisation): the same searches, thresholds in standard deviations
#    (above 1 at FPIR 1e-2: the best impostor of a gallery lies well above
#    its mean), no fixed-threshold lines; an unknown kind is refused.
# 5. The 'at T' line is at each model set's own default threshold unless
#    --threshold is given; a threshold outside (0, 1) is refused.
# 6. `eval openset --bootstrap`: 90 % intervals of FNIR that leave the
#    figures alone, lie in [0, 1], hold figures that rest on many searches,
#    and repeat for the same seed; a second template's rows give the
#    interval of their difference from the first's.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build}
if [ -z "${OPENLFR_DATA:-}" ] || [ ! -f "$OPENLFR_DATA/lfw/people.txt" ]; then
  echo "SKIP test_openset: OPENLFR_DATA not set (or no lfw/): open-set FNIR/FPIR not measured"
  echo "test_openset: 0 passed, 0 failed, 1 skipped"
  exit 0
fi
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
# refused WORD ARGS...: `eval openset ARGS` is refused (exit 2) naming WORD
refused() {
  local word=$1 msg code
  shift
  set +e
  msg=$("$build"/openlfr eval openset --lfw "$OPENLFR_DATA/lfw" "$@" 2>&1 >/dev/null)
  code=$?
  set -e
  if [ $code = 2 ] && grep -q -- "$word" <<<"$msg"; then echo "ok   $* is refused"; return 0; fi
  echo "FAIL $* gave exit $code: $msg"
  return 1
}
enrolled=1000 non=2000 people=400 extra=100 min_mated=100
case "$build" in *san*) enrolled=200 non=400 people=250 extra=20 min_mated=40 ;; esac
out=$("$build"/openlfr eval watchlist --lfw "$OPENLFR_DATA/lfw" --enrolled $enrolled \
      --non-enrolled $non --json 2>/dev/null)
echo "$out"
rc1=0
/usr/bin/python3 - "$out" "$enrolled" <<'PY' || rc1=$?
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
print(f"test_openset (eval watchlist): {4 - fails} passed, {fails} failed")
sys.exit(1 if fails else 0)
PY

utk=()
[ -d "$OPENLFR_DATA/utkface/images" ] && utk=(--utkface "$OPENLFR_DATA/utkface")
start=$SECONDS
out2=$("$build"/openlfr eval openset --lfw "$OPENLFR_DATA/lfw" "${utk[@]}" --people $people \
       --extra $extra --sizes 20,50,max --images-per-entry 2 --entry-template both --draws 2 \
       --json 2>/dev/null)
echo "eval openset: $((SECONDS - start)) s"
rc2=0
/usr/bin/python3 - "$out2" "${#utk[@]}" "$min_mated" <<'PY' || rc2=$?
import json, math, sys
r = json.loads(sys.argv[1]); with_utk = int(sys.argv[2]) > 0; min_mated = int(sys.argv[3])
fails = passed = 0
def check(ok, what):
    global fails, passed
    print(("ok   " if ok else "FAIL ") + what)
    fails += not ok; passed += bool(ok)
e = r["enrolment"]
print(f"eval openset: {e['people_2plus']} LFW people with 2+ photos, first photo accepted "
      f"{e['first_photo_accepted']}, later {e['accepted_later_photo']}, none "
      f"{e['no_photo_accepted']}; photos {r['photos']}")
check(e["first_photo_accepted"] + e["accepted_later_photo"] + e["no_photo_accepted"]
      == e["people_2plus"], "enrolment: first + later + none = people with 2+ photos")
check(sum(e["first_photo_grades"].values()) == e["people_2plus"],
      "every person's first photo has one verdict")
check(0.5 <= e["acceptance_rate_first_photo"] <= 1, "first-photo acceptance in [0.5, 1]")
check(r["accepted_people"] == e["first_photo_accepted"] + e["accepted_later_photo"],
      "accepted people = first + later")
check(e["templates"] <= 2 * r["accepted_people"], "at most 2 templates per entry")
check(not with_utk or r["photos"]["utkface"] > 0, "UTKFace chips used as non-mated searches")
rows = r["results"]
check(len(rows) == 6, "3 sizes x 2 entry templates reported")
nf = r["photos"]["lfw-1"] - r["photos_without_face"]["lfw-1"]
ok_unit = ok_sweep = ok_target = ok_order = ok_pool = ok_def = ok_draws = ok_rough = True
check(r["draws"] == 2, "two draws reported")
for row in rows:
    if row["galleries"] == 0:
        continue
    g = row["galleries"]
    if g != 2 * (r["accepted_people"] // row["size"]):
        ok_draws = False
        print("  draws:", row["size"], g, r["accepted_people"])
    if row["non_mated_by_source"]["lfw-1"] != g * nf:
        ok_pool = False
        print("  pooling:", row["size"], row["non_mated_by_source"], g, nf)
    lo = row["lfw_only"]
    if not (0 < lo["non_mated_searches"] <= row["non_mated_searches"]):
        ok_pool = False
    for view in (row, lo):
      pts = view["sweep"] + [p for p in view["at_fpir"] if p["measurable"] != "no"] + [view["at_threshold"]]
      for p in pts:
        for k in ("fnir", "fpir", "mated_other_alert"):
            if not (0 <= p[k] <= 1):
                ok_unit = False
      pts.sort(key=lambda p: p["threshold"])
      for a, b in zip(pts, pts[1:]):
        if b["fpir"] > a["fpir"] + 1e-12 or b["fnir"] < a["fnir"] - 1e-12:
            ok_sweep = False
            print("  not monotonic:", row["size"], row["entry_template"], a, b)
      meas = [p for p in view["at_fpir"] if p["measurable"] != "no"]
      for p in meas:
        if p["fpir"] > p["fpir_target"] + 1e-12:
            ok_target = False
        if (p["measurable"] == "yes" and p["non_mated_photos_alerting"] < 10) or \
           p["non_mated_photos_alerting"] > p["non_mated_alerts"]:
            ok_rough = False
      ths = [p["threshold"] for p in meas]
      if ths != sorted(ths):
        ok_order = False
    meas = [p for p in row["at_fpir"] if p["measurable"] != "no"]
    d = row["at_threshold"]
    if abs(d["threshold"] - 0.70) > 1e-6 or abs(d["found"] + d["fnir"] - 1) > 1e-9:
        ok_def = False
    print(f"  {row['model_set']} {row['entry_template']:4s} size {row['size']:4d} x{g}: "
          f"{row['mated_searches']} mated, {row['non_mated_searches']} non-mated; "
          + ", ".join(f"FNIR {p['fnir']:.3f} at FPIR {p['fpir_target']:g} (T {p['threshold']:.3f}, "
                      f"{p['measurable']})" for p in meas)
          + f"; at 0.70 FNIR {d['fnir']:.3f} FPIR {d['fpir']:.4f}")
check(ok_pool, "pooled galleries: each gallery gets every LFW one-photo person as non-mated; "
      "the LFW-only view is a non-empty part of the non-mated searches")
check(ok_draws, "each size has 2 x floor(accepted / size) galleries (two draws)")
check(ok_rough, "a measurable figure has 10 distinct photos above T; distinct photos <= alerts")
check(ok_unit, "FNIR, FPIR and wrong-entry rates in [0, 1]")
check(ok_sweep, "FPIR non-increasing and FNIR non-decreasing in the threshold")
check(ok_target, "FPIR at each FNIR-at-FPIR threshold is at most its target")
check(ok_order, "thresholds rise as the target FPIR falls")
check(ok_def, "the default-threshold line (0.70) is present and found = 1 - FNIR")
small = [x for x in rows if x["size"] == 20 and x["entry_template"] == "best"][0]
m = [p for p in small["at_fpir"] if p["fpir_target"] == 0.01][0]
check(small["galleries"] >= 2 and small["mated_searches"] >= min_mated,
      f"several disjoint galleries of 20 with at least {min_mated} mated searches")
check(m["measurable"] != "no" and m["fnir"] <= 0.15,
      "FNIR at FPIR 1e-2 with galleries of 20 <= 0.15 (measured 0.01-0.05)")
print(f"test_openset (eval openset): {passed} passed, {fails} failed")
sys.exit(1 if fails else 0)
PY

# 3. --truth: the first two people with 3+ photos declared one person, and
# one photo of the third relabelled as the first.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mapfile -t three < <(awk '$2 >= 3 {print $1}' "$OPENLFR_DATA/lfw/people.txt" | head -3)
printf '# test\nsame %s %s\nimage %s/%s_0002.jpg %s  # relabelled\n' "${three[0]}" "${three[1]}" \
  "${three[2]}" "${three[2]}" "${three[0]}" > "$tmp/truth.txt"
small=(--lfw "$OPENLFR_DATA/lfw" --people 150 --sizes 5,max --draws 3 --json)
without=$("$build"/openlfr eval openset "${small[@]}" 2>/dev/null)
with=$("$build"/openlfr eval openset "${small[@]}" --truth "$tmp/truth.txt" 2>/dev/null)
tn=$("$build"/openlfr eval openset "${small[@]}" --score-norm tnorm 2>/dev/null)
zn=$("$build"/openlfr eval openset "${small[@]}" --score-norm znorm 2>/dev/null)
rc3=0
/usr/bin/python3 - "$without" "$with" "$tn" "$zn" <<'PY' || rc3=$?
import json, sys
a = json.loads(sys.argv[1]); b = json.loads(sys.argv[2])
fails = passed = 0
def check(ok, what):
    global fails, passed
    print(("ok   " if ok else "FAIL ") + what)
    fails += not ok; passed += bool(ok)
t = b["truth"]
print("truth:", t)
check(t["same_pairs"] == 1 and t["images"] == 1, "the file's one pair and one photo are read")
check(t["photos_with_other_label_enrolled"] >= 3,
      "photos of the two labels and the relabelled photo meet another label's entry")
ra = {x["size"]: x for x in a["results"]}; rb = {x["size"]: x for x in b["results"]}
ok = ok_m = True; dropped = 0
for n in ra:
    x, y = ra[n], rb[n]
    dropped += y["non_mated_dropped_by_truth"]
    print(f"  size {n}: non-mated {x['non_mated_searches']} -> {y['non_mated_searches']} "
          f"+ {y['non_mated_dropped_by_truth']} dropped; mated {x['mated_searches']} -> "
          f"{y['mated_searches']}")
    ok &= x["non_mated_dropped_by_truth"] == 0 and \
          y["non_mated_searches"] + y["non_mated_dropped_by_truth"] == x["non_mated_searches"]
    ok_m &= x["mated_searches"] == y["mated_searches"]
check(dropped > 0, "some non-mated searches are dropped")
check(ok, "with the corrections, non-mated + dropped = non-mated without them")
check(ok_m, "the mated searches are the same")
for kind, txt in (("tnorm", sys.argv[3]), ("znorm", sys.argv[4])):
    n = json.loads(txt)
    ok = n["score_norm"] == kind
    for x, y in zip(a["results"], n["results"]):
        ok &= x["mated_searches"] == y["mated_searches"] and \
              x["non_mated_searches"] == y["non_mated_searches"]
        ok &= "at_threshold" not in y and "sweep" not in y
        p = [q for q in y["at_fpir"] if q["fpir_target"] == 0.01][0]
        if p["measurable"] != "no":
            ok &= p["threshold"] > 1 and 0 <= p["fnir"] <= 1 and p["fpir"] <= 0.01
            print(f"  {kind} size {y['size']}: FNIR {p['fnir']:.3f} at FPIR 1e-2, T {p['threshold']:.2f} sd")
    check(ok, f"--score-norm {kind}: same searches, thresholds in sd (> 1), no fixed-threshold lines")
print(f"test_openset (eval openset --truth): {passed} passed, {fails} failed")
sys.exit(1 if fails else 0)
PY
rc4=0
printf 'same A B\nsame only-one\n' > "$tmp/bad.txt"
refused score-norm --score-norm cosine || rc4=1
for bad in "$tmp/bad.txt" "$tmp/missing.txt"; do
  set +e
  msg=$("$build"/openlfr eval openset --lfw "$OPENLFR_DATA/lfw" --truth "$bad" 2>&1 >/dev/null)
  code=$?
  set -e
  if [ $code = 2 ] && { [ "$bad" != "$tmp/bad.txt" ] || grep -q "line 2" <<<"$msg"; }; then
    echo "ok   a bad --truth file ($(basename "$bad")) is refused: $msg"
  else
    echo "FAIL a bad --truth file ($(basename "$bad")) gave exit $code: $msg"; rc4=1
  fi
done
# 5. The 'at T' line of each model set is at that set's default threshold
# (FMR 1e-6: mfn192 0.70, the fused sets their own) unless --threshold
# names one for all; a threshold outside (0, 1) is refused.
rc5=0
sets=(--lfw "$OPENLFR_DATA/lfw" --people 150 --sizes 5 --model-set mfn192,fused704v3 --json)
if "$build"/openlfr models 2>/dev/null | grep -q '^lm68 '; then
  own=$("$build"/openlfr eval openset "${sets[@]}" 2>/dev/null)
  given=$("$build"/openlfr eval openset "${sets[@]}" --threshold 0.6 2>/dev/null)
  /usr/bin/python3 - "$own" "$given" <<'PY' || rc5=$?
import json, sys
a = json.loads(sys.argv[1]); b = json.loads(sys.argv[2])
t = {x["model_set"]: x["at_threshold"]["threshold"] for x in a["results"]}
g = {x["model_set"]: x["at_threshold"]["threshold"] for x in b["results"]}
print("at T by set:", t, "given 0.6:", g)
ok = abs(t["mfn192"] - 0.70) < 1e-6 and abs(t["fused704v3"] - 0.625) < 2e-3 \
     and all(x["threshold"] == x["at_threshold"]["threshold"] for x in a["results"])
print(("ok   " if ok else "FAIL ") + "each set's 'at T' line is at its own default threshold")
ok2 = all(abs(v - 0.6) < 1e-6 for v in g.values()) and len(g) == 2
print(("ok   " if ok2 else "FAIL ") + "--threshold 0.6 applies to every set")
sys.exit(0 if ok and ok2 else 1)
PY
else
  echo "SKIP the per-set default threshold: no lm68.lfrm (tools/setup.sh models), no fused704v3"
fi
refused threshold --threshold 1.5 || rc5=1
# 6. --bootstrap B: 90 % intervals of FNIR at each FPIR from B resamples of
# people and photos.  The figures themselves do not change; an interval
# lies in [0, 1], is not empty where misses exist, holds its figure where
# the figure rests on many searches, and is the same for the same seed
# (each replicate's weights depend only on the seed and its number).  A row
# of another template (or model set) also gets the interval of its
# difference from the first one's, resampled alike.
rc6=0
boot=(--lfw "$OPENLFR_DATA/lfw" --people 400 --sizes 20,max --draws 3 --json --images-per-entry 2
      --entry-template both)
b0=$("$build"/openlfr eval openset "${boot[@]}" 2>/dev/null)
b1=$("$build"/openlfr eval openset "${boot[@]}" --bootstrap 100 2>/dev/null)
b2=$("$build"/openlfr eval openset "${boot[@]}" --bootstrap 100 2>/dev/null)
/usr/bin/python3 - "$b0" "$b1" "$b2" <<'PY' || rc6=$?
import json, sys
a, b, c = (json.loads(x) for x in sys.argv[1:4])
fails = 0
def check(ok, what):
    global fails
    print(("ok   " if ok else "FAIL ") + what)
    fails += not ok
check(b["bootstrap"] == 100 and a["bootstrap"] == 0, "the replicates are reported (0 without --bootstrap)")
same = within = sane = True; holds = width = 0
for x, y in zip(a["results"], b["results"]):
    for p, q in zip(x["at_fpir"], y["at_fpir"]):
        same &= p["fnir"] == q["fnir"] and p["threshold"] == q["threshold"] and "fnir_interval90" not in p
        if p["measurable"] == "no":
            continue
        iv = q["fnir_interval90"]
        print(f"  size {y['size']} FPIR {q['fpir_target']}: FNIR {q['fnir']:.4f} "
              f"({q['measurable']}), 90 % interval {iv}, {q['bootstrap_measurable']}/100 replicates")
        sane &= iv is not None and 0 <= iv[0] <= iv[1] <= 1 and 0 < q["bootstrap_measurable"] <= 100
        if iv and q["measurable"] == "yes" and q["mated_missed"] >= 3:
            holds += 1
            within &= iv[0] <= q["fnir"] <= iv[1]
            width += iv[1] > iv[0]
check(same, "the figures are those of the same run without --bootstrap")
check(sane, "every measurable figure has an interval within [0, 1]")
check(holds >= 1 and within and width == holds,
      f"intervals of figures with misses hold them and are not empty ({holds} figures)")
check(b["results"] == c["results"], "the same seed gives the same intervals")
diff = first = True; n = 0
for y in b["results"]:
    for q in y["at_fpir"]:
        d = q.get("fnir_difference_interval90")
        if y["entry_template"] == "best":
            first &= d is None and "fnir_difference_interval90" not in q
        elif q["measurable"] != "no" and d is not None:
            n += 1
            print(f"  size {y['size']} FPIR {q['fpir_target']}: mean minus best "
                  f"{d['low']:+.4f} to {d['high']:+.4f} ({d['replicates']} replicates)")
            diff &= d["from"] == "mfn192 best" and -1 <= d["low"] <= d["high"] <= 1
check(first, "the first template's rows have no difference")
check(n >= 1 and diff, f"the mean template's rows give their difference from the best's ({n})")
sys.exit(1 if fails else 0)
PY
refused bootstrap --bootstrap 20000 || rc6=1
echo "test_openset: $([ $rc1 = 0 ] && [ $rc2 = 0 ] && [ $rc3 = 0 ] && [ $rc4 = 0 ] && [ $rc5 = 0 ] \
  && [ $rc6 = 0 ] && echo 'all passed' || echo 'FAILED')"
[ $rc1 = 0 ] && [ $rc2 = 0 ] && [ $rc3 = 0 ] && [ $rc4 = 0 ] && [ $rc5 = 0 ] && [ $rc6 = 0 ]
