#!/usr/bin/env bash
# Measures the server's cold start (exec → first 200 from /healthz, on a fresh data directory, so migrations run)
# and warm start (same, on an existing database), and its resident memory when idle. A measurement, not a test.
# Usage: deploy/dev/measure-startup.sh [path/to/entrepot] [runs]
set -euo pipefail
bin="${1:-${CARGO_TARGET_DIR:-target}/release/entrepot}"
runs="${2:-5}"
port=18999
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

start_once() { # $1 = data dir; prints milliseconds to the first healthy answer; the pid goes to $work/pid
  local t0 t1
  t0=$(date +%s%N)
  "$bin" serve --listen "127.0.0.1:$port" --data-dir "$1" >"$work/log" 2>&1 &
  echo $! >"$work/pid"
  until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do sleep 0.002; done
  t1=$(date +%s%N)
  echo $(((t1 - t0) / 1000000))
}

stop() {
  local pid
  pid=$(cat "$work/pid")
  kill -TERM "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.01; done
}

cold=() warm=()
for i in $(seq 1 "$runs"); do
  cold+=("$(start_once "$work/data-$i")"); stop
  warm+=("$(start_once "$work/data-$i")")
  if [ "$i" -eq "$runs" ]; then
    sleep 2
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$(cat "$work/pid")/status")
  fi
  stop
done
echo "cold start (fresh database, migrations) ms: ${cold[*]}"
echo "warm start (existing database) ms:          ${warm[*]}"
echo "idle RSS after 2 s: $((rss / 1024)) MiB ($rss KiB)"
