#!/usr/bin/env bash
# test_cli_users.sh - accounts from the command line: the first admin is
# made without --by on a database without accounts, after that only an
# admin adds, disables or resets accounts; on a database with accounts
# --by must be an enabled account's login (compared folded) and the roles
# are the account's, not self-declared (--role is gone).
set -uo pipefail
cd "$(dirname "$0")/.."
lfr=$PWD/${BUILD:-build}/openlfr
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export OPENLFR_DB=$tmp/openlfr.db
unset OPENLFR_KEY OPENLFR_KEY_FILE OPENLFR_PASSWORD
pass=0 fail=0
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
printf 'correct horse battery\n' >"$tmp/pw"
printf 'short\n' >"$tmp/short"
pw=(--password-file "$tmp/pw")
when=(--start 2025-01-01T08:00Z --end 2099-01-01T20:00Z)
plan=(--name T --location L --purpose P --legal-basis B "${when[@]}" --threshold 0.6)

expect "without a password source (no terminal) it says where one comes from" 2 "password-file" \
  "$lfr" user add boss --name "The Boss" --role admin
expect "the first account must be an admin" 2 "admin role" \
  "$lfr" user add clerk --name "A Clerk" --role operator "${pw[@]}"
expect "the first admin needs no --by" 0 "account [0-9]+: boss \(admin\)" \
  "$lfr" user add boss --name "The Boss" --role admin "${pw[@]}"
expect "after that --by is needed" 1 "--by" \
  "$lfr" user add boss2 --name "Second Boss" --role admin "${pw[@]}"
expect "an unknown role is named" 2 "--role: unknown role 'superuser'" \
  "$lfr" user add op1 --name "Op One" --role superuser "${pw[@]}" --by boss
expect "a short password is refused" 1 "12" \
  "$lfr" user add op1 --name "Op One" --role operator --password-file "$tmp/short" --by boss
expect "admin adds an operator" 0 "" "$lfr" user add op1 --name "Op One" --role operator "${pw[@]}" --by boss
expect "admin adds an authorising officer (password from the environment)" 0 "" \
  env OPENLFR_PASSWORD="another good password" "$lfr" user add "Supt 2" --name "Supt Two" \
  --role authorising_officer --role operator --by BOSS
expect "a look-alike of an existing login is refused" 1 "" \
  "$lfr" user add "OP1" --name "Op Again" --role operator "${pw[@]}" --by boss
expect "an operator cannot add accounts" 1 "" \
  "$lfr" user add pc9 --name "PC Nine" --role officer "${pw[@]}" --by op1
expect "user list" 0 "" "$lfr" user list --by boss --json
[ "$(jget "$last" "len(d['users'])")" = "3" ] && ok "three accounts" || bad "accounts: $last"
expect "user list is for admins" 1 "" "$lfr" user list --by op1

# Names on a database with accounts -------------------------------------------
expect "a name that is no account is refused" 1 "not an account" \
  "$lfr" deployment create "${plan[@]}" --by "PC Nobody"
expect "an operator creates (name typed in another case)" 0 "" \
  "$lfr" deployment create "${plan[@]}" --by "OP1" --json
dep=$(jget "$last" "d['id']")
[ "$(jget "$last" "d['created_by']")" = "op1" ] && ok "recorded under the account's login" \
  || bad "created_by: $last"
expect "an operator cannot authorise (roles from the account)" 1 "not allowed|permission" \
  "$lfr" deployment authorise "$dep" --by op1
expect "--role cannot raise it" 2 "unknown option '--role'" \
  "$lfr" deployment authorise "$dep" --by op1 --role authorising_officer
expect "reading needs an account too" 1 "not an account|--by" "$lfr" deployment list
expect "... and works with one" 0 "" "$lfr" deployment list --by "supt 2"

# Disable and passwd ----------------------------------------------------------
expect "an operator cannot disable accounts" 1 "" "$lfr" user disable boss --by op1
expect "admin disables op1" 0 "disabled" "$lfr" user disable op1 --by boss
expect "a disabled account cannot act" 1 "disabled" \
  "$lfr" deployment create "${plan[@]}" --by op1
expect "admin resets a password" 0 "password of" \
  "$lfr" user passwd "supt 2" --password-file "$tmp/pw" --by boss
expect "a short new password is refused" 1 "12" \
  "$lfr" user passwd "supt 2" --password-file "$tmp/short" --by boss

expect "audit verify" 0 "" "$lfr" audit verify --by boss --json
expect "audit show" 0 "" "$lfr" audit show --by boss --json
for action in user.add user.disable user.passwd; do
  grep -q "\"$action\"" <<<"$last" && ok "audit holds $action" || bad "audit lacks $action"
done
grep -q "correct horse" <<<"$last" && bad "a password reached the audit log" || ok "no password in the audit log"

echo "test_cli_users: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
