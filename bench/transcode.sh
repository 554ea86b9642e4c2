#!/usr/bin/env bash
# edge's ffmpeg runner against the bare ffmpeg command for the same ladder:
# wall time from API submit to "ready" (download, probe, ladder, poster,
# upload to storage, bookkeeping) over ffmpeg alone. Rounds alternate.
#   SECONDS_OF_VIDEO=20 ROUNDS=2 bash bench/transcode.sh
set -euo pipefail
cd "$(dirname "$0")/.."
LEN=${SECONDS_OF_VIDEO:-20}
ROUNDS=${ROUNDS:-2}
command -v ffmpeg >/dev/null || bash scripts/test-deps.sh

work=$(mktemp -d /tmp/edge-tbench.XXXXXX)
edge_pid=""
trap '[ -n "$edge_pid" ] && kill "$edge_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
go build -o "$work/edge" ./cmd/edge
echo "== source: ${LEN}s 1920x1080 H.264 + AAC"
ffmpeg -v error -f lavfi -i testsrc2=size=1920x1080:rate=30 -f lavfi -i sine=frequency=440 -t "$LEN" \
  -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac "$work/src.mp4"

# The same ladder edge builds for a 1080p source (jobs/ladder.go, jobs/ffmpeg.go).
bare() {
  local out="$work/bare"; rm -rf "$out"; mkdir -p "$out"
  ffmpeg -hide_banner -nostats -loglevel error -y -i "$work/src.mp4" \
    -filter_complex "[0:v]split=4[s0][s1][s2][s3];[s0]scale=-2:1080[v0];[s1]scale=-2:720[v1];[s2]scale=-2:480[v2];[s3]scale=-2:360[v3]" \
    -map "[v0]" -map 0:a:0 -map "[v1]" -map 0:a:0 -map "[v2]" -map 0:a:0 -map "[v3]" -map 0:a:0 \
    -c:v libx264 -preset veryfast -profile:v main -pix_fmt yuv420p -force_key_frames "expr:gte(t,n_forced*2)" -sc_threshold 0 \
    -b:v:0 5000k -b:v:1 2800k -b:v:2 1400k -b:v:3 800k -c:a aac -b:a 128k -ac 2 \
    -f hls -hls_time 4 -hls_playlist_type vod -hls_flags independent_segments -master_pl_name master.m3u8 \
    -hls_segment_filename "$out/%v/segment-%d.ts" \
    -var_stream_map "v:0,a:0,name:1080p v:1,a:1,name:720p v:2,a:2,name:480p v:3,a:3,name:360p" "$out/%v/stream.m3u8"
}

. bench/lib.sh
start_edge "$work/edge"
mkdir -p "$EDGE_DATA_DIR/media/uploads" && cp "$work/src.mp4" "$EDGE_DATA_DIR/media/uploads/src.mp4"

# via_edge prints edge's wall time from submit to ready. edge stamps the
# stream's updated_at when it turns ready, so the poller can be slow (1/s):
# a fast poller would steal CPU from the transcode it is timing.
via_edge() {
  local id status start
  start=$(date +%s.%N)
  id=$(curl -fs -H "Authorization: Bearer $token" -H "Content-Type: application/json" \
    -d '{"source":"uploads/src.mp4"}' "http://$EDGE_ADDR/api/v1/streams" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  while :; do
    sleep 1
    status=$(curl -fs -H "Authorization: Bearer $token" "http://$EDGE_ADDR/api/v1/streams/$id")
    case "$status" in
      *'"status":"ready"'*) break ;;
      *'"status":"failed"'*) echo "edge job failed: $status" >&2; exit 1 ;;
    esac
  done
  python3 -c 'import json,sys,datetime
s=json.loads(sys.argv[1]); start=float(sys.argv[2])
ready=datetime.datetime.fromisoformat(s["updated_at"].replace("Z","+00:00")).timestamp()
print("%.2f" % (ready-start))' "$status" "$start"
}

seconds() { local s e; s=$(date +%s.%N); "$@"; e=$(date +%s.%N); awk -v s="$s" -v e="$e" 'BEGIN {printf "%.2f", e-s}'; }
declare -a b_times e_times
for r in $(seq "$ROUNDS"); do
  b=$(seconds bare); e=$(via_edge)
  b_times+=("$b"); e_times+=("$e")
  echo "   round $r: bare ffmpeg ${b}s, edge ${e}s"
done
med() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
bm=$(med "${b_times[@]}"); em=$(med "${e_times[@]}")
echo "median: bare ffmpeg ${bm}s, edge ${em}s, ratio $(awk -v e="$em" -v b="$bm" 'BEGIN {printf "%.3f", e/b}')x (target <= 1.05x)"
