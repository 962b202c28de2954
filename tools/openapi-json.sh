#!/usr/bin/env bash
# openapi-json.sh - docs/openapi.yaml (the one source of the API document)
# to web/openapi.json, the copy the server sends at /api/openapi.json.
#
#   tools/openapi-json.sh          writes web/openapi.json
#   tools/openapi-json.sh --check  exit 1 if web/openapi.json is not what
#                                  docs/openapi.yaml gives (tests/test_http.c)
# Needs python3 with PyYAML (Debian python3-yaml).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(python3 -c 'import json, sys, yaml
print(json.dumps(yaml.safe_load(open("docs/openapi.yaml")), indent=1, ensure_ascii=False))')
if [ "${1:-}" = --check ]; then
  if [ "$out" != "$(cat web/openapi.json 2>/dev/null)" ]; then
    echo "web/openapi.json is out of date: run tools/openapi-json.sh" >&2
    exit 1
  fi
  exit 0
fi
printf '%s\n' "$out" > web/openapi.json
