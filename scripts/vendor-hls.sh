#!/usr/bin/env bash
# Refreshes the vendored hls.js (npm package hls.js, Apache-2.0) under
# static/vendor/hls.js. Usage: bash scripts/vendor-hls.sh [version, default 1]
set -euo pipefail
cd "$(dirname "$0")/.."
version=${1:-1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack "hls.js@$version" --silent >/dev/null && tar xzf hls.js-*.tgz)
dest=static/vendor/hls.js
mkdir -p "$dest"
cp "$tmp/package/dist/hls.min.js" "$tmp/package/LICENSE" "$dest/"
node -e 'console.log(require(process.argv[1]).version)' "$tmp/package/package.json" > "$dest/VERSION"
echo "vendored hls.js $(cat "$dest/VERSION")"
