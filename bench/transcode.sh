#!/usr/bin/env bash
# edge's ffmpeg runner against bare ffmpeg with the same arguments: wall
# time from API submit to "ready" (download, probe, ladder, measured master
# and I-frame playlists, poster, upload to storage, bookkeeping) over the
# ladder's ffmpeg run alone, which edge logs at debug level and this script
# replays. Rounds alternate. Then, from the files (not from edge's code),
# each rung's peak segment bitrate over what its master declares.
#   SECONDS_OF_VIDEO=20 ROUNDS=3 bash bench/transcode.sh
set -euo pipefail
cd "$(dirname "$0")/.."
LEN=${SECONDS_OF_VIDEO:-20}
ROUNDS=${ROUNDS:-3}

. bench/lib.sh
need_tools ffmpeg curl
work_dir tbench
go build -o "$work/edge" ./cmd/edge
echo "== source: ${LEN}s 1920x1080 H.264 + AAC"
ffmpeg -v error -f lavfi -i testsrc2=size=1920x1080:rate=30 -f lavfi -i sine=frequency=440 -t "$LEN" \
  -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac "$work/src.mp4"

start_edge_logging() {
  export EDGE_DATA_DIR="$work/data" EDGE_ADDR="127.0.0.1:$(free_port)"
  "$work/edge" user add --email bench@example.com >/dev/null
  token=$("$work/edge" token create --email bench@example.com)
  EDGE_LOG_LEVEL=debug EDGE_LOG_FORMAT=json "$work/edge" serve 2> "$work/edge.log" & edge_pid=$!
  pids+=("$edge_pid")
  wait_http "http://$EDGE_ADDR/healthz"
}
start_edge_logging
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
  echo "$id" > "$work/last_id"
  python3 -c 'import json,sys,datetime
s=json.loads(sys.argv[1]); start=float(sys.argv[2])
ready=datetime.datetime.fromisoformat(s["updated_at"].replace("Z","+00:00")).timestamp()
print("%.2f" % (ready-start))' "$status" "$start"
}

# bare replays the last ladder command edge logged, on a copy of the
# source in a folder of its own (the folders edge makes before it, too;
# not the storyboard's tiling after, a second of small pictures).
bare() {
  local out="$work/bare"; rm -rf "$out"; mkdir -p "$out/out" "$out/out-thumbs"; cp "$work/src.mp4" "$out/source"
  python3 - "$work/edge.log" "$out" > "$work/bare.args" <<'PY'
import json, re, sys
log, out = sys.argv[1], sys.argv[2]
args = [json.loads(l)["args"] for l in open(log) if '"running ffmpeg"' in l][-1]
job = re.match(r"(.*/edge-job-[^/]+)/", next(a for a in args if "/edge-job-" in a)).group(1)
print("\0".join(a.replace(job, out) for a in args), end="")
PY
  xargs -0 -a "$work/bare.args" ffmpeg >/dev/null
}

seconds() { local s e; s=$(date +%s.%N); "$@"; e=$(date +%s.%N); awk -v s="$s" -v e="$e" 'BEGIN {printf "%.2f", e-s}'; }
declare -a b_times e_times
for r in $(seq "$ROUNDS"); do
  e=$(via_edge); b=$(seconds bare)
  b_times+=("$b"); e_times+=("$e")
  echo "   round $r: edge ${e}s, bare ffmpeg (same arguments) ${b}s"
done
med() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
bm=$(med "${b_times[@]}"); em=$(med "${e_times[@]}")
echo "median: bare ffmpeg ${bm}s, edge ${em}s, ratio $(awk -v e="$em" -v b="$bm" 'BEGIN {printf "%.3f", e/b}')x (target <= 1.05x)"

echo "== each rung: peak segment bitrate (file size x 8 / EXTINF) over the master's BANDWIDTH"
python3 - "$EDGE_DATA_DIR/media/streams/$(cat "$work/last_id")" <<'PY'
import os, re, sys
d = sys.argv[1]
master = open(os.path.join(d, "master.m3u8")).read()
for m in re.finditer(r'#EXT-X-STREAM-INF:[^\n]*?BANDWIDTH=(\d+),AVERAGE-BANDWIDTH=(\d+)[^\n]*\n([^\n]+)', master):
    declared, average, uri = int(m.group(1)), int(m.group(2)), m.group(3)
    rung = os.path.dirname(uri)
    pl = open(os.path.join(d, uri)).read()
    rates, bits, secs = [], 0, 0
    for dur, seg in re.findall(r'#EXTINF:([\d.]+),\n([^\n]+)', pl):
        size = os.path.getsize(os.path.join(d, rung, seg)) * 8
        rates.append(size / float(dur)); bits += size; secs += float(dur)
    print(f"   {rung:6} peak {max(rates)/1e3:8.0f} kb/s  declared {declared/1e3:8.0f}  peak/declared {max(rates)/declared:.3f}"
          f"  mean {bits/secs/1e3:7.0f} kb/s  AVERAGE-BANDWIDTH {average/1e3:7.0f}")
PY
