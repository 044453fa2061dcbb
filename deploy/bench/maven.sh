#!/usr/bin/env bash
# The Maven registry side by side with a plain static file server (Debian's nginx) serving the same tree: GET of a
# 1 MiB jar and of its .sha1 at 16 and 64 connections (wrk), HEAD of the jar (ab -i), GET of maven-metadata.xml,
# and the throughput of a 200 MiB artifact PUT against `openssl speed -evp sha256` on this machine.
#
# Entrepôt runs with authentication on: every request carries a personal access token (Basic, as Maven sends it)
# into a private repository, so each read is authenticated and authorized. nginx serves the files with no checks at
# all: it is the floor, not a competitor. Both get the same number of worker threads.
#
# Usage: deploy/bench/maven.sh            (builds the release binary first unless ENTREPOT_BIN is set)
#        DURATION=10 deploy/bench/maven.sh
# Needs: nginx (nginx-light), wrk, ab (apache2-utils), curl, openssl; `WITH_BENCH=1 deploy/dev/install-clients.sh`.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DURATION=${DURATION:-8}
ENTREPOT_PORT=${ENTREPOT_PORT:-18081}
NGINX_PORT=${NGINX_PORT:-18080}
WORKERS=${WORKERS:-2}
if [[ -z "${ENTREPOT_BIN:-}" ]]; then
  (cd "$ROOT" && cargo build --release -q -p entrepot)
  ENTREPOT_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/entrepot"
fi
for tool in nginx wrk ab curl openssl; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run WITH_BENCH=1 deploy/dev/install-clients.sh" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/entrepot-bench-maven.XXXXXX)
# nginx's workers drop root for an unprivileged user, who must be able to read the tree.
chmod 755 "$WORK"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# --- Entrepôt: a user, a private repository, a token; release build, info logs off the hot path.
export ENTREPOT_TELEMETRY__LOG_FILTER=warn
DATA="$WORK/data"
admin() { "$ENTREPOT_BIN" --data-dir "$DATA" admin "$@"; }
admin user create bench >/dev/null
admin repo create bench/web --visibility private >/dev/null
TOKEN=$(admin token create bench --name bench --scopes read:packages,write:packages,repo)
AUTH="Authorization: Basic $(printf 'bench:%s' "$TOKEN" | base64 -w0)"
"$ENTREPOT_BIN" serve --listen "127.0.0.1:$ENTREPOT_PORT" --data-dir "$DATA" >"$WORK/entrepot.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$ENTREPOT_PORT/healthz" >/dev/null && break; sleep 0.1; done

BASE="http://127.0.0.1:$ENTREPOT_PORT/maven/bench/web"
DIR="com/example/bench/1.0.0"
head -c $((1024 * 1024)) /dev/urandom >"$WORK/bench-1.0.0.jar"
cat >"$WORK/bench-1.0.0.pom" <<'EOF'
<project><modelVersion>4.0.0</modelVersion><groupId>com.example</groupId><artifactId>bench</artifactId><version>1.0.0</version></project>
EOF
for f in bench-1.0.0.pom bench-1.0.0.jar; do
  curl -fs -H "$AUTH" -T "$WORK/$f" "$BASE/$DIR/$f" >/dev/null
done

# --- nginx: the same tree, as files.
STATIC="$WORK/static/maven/bench/web"
mkdir -p "$STATIC/$DIR" "$WORK/nginx/logs"
for path in "$DIR/bench-1.0.0.jar" "$DIR/bench-1.0.0.jar.sha1" "$DIR/bench-1.0.0.pom" "com/example/bench/maven-metadata.xml"; do
  curl -fs -H "$AUTH" "$BASE/$path" -o "$STATIC/$path"
done
chmod -R a+rX "$WORK/static"
cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes $WORKERS;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  types { application/java-archive jar; text/xml xml pom; text/plain sha1; }
  server { listen 127.0.0.1:$NGINX_PORT; root $WORK/static; }
}
EOF
nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" &
PIDS+=($!)
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$NGINX_PORT/maven/bench/web/$DIR/bench-1.0.0.pom" >/dev/null && break; sleep 0.1; done
cmp <(curl -fs "http://127.0.0.1:$NGINX_PORT/maven/bench/web/$DIR/bench-1.0.0.jar") "$WORK/bench-1.0.0.jar"
cmp <(curl -fs -H "$AUTH" "$BASE/$DIR/bench-1.0.0.jar") "$WORK/bench-1.0.0.jar"
# HEAD answers the size without a body.
curl -fsI -H "$AUTH" "$BASE/$DIR/bench-1.0.0.jar" | grep -qi '^content-length: 1048576' \
  || { echo "HEAD does not report the jar's size" >&2; exit 1; }

NGINX="http://127.0.0.1:$NGINX_PORT/maven/bench/web"
rps_wrk() { wrk -t2 -c"$1" -d"${DURATION}s" -H "$AUTH" "$2" | awk '/Requests\/sec/ {print $2}'; }
rps_ab() { ab -q -k -i -c16 -t "$DURATION" -n 1000000 -H "$AUTH" "$1" 2>/dev/null | awk '/Requests per second/ {print $4}'; }

printf '%-34s %14s %14s %8s\n' "request" "nginx req/s" "entrepot req/s" "ratio"
row() {
  local name=$1 a=$2 b=$3
  printf '%-34s %14s %14s %8s\n' "$name" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')"
}
for c in 16 64; do
  row "GET 1 MiB jar, $c connections" "$(rps_wrk "$c" "$NGINX/$DIR/bench-1.0.0.jar")" "$(rps_wrk "$c" "$BASE/$DIR/bench-1.0.0.jar")"
  row "GET .jar.sha1, $c connections" "$(rps_wrk "$c" "$NGINX/$DIR/bench-1.0.0.jar.sha1")" "$(rps_wrk "$c" "$BASE/$DIR/bench-1.0.0.jar.sha1")"
done
row "HEAD 1 MiB jar, 16 connections" "$(rps_ab "$NGINX/$DIR/bench-1.0.0.jar")" "$(rps_ab "$BASE/$DIR/bench-1.0.0.jar")"
row "GET maven-metadata.xml, 16 conn." "$(rps_wrk 16 "$NGINX/com/example/bench/maven-metadata.xml")" "$(rps_wrk 16 "$BASE/com/example/bench/maven-metadata.xml")"

# --- PUT of a 200 MiB artifact (a fresh SNAPSHOT file each time, so every PUT stores new bytes), best of 3.
# Three different files: the same bytes again would be deduplicated, which is not what a deploy measures.
for i in 1 2 3; do head -c $((200 * 1024 * 1024)) /dev/urandom >"$WORK/big$i.jar"; done
best=0
for i in 1 2 3; do
  cat "$WORK/big$i.jar" >/dev/null # the client reads from memory, as after a build
  url="$BASE/com/example/big/1.0-SNAPSHOT/big-1.0-20261121.00000$i-$i.jar"
  secs=$(curl -fs -o /dev/null -w '%{time_total}' -H "$AUTH" -T "$WORK/big$i.jar" "$url")
  mbs=$(awk -v s="$secs" 'BEGIN { printf "%.0f", 200 / s }')
  (( mbs > best )) && best=$mbs
done
sha=$(openssl speed -seconds 3 -bytes 16384 -evp sha256 2>/dev/null | awk '/^sha256/ {printf "%.0f", $NF / 1.048576 / 1000}')
printf '\nPUT 200 MiB artifact: %s MiB/s; sha256 (openssl, 16 KiB blocks): %s MiB/s; ratio %s\n' \
  "$best" "$sha" "$(awk -v a="$best" -v b="$sha" 'BEGIN { printf "%.2f", a / b }')"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
