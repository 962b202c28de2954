#!/usr/bin/env bash
# test_eval_report.sh - `openlfr eval report` (docs/accuracy.md), the
# accuracy and fairness evaluation, on a sample of OPENLFR_DATA (--sample
# 40: every 40th person / image, well under a minute):
# 1. report.json has every section (verification with its DET curve and TAR
#    at FAR 1e-2..1e-6 with the pairs behind each, open-set rows for 100,
#    1,000 and max, demographic tables for LFW sex/race FMR and FNMR and
#    UTKFace sex/race/age FMR at both thresholds, detection recall by face
#    height and skin tone, data counts, model sha256s, thresholds); every
#    group's 95 % interval contains its rate and lies in [0, 1];
# 2. index.html holds the PLplot SVG charts inline, and no image of a face
#    (no <img>, no data: URL, no JPEG);
#    the open-set part runs with the LFW ground-truth corrections (--truth
#    docs/lfw-truth.txt) and records them;
# 3. --from-json redraws the same page from report.json alone, a number
#    edited in the JSON shows up in the page, and a JSON of another schema
#    is refused naming the field.
# Without OPENLFR_DATA it SKIPS loudly (the --from-json refusal still runs).
set -uo pipefail
cd "$(dirname "$0")/.."
lfr=$PWD/${BUILD:-build}/openlfr
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0 skip=0
ok() { echo "ok   $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }

echo '{"schema":"something-else"}' >"$tmp/other.json"
out=$("$lfr" eval report --from-json "$tmp/other.json" --out "$tmp/o" 2>&1)
rc=$?
[ $rc -ne 0 ] && grep -q "'schema'" <<<"$out" && ok "a JSON of another schema is refused, naming 'schema'" \
  || bad "other schema: rc $rc: $out"
out=$("$lfr" eval report --data "$tmp" --out "$tmp/o" --truth "$tmp/no-such-file" 2>&1)
rc=$?
[ $rc -eq 2 ] && grep -q -- "--truth" <<<"$out" && ok "an unreadable --truth file is refused (exit 2)" \
  || bad "unreadable --truth: rc $rc: $out"

if [ -z "${OPENLFR_DATA:-}" ] || [ ! -f "$OPENLFR_DATA/lfw/pairs.txt" ] ||
   [ ! -d "$OPENLFR_DATA/utkface/images" ] || [ ! -f "$OPENLFR_DATA/wider/demographics.csv" ]; then
  echo "SKIP test_eval_report: OPENLFR_DATA not set (or lfw/, utkface/, wider/ missing):" \
       "the evaluation report is NOT tested"
  skip=1
  echo "test_eval_report: $pass passed, $fail failed, $skip skipped"
  [ $fail -eq 0 ]
  exit
fi
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
t0=$(date +%s)
"$lfr" eval report --data "$OPENLFR_DATA" --out "$tmp/r" --sample 40 --truth docs/lfw-truth.txt \
  2>"$tmp/progress"
rc=$?
t1=$(date +%s)
[ $rc -eq 0 ] && ok "eval report --sample 40 ran ($((t1 - t0)) s)" || { bad "eval report: rc $rc: $(tail -5 "$tmp/progress")"; }
grep -q "eval report: LFW .* photos embedded" "$tmp/progress" && grep -q "eval openset" "$tmp/progress" \
  && ok "progress on stderr" || bad "no progress on stderr"
[ -s "$tmp/r/report.json" ] && [ -s "$tmp/r/index.html" ] && ok "report.json and index.html written" \
  || bad "outputs missing: $(ls "$tmp/r")"

/usr/bin/python3 - "$tmp/r/report.json" "$tmp/r/index.html" <<'PY'
import json, re, sys
passed = fails = 0
def check(c, what):
    global passed, fails
    if c: passed += 1; print("ok  ", what)
    else: fails += 1; print("FAIL", what)
r = json.load(open(sys.argv[1])); html = open(sys.argv[2]).read()
check(r.get("schema") == "openlfr-eval-report-v1", "schema")
for k in ("verification", "openset", "demographics", "detection", "data", "models", "thresholds"):
    check(k in r, f"section {k}")
v = r["verification"]
check([t["far"] for t in v["tar_at_far"]] == [1e-2, 1e-3, 1e-4, 1e-5, 1e-6], "TAR at FAR 1e-2..1e-6")
check(all(t["impostor_pairs"] == v["impostor_pairs"] and t["genuine_pairs"] == v["genuine_pairs"]
          and t["measurable"] in ("yes", "rough", "no") for t in v["tar_at_far"]),
      "each TAR row says its pairs and whether it is measurable")
check(all(("tar" in t) == (t["measurable"] != "no") for t in v["tar_at_far"]),
      "a TAR is given exactly when measurable")
check(len(v["det"]) >= 10 and all(0 <= p["fmr"] <= 1 and 0 <= p["fnmr"] <= 1 for p in v["det"]),
      "DET curve points")
fmr = [p["fmr"] for p in v["det"]]; fnmr = [p["fnmr"] for p in v["det"]]
check(fmr == sorted(fmr) and fnmr == sorted(fnmr, reverse=True), "DET: FMR up, FNMR down")
check(0.9 <= v["accuracy"] <= 1, f"pairs accuracy {v['accuracy']:.4f} in [0.9, 1]")
os_ = r["openset"]
sizes = [x["size"] for x in os_["results"]]
check(sizes[:2] == [100, 1000] and len(sizes) == 3, f"open-set rows 100, 1000, max ({sizes})")
mx = os_["results"][2]
check(mx["galleries"] == 1 and [p["fpir_target"] for p in mx["at_fpir"]] == [1e-2, 1e-3, 1e-4]
      and all(p["measurable"] in ("yes", "rough", "no") for p in mx["at_fpir"])
      and "fnir" in mx["at_threshold"] and "fpir" in mx["at_threshold"],
      "open-set max row: FNIR at 3 FPIRs with measurability, FNIR/FPIR at the default threshold")
ivs = [(p["fnir"], p.get("fnir_interval90")) for x in os_["results"] for p in x.get("at_fpir", [])
       if p["measurable"] != "no"]
check(os_.get("bootstrap", 0) >= 100 and "--bootstrap" in os_["command"] and ivs and
      all(iv is not None and 0 <= iv[0] <= iv[1] <= 1 for _, iv in ivs),
      f"open-set: every measurable FNIR has its 90 % interval ({len(ivs)}, "
      f"{os_.get('bootstrap')} replicates)")
cis = re.findall(r'<span class=ci>([0-9.]+) to ([0-9.]+)</span>', html)
check(len(cis) == len(ivs) and all(float(a) <= float(b) for a, b in cis),
      f"the page shows each interval under its FNIR ({len(cis)})")
t = os_.get("truth", {})
check(t.get("file") == "docs/lfw-truth.txt" and t.get("same_pairs") == 3 and
      "--truth FILE" in r["command"] and "--truth 'docs/lfw-truth.txt'" in os_["command"],
      f"ground-truth corrections passed to eval openset and recorded ({t})")
check(abs(os_["threshold"] - r["thresholds"]["default (the set's alert threshold)"]) < 1e-4,
      "open-set run at the set's default threshold")
d = r["demographics"]
ids = sorted((t["data"], t["measure"], t["attribute"].split()[0]) for t in d["tables"])
want = sorted([("LFW", "FMR", "sex"), ("LFW", "FNMR", "sex"), ("LFW", "FMR", "race"),
               ("LFW", "FNMR", "race"), ("UTKFace", "FMR", "sex"), ("UTKFace", "FMR", "race"),
               ("UTKFace", "FMR", "age")])
check(ids == want, f"demographic tables {ids}")
groups = [g for t in d["tables"] for a in t["at"] for g in a["groups"]]
groups += [g for t in r["detection"]["tables"] for g in t["groups"]]
check(all(len(t["at"]) == 2 for t in d["tables"]), "each table at two thresholds")
check(all(0 <= g["ci_lo"] <= g["rate"] + 1e-9 and g["rate"] <= g["ci_hi"] + 1e-9 and g["ci_hi"] <= 1
          for g in groups), f"all {len(groups)} CIs contain their rate, within [0, 1]")
check(all(g["count"] <= g["n"] and isinstance(g["judged"], bool) for g in groups),
      "counts within n; each group judged or not")
check(any(not g["judged"] for g in groups), "small groups are marked too few to judge")
check(all("ratio_note" in a for t in d["tables"] for a in t["at"]), "each table says its ratio")
det_attrs = [t["attribute"].split()[0] for t in r["detection"]["tables"]]
check(det_attrs[:2] == ["face", "perceived"], f"detection by face height and skin tone {det_attrs}")
check(len(r["models"]) >= 4 and all(re.fullmatch("[0-9a-f]{64}", m["sha256"]) for m in r["models"]),
      "model sha256s")
check(r["data"]["LFW (View 1 pairs' people)"]["photos"] > 50, "LFW counts")
n_tables = sum(len(t["at"]) for t in d["tables"]) + len(r["detection"]["tables"])
svgs = re.findall(r"<svg\b", html)
check(len(svgs) == n_tables + 2, f"{len(svgs)} inline SVG charts (DET, open-set, {n_tables} tables)")
check("<img" not in html.lower() and "data:" not in html and "\xff\xd8" not in html,
      "no images in the page")
check("PLplot" in html or "<polyline" in html, "charts drawn by PLplot")
print(f"test_eval_report (json/html): {passed} passed, {fails} failed")
sys.exit(1 if fails else 0)
PY
[ $? -eq 0 ] && ok "report.json and index.html checks" || bad "report.json / index.html checks"

# --from-json: the page from the JSON alone, and the JSON's numbers in it
"$lfr" eval report --from-json "$tmp/r/report.json" --out "$tmp/re" 2>/dev/null
cmp -s "$tmp/r/index.html" "$tmp/re/index.html" && ok "--from-json redraws the same page" \
  || bad "--from-json page differs"
/usr/bin/python3 - "$tmp/r/report.json" "$tmp/ed.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["verification"]["accuracy"] = 0.123456
r["verification"]["det"] = [{"fmr": 1e-3, "fnmr": 0.5, "threshold": 0.5},
                            {"fmr": 1e-1, "fnmr": 0.05, "threshold": 0.3}]
json.dump(r, open(sys.argv[2], "w"))
PY
"$lfr" eval report --from-json "$tmp/ed.json" --out "$tmp/ed" 2>/dev/null
grep -q "12.35 %" "$tmp/ed/index.html" && ! cmp -s "$tmp/r/index.html" "$tmp/ed/index.html" \
  && ok "a number edited in the JSON is what the page shows" || bad "edited JSON not shown"
echo "test_eval_report: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
