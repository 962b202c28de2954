#!/usr/bin/env bash
# test_eval_console.sh - the evaluation report from the console's API
# (src/app/ops_eval.c: eval.status, eval.start, eval.cancel, eval.file)
# against a real `openlfr serve`:
# 1. always: without data (option data / $OPENLFR_DATA unset) eval.status
#    says so and eval.start is refused (409) naming $OPENLFR_DATA, with no
#    audit record; an operator and an authorising officer are refused (403)
#    on all four routes; cancelling a run that is not running is refused;
#    with a data folder that passes the check but holds nothing readable the
#    child fails and the run is listed failed with its last error line (and
#    so is its eval.end record);
# 2. with OPENLFR_DATA: a run (--sample 400, seconds) runs as a child of
#    the server, a second start while it runs is refused (409), it ends
#    done with its index.html (inline SVG, no image) and report.json served
#    to the auditor, kept in eval-runs/run-SEQ beside the database, and
#    eval.start / eval.end are in the audit log; a second run (--sample 40)
#    is cancelled while running: its child processes are gone, it is listed
#    as cancelled, eval.cancel and eval.end (cancelled) are recorded, and
#    its report is not served.  Without OPENLFR_DATA part 2 SKIPS loudly.
set -uo pipefail
cd "$(dirname "$0")/.."
lfr=$PWD/${BUILD:-build}/openlfr
models=${OPENLFR_MODELS:-models}
name=test_eval_console
tmp=$(mktemp -d /tmp/lfr_evc_XXXXXX)
srv=
stop() { # the server, and what a sanitizer build said in its log
  [ -n "$srv" ] && kill "$srv" 2>/dev/null && wait "$srv" 2>/dev/null; srv=
  if grep -qE "Sanitizer|runtime error" "$tmp/serve.log" 2>/dev/null; then
    echo "FAIL the server's log has sanitizer reports:"; grep -A5 -E "Sanitizer|runtime error" "$tmp/serve.log" | head -30
    fail=$((fail + 1)); : >"$tmp/serve.log"
  fi
}
trap 'stop; rm -rf "$tmp"' EXIT
pass=0 fail=0 skip=0
ok() { echo "ok   $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
[ -x "$lfr" ] || { echo "SKIP $name: $lfr not built"; echo "$name: 0 passed, 0 failed, 1 skipped"; exit 0; }

export OPENLFR_DB="$tmp/openlfr.db" OPENLFR_KEY_FILE="$tmp/openlfr.key" OPENLFR_LOG=warn
export OPENLFR_PASSWORD="eval console password 1"
"$lfr" user add admin --name Admin --role admin >/dev/null || { echo "FAIL user add"; exit 1; }
for u in "aud1 auditor" "op1 operator" "auth1 authorising_officer"; do
  set -- $u
  "$lfr" user add "$1" --name "$1" --role "$2" --by admin >/dev/null || { echo "FAIL user add $1"; exit 1; }
done

# serve DATA: a server on a free port (DATA empty: none)
serve() {
  for _ in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 20000))
    OPENLFR_DATA="$1" "$lfr" serve --port "$port" --tls-dir "$tmp/tls" --web-root web \
      --models "$models" >"$tmp/serve.log" 2>&1 &
    srv=$!
    for _ in $(seq 150); do
      grep -q "serving https" "$tmp/serve.log" 2>/dev/null && return 0
      kill -0 "$srv" 2>/dev/null || break
      sleep 0.1
    done
    stop
  done
  echo "FAIL the server did not start: $(tail -5 "$tmp/serve.log")"; exit 1
}
# api METHOD PATH TOKEN [JSON]: body to $tmp/b, prints the status
api() {
  local args=(-s -o "$tmp/b" -w '%{http_code}' --max-time 20 --cacert "$tmp/tls/ca.pem" -X "$1")
  [ -n "$3" ] && args+=(-H "Authorization: Bearer $3")
  [ -n "${4:-}" ] && args+=(-H 'Content-Type: application/json' --data "$4")
  curl "${args[@]}" "https://127.0.0.1:$port$2"
}
login() {
  api POST /api/session "" "{\"login\":\"$1\",\"password\":\"$OPENLFR_PASSWORD\"}" >/dev/null
  jq -r .token "$tmp/b"
}
jb() { jq -r "$1" "$tmp/b"; }
records() { # the audit records of an action, as JSON lines
  api GET "/api/audit?limit=1000" "$aud" >/dev/null
  jq -c --arg a "$1" '.records[] | select(.action == $a)' "$tmp/b"
}

# 1. no data ------------------------------------------------------------------
serve ""
aud=$(login aud1) op=$(login op1) auth=$(login auth1) adm=$(login admin)
[ ${#aud} -gt 20 ] && [ ${#op} -gt 20 ] || { echo "FAIL sign-in: $(cat "$tmp/b")"; exit 1; }
s=$(api GET /api/eval "$aud")
[ "$s" = 200 ] && [ "$(jb .data.usable)" = false ] && jb .data.message | grep -q 'OPENLFR_DATA' \
  && ok "eval.status without data: not usable, naming \$OPENLFR_DATA" || bad "status without data: $s $(cat "$tmp/b")"
# the model sets: the deployments' default (deploy.h) first, and named
def=$(sed -n 's/^#define LFR_DEPLOY_DEFAULT_MODEL_SET "\(.*\)".*/\1/p' src/deploy/deploy.h)
[ -n "$def" ] && [ "$(jb .default_model_set)" = "$def" ] && [ "$(jb '.model_sets[0]')" = "$def" ] \
  && ok "eval.status: model sets $(jb '.model_sets | join(",")'), the default for deployments ($def) first" \
  || bad "model sets: $(jb '{default_model_set, model_sets}' | tr -d '\n') (deploy.h default '$def')"
s=$(api POST /api/eval/runs "$aud" '{"sample":400}')
[ "$s" = 409 ] && jb .error.message | grep -q 'no evaluation data' \
  && ok "eval.start without data: 409 '$(jb .error.message)'" || bad "start without data: $s $(cat "$tmp/b")"
[ -z "$(records eval.start)" ] && ok "the refused start left no audit record" || bad "a refused start was recorded"
s=$(api POST /api/eval/runs "$adm" '{"sample":0}')
[ "$s" = 400 ] && ok "sample 0 refused (400)" || bad "sample 0: $s $(cat "$tmp/b")"
s=$(api POST /api/eval/runs "$aud" '{"model_set":"mfn999"}')
[ "$s" = 400 ] && jb .error.message | grep -q 'mfn999.*known: mfn192, fused704, fused704v2, fused704v3' \
  && ok "an unknown model set is refused (400), naming the known ones" || bad "model set mfn999: $s $(cat "$tmp/b")"
s=$(api POST /api/eval/runs/5/cancel "$aud" '{}')
[ "$s" = 409 ] && jb .error.message | grep -q 'not running' && ok "cancelling no run: 409" || bad "cancel nothing: $s"
s=$(api GET "/api/eval/runs/5/report?format=html" "$aud")
[ "$s" = 404 ] && ok "the report of no run: 404" || bad "report of no run: $s"
for who in op auth; do
  t=${!who} codes=
  for r in "GET /api/eval" "POST /api/eval/runs" "POST /api/eval/runs/1/cancel" "GET /api/eval/runs/1/report"; do
    set -- $r
    codes="$codes $(api "$1" "$2" "$t" "$([ "$1" = POST ] && echo '{}')")"
  done
  [ "$codes" = " 403 403 403 403" ] && ok "$who refused on all four eval routes (403)" || bad "$who: codes$codes"
done
stop

# 1b. data that passes the check but cannot be read: the child fails, and
# the run says so with its last error line
fake=$tmp/fake
mkdir -p "$fake/lfw" "$fake/utkface/images" "$fake/wider" "$fake/celeba"
echo "not a pairs file" >"$fake/lfw/pairs.txt"
echo "x" >"$fake/wider/demographics.csv"
echo "not a photo" >"$fake/utkface/images/1_0_0_x.jpg"   # an empty folder meets qsort(NULL, 0) in cmd_eval_report.c (UBSan)
serve "$fake"
aud=$(login aud1)
s=$(api POST /api/eval/runs "$aud" '{"sample":1000}')
runf=$(jb .run.id)
for _ in $(seq 150); do
  api GET /api/eval "$aud" >/dev/null
  [ "$(jb .running)" = null ] && break
  sleep 0.2
done
err=$(jb '.runs[0].error // empty')
[ "$s" = 200 ] && [ "$(jb .runs[0].status)" = failed ] && grep -q '^openlfr: ' <<<"$err" \
  && ok "a run whose child fails is listed failed with its last error line: $err" \
  || bad "failing run: $s $(jq -c .runs[0] "$tmp/b")"
records eval.end | jq -c "select(.details.run == $runf and .details.status == \"failed\" and (.details.error | startswith(\"openlfr: \")))" | grep -q . \
  && ok "eval.end (failed, with the error line) in the audit log" || bad "failed run audit: $(records eval.end)"
stop

# 2. with data ----------------------------------------------------------------
D=${OPENLFR_DATA:-}
if [ -z "$D" ] || [ ! -f "$D/lfw/pairs.txt" ] || [ ! -d "$D/utkface/images" ] ||
   [ ! -f "$D/wider/demographics.csv" ] || [ ! -d "$D/celeba" ] || [ ! -f "$models/MANIFEST.tsv" ]; then
  echo "SKIP $name: OPENLFR_DATA not set (or lfw/, utkface/, wider/, celeba/ or the models missing):" \
       "evaluation runs from the console are NOT tested"
  skip=1
  echo "$name: $pass passed, $fail failed, $skip skipped"
  [ $fail -eq 0 ]
  exit
fi
export OMP_NUM_THREADS=1
serve "$D"
aud=$(login aud1) op=$(login op1)
s=$(api GET /api/eval "$aud")
[ "$s" = 200 ] && [ "$(jb .data.usable)" = true ] && [ "$(jb .data.dir)" = "$D" ] \
  && ok "eval.status with data: usable, $D" || bad "status with data: $s $(cat "$tmp/b")"
t0=$(date +%s.%N)
s=$(api POST /api/eval/runs "$aud" '{"sample":400}')
run=$(jb .run.id)
[ "$s" = 200 ] && [ "$(jb .run.status)" = running ] && [ "$(jb .run.sample)" = 400 ] \
  && ok "eval.start: run $run running (sample 400)" || bad "start: $s $(cat "$tmp/b")"
s=$(api POST /api/eval/runs "$aud" '{"sample":400}')
[ "$s" = 409 ] && jb .error.message | grep -q "run $run is still running" \
  && ok "a second start while it runs: 409 '$(jb .error.message)'" || bad "second start: $s $(cat "$tmp/b")"
pgrep -f -- "eval report --data $D --out $tmp/eval-runs/run-$run " >/dev/null \
  && ok "the run is a child process of the server" || bad "no child process seen"
saw_progress=0
for _ in $(seq 300); do
  api GET /api/eval "$aud" >/dev/null
  [ "$(jb '.running.progress.line // empty')" != "" ] && saw_progress=1
  [ "$(jb .running)" = null ] && break
  sleep 0.2
done
t1=$(date +%s.%N)
[ "$(jb .runs[0].id)" = "$run" ] && [ "$(jb .runs[0].status)" = done ] && [ "$(jb .runs[0].has_report)" = true ] \
  && ok "run $run done in $(awk "BEGIN{printf \"%.1f\", $t1 - $t0}") s, listed with its report" \
  || bad "run did not end done: $(jq -c .runs[0] "$tmp/b")"
[ "$(jb .runs[0].model_set)" = fused704v3 ] && [ "$(jb .runs[0].by)" = aud1 ] && [ -n "$(jb .runs[0].ended_at)" ] \
  && ok "the run lists its model set (the deployments' default, fused704v3, when none is given), who started it and when it ended" || bad "run fields: $(jq -c .runs[0] "$tmp/b")"
[ $saw_progress = 1 ] && ok "progress lines were shown while it ran" || echo "note: the run ended before a progress poll"
[ -s "$tmp/eval-runs/run-$run/progress.log" ] && grep -q "eval report: wrote" "$tmp/eval-runs/run-$run/progress.log" \
  && ok "kept in eval-runs/run-$run beside the database, with progress.log" || bad "run folder: $(ls "$tmp/eval-runs/run-$run" 2>&1)"
s=$(api GET "/api/eval/runs/$run/report?format=html" "$aud")
[ "$s" = 200 ] && grep -q '<svg' "$tmp/b" && ! grep -qi '<img\|data:image' "$tmp/b" \
  && ok "its index.html served to the auditor (inline SVG, no image)" || bad "html: $s $(head -c 200 "$tmp/b")"
s=$(api GET "/api/eval/runs/$run/report?format=json" "$aud")
[ "$s" = 200 ] && [ "$(jb .schema)" = openlfr-eval-report-v1 ] && [ "$(jb .sample)" = 400 ] \
  && ok "its report.json served" || bad "json: $s $(head -c 200 "$tmp/b")"
s=$(api GET "/api/eval/runs/$run/report?format=html" "$op")
[ "$s" = 403 ] && ok "an operator cannot read it (403)" || bad "operator read: $s"
records eval.start | jq -c "select(.seq == $run and .details.sample == 400 and .actor == \"aud1\")" | grep -q . \
  && records eval.end | jq -c "select(.details.run == $run and .details.status == \"done\")" | grep -q . \
  && ok "eval.start (seq = run $run) and eval.end (done) in the audit log" || bad "audit: $(records eval.end)"

# cancel
s=$(api POST /api/eval/runs "$aud" '{"sample":40}')
run2=$(jb .run.id)
[ "$s" = 200 ] && ok "second run $run2 started (sample 40)" || bad "start 2: $s $(cat "$tmp/b")"
for _ in $(seq 100); do
  api GET /api/eval "$aud" >/dev/null
  [ "$(jb '.running.progress.line // empty')" != "" ] && break
  sleep 0.1
done
line=$(jb '.running.progress.line // empty')
[ -n "$line" ] && [ "$(jb .running.progress.stages)" = 5 ] \
  && ok "progress while running: stage $(jb .running.progress.stage)/5 '$(jb .running.progress.stage_name)': $line" \
  || bad "no progress: $(jq -c .running "$tmp/b")"
s=$(api POST "/api/eval/runs/$run2/cancel" "$aud" '{}')
[ "$s" = 200 ] && [ "$(jb .status)" = cancelling ] && ok "eval.cancel: 200 cancelling" || bad "cancel: $s $(cat "$tmp/b")"
for _ in $(seq 100); do
  api GET /api/eval "$aud" >/dev/null
  [ "$(jb .running)" = null ] && break
  sleep 0.1
done
[ "$(jb .runs[0].id)" = "$run2" ] && [ "$(jb .runs[0].status)" = cancelled ] && [ "$(jb .runs[0].has_report)" = false ] \
  && ok "run $run2 listed as cancelled, without a report" || bad "after cancel: $(jq -c .runs[0] "$tmp/b")"
sleep 0.3
pgrep -f -- "--out $tmp/eval-runs/run-$run2" >/dev/null && bad "a child of the cancelled run is still running" \
  || ok "no process of the cancelled run is left"
s=$(api GET "/api/eval/runs/$run2/report?format=html" "$aud")
[ "$s" = 404 ] && ok "a cancelled run's report: 404 ($(jb .error.message))" || bad "cancelled report: $s"
records eval.cancel | jq -c "select(.details.run == $run2 and .actor == \"aud1\")" | grep -q . &&
  records eval.end | jq -c "select(.details.run == $run2 and .details.status == \"cancelled\")" | grep -q . \
  && ok "eval.cancel (by aud1) and eval.end (cancelled) in the audit log" || bad "cancel audit: $(records eval.end)"
api GET /api/audit/verify "$aud" >/dev/null
[ "$(jb .ok)" = true ] && ok "the audit chain verifies" || bad "verify: $(cat "$tmp/b")"
stop
echo "$name: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
