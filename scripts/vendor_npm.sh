#!/usr/bin/env bash
# Vendor chosen files of an npm package into the game's static files, with its licence and pinned version.
# Usage: scripts/vendor_npm.sh PACKAGE@VERSION DEST_FOLDER FILE[:gz]...
#   scripts/vendor_npm.sh swagger-ui-dist@5.35.0 src/ferkit/game/static/vendor/swagger-ui \
#       swagger-ui-bundle.js swagger-ui.css favicon-32x32.png
#   LICENSE_TEXT=scripts/licenses/onnxruntime.LICENSE scripts/vendor_npm.sh onnxruntime-web@1.30.0 \
#       src/ferkit/game/static/vendor/ort dist/ort.wasm.min.js dist/ort-wasm-simd-threaded.mjs \
#       dist/ort-wasm-simd-threaded.wasm:gz
# FILE:gz stores FILE.gz (gzip -9) instead: the server sends it as-is with Content-Encoding: gzip
# (ferkit/game/static_files.py), so a 14 MB WebAssembly file costs the package 3.7 MB.
# A package that ships no licence file needs LICENSE_TEXT (the licence its package.json names).
# The page never loads anything from a CDN: refresh a vendored package with this script and commit.
set -euo pipefail
spec=$1 dest=$2
shift 2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack "$spec" --silent >/dev/null && tar xzf ./*.tgz)
mkdir -p "$dest"
for item in "$@"; do
  file=${item%:gz}
  if [ "$item" != "$file" ]; then
    gzip -9 -n -c "$work/package/$file" >"$dest/$(basename "$file").gz"
  else
    cp "$work/package/$file" "$dest/"
  fi
  # a bundle's own list of the third-party licences inside it
  if [ -f "$work/package/$file.LICENSE.txt" ]; then cp "$work/package/$file.LICENSE.txt" "$dest/"; fi
done
found=$(find "$work/package" -maxdepth 1 \( -iname 'LICENSE*' -o -iname 'NOTICE*' \) ! -name '*.js.LICENSE.txt')
if [ -n "$found" ]; then
  echo "$found" | while read -r f; do cp "$f" "$dest/"; done
elif [ -n "${LICENSE_TEXT:-}" ]; then
  cp "$LICENSE_TEXT" "$dest/LICENSE"
else
  echo "error: $spec ships no licence file; set LICENSE_TEXT to the licence its package.json names" >&2
  exit 1
fi
node -e 'const p=require(process.argv[1]); console.log(`${p.name}@${p.version} (${p.license})`)' "$work/package/package.json" >"$dest/VERSION"
echo "vendored $(cat "$dest/VERSION") into $dest: $*"
