#!/usr/bin/env bash
# What viewers live through, edge against nginx in the same run, in front
# of the same S3 origin (versitygw: edge reads it signed through the AWS
# SDK's signer, nginx anonymously through a public-read bucket policy). Origin
# fetches are counted from versitygw's own access log.
#
# The library is STREAMS copies of a 60 s two-rendition ladder, several
# times larger than edge's memory tier and larger than both caches' disk
# budget (the same for both), watched with Zipf popularity by VIEWERS
# simulated players at real pace (bench/viewers). Each server starts cold,
# ROUNDS times, who goes first alternating; the medians are compared.
# Printed per server: viewers' errors, TTFB p50/p99, whole-segment p99,
# start-up p99 (TTFB also split by how the server answered; bursts: the
# seconds in which many answers were slow at once, a stall of the server
# or of the machine, which alone can set a round's p99), origin
# fetches and the hit ratio they imply, the server's CPU time and context
# switches per request, edge's peak RSS; then the edge/nginx ratios; then edge's hit ratio in the first
# minute after a restart on its warm disk tier; then the library read at
# full speed by LIB_VIEWERS clients from cold caches (requests/s, p99, hit
# ratio), LIB_ROUNDS times each, and as many times by an edge given the disk
# nginx used at its peak (nginx trims to max_size only when its cache
# manager wakes).
#   STREAMS=40 VIEWERS=1000 DURATION=60s MEM=64MiB DISK=256MiB DISK_MB=256 ORDER="nginx edge" ROUNDS=3 \
#   LIB_VIEWERS=64 LIB_DURATION=20s LIB_ROUNDS=3 EDGE_READS=s3 bash bench/viewers.sh
# Then, as root, the library once more with each server's cache on a fresh
# ext4 volume of VOLUME_MB MiB (VOL_ROUNDS rounds), both told the budget:
# what each does with the same disk, not just the same setting.
# Then the viewers at real pace again with the origin FAR_MS ms away
# (toxiproxy's latency toxic on its answers, FAR_ROUNDS rounds; 0 skips):
# S3 answers in tens of milliseconds, not the one a local versitygw takes,
# and how a cache serves the viewers who ask while a fill is under way
# shows only then.
# EDGE_GOMAXPROCS=n runs edge with n Ps instead of one per core, to see what
# the Go scheduler's wake-ups cost next to nginx's event loops.
# The servers run on CPUs of their own (SERVER_CPUS, by default the upper
# half of those this script may use) and everything else, the viewers, the
# origin and this script, on the others (CLIENT_CPUS, the lower half), as
# on machines of their own: on a shared machine the 1,000 viewers' and the
# origin's CPU time is counted in the server's latency, and a server's
# extra CPU time in the viewers'. SERVER_CPUS= (empty) runs all of it on
# the shared machine. nginx gets one worker per CPU it has (NGINX_WORKERS=n
# sets another count); Go sizes GOMAXPROCS to the CPUs it may use.
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
ROUNDS=${ROUNDS:-3}        # paced runs per server, alternating who goes first; medians are compared
EDGE_READS=${EDGE_READS:-s3} # s3: signed, as edge reads a private bucket; http: anonymously, as nginx does here
LIB_VIEWERS=${LIB_VIEWERS:-64}
LIB_DURATION=${LIB_DURATION:-20s}
LIB_ROUNDS=${LIB_ROUNDS:-3}
VOLUME_MB=${VOLUME_MB:-320} # a quarter more than the budget: room a careful operator leaves
VOL_ROUNDS=${VOL_ROUNDS:-2}
FAR_MS=${FAR_MS:-20}         # what the far origin adds to each answer: S3 from a nearby region
FAR_ROUNDS=${FAR_ROUNDS:-3}

. bench/lib.sh
need_tools nginx ffmpeg curl
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
VERSITYGW=$(versitygw_bin)
ulimit -n 65536 2>/dev/null || true
[ -n "${SERVER_CPUS+set}" ] || # halves of the CPUs this script may use; none on one CPU
  read -r SERVER_CPUS CLIENT_CPUS < <(python3 -c 'import os
c = sorted(os.sched_getaffinity(0)); h = len(c) // 2
print(",".join(map(str, c[h:])), ",".join(map(str, c[:h]))) if h else print()')
on_server=() workers=${NGINX_WORKERS:-auto}
if [ -n "$SERVER_CPUS" ]; then
  [ -n "${CLIENT_CPUS:-}" ] || { echo "SERVER_CPUS needs CLIENT_CPUS, the CPUs for everything else" >&2; exit 2; }
  taskset -pc "$CLIENT_CPUS" $$ > /dev/null # what this script starts inherits it
  on_server=(taskset -c "$SERVER_CPUS")
  [ -n "${NGINX_WORKERS:-}" ] || workers=$(taskset -c "$SERVER_CPUS" nproc)
  echo "== servers on CPU(s) $SERVER_CPUS, the viewers and the origin on CPU(s) $CLIENT_CPUS"
fi
work_dir viewers
ORIGIN_PORT=$(free_port); NGINX_PORT=$(free_port); EDGE_PORT=$(free_port); FAR_PORT=$(free_port)
UPSTREAM_PORT=$ORIGIN_PORT # where both servers read the origin: versitygw, or toxiproxy in front of it

echo "== building edge, the viewers and s3lib"
go build -o "$work/edge" ./cmd/edge
go build -o "$work/viewers" ./bench/viewers
go build -o "$work/s3lib" ./bench/s3lib

echo "== a library of $STREAMS streams (60 s, 720p at 1.5 Mb/s and 360p, 4 s segments)"
make_library "$work/lib" "$STREAMS"
echo "   $(du -sm "$work/lib" | cut -f1) MiB in all; memory tier $MEM, disk budget $DISK (both servers)"

echo "== the origin: versitygw on :$ORIGIN_PORT, bucket media"
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench-secret-key AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
mkdir -p "$work/s3"
"$VERSITYGW" --port "127.0.0.1:$ORIGIN_PORT" --access "$AWS_ACCESS_KEY_ID" --secret "$AWS_SECRET_ACCESS_KEY" \
  --access-log "$work/origin.log" --keep-alive --quiet posix "$work/s3" & pids+=($!)
wait_http "http://127.0.0.1:$ORIGIN_PORT/"
"$work/s3lib" -endpoint "http://127.0.0.1:$ORIGIN_PORT" -bucket media -dir "$work/lib"
rm -rf "$work/lib"
# A library, not objects being written: edge keeps no object changed
# within 2 s of its Last-Modified, as one still being copied in.
sleep 3
sync # the upload's dirty pages are written back now, not while the first server plays

mkdir -p "$work/nginx/cache" "$work/nginx/logs"
# nginx_conf: nginx's configuration, reading the origin at $UPSTREAM_PORT.
nginx_conf() {
  local user_line=""; [ "$(id -u)" -eq 0 ] && user_line="user root;"
  cat > "$work/nginx/nginx.conf" <<CONF
$user_line
worker_processes $workers;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 8192; }
http {
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  types { application/vnd.apple.mpegurl m3u8; video/mp2t ts; }
  proxy_cache_path $work/nginx/cache levels=1:2 keys_zone=hls:10m max_size=${DISK_MB}m inactive=1h use_temp_path=off;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    access_log off;
    proxy_cache hls;
    proxy_cache_lock on;
    add_header X-Cache-Status \$upstream_cache_status; # the viewers tell hits from misses by it
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    # /streams/… is the object streams/… of the bucket media, read anonymously.
    location ~ \.m3u8\$ { rewrite ^ /media\$uri break; proxy_pass http://127.0.0.1:$UPSTREAM_PORT; proxy_cache_valid 200 10s; }
    location ~ \.ts\$ { rewrite ^ /media\$uri break; proxy_pass http://127.0.0.1:$UPSTREAM_PORT; proxy_cache_valid 200 1y; }
  }
}
CONF
}

# volume DIR: a fresh ext4 volume of VOLUME_MB MiB mounted at DIR.
volume() {
  umount "$1" 2>/dev/null || true
  rm -rf "$1" "$1.img" "$1.base"; mkdir -p "$1"; truncate -s "${VOLUME_MB}M" "$1.img"
  mkfs.ext4 -q -F -m 0 "$1.img" && mount -o loop "$1.img" "$1" && mounts+=("$1") &&
    df -m --output=used "$1" | tail -1 > "$1.base" # the empty file system's own blocks
}

# disk_mib DIR: MiB the cache folder DIR takes. On a volume of its own, the
# volume's used blocks less the empty file system's, read at one instant;
# elsewhere du's walk, which can count a file twice when it is renamed from
# one folder to another during the walk (a fill kept) and fails when a
# file goes while it counts (an eviction): then what it printed is taken.
disk_mib() {
  if [ -f "$1.base" ] && mountpoint -q "$1"; then
    echo $(( $(df -m --output=used "$1" | tail -1) - $(cat "$1.base") ))
  else
    du -sm "$1" 2>/dev/null | cut -f1 || true
  fi
}

# cache_folder DIR: an empty cache folder, a volume of its own when
# ON_VOLUME is set.
cache_folder() {
  if [ -n "${ON_VOLUME:-}" ]; then volume "$1"; else rm -rf "$1" "$1.base"; mkdir -p "$1"; fi
}

# start_nginx: nginx on an empty cache folder; its pid is left in nginx_pid.
start_nginx() {
  cache_folder "$work/nginx/cache"
  nginx_conf
  "${on_server[@]}" "$NGINX" -p "$work/nginx" -c "$work/nginx/nginx.conf" & nginx_pid=$!
  pids+=($nginx_pid)
  wait_http "http://127.0.0.1:$NGINX_PORT/"
}

# start_cache_edge DATA DISK: edge on the data folder DATA, with a disk
# tier of DISK; its pid is left in edge_pid.
start_cache_edge() {
  local origin=s3://media
  [ "$EDGE_READS" = http ] && origin="http://127.0.0.1:$UPSTREAM_PORT/media/"
  env EDGE_ADDR="127.0.0.1:$EDGE_PORT" EDGE_DATA_DIR="$work/$1" EDGE_ORIGIN="$origin" \
    AWS_ENDPOINT_URL_S3="http://127.0.0.1:$UPSTREAM_PORT" EDGE_S3_PATH_STYLE=true \
    EDGE_CACHE_BYTES="$MEM" EDGE_DISK_CACHE_BYTES="$2" EDGE_LOG_LEVEL=error ${EDGE_GOMAXPROCS:+GOMAXPROCS=$EDGE_GOMAXPROCS} "${on_server[@]}" "$work/edge" serve & edge_pid=$!
  pids+=($edge_pid)
  wait_http "http://127.0.0.1:$EDGE_PORT/healthz"
}

# stop PID: stops a server, if it still runs.
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# play NAME PORT CACHE_DIR [viewers flags…]: runs the viewers against a
# server; counts the origin's GETs meanwhile from its access log, and
# samples the cache folder's size twice a second (nginx trims its cache
# only when its manager wakes, up to 10 s apart, so it overruns its
# max_size by what it fetched meanwhile); records the server's CPU time,
# context switches and peak RSS; prints a line.
play() {
  local name=$1 port=$2 dir=$3 before watcher server cpu0 switches0; shift 3
  server=$edge_pid; [[ $name == nginx* ]] && server=$nginx_pid
  # The last run's cache files are written back now, not during this one
  # (nginx's were deleted with its folder, edge's were not: the edge run
  # after an edge run paid for its predecessor's writeback).
  sync
  before=$(wc -l < "$work/origin.log")
  while :; do disk_mib "$dir"; sleep 0.5; done > "$work/$name.disk" & watcher=$!
  cpu0=$(cpu_ticks "$server") switches0=$(ctx_switches "$server")
  "$work/viewers" -base "http://127.0.0.1:$port" -streams "$STREAMS" "$@" > "$work/$name.json"
  echo $(( $(cpu_ticks "$server") - cpu0 )) $(( $(ctx_switches "$server") - switches0 )) \
    "$(awk '/VmHWM/ {print $2}' "/proc/$server/status")" > "$work/$name.proc"
  kill "$watcher" 2>/dev/null || true; wait "$watcher" 2>/dev/null || true
  tail -n +$((before + 1)) "$work/origin.log" | awk '$8 == "s3_GetObject" {print $9}' > "$work/$name.fetches"
  local paced=yes; [[ " $* " == *" -pace=false "* ]] && paced=no
  python3 - "$name" "$work/$name.json" "$work/$name.fetches" "$work/$name.disk" "$work/$name.proc" "$(getconf CLK_TCK)" "$paced" "$DISK_MB" <<'PY'
import json, sys
name, path, fetched, disk, proc, hz, paced, budget = sys.argv[1:9]
budget = int(budget)
r = json.load(open(path))
keys = open(fetched).read().split()
r["origin_fetches"] = len(keys)
r["playlist_fetches"] = sum(k.endswith(".m3u8") for k in keys)
r["segment_fetches"] = sum(k.endswith(".ts") for k in keys)
r["hit_ratio"] = 1 - len(keys) / max(r["requests"], 1)
samples = [int(x) for x in open(disk).read().split()] or [0]
r["disk_peak_mib"], r["disk_mean_mib"] = max(samples), sum(samples) / len(samples)
# nginx's cache manager trims to max_size when it wakes, up to 10 s apart:
# the share of the run a server spent above the budget says how much of
# it it kept the budget, where the peak says only by how much it broke it.
# du counts folders too, and edge's 257 take 1 MiB its bound does not.
r["disk_over_share"] = sum(x > budget + 1 for x in samples) / len(samples)
ticks, switches, r["peak_rss_kib"] = (int(x) for x in open(proc).read().split())
r["cpu_seconds"] = ticks / int(hz)
r["switches_per_request"] = switches / max(r["requests"], 1)
json.dump(r, open(path, "w"))
other = len(keys) - r["playlist_fetches"] - r["segment_fetches"]
print(f"   {name:19} requests {r['requests']:6} ({r['requests_per_second']:.0f}/s) errors {r['errors']}"
      f"  TTFB p50 {r['ttfb_p50_ms']:5.1f} p99 {r['ttfb_p99_ms']:6.1f} ms  segment p99 {r['segment_p99_ms']:6.1f} ms"
      f"  start-up p99 {r['startup_p99_ms']:6.1f} ms  origin fetches {len(keys):5} (playlists {r['playlist_fetches']},"
      f" segments {r['segment_fetches']}, other {other})  hit ratio {r['hit_ratio']:.3f}  disk peak {r['disk_peak_mib']} MiB"
      f" (mean {r['disk_mean_mib']:.0f}, above the budget {r['disk_over_share']:.0%} of the time)"
      f"  server CPU {r['cpu_seconds']:.1f} s, {r['switches_per_request']:.1f} context switches per request"
      + (f"  bursts {r['burst_seconds']} ({r['slow_in_bursts']} slow answers)" if paced == "yes" else ""))
for label, field in (("TTFB", "ttfb_by_answer"), ("segment", "segment_by_answer")):
    by = r[field]
    print(f"   {'':19} {label} by answer: " + ", ".join(
        f"{k} {by[k]['requests']} p50 {by[k]['p50_ms']:.2f} p99 {by[k]['p99_ms']:.2f} ms" for k in ("hit", "hit_new_conn", "miss") if k in by))
PY
}

paced=(-viewers "$VIEWERS" -duration "$DURATION" -ramp "$RAMP")
full_speed=(-viewers "$LIB_VIEWERS" -duration "$LIB_DURATION" -ramp 0 -pace=false)

# rounds NAME N [viewers flags…]: N rounds of edge against nginx, each
# server from cold (edge in $work/edgeNAME-i), who goes first alternating;
# the runs are named edgeNAME-i and nginxNAME-i.
rounds() {
  local name=$1 n=$2 order=$ORDER round server; shift 2
  for round in $(seq "$n"); do
    for server in $order; do
      case $server in
      edge)
        stop "$edge_pid"
        cache_folder "$work/edge$name-$round/cache"
        start_cache_edge "edge$name-$round" "$DISK"
        play "edge$name-$round" "$EDGE_PORT" "$work/edge$name-$round/cache" "$@" ;;
      nginx)
        stop "$nginx_pid"
        start_nginx
        play "nginx$name-$round" "$NGINX_PORT" "$work/nginx/cache" "$@" ;;
      esac
    done
    order=$(echo "$order" | awk '{print $2, $1}') # the other goes first next round
  done
}

echo "== $VIEWERS viewers for $DURATION (+$RAMP ramp), Zipf over $STREAMS streams, each server cold, $ROUNDS round(s), first in the order: $ORDER"
nginx_pid="" edge_pid=""
rounds "" "$ROUNDS" "${paced[@]}"

echo "== edge restarted on its warm disk tier, $VIEWERS viewers again"
stop "$edge_pid"
start_cache_edge "edge-$ROUNDS" "$DISK"
play edge-restart "$EDGE_PORT" "$work/edge-$ROUNDS/cache" "${paced[@]}"
stop "$edge_pid"

if [ "$FAR_ROUNDS" -gt 0 ]; then
  echo "== the origin $FAR_MS ms away (toxiproxy on :$FAR_PORT delays its answers), $VIEWERS viewers again, each server cold, $FAR_ROUNDS round(s)"
  toxi_api=$(free_port)
  toxiproxy=$(toxiproxy_bin) # installed here, not in the background job below, which wait_http gives 10 s
  LOG_LEVEL=warn "$toxiproxy" -host 127.0.0.1 -port "$toxi_api" > "$work/toxiproxy.log" 2>&1 & pids+=($!)
  wait_http "http://127.0.0.1:$toxi_api/version"
  curl -sf -X POST "http://127.0.0.1:$toxi_api/proxies" \
    -d "{\"name\": \"origin\", \"listen\": \"127.0.0.1:$FAR_PORT\", \"upstream\": \"127.0.0.1:$ORIGIN_PORT\"}" > /dev/null
  curl -sf -X POST "http://127.0.0.1:$toxi_api/proxies/origin/toxics" \
    -d "{\"type\": \"latency\", \"stream\": \"downstream\", \"attributes\": {\"latency\": $FAR_MS}}" > /dev/null
  UPSTREAM_PORT=$FAR_PORT
  rounds -far "$FAR_ROUNDS" "${paced[@]}"
  stop "$edge_pid"; stop "$nginx_pid"
  UPSTREAM_PORT=$ORIGIN_PORT
fi

echo "== the library at full speed: $LIB_VIEWERS clients for $LIB_DURATION, each asking as soon as answered, each server cold, $LIB_ROUNDS round(s)"
# One 20 s run from cold moved by 15% from run to run, so the library is
# read in rounds too, and medians compared.
rounds -library "$LIB_ROUNDS" "${full_speed[@]}"
equal=$(python3 -c 'import json,statistics,sys; print(round(statistics.median(json.load(open(f))["disk_peak_mib"] for f in sys.argv[1:])))' "$work"/nginx-library-*.json)
echo "== the same for edge with the disk nginx used at its peak (median of its rounds): ${equal} MiB"
for round in $(seq "$LIB_ROUNDS"); do
  stop "$edge_pid"
  start_cache_edge "edge-equal-$round" "${equal}MiB"
  play "edge-library-equal-$round" "$EDGE_PORT" "$work/edge-equal-$round/cache" "${full_speed[@]}"
done

vol_rounds=0 cut_short=0
if [ "$(id -u)" -eq 0 ] && volume "$work/probe" 2>/dev/null && umount "$work/probe"; then
  echo "== the library on one volume: each cache on a fresh $VOLUME_MB MiB ext4 volume, budget $DISK, $VOL_ROUNDS round(s)"
  before=$(grep -c "\[crit\]" "$work/nginx/logs/error.log" || true) # a cache file it could not write whole
  ON_VOLUME=1 rounds -volume "$VOL_ROUNDS" "${full_speed[@]}"
  cut_short=$(( $(grep -c "\[crit\]" "$work/nginx/logs/error.log" || true) - before ))
  vol_rounds=$VOL_ROUNDS
else
  echo "== the library on one volume: skipped, as it mounts loop volumes (run as root)"
fi

python3 - "$work" "$MEM" "$DISK" "$ROUNDS" "$LIB_ROUNDS" "$vol_rounds" "$VOLUME_MB" "$cut_short" "$FAR_ROUNDS" "$FAR_MS" "$SERVER_CPUS" <<'PY'
import json, statistics, sys
work, mem, disk, rounds, lib_rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
vol_rounds, volume_mb, cut_short, far_rounds, far_ms = int(sys.argv[6]), sys.argv[7], int(sys.argv[8]), int(sys.argv[9]), sys.argv[10]
machine = f"servers on CPU(s) {sys.argv[11]} of their own" if sys.argv[11] else "the viewers share the machine"
load = lambda k: json.load(open(f"{work}/{k}.json"))
runs = lambda name, n: [load(f"{name}-{i}") for i in range(1, n + 1)]  # the rounds played by rounds NAME N
ratio = lambda a, b: a / b if b else float("nan")
rounds_ratio = lambda a, b, k: ", ".join(f"{ratio(x[k], y[k]):.2f}" for x, y in zip(a, b))
errors = lambda rs: sum(x["errors"] for x in rs)
er, nr = runs("edge", rounds), runs("nginx", rounds)
# The median of each figure over the rounds, so one busy moment of the
# machine does not decide a comparison.
med = lambda runs: {k: statistics.median(r[k] for r in runs) for k in runs[0] if isinstance(runs[0][k], (int, float))}
e, n = med(er), med(nr)
r = load("edge-restart")
elr, nlr, eqr = runs("edge-library", lib_rounds), runs("nginx-library", lib_rounds), runs("edge-library-equal", lib_rounds)
el, nl, eq = med(elr), med(nlr), med(eqr)

def paced(er, nr, bursts=True):
    """Prints what the viewers at real pace lived through, edge against nginx;
    bursts (15 ms slow) only where an origin's answer takes less."""
    e, n = med(er), med(nr)
    per_round = lambda k: rounds_ratio(er, nr, k)
    print(f"  hit ratio:               {e['hit_ratio']:.4f} vs {n['hit_ratio']:.4f} (target: edge >= nginx)")
    print(f"  origin fetches:          {ratio(e['origin_fetches'], n['origin_fetches']):.3f}x (segments {e['segment_fetches']:.0f} vs {n['segment_fetches']:.0f}, playlists {e['playlist_fetches']:.0f} vs {n['playlist_fetches']:.0f}); per round {per_round('origin_fetches')}")
    print(f"  TTFB p50:                {ratio(e['ttfb_p50_ms'], n['ttfb_p50_ms']):.2f}x  p99: {ratio(e['ttfb_p99_ms'], n['ttfb_p99_ms']):.2f}x (target <= 1.0x; per round {per_round('ttfb_p99_ms')})")
    print(f"  segment p99:             {ratio(e['segment_p99_ms'], n['segment_p99_ms']):.2f}x (target <= 1.0x; per round {per_round('segment_p99_ms')})")
    # A few percent of segments are misses, so the segments' p99 falls among
    # the misses: split, it tells the hits' tail from the misses'.
    for label, field in (("TTFB", "ttfb_by_answer"), ("segment", "segment_by_answer")):
        by = lambda runs, answer, p: statistics.median(x[field].get(answer, {}).get(p, 0) for x in runs)
        print(f"  {label + ' by answer:':24} " + ", ".join(
            f"{plural} p50 {by(er, answer, 'p50_ms'):.2f} vs {by(nr, answer, 'p50_ms'):.2f} ms, p99 {by(er, answer, 'p99_ms'):.2f} vs {by(nr, answer, 'p99_ms'):.2f}"
            for answer, plural in (("hit", "hits"), ("miss", "misses"))))
    print(f"  start-up p99:            {ratio(e['startup_p99_ms'], n['startup_p99_ms']):.2f}x (per round {per_round('startup_p99_ms')})")
    if bursts:
        per = lambda runs: ", ".join(f"{x['burst_seconds']} ({x['slow_in_bursts']})" for x in runs)
        print(f"  bursts:                  seconds with >= 10 first bytes over 15 ms (slow answers in them), per round: edge {per(er)}; nginx {per(nr)}")
    print(f"  errors:                  edge {errors(er)}, nginx {errors(nr)} (target 0)")

print()
print(f"viewers at real pace, each server cold, medians of {rounds} round(s) (disk budget {disk}; peak used: edge {e['disk_peak_mib']:.0f} MiB, nginx {n['disk_peak_mib']:.0f} MiB)")
paced(er, nr)
print(f"  server CPU:              {ratio(e['cpu_seconds'], n['cpu_seconds']):.2f}x ({e['cpu_seconds']:.1f} s vs {n['cpu_seconds']:.1f} s; {machine});"
      f" context switches per request {e['switches_per_request']:.1f} vs {n['switches_per_request']:.1f}")
print(f"  edge peak RSS:           {max(x['peak_rss_kib'] for x in er) // 1024} MiB (memory tier {mem}; target <= tier + 64 MiB)")
print(f"  edge after a restart:    hit ratio {r['hit_ratio']:.3f} in its first minute (target >= 0.95)")
if far_rounds:
    print(f"viewers at real pace with the origin {far_ms} ms away, each server cold, medians of {far_rounds} round(s)")
    paced(runs("edge-far", far_rounds), runs("nginx-far", far_rounds), bursts=False)
print(f"library at full speed, each server cold, medians of {lib_rounds} round(s)")
print(f"  requests/s:              {ratio(el['requests_per_second'], nl['requests_per_second']):.2f}x within the budget (per round {rounds_ratio(elr, nlr, 'requests_per_second')}),"
      f" {ratio(eq['requests_per_second'], nl['requests_per_second']):.2f}x with the disk nginx used ({rounds_ratio(eqr, nlr, 'requests_per_second')}) (target >= 1.0x)")
print(f"  hit ratio:               edge {el['hit_ratio']:.3f} within {disk} (peak {el['disk_peak_mib']:.0f} MiB), nginx {nl['hit_ratio']:.3f} (peak {nl['disk_peak_mib']:.0f} MiB),"
      f" edge with nginx's peak {eq['hit_ratio']:.3f} (peak {eq['disk_peak_mib']:.0f} MiB)")
print(f"  time above the budget:   edge {el['disk_over_share']:.0%} of the time (mean {el['disk_mean_mib']:.0f} MiB),"
      f" nginx {nl['disk_over_share']:.0%} (mean {nl['disk_mean_mib']:.0f} MiB)")
print(f"  TTFB p99:                {ratio(el['ttfb_p99_ms'], nl['ttfb_p99_ms']):.2f}x, segment p99 {ratio(el['segment_p99_ms'], nl['segment_p99_ms']):.2f}x within the budget;"
      f" {ratio(eq['ttfb_p99_ms'], nl['ttfb_p99_ms']):.2f}x and {ratio(eq['segment_p99_ms'], nl['segment_p99_ms']):.2f}x with the disk nginx used")
print(f"  errors:                  edge {errors(elr)} and {errors(eqr)}, nginx {errors(nlr)}")
if vol_rounds:
    evr, nvr = runs("edge-volume", vol_rounds), runs("nginx-volume", vol_rounds)
    ev, nv = med(evr), med(nvr)
    print(f"library on one {volume_mb} MiB volume each (budget {disk}), medians of {vol_rounds} round(s)")
    print(f"  requests/s:              {ratio(ev['requests_per_second'], nv['requests_per_second']):.2f}x (per round {rounds_ratio(evr, nvr, 'requests_per_second')})")
    print(f"  errors:                  edge {errors(evr)}, nginx {errors(nvr)} (nginx logged {cut_short} cache writes cut short by the full volume)")
    # A miss nginx cannot store fails, and its viewer backs off a second and
    # picks another stream: nginx's viewers then ask mostly for what it holds.
    print(f"  hit ratio:               edge {ev['hit_ratio']:.3f}, nginx {nv['hit_ratio']:.3f} (of what its viewers asked, backing off after each error); disk peak {ev['disk_peak_mib']:.0f} vs {nv['disk_peak_mib']:.0f} MiB")
PY
