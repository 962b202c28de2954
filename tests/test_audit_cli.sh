#!/usr/bin/env bash
# test_audit_cli.sh - signed audit checkpoints from the command line, as a
# van crew and an oversight body would use them: checkpoints made at
# authorisation, start and end and on demand; exported to a file; verified
# on a copy of the database WITHOUT its encryption key; and the strongest
# forgery of the file's owner (triggers dropped, a record edited, every
# later hash recomputed, the anchors rewritten: an independent Python
# implementation of the record hash, audit.h) passes the chain check but
# not the checkpoint, which names the record that was altered.  An edited
# deployment row is caught too.  The lifecycle part enrols an LFW photo
# (OPENLFR_DATA); without it that part is skipped loudly.
set -uo pipefail
cd "$(dirname "$0")/.."
lfr=$PWD/${BUILD:-build}/openlfr
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export OPENLFR_DB=$tmp/van/openlfr.db
mkdir -p "$tmp/van"
unset OPENLFR_KEY OPENLFR_KEY_FILE OPENLFR_SIGN_KEY
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
jget() { /usr/bin/python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))" "$1" "$2"; }

out=$("$lfr" deployment create --name "Test" --location "High St" \
  --purpose "locate wanted people" --legal-basis "common law" --start 2025-01-01T08:00Z \
  --end 2099-01-01T20:00Z --threshold 0.7 --by "PC Smith" --json 2>"$tmp/err")
dep=$(jget "$out" "d['id']")
[ -n "$dep" ] && ok "create a deployment" || bad "create: $out $(cat "$tmp/err")"
[ -f "$tmp/van/openlfr.sign" ] && ok "the signing key was made at set-up" || bad "no signing key"
[ "$(stat -c %a "$tmp/van/openlfr.sign")" = 600 ] && ok "signing key mode 0600" || bad "signing key mode"
expect "audit pubkey" 0 '^[0-9a-f]{64}$' "$lfr" audit pubkey
pk=$last

lfw=${OPENLFR_DATA:-}/lfw/images
if [ -n "${OPENLFR_DATA:-}" ] && [ -d "$lfw" ]; then
  expect "watchlist add" 0 "" "$lfr" watchlist add --deployment "$dep" --by "PC Smith" \
    --ref A-1 --name "Person A" --category wanted_on_warrant --reason "warrant 1" \
    --source custody --date 2024-01-01 "$lfw/Colin_Powell/Colin_Powell_0004.jpg"
  expect "authorise (answer carries its checkpoint)" 0 '"checkpoint"' \
    "$lfr" deployment authorise "$dep" --by "Supt Jones" --json
  expect "start" 0 "" "$lfr" deployment start "$dep" --by "Supt Jones"
  expect "end" 0 "" "$lfr" deployment end "$dep" --by "Supt Jones" --reason "over"
  out=$("$lfr" audit show --by "Ann Auditor" --json 2>/dev/null)
  reasons=$(jget "$out" "','.join(r['details']['reason'] for r in d['records'] if r['action']=='audit.checkpoint')")
  [ "$reasons" = "deployment.authorise,deployment.start,deployment.end" ] \
    && ok "checkpoints at authorise, start and end" || bad "checkpoint reasons: $reasons"
else
  echo "SKIP lifecycle checkpoints: OPENLFR_DATA not set (no single-face photo to enrol)"
  skip=$((skip + 1))
fi

expect "a checkpoint on demand needs an account name" 2 "--by" "$lfr" audit checkpoint
expect "a checkpoint on demand" 0 "written to" \
  "$lfr" audit checkpoint --by "Ann Auditor" --out "$tmp/cp1.txt"
head -1 "$tmp/cp1.txt" | grep -qx "openlfr-checkpoint-v1" && ok "file format" || bad "file: $(head -3 "$tmp/cp1.txt")"
grep -q "^pubkey $pk$" "$tmp/cp1.txt" && ok "signed by the van's key" || bad "pubkey not in file"
expect "--out never overwrites" 1 "must not exist" \
  "$lfr" audit checkpoint --by "Ann Auditor" --out "$tmp/cp1.txt"
expect "export the newest again, compact" 0 "" \
  "$lfr" audit export-checkpoint --by "Ann Auditor" --compact --out "$tmp/cp2.txt"
grep -q "^record " "$tmp/cp2.txt" && bad "compact file has record lines" || ok "compact file"
expect "a deployment after the checkpoint" 0 "" "$lfr" deployment create --name "Later" \
  --location "Park" --purpose "p" --legal-basis "b" --start 2025-01-01T08:00Z \
  --end 2099-01-01T20:00Z --threshold 0.7 --by "PC Smith"

expect "anchor (one for the forger to rewrite)" 0 "" "$lfr" audit anchor --by "Ann Auditor"

# The oversight body's copy: no key file, no account.
mkdir -p "$tmp/copy"
cp "$tmp/van/openlfr.db" "$tmp/copy/"
db=(--db "$tmp/copy/openlfr.db")
expect "verify a copy without its key, pinned" 0 "match the checkpoint.*pinned" \
  "$lfr" audit verify "${db[@]}" --checkpoint "$tmp/cp1.txt" --pubkey "$pk"
[ ! -e "$tmp/copy/openlfr.key" ] && ok "no key was created for the copy" || bad "a key appeared"
echo "$pk" >"$tmp/pk.txt"
expect "pubkey from a file; both checkpoints" 0 "" \
  "$lfr" audit verify "${db[@]}" --checkpoint "$tmp/cp1.txt" --checkpoint "$tmp/cp2.txt" \
  --pubkey "$tmp/pk.txt"
other=$(printf '%064d' 7)
expect "another key pinned: the file is unusable" 2 "not by the pinned key" \
  "$lfr" audit verify "${db[@]}" --checkpoint "$tmp/cp1.txt" --pubkey "$other"
sed 's/^at \([0-9]*\)/at 1\1/' "$tmp/cp1.txt" >"$tmp/cp-edited.txt"
expect "an edited checkpoint file fails its signature" 2 "signature does not verify" \
  "$lfr" audit verify "${db[@]}" --checkpoint "$tmp/cp-edited.txt"

# The strongest forgery: record 2 edited, every later hash recomputed, the
# anchors rewritten.
/usr/bin/python3 - "$tmp/copy/openlfr.db" <<'EOF' || bad "forgery script failed"
import hashlib, sqlite3, struct, sys
db = sqlite3.connect(sys.argv[1])
db.executescript("DROP TRIGGER IF EXISTS audit_log_no_update; DROP TRIGGER IF EXISTS anchors_no_update;")
def lp(b): return struct.pack('<Q', len(b)) + b
def rh(seq, at, actor, role, action, dep, details, prev):
    h = hashlib.blake2b(digest_size=32)
    h.update(b"openlfr-audit-v1" + struct.pack('<Q', seq) + struct.pack('<q', at))
    h.update(lp(actor.encode()) + lp(role.encode()) + lp(action.encode()))
    h.update(bytes([dep is not None]) + struct.pack('<q', dep or 0))
    h.update(lp(details.encode()) + lp(prev))
    return h.digest()
rows = db.execute("SELECT seq, at, actor, role, action, deployment_id, details, prev_hash, hash "
                  "FROM audit_log ORDER BY seq").fetchall()
# the implementation agrees with the van's before the forgery
assert all(rh(*r[:8]) == r[8] for r in rows), "independent hash disagrees"
prev = None
for seq, at, actor, role, action, dep, details, p, h in rows:
    if seq == 2: details = details.replace('}', ',"note":"forged"}', 1)
    if prev is not None: p = prev
    prev = rh(seq, at, actor, role, action, dep, details, p)
    db.execute("UPDATE audit_log SET details=?, prev_hash=?, hash=? WHERE seq=?", (details, p, prev, seq))
db.execute("UPDATE anchors SET hash = (SELECT hash FROM audit_log l WHERE l.seq = anchors.seq)")
db.commit()
EOF
expect "forged: the chain alone reports the log intact" 0 "hash chain intact" \
  "$lfr" audit verify "${db[@]}"
expect "forged: the checkpoint names record 2" 1 "CHECKPOINT .* FAILS: record 2: record 2 .*differs" \
  "$lfr" audit verify "${db[@]}" --checkpoint "$tmp/cp1.txt" --pubkey "$pk"
expect "forged: --json says which check failed" 1 '"first_bad_seq": 2' \
  "$lfr" audit verify "${db[@]}" --checkpoint "$tmp/cp1.txt" --pubkey "$pk" --json

# An edited deployment row, on a fresh copy.
cp "$tmp/van/openlfr.db" "$tmp/copy/openlfr.db"
/usr/bin/python3 -c "
import sqlite3, sys
db = sqlite3.connect(sys.argv[1]); db.execute(\"UPDATE deployments SET created_by = 'Someone Else' WHERE id = $dep\"); db.commit()" \
  "$tmp/copy/openlfr.db"
expect "an edited deployment row is caught" 1 "DEPLOYMENT ROWS EDITED: deployment $dep: .*created_by" \
  "$lfr" audit verify "${db[@]}"

# A signing key others can read is refused by every command.
chmod 644 "$tmp/van/openlfr.sign"
expect "a readable signing key is refused" 1 "signing key .* mode 0644" \
  "$lfr" deployment list --by "PC Smith"
chmod 600 "$tmp/van/openlfr.sign"

echo "audit cli: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
