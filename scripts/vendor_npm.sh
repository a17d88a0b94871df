#!/usr/bin/env bash
# Vendor chosen files of an npm package into the game's static files, with its licence and pinned version.
# Usage: scripts/vendor_npm.sh PACKAGE@VERSION DEST_FOLDER FILE...
#   scripts/vendor_npm.sh swagger-ui-dist@5.35.0 src/ferkit/game/static/vendor/swagger-ui \
#       swagger-ui-bundle.js swagger-ui.css favicon-32x32.png
# The page never loads anything from a CDN: refresh a vendored package with this script and commit.
set -euo pipefail
spec=$1 dest=$2
shift 2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack "$spec" --silent >/dev/null && tar xzf ./*.tgz)
mkdir -p "$dest"
for file in "$@"; do
  cp "$work/package/$file" "$dest/"
  # a bundle's own list of the third-party licences inside it
  if [ -f "$work/package/$file.LICENSE.txt" ]; then cp "$work/package/$file.LICENSE.txt" "$dest/"; fi
done
find "$work/package" -maxdepth 1 \( -iname 'LICENSE*' -o -iname 'NOTICE*' \) ! -name '*.js.LICENSE.txt' -exec cp {} "$dest/" \;
node -e 'const p=require(process.argv[1]); console.log(`${p.name}@${p.version} (${p.license})`)' "$work/package/package.json" >"$dest/VERSION"
echo "vendored $(cat "$dest/VERSION") into $dest: $*"
