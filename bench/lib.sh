# Shared by the bench scripts (sourced, not run).

# free_port prints a free loopback port.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_edge BIN: runs BIN serve on a free port with a fresh data dir below
# $work, an account and an API token; sets EDGE_ADDR, token and edge_pid.
start_edge() {
  export EDGE_DATA_DIR="$work/data" EDGE_ADDR="127.0.0.1:$(free_port)" EDGE_LOG_LEVEL=warn
  "$1" user add --email bench@example.com >/dev/null
  token=$("$1" token create --email bench@example.com)
  "$1" serve & edge_pid=$!
  wait_http "http://$EDGE_ADDR/healthz"
}

# need_tools TOOL…: installs from Debian's packages the tools not on PATH.
need_tools() {
  local need=() tool
  for tool in "$@"; do command -v "$tool" >/dev/null || need+=("$tool"); done
  [ ${#need[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -eq 0 ]; then local root=(); else local root=(sudo); fi
  "${root[@]}" apt-get update -qq
  "${root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
}

# work_dir NAME: a readable work folder in $work, $pids and $mounts, whose
# servers are stopped, volumes unmounted and the folder removed when the
# script exits.
work_dir() {
  work=$(mktemp -d "/tmp/edge-$1.XXXXXX")
  chmod 755 "$work"
  pids=() mounts=()
  trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true
    for m in "${mounts[@]}"; do umount "$m" 2>/dev/null || true; done; rm -rf "$work"' EXIT
}

# versitygw_bin prints the path of a versitygw (a real S3 server), after
# installing the version the tests use when there is none.
versitygw_bin() {
  local gobin version
  if command -v versitygw; then return 0; fi
  gobin="$(go env GOPATH)/bin"
  version=$(sed -n 's/^VERSITYGW_VERSION=//p' scripts/test-deps.sh)
  [ -x "$gobin/versitygw" ] || go install "github.com/versity/versitygw/cmd/versitygw@$version" >&2
  echo "$gobin/versitygw"
}

# toxiproxy_bin prints the path of toxiproxy's server (a TCP proxy that
# adds latency), installed at TOXIPROXY_VERSION when missing.
TOXIPROXY_VERSION=v2.5.0
toxiproxy_bin() {
  local dir
  dir="$(go env GOPATH)/bin/toxiproxy-$TOXIPROXY_VERSION"
  [ -x "$dir/server" ] || GOBIN="$dir" go install "github.com/Shopify/toxiproxy/v2/cmd/server@$TOXIPROXY_VERSION" >&2
  echo "$dir/server"
}

# wait_http URL: waits up to 10 s for any HTTP answer from URL (a server
# that listens), or ends the script.
wait_http() {
  for _ in $(seq 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done
  echo "not up: $1"; exit 1
}

# make_library DIR N: N copies (streams/s000 …) of a 60 s two-rendition
# ladder in DIR: 720p at 1.5 Mb/s and 360p, 4 s segments.
make_library() {
  local first="$1/streams/s000" i
  mkdir -p "$first"
  ffmpeg -v error -f lavfi -i testsrc2=size=1280x720:rate=30 -f lavfi -i sine=frequency=440 -t 60 \
    -filter_complex "[0:v]split=2[a][b];[a]scale=-2:720[v720];[b]scale=-2:360[v360]" \
    -map "[v720]" -map "[v360]" -map 1:a -map 1:a -c:v libx264 -preset veryfast -profile:v main \
    -pix_fmt yuv420p -g 60 -keyint_min 60 -sc_threshold 0 -b:v:0 1500k -maxrate:v:0 1650k -bufsize:v:0 3000k \
    -b:v:1 500k -c:a aac -b:a 96k -f hls -hls_time 4 -hls_playlist_type vod -hls_flags independent_segments \
    -master_pl_name master.m3u8 -hls_segment_filename "$first/%v/segment-%d.ts" \
    -var_stream_map "v:0,a:0,name:720p v:1,a:1,name:360p" "$first/%v/stream.m3u8"
  for i in $(seq 1 $(($2 - 1))); do cp -r "$first" "$1/streams/$(printf 's%03d' "$i")"; done
}

# cpu_ticks PID: CPU time (user + system, clock ticks) of a process and its
# children (nginx's workers).
cpu_ticks() {
  local pid total=0 f
  for pid in "$1" $(pgrep -P "$1" || true); do
    f=$(cut -d' ' -f14,15 "/proc/$pid/stat" 2>/dev/null || echo "0 0")
    total=$(( total + ${f% *} + ${f#* } ))
  done
  echo "$total"
}

# ctx_switches PID: context switches (voluntary and not) of a process's
# threads and its children's (nginx's workers). Each is a thread put to
# sleep or woken: the cost that separates a Go server's CPU from nginx's.
ctx_switches() {
  local pid total=0
  for pid in "$1" $(pgrep -P "$1" || true); do
    total=$(( total + $(cat /proc/"$pid"/task/*/status 2>/dev/null | awk '/ctxt_switches/ {n += $2} END {print n + 0}') ))
  done
  echo "$total"
}
