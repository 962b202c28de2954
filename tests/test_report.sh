#!/usr/bin/env bash
# test_report.sh - `openlfr report` from the command line, as an oversight
# body would run it: on a copy of the database WITHOUT its encryption key
# and without an account, in the three formats.  The JSON is checked
# against docs/report-schema.json (python3-jsonschema), for a deployment
# made here and for the known-events deployment of tests/test_report.c;
# the PDF is read back with poppler (pdfinfo, pdftotext); nothing of the
# people on the list is in any of them.  With OPENLFR_DATA an LFW photo is
# enrolled and the deployment authorised, started and ended, so the report
# carries the checkpoints the app signed; without it that part is skipped
# loudly.
set -uo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build}
lfr=$PWD/$build/openlfr
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export OPENLFR_DB=$tmp/van/openlfr.db
mkdir -p "$tmp/van"
unset OPENLFR_KEY OPENLFR_KEY_FILE OPENLFR_SIGN_KEY
# Under ASan (make SANITIZE=1 test): fontconfig keeps the fonts pango
# matched in process-wide caches, made once and not per report (see
# tests/test_report.c); only fontconfig's own allocations are left out.
printf 'leak:libfontconfig.so\n' >"$tmp/lsan.supp"
export LSAN_OPTIONS="suppressions=$tmp/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
pass=0 fail=0 skip=0
ok() { echo "ok   $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
expect() { # description, exit code, pattern ('' = any), command...
  local what=$1 want=$2 pat=$3; shift 3
  local out; out=$("$@" 2>&1 </dev/null); local rc=$?
  if [ "$rc" -ne "$want" ]; then bad "$what (exit $rc, want $want): $out"
  elif [ -n "$pat" ] && ! grep -qE -- "$pat" <<<"$out"; then bad "$what (no /$pat/ in: $out)"
  else ok "$what"; fi
  last=$out
}
py=/usr/bin/python3
jget() { $py -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$1" "$2"; }
valid() { # file: checked against the schema
  $py - "$1" <<'EOF'
import json, sys, jsonschema
schema = json.load(open("docs/report-schema.json"))
jsonschema.Draft7Validator.check_schema(schema)
jsonschema.validate(json.load(open(sys.argv[1])), schema)
EOF
}

out=$("$lfr" deployment create --name "Report test" --location "High St" \
  --purpose "locate wanted people" --legal-basis "common law" --start 2025-01-01T08:00Z \
  --end 2099-01-01T20:00Z --threshold 0.7 --cameras "north,south" --by "PC Smith" --json 2>"$tmp/err")
dep=$($py -c "import json,sys; print(json.loads(sys.argv[1])['id'])" "$out" 2>/dev/null)
[ -n "$dep" ] && ok "create a deployment" || bad "create: $out $(cat "$tmp/err")"

lfw=${OPENLFR_DATA:-}/lfw/images
lived=0
if [ -n "${OPENLFR_DATA:-}" ] && [ -d "$lfw" ]; then
  expect "watchlist add" 0 "" "$lfr" watchlist add --deployment "$dep" --by "PC Smith" \
    --ref A-1 --name "Person Alpha" --category wanted_on_warrant --reason "warrant 1" \
    --source custody --date 2024-01-01 "$lfw/Colin_Powell/Colin_Powell_0004.jpg"
  expect "authorise" 0 "" "$lfr" deployment authorise "$dep" --by "Supt Jones"
  expect "start" 0 "" "$lfr" deployment start "$dep" --by "Supt Jones"
  expect "end" 0 "" "$lfr" deployment end "$dep" --by "Supt Jones" --reason "over"
  lived=1
else
  echo "SKIP lifecycle: OPENLFR_DATA not set (no single-face photo to enrol); the draft is reported"
  skip=$((skip + 1))
fi
expect "audit pubkey" 0 '^[0-9a-f]{64}$' "$lfr" audit pubkey
pk=$last

# The oversight body's copy: no key files, no account.
mkdir -p "$tmp/copy"
cp "$tmp/van/openlfr.db" "$tmp/copy/"
db=(--db "$tmp/copy/openlfr.db")
expect "json on the copy, key pinned" 0 "written to" \
  "$lfr" report "$dep" "${db[@]}" --format json --pubkey "$pk" --out "$tmp/r.json"
[ -f "$tmp/copy/openlfr.key" ] && bad "the report made a key file" || ok "no key file made"
valid "$tmp/r.json" && ok "JSON follows docs/report-schema.json" || bad "JSON against the schema"
[ "$(jget "$tmp/r.json" "d['deployment']['name']")" = "Report test" ] && ok "deployment name" || bad "name"
[ "$(jget "$tmp/r.json" "d['integrity']['pubkey']")" = "$pk" ] && ok "the pinned key is in it" || bad "pubkey"
[ "$(jget "$tmp/r.json" "d['integrity']['chain']['ok']")" = True ] && ok "chain verified" || bad "chain"
[ "$(jget "$tmp/r.json" "d['deployment']['cameras_planned']")" = "['north', 'south']" ] \
  && ok "cameras" || bad "cameras: $(jget "$tmp/r.json" "d['deployment']['cameras_planned']")"
if [ $lived = 1 ]; then
  [ "$(jget "$tmp/r.json" "d['watchlist']['entries']")" = 1 ] && ok "one entry" || bad "entries"
  [ "$(jget "$tmp/r.json" "d['watchlist']['by_category']['wanted_on_warrant']")" = 1 ] \
    && ok "by category" || bad "category"
  [ "$(jget "$tmp/r.json" "[c['reason_made'] for c in d['integrity']['checkpoints']]")" \
    = "['deployment.authorise', 'deployment.start', 'deployment.end']" ] \
    && ok "the app's checkpoints are in it" \
    || bad "checkpoints: $(jget "$tmp/r.json" "d['integrity']['checkpoints']")"
  [ "$(jget "$tmp/r.json" "all(c['ok'] for c in d['integrity']['checkpoints'])")" = True ] \
    && ok "checkpoints verified with the pinned key" || bad "checkpoint verification"
fi

expect "html" 0 "" "$lfr" report "$dep" "${db[@]}" --out "$tmp/r.html"
[ "$(grep -o '<svg' "$tmp/r.html" | wc -l)" = 3 ] && ok "three SVG charts" || bad "charts"
grep -q '<caption>' "$tmp/r.html" && grep -q '@media print' "$tmp/r.html" \
  && ok "captions and print CSS" || bad "html structure"
expect "pdf" 0 "" "$lfr" report "$dep" "${db[@]}" --format pdf --out "$tmp/r.pdf"
head -c 5 "$tmp/r.pdf" | grep -q '%PDF-' && ok "PDF header" || bad "not a PDF"
pages=$(pdfinfo "$tmp/r.pdf" 2>/dev/null | awk '/^Pages:/ {print $2}')
[ "${pages:-0}" -ge 2 ] && ok "PDF has $pages pages" || bad "PDF pages: $pages"
pdftotext "$tmp/r.pdf" "$tmp/r.txt"
grep -q "Transparency report: Report test" "$tmp/r.txt" && grep -q "Authorising officer" "$tmp/r.txt" \
  && ok "PDF text" || bad "PDF text: $(head -5 "$tmp/r.txt")"
for f in "$tmp/r.json" "$tmp/r.html" "$tmp/r.txt"; do
  if grep -q -e "Person Alpha" -e "A-1" -e "warrant 1" "$f"; then bad "$(basename "$f") names a listed person"
  else ok "$(basename "$f") names nobody on the list"; fi
done
expect "stdout by default (json)" 0 '"schema": "openlfr-transparency-report-v1"' \
  "$lfr" report "$dep" "${db[@]}" --format json
expect "an unknown deployment" 1 "not found" "$lfr" report 999 "${db[@]}"
expect "an unknown format is named" 2 "docx" "$lfr" report "$dep" "${db[@]}" --format docx
expect "a bad --pubkey is named" 2 "pubkey" "$lfr" report "$dep" "${db[@]}" --pubkey nothex

# The known-events deployment of test_report.c, against the schema too.
if [ -x "$build/tests/test_report" ]; then
  mkdir -p "$tmp/known"
  if REPORT_OUT=$tmp/known "$build/tests/test_report" >/dev/null 2>&1 && valid "$tmp/known/report.json"; then
    ok "known-events report follows the schema"
  else bad "known-events report against the schema"; fi
else
  echo "SKIP known-events schema check: $build/tests/test_report not built"
  skip=$((skip + 1))
fi

if [ $skip -gt 0 ]; then echo "report_cli: $pass passed, $fail failed, $skip skipped"
else echo "report_cli: $pass passed, $fail failed"; fi
[ $fail -eq 0 ]
