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
  for _ in $(seq 100); do curl -fs -o /dev/null "http://$EDGE_ADDR/healthz" && return 0; sleep 0.1; done
  echo "edge did not start"; exit 1
}
