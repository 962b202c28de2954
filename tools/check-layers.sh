#!/usr/bin/env bash
# check-layers.sh - the architecture as a rule the build enforces.
#
# Every module (a folder under src/) has a level below.  A module may
# include its own files and the PUBLIC header (src/M/M.h) of modules of a
# LOWER level, nothing else: no module reaches up, and no module reaches
# into another's private headers (*_int.h, tables).  The front ends sit
# on top and include app/app.h and public headers only: http, then cli
# (whose `openlfr serve` starts the server through http.h); http never
# includes cli.  A new module must be given a level here.
#
# Usage: tools/check-layers.sh [ROOT]   (ROOT: a tree with src/, default the project)
# Prints every violation as FILE:LINE: message and exits 1 if any.
set -u
cd "${1:-$(dirname "$0")/..}"
declare -A level=(
  [core]=0
  [image]=1 [nn]=1 [store]=1 [match]=1
  [convert]=2 [face]=2 [audit]=2 [video]=2
  [deploy]=3
  [account]=4 [enrol]=4 [pipeline]=4 [report]=4
  [app]=5
  [http]=6
  [cli]=7
)
bad=0
for dir in src/*/; do
  m=$(basename "$dir")
  if [ -z "${level[$m]+x}" ]; then
    echo "src/$m: module has no level in tools/check-layers.sh"; bad=1; continue
  fi
  for f in "$dir"*.c "$dir"*.h; do
    [ -f "$f" ] || continue
    while IFS=: read -r line inc; do
      dep=${inc%%/*}; hdr=${inc#*/}
      [ "$dep" = "$inc" ] && continue          # "local.h": same folder
      [ "$dep" = "$m" ] && continue            # own module
      if [ -z "${level[$dep]+x}" ]; then
        echo "$f:$line: includes \"$inc\" of unknown module '$dep'"; bad=1; continue
      fi
      if [ "${level[$dep]}" -ge "${level[$m]}" ]; then
        echo "$f:$line: $m (level ${level[$m]}) includes \"$inc\" of $dep (level ${level[$dep]}): a module may only include lower levels"; bad=1
      fi
      if [ "$hdr" != "$dep.h" ]; then
        echo "$f:$line: $m includes \"$inc\", a private header of $dep (only $dep/$dep.h is public)"; bad=1
      fi
    done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" | sed -E 's/^([0-9]+):[^"]*"([^"]*)".*/\1:\2/')
  done
done
if [ $bad -eq 0 ]; then
  echo "check-layers: ${#level[@]} modules, every include goes down to a public header"
fi
exit $bad
