#!/usr/bin/env bash
# test_layers.sh - the layering rule (tools/check-layers.sh) holds for the
# project, and the checker really fails on each kind of violation.
set -u
cd "$(dirname "$0")/.."
pass=0 fail=0
ok()  { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "  FAIL: $*"; }

if out=$(tools/check-layers.sh 2>&1); then ok; else bad "project violates its layers:"; echo "$out"; fi

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mk() { # a tiny tree: core, store, deploy, app, cli
  rm -rf "$tmp/src"; mkdir -p "$tmp"/src/{core,store,deploy,app,cli}
  for m in core store deploy app cli; do echo "/* $m */" > "$tmp/src/$m/$m.h"; done
  echo '#include "core/core.h"' > "$tmp/src/store/store.c"
  echo '#include "app/app.h"' > "$tmp/src/cli/main.c"
}
expect_fail() { # what, pattern
  if out=$(tools/check-layers.sh "$tmp" 2>&1); then bad "$1: not caught"
  elif echo "$out" | grep -q "$2"; then ok; else bad "$1: wrong message: $out"; fi
}
mk; if tools/check-layers.sh "$tmp" >/dev/null; then ok; else bad "clean tiny tree refused"; fi
mk; echo '#include "app/app.h"' > "$tmp/src/store/up.c";           expect_fail "store includes app" "only include lower levels"
mk; echo '#include "deploy/deploy_int.h"' > "$tmp/src/app/x.c";     expect_fail "private header" "private header of deploy"
mk; echo '#include "store/store.h"' >> "$tmp/src/cli/main.c"; if tools/check-layers.sh "$tmp" >/dev/null; then ok; else bad "cli may include a public header"; fi
mk; echo '#include "cli/cli.h"' > "$tmp/src/app/y.c";               expect_fail "app includes cli" "only include lower levels"
mk; mkdir -p "$tmp/src/newmod"; echo x > "$tmp/src/newmod/newmod.h"; expect_fail "module without a level" "has no level"
echo "layers: $pass passed, $fail failed"
[ $fail -eq 0 ]
