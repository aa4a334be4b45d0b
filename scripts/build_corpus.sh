#!/usr/bin/env bash
# Build corpus/ from raw/ (the last release's released/REGISTRY.json keeps story IDs stable),
# then validate it against raw/. Thin wrapper: all logic lives in the `newsvariants` package.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${NV:-}" ]; then
  if [ -x .venv/bin/newsvariants ]; then NV=.venv/bin/newsvariants; else NV=newsvariants; fi
fi
"$NV" build --raw raw --out corpus "$@"
"$NV" validate corpus --raw raw
