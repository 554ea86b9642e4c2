#!/usr/bin/env bash
# What viewers live through, edge against nginx in the same run, in front
# of the same origin (a static nginx serving the library's files).
#
# The library is STREAMS copies of a 60 s two-rendition ladder, several
# times larger than edge's memory tier and larger than both caches' disk
# budget (the same for both), watched with Zipf popularity by VIEWERS
# simulated players at real pace (bench/viewers). Each server starts cold.
# Printed per server: viewers' errors, TTFB p50/p99, whole-segment p99,
# start-up p99, origin fetches and the hit ratio they imply, edge's peak
# RSS; then the edge/nginx ratios; then edge's hit ratio in the first
# minute after a restart on its warm disk tier.
#   STREAMS=40 VIEWERS=1000 DURATION=60s MEM=64MiB DISK=256MiB DISK_MB=256 ORDER="nginx edge" bash bench/viewers.sh
set -euo pipefail
cd "$(dirname "$0")/.."

STREAMS=${STREAMS:-40}
VIEWERS=${VIEWERS:-1000}
DURATION=${DURATION:-60s}
RAMP=${RAMP:-10s}
MEM=${MEM:-64MiB}
DISK=${DISK:-256MiB}
DISK_MB=${DISK_MB:-256}
ORDER=${ORDER:-edge nginx} # who plays first: the first run can pay for a cold machine

. bench/lib.sh
need_tools nginx ffmpeg curl
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
ulimit -n 65536 2>/dev/null || true
work_dir viewers
ORIGIN_PORT=$(free_port); NGINX_PORT=$(free_port); EDGE_PORT=$(free_port)

echo "== building edge and the viewers"
go build -o "$work/edge" ./cmd/edge
go build -o "$work/viewers" ./bench/viewers

echo "== a library of $STREAMS streams (60 s, 720p at 1.5 Mb/s and 360p, 4 s segments)"
first="$work/lib/streams/s000"
mkdir -p "$first"
ffmpeg -v error -f lavfi -i testsrc2=size=1280x720:rate=30 -f lavfi -i sine=frequency=440 -t 60 \
  -filter_complex "[0:v]split=2[a][b];[a]scale=-2:720[v720];[b]scale=-2:360[v360]" \
  -map "[v720]" -map "[v360]" -map 1:a -map 1:a -c:v libx264 -preset veryfast -profile:v main \
  -pix_fmt yuv420p -g 60 -keyint_min 60 -sc_threshold 0 -b:v:0 1500k -maxrate:v:0 1650k -bufsize:v:0 3000k \
  -b:v:1 500k -c:a aac -b:a 96k -f hls -hls_time 4 -hls_playlist_type vod -hls_flags independent_segments \
  -master_pl_name master.m3u8 -hls_segment_filename "$first/%v/segment-%d.ts" \
  -var_stream_map "v:0,a:0,name:720p v:1,a:1,name:360p" "$first/%v/stream.m3u8"
for i in $(seq 1 $((STREAMS - 1))); do cp -r "$first" "$work/lib/streams/$(printf 's%03d' "$i")"; done
# A library, not files being written: edge keeps no object changed within 2 s.
find "$work/lib" -type f -exec touch -d '1 hour ago' {} +
sync # the copies' dirty pages are written back now, not while the first server plays
echo "   $(du -sm "$work/lib" | cut -f1) MiB in all; memory tier $MEM, disk budget $DISK (both servers)"

mkdir -p "$work/nginx/cache" "$work/nginx/logs"
user_line=""; [ "$(id -u)" -eq 0 ] && user_line="user root;"
cat > "$work/nginx/nginx.conf" <<CONF
$user_line
worker_processes auto;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 8192; }
http {
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  types { application/vnd.apple.mpegurl m3u8; video/mp2t ts; }
  log_format fetch '\$request_uri';
  proxy_cache_path $work/nginx/cache levels=1:2 keys_zone=hls:10m max_size=${DISK_MB}m inactive=1h use_temp_path=off;
  server {
    listen 127.0.0.1:$ORIGIN_PORT;
    access_log $work/origin.log fetch;
    root $work/lib;
  }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    access_log off;
    proxy_cache hls;
    proxy_cache_lock on;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    location ~ \.m3u8\$ { proxy_pass http://127.0.0.1:$ORIGIN_PORT; proxy_cache_valid 200 10s; }
    location ~ \.ts\$ { proxy_pass http://127.0.0.1:$ORIGIN_PORT; proxy_cache_valid 200 1y; }
  }
}
CONF
"$NGINX" -p "$work/nginx" -c "$work/nginx/nginx.conf" & pids+=($!)

start_cache_edge() {
  env EDGE_ADDR="127.0.0.1:$EDGE_PORT" EDGE_DATA_DIR="$work/edge-data" EDGE_ORIGIN="http://127.0.0.1:$ORIGIN_PORT" \
    EDGE_CACHE_BYTES="$MEM" EDGE_DISK_CACHE_BYTES="$DISK" EDGE_LOG_LEVEL=error "$work/edge" serve & edge_pid=$!
  pids+=($edge_pid)
  for _ in $(seq 100); do curl -fs -o /dev/null "http://127.0.0.1:$EDGE_PORT/healthz" && return 0; sleep 0.1; done
  echo "edge did not start"; exit 1
}
start_cache_edge
for _ in $(seq 100); do curl -fs -o /dev/null "http://127.0.0.1:$ORIGIN_PORT/streams/s000/master.m3u8" && break; sleep 0.1; done
: > "$work/origin.log"

# play NAME PORT: runs the viewers against a server; prints its line.
play() {
  local name=$1 port=$2 before after out
  before=$(wc -l < "$work/origin.log")
  out=$("$work/viewers" -base "http://127.0.0.1:$port" -streams "$STREAMS" -viewers "$VIEWERS" -duration "$DURATION" -ramp "$RAMP")
  after=$(wc -l < "$work/origin.log")
  echo "$out" > "$work/$name.json"
  python3 - "$name" "$((after - before))" "$work/$name.json" <<'PY'
import json, sys
name, fetches, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
r = json.load(open(path))
r["origin_fetches"] = fetches
r["hit_ratio"] = 1 - fetches / max(r["requests"], 1)
json.dump(r, open(path, "w"))
print(f"   {name:14} requests {r['requests']:7} errors {r['errors']:4}  TTFB p50 {r['ttfb_p50_ms']:7.1f} p99 {r['ttfb_p99_ms']:7.1f} ms"
      f"  segment p99 {r['segment_p99_ms']:7.1f} ms  start-up p99 {r['startup_p99_ms']:7.1f} ms"
      f"  origin fetches {fetches:6}  hit ratio {r['hit_ratio']:.3f}")
PY
}

echo "== $VIEWERS viewers for $DURATION (+$RAMP ramp), Zipf over $STREAMS streams, each server cold, in the order: $ORDER"
edge_disk=0 nginx_disk=0 rss_kib=0
for server in $ORDER; do
  case $server in
  edge)
    play edge "$EDGE_PORT"
    rss_kib=$(awk '/VmHWM/ {print $2}' "/proc/$edge_pid/status")
    edge_disk=$(du -sm "$work/edge-data/cache" | cut -f1) ;;
  nginx)
    play nginx "$NGINX_PORT"
    nginx_disk=$(du -sm "$work/nginx/cache" | cut -f1) ;;
  esac
done
echo "   disk used at the end: edge $edge_disk MiB, nginx $nginx_disk MiB (budget $DISK)"

echo "== edge restarted on its warm disk tier, $VIEWERS viewers again"
kill "$edge_pid"; wait "$edge_pid" 2>/dev/null || true
start_cache_edge
play edge-restart "$EDGE_PORT"
metrics=$(curl -fs "http://127.0.0.1:$EDGE_PORT/metrics")

python3 - "$work" "$rss_kib" "$MEM" <<'PY'
import json, sys
work, rss_kib, mem = sys.argv[1], int(sys.argv[2]), sys.argv[3]
e, n, r = (json.load(open(f"{work}/{k}.json")) for k in ("edge", "nginx", "edge-restart"))
ratio = lambda a, b: a / b if b else float("nan")
print()
print(f"edge/nginx hit ratio:        {e['hit_ratio']:.3f} vs {n['hit_ratio']:.3f} (target: edge >= nginx)")
print(f"edge/nginx origin fetches:   {ratio(e['origin_fetches'], n['origin_fetches']):.2f}x")
print(f"edge/nginx TTFB p50:         {ratio(e['ttfb_p50_ms'], n['ttfb_p50_ms']):.2f}x  p99: {ratio(e['ttfb_p99_ms'], n['ttfb_p99_ms']):.2f}x (target <= 1.0x)")
print(f"edge/nginx segment p99:      {ratio(e['segment_p99_ms'], n['segment_p99_ms']):.2f}x (target <= 1.0x)")
print(f"edge/nginx start-up p99:     {ratio(e['startup_p99_ms'], n['startup_p99_ms']):.2f}x")
print(f"errors:                      edge {e['errors']}, nginx {n['errors']} (target 0)")
print(f"edge peak RSS:               {rss_kib // 1024} MiB (memory tier {mem}; target <= tier + 64 MiB)")
print(f"edge hit ratio after restart: {r['hit_ratio']:.3f} (target >= 0.95)")
PY
