#!/usr/bin/env bash
# edge vs nginx, same run, same origin. Both are caching proxies in front of
# one static nginx origin serving an ffmpeg ladder; wrk measures hot hits of a
# .ts segment and a .m3u8 playlist. Prints requests/s, p99 latency, the
# edge/nginx ratio and edge's peak RSS.
# Servers alternate for ROUNDS rounds; the median of each is reported.
# These hot single-object figures are a secondary line: viewers are limited
# by bytes, not requests per second.
#   DURATION=10s CONNS=64 THREADS=1 ROUNDS=3 bash bench/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNS=${CONNS:-64}
THREADS=${THREADS:-1}
ROUNDS=${ROUNDS:-3}
CACHE_BYTES=${CACHE_BYTES:-256MiB}
CHURN_CACHE_BYTES=${CHURN_CACHE_BYTES:-4MiB}

. bench/lib.sh
need_tools nginx wrk ffmpeg curl
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
work_dir bench
ORIGIN_PORT=$(free_port); NGINX_PORT=$(free_port); EDGE_PORT=$(free_port); CHURN_PORT=$(free_port)

echo "== building edge"
go build -o "$work/edge" ./cmd/edge

echo "== making a 20 s two-rendition ladder with ffmpeg"
media="$work/media/streams/bench"
mkdir -p "$media"
ffmpeg -v error -f lavfi -i testsrc2=size=1280x720:rate=30 -f lavfi -i sine=frequency=440 -t 20 \
  -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac "$work/src.mp4"
ffmpeg -v error -i "$work/src.mp4" \
  -filter_complex "[0:v]split=2[a][b];[a]scale=-2:720[v720];[b]scale=-2:360[v360]" \
  -map "[v720]" -map "[v360]" -map 0:a -map 0:a -c:v libx264 -preset veryfast -profile:v main \
  -pix_fmt yuv420p -g 60 -keyint_min 60 -sc_threshold 0 -b:v:0 2800k -b:v:1 800k -c:a aac -b:a 128k \
  -f hls -hls_time 4 -hls_playlist_type vod -hls_flags independent_segments \
  -master_pl_name master.m3u8 -hls_segment_filename "$media/%v/segment-%d.ts" \
  -var_stream_map "v:0,a:0,name:720p v:1,a:1,name:360p" "$media/%v/stream.m3u8"

echo "== starting nginx (origin :$ORIGIN_PORT, cache :$NGINX_PORT) and edge (:$EDGE_PORT)"
mkdir -p "$work/nginx/cache" "$work/nginx/logs"
user_line=""; [ "$(id -u)" -eq 0 ] && user_line="user root;"
cat > "$work/nginx/nginx.conf" <<CONF
$user_line
worker_processes auto;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  types { application/vnd.apple.mpegurl m3u8; video/mp2t ts; }
  proxy_cache_path $work/nginx/cache levels=1:2 keys_zone=hls:10m max_size=1g inactive=1h use_temp_path=off;
  server {
    listen 127.0.0.1:$ORIGIN_PORT;
    root $work/media;
  }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    proxy_cache hls;
    proxy_cache_lock on;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    location ~ \.m3u8\$ {
      proxy_pass http://127.0.0.1:$ORIGIN_PORT;
      proxy_cache_valid 200 10s;
      proxy_hide_header Cache-Control;
      add_header Cache-Control "public, max-age=10";
      include $work/nginx/cors.conf;
    }
    location ~ \.ts\$ {
      proxy_pass http://127.0.0.1:$ORIGIN_PORT;
      proxy_cache_valid 200 1y;
      proxy_hide_header Cache-Control;
      add_header Cache-Control "public, max-age=31536000, immutable";
      include $work/nginx/cors.conf;
    }
  }
}
CONF
# add_header in a location replaces the server's, so each location includes these.
cat > "$work/nginx/cors.conf" <<CONF
add_header Access-Control-Allow-Origin * always;
add_header Access-Control-Expose-Headers "Content-Length, Content-Range, Age" always;
CONF
"$NGINX" -p "$work/nginx" -c "$work/nginx/nginx.conf" &
pids+=($!)
# proxy_edge PORT NAME CACHE_BYTES [VAR=VALUE…]: an edge in front of the
# origin, with its own data dir; its pid is left in $!.
proxy_edge() {
  local port=$1 name=$2 cache=$3; shift 3
  env "$@" EDGE_ADDR="127.0.0.1:$port" EDGE_DATA_DIR="$work/$name-data" EDGE_ORIGIN="http://127.0.0.1:$ORIGIN_PORT" \
    EDGE_CACHE_BYTES="$cache" EDGE_LOG_LEVEL=error "$work/edge" serve &
  pids+=($!)
}
proxy_edge "$EDGE_PORT" edge "$CACHE_BYTES"
edge_pid=$!

wait_http "http://127.0.0.1:$EDGE_PORT/healthz"
wait_http "http://127.0.0.1:$ORIGIN_PORT/streams/bench/master.m3u8"

segment=streams/bench/720p/segment-1.ts
playlist=streams/bench/720p/stream.m3u8
for port in "$NGINX_PORT" "$EDGE_PORT"; do
  for path in "$segment" "$playlist"; do
    curl -fs -o /dev/null "http://127.0.0.1:$port/$path"; curl -fs -o /dev/null "http://127.0.0.1:$port/$path"
  done
done
seg_bytes=$(stat -c %s "$work/media/$segment")
if [ -n "${BENCH_SHOW_HEADERS:-}" ]; then
  for port in "$NGINX_PORT" "$EDGE_PORT"; do curl -s -D - -o /dev/null "http://127.0.0.1:$port/$playlist"; done
fi

# run_wrk URL -> "rps p99_ms"
run_wrk() {
  local out
  out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$1")
  local rps p99
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; print v}' <<<"$out")
  echo "$rps $p99"
}

median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

echo "== wrk -t$THREADS -c$CONNS -d$DURATION, $ROUNDS alternating rounds, hot cache; segment $seg_bytes bytes"
declare -A rps p99s
for kind in segment playlist; do
  path=${!kind}
  for round in $(seq "$ROUNDS"); do
    for server in nginx edge; do
      case $server in nginx) port=$NGINX_PORT ;; *) port=$EDGE_PORT ;; esac
      read -r r p <<<"$(run_wrk "http://127.0.0.1:$port/$path")"
      rps[$kind-$server]+="$r "; p99s[$kind-$server]+="$p "
      echo "   round $round $kind $server: $r req/s, p99 $p ms"
    done
  done
done
echo
printf '%-10s %-13s %14s %12s\n' object server "median req/s" "median p99 ms"
for kind in segment playlist; do
  for server in nginx edge; do
    r=$(tr ' ' '\n' <<<"${rps[$kind-$server]}" | grep . | median)
    p=$(tr ' ' '\n' <<<"${p99s[$kind-$server]}" | grep . | median)
    rps[$kind-$server]=$r
    printf '%-10s %-13s %14.0f %12.2f\n' "$kind" "$server" "$r" "$p"
  done
done

rss_kib=$(awk '/VmHWM/ {print $2}' "/proc/$edge_pid/status")
cache_kib=$(( $(curl -fs "http://127.0.0.1:$EDGE_PORT/metrics" | awk '$1=="edge_cache_bytes" {print $2}') / 1024 ))

# Churn: a second edge whose disk tier (where segments go) is smaller than
# the ladder, with wrk cycling over every segment, so it evicts and
# refills under load.
echo
echo "== churn: edge with EDGE_CACHE_BYTES and EDGE_DISK_CACHE_BYTES=$CHURN_CACHE_BYTES, wrk cycling over every segment"
(cd "$work/media" && find streams -name '*.ts' | sort | sed 's|^|/|') > "$work/paths.txt"
cat > "$work/cycle.lua" <<LUA
local paths = {}
for line in io.lines("$work/paths.txt") do paths[#paths + 1] = line end
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
LUA
proxy_edge "$CHURN_PORT" churn "$CHURN_CACHE_BYTES" EDGE_DISK_CACHE_BYTES="$CHURN_CACHE_BYTES"
churn_pid=$!
wait_http "http://127.0.0.1:$CHURN_PORT/healthz"
churn_out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" -s "$work/cycle.lua" "http://127.0.0.1:$CHURN_PORT")
churn_metrics=$(curl -fs "http://127.0.0.1:$CHURN_PORT/metrics")
churn_rss_kib=$(awk '/VmHWM/ {print $2}' "/proc/$churn_pid/status")
echo "   $(awk '/^Requests\/sec/' <<<"$churn_out"), $(wc -l <"$work/paths.txt") segments of $(du -sm "$work/media" | cut -f1) MiB"
non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$churn_out")
echo "   disk tier evictions $(awk '$1=="edge_disk_cache_evictions_total" {print $2}' <<<"$churn_metrics"), held $(awk '$1=="edge_disk_cache_bytes" {printf "%.1f", $2/1048576}' <<<"$churn_metrics") MiB, origin fetches $(awk '$1=="edge_origin_fetches_total" {print $2}' <<<"$churn_metrics"), non-2xx responses ${non2xx:-0}"

seg_ratio=$(awk -v e="${rps[segment-edge]}" -v n="${rps[segment-nginx]}" 'BEGIN {printf "%.2f", e/n}')
pl_ratio=$(awk -v e="${rps[playlist-edge]}" -v n="${rps[playlist-nginx]}" 'BEGIN {printf "%.2f", e/n}')
echo
echo "edge/nginx segment  ratio: ${seg_ratio}x (target >= 0.9x)"
echo "edge/nginx playlist ratio: ${pl_ratio}x (target >= 1.0x)"
echo "edge peak RSS, hot runs:   $((rss_kib / 1024)) MiB (bound $CACHE_BYTES, cache held $((cache_kib / 1024)) MiB; target <= bound + 64 MiB)"
echo "edge peak RSS, churn:      $((churn_rss_kib / 1024)) MiB (bound $CHURN_CACHE_BYTES; target <= bound + 64 MiB)"
