#!/usr/bin/env bash
# Refreshes the browser libraries vendored under static/vendor from npm,
# each with its LICENSE and VERSION: hls.js (Apache-2.0, the player) and
# tus-js-client (MIT, resumable uploads).
#   bash scripts/vendor-js.sh            # the pinned major versions
set -euo pipefail
cd "$(dirname "$0")/.."

vendor() { # package@range, file inside the package, destination folder
  local spec=$1 file=$2 dest=$3 tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack "$spec" --silent >/dev/null && tar xzf ./*.tgz)
  mkdir -p "$dest"
  cp "$tmp/package/$file" "$tmp/package/LICENSE" "$dest/"
  node -e 'console.log(require(process.argv[1]).version)' "$tmp/package/package.json" > "$dest/VERSION"
  echo "vendored ${spec%@*} $(cat "$dest/VERSION")"
  rm -rf "$tmp"
}

vendor hls.js@1 dist/hls.min.js static/vendor/hls.js
vendor tus-js-client@4 dist/tus.min.js static/vendor/tus-js-client
