#!/usr/bin/env bash
# Compile the page's pixel kernels (scripts/page_kernels/kernels.ts, AssemblyScript) to
# src/ferkit/game/static/kernels.wasm. Needs node + npm (the compiler comes from the npm registry, pinned);
# nothing here is needed to install or run ferkit, only to change the kernels. Check the result with
# `pytest tests/game/test_page_kernels.py` (identical to imageops.mjs's JavaScript, bit for bit).
set -euo pipefail
ASSEMBLYSCRIPT_VERSION=0.28.20
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/../src/ferkit/game/static/kernels.wasm"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm init -y >/dev/null && npm install --silent "assemblyscript@$ASSEMBLYSCRIPT_VERSION")
"$work/node_modules/.bin/asc" "$here/page_kernels/kernels.ts" -O3 --runtime stub --noAssert -o "$out"
echo "wrote $out ($(wc -c <"$out") bytes, AssemblyScript $ASSEMBLYSCRIPT_VERSION)"
