#!/usr/bin/env bash
# Peak RSS of edge while a large file arrives through the tus endpoint
# (default 2 GiB, target <= 128 MiB), never holding it in memory. STORE=file
# (default): tusd streams the body to the staging folder, then edge copies it
# into storage. STORE=s3: tusd's S3 store sends it as a multipart upload to a
# local versitygw, a part at a time.
#   SIZE_MIB=2048 STORE=s3 bash bench/upload.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MIB=${SIZE_MIB:-2048}
STORE=${STORE:-file}
work=$(mktemp -d /tmp/edge-ubench.XXXXXX)
edge_pid=""; s3_pid=""
trap '[ -n "$edge_pid" ] && kill "$edge_pid" 2>/dev/null; [ -n "$s3_pid" ] && kill "$s3_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
go build -o "$work/edge" ./cmd/edge
. bench/lib.sh
stored_root="$work/data/media/uploads"
if [ "$STORE" = s3 ]; then
  vgw=$(command -v versitygw || echo "$(go env GOPATH)/bin/versitygw")
  [ -x "$vgw" ] || bash scripts/test-deps.sh
  mkdir -p "$work/s3/media" # versitygw's posix backend: a folder is a bucket
  s3_port=$(free_port)
  "$vgw" --port "127.0.0.1:$s3_port" --access benchkey --secret benchsecret0123 --region us-east-1 --quiet posix "$work/s3" &
  s3_pid=$!
  export AWS_ACCESS_KEY_ID=benchkey AWS_SECRET_ACCESS_KEY=benchsecret0123 AWS_REGION=us-east-1 \
    AWS_ENDPOINT_URL_S3="http://127.0.0.1:$s3_port" EDGE_UPLOADS=s3://media/edge EDGE_S3_PATH_STYLE=true
  stored_root="$work/s3/media/edge/uploads"
  sleep 1
fi
start_edge "$work/edge"

echo "== a ${SIZE_MIB} MiB file: a short real MP4 (moov first, so ffprobe accepts it) padded with random bytes"
ffmpeg -v error -f lavfi -i testsrc2=size=640x360:rate=30 -t 2 -c:v libx264 -preset ultrafast -pix_fmt yuv420p \
  -movflags +faststart "$work/head.mp4"
{ cat "$work/head.mp4"; head -c "$((SIZE_MIB << 20))" /dev/urandom; } > "$work/big.bin"
size=$(stat -c %s "$work/big.bin")
url=$(curl -fs -H "Authorization: Bearer $token" -H "Content-Type: application/json" -d '{"title":"big"}' \
  "http://$EDGE_ADDR/api/v1/streams" | grep -o '"upload_url":"[^"]*"' | cut -d'"' -f4 | sed "s#http://localhost:8080#http://$EDGE_ADDR#")
loc=$(curl -fsi -X POST -H "Authorization: Bearer $token" -H "Tus-Resumable: 1.0.0" -H "Upload-Length: $size" \
  -H "Upload-Metadata: filename $(printf big.bin | base64)" "$url" | tr -d '\r' | awk 'tolower($1)=="location:" {print $2}')
start=$(date +%s.%N)
curl -fs -X PATCH -H "Tus-Resumable: 1.0.0" -H "Upload-Offset: 0" -H "Content-Type: application/offset+octet-stream" \
  -T "$work/big.bin" "$loc" -o /dev/null   # -T streams the file; --data-binary would load it
end=$(date +%s.%N)
rss_kib=$(awk '/VmHWM/ {print $2}' "/proc/$edge_pid/status")
stored=$(find "$stored_root" -type f -name big.bin -printf '%s\n' 2>/dev/null | head -1)
[ "$stored" = "$size" ] || { echo "the upload was not stored whole (stored ${stored:-nothing} of $size bytes)"; exit 1; }
echo "[$STORE] uploaded and stored ${SIZE_MIB} MiB in $(awk -v s="$start" -v e="$end" 'BEGIN {printf "%.1f", e-s}') s; edge peak RSS $((rss_kib / 1024)) MiB (target <= 128 MiB)"
