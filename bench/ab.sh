#!/usr/bin/env bash
# Edge against edge: two builds played by the same viewers at real pace,
# run after run in turn, so that a change's effect on what viewers live
# through can be told from the machine's drift. One round of a server
# moves its p99 by 10-15% here; a single run of each settles nothing.
#
# The library is STREAMS copies of the viewers bench's 60 s ladder as local
# files (EDGE_ORIGIN=file://…: no S3 server, so each run is short), with
# that bench's memory and disk budgets. Each run starts edge cold; VIEWERS
# play for DURATION after a 10 s ramp. Printed per run: CPU and context
# switches per request, TTFB p99, segment p99 and the hits' segment p99;
# then each build's medians and B's ratio to A, and in how many pairs B
# did better. A and B are git revisions, or "." for the working tree.
#   A=HEAD~1 B=. PAIRS=5 VIEWERS=1000 DURATION=30s bash bench/ab.sh
# Extra environment for one side: A_ENV="GOMAXPROCS=1" (likewise B_ENV).
set -euo pipefail
cd "$(dirname "$0")/.."

A=${A:-HEAD} B=${B:-.}
A_ENV=${A_ENV:-} B_ENV=${B_ENV:-}
PAIRS=${PAIRS:-5}
STREAMS=${STREAMS:-40}
VIEWERS=${VIEWERS:-1000}
DURATION=${DURATION:-30s}
MEM=${MEM:-64MiB}
DISK=${DISK:-256MiB}

. bench/lib.sh
need_tools ffmpeg curl
ulimit -n 65536 2>/dev/null || true
work_dir ab

# build NAME REV: edge at REV (a worktree of it, or the working tree for .)
# as $work/NAME.
build() {
  if [ "$2" = . ]; then go build -o "$work/$1" ./cmd/edge; return; fi
  git worktree add -q --detach "$work/src-$1" "$2"
  (cd "$work/src-$1" && go build -o "$work/$1" ./cmd/edge)
  git worktree remove --force "$work/src-$1"
}
echo "== building A ($A) and B ($B), and the viewers"
build a "$A"; build b "$B"
go build -o "$work/viewers" ./bench/viewers

echo "== a library of $STREAMS streams as local files"
make_library "$work/media" "$STREAMS"
touch -d '1 hour ago' $(find "$work/media" -type f) # edge keeps no object modified moments ago
sync

# play NAME SIDE: a cold edge (build SIDE) played by the viewers; its
# figures in $work/NAME.json, and a line printed.
play() {
  local name=$1 side=$2 port pid ticks0 switches0 extra
  port=$(free_port)
  extra=$A_ENV; [ "$side" = b ] && extra=$B_ENV
  rm -rf "$work/data"; mkdir -p "$work/data"
  env $extra EDGE_ADDR="127.0.0.1:$port" EDGE_DATA_DIR="$work/data" EDGE_ORIGIN="file://$work/media" \
    EDGE_CACHE_BYTES="$MEM" EDGE_DISK_CACHE_BYTES="$DISK" EDGE_LOG_LEVEL=error "$work/$side" serve & pid=$!
  pids+=($pid)
  wait_http "http://127.0.0.1:$port/healthz"
  ticks0=$(cpu_ticks "$pid") switches0=$(ctx_switches "$pid")
  "$work/viewers" -base "http://127.0.0.1:$port" -streams "$STREAMS" -viewers "$VIEWERS" -duration "$DURATION" > "$work/$name.json"
  python3 - "$work/$name.json" "$name" $(( $(cpu_ticks "$pid") - ticks0 )) $(( $(ctx_switches "$pid") - switches0 )) "$(getconf CLK_TCK)" <<'PY'
import json, sys
path, name, ticks, switches, hz = sys.argv[1:6]
r = json.load(open(path))
n = max(r["requests"], 1)
r["cpu_us_per_request"] = int(ticks) / int(hz) * 1e6 / n
r["switches_per_request"] = int(switches) / n
r["hit_segment_p99_ms"] = r["segment_by_answer"].get("hit", {}).get("p99_ms", 0)
json.dump(r, open(path, "w"))
print(f"   {name:6} requests {r['requests']} errors {r['errors']}  CPU {r['cpu_us_per_request']:.0f} us/request,"
      f" {r['switches_per_request']:.1f} switches/request  TTFB p99 {r['ttfb_p99_ms']:.2f} ms  segment p99 {r['segment_p99_ms']:.2f} ms"
      f"  hits' segment p99 {r['hit_segment_p99_ms']:.2f} ms")
PY
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

echo "== $PAIRS pair(s) of runs, $VIEWERS viewers for $DURATION each, who goes first alternating"
first=a second=b
for i in $(seq "$PAIRS"); do
  play "$first-$i" "$first"; play "$second-$i" "$second"
  read -r first second <<< "$second $first"
done

python3 - "$work" "$PAIRS" "$A" "$B" <<'PY'
import json, statistics, sys
work, pairs, a_rev, b_rev = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
runs = {s: [json.load(open(f"{work}/{s}-{i}.json")) for i in range(1, pairs + 1)] for s in "ab"}
print(f"\nmedians of {pairs} run(s) each: A = {a_rev}, B = {b_rev} (lower is better for all)")
for key, label in (("cpu_us_per_request", "CPU per request"), ("switches_per_request", "switches per request"),
                   ("ttfb_p99_ms", "TTFB p99"), ("segment_p99_ms", "segment p99"), ("hit_segment_p99_ms", "hits' segment p99")):
    a = statistics.median(r[key] for r in runs["a"])
    b = statistics.median(r[key] for r in runs["b"])
    better = sum(y[key] < x[key] for x, y in zip(runs["a"], runs["b"]))
    print(f"  {label:21} A {a:8.2f}  B {b:8.2f}  B/A {b / a if a else float('nan'):.2f}  (B lower in {better} of {pairs} pairs)")
print(f"  errors                A {sum(r['errors'] for r in runs['a'])}  B {sum(r['errors'] for r in runs['b'])}")
PY
