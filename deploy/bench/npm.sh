#!/usr/bin/env bash
# npm registry benchmark: Entrepôt (release build, 127.0.0.1:14874) and Verdaccio 6.8.0 (127.0.0.1:14873), side by
# side in one run, so that the ratios hold on a loaded machine. See docs/benchmarks.md for what each figure means.
#
#   bash deploy/bench/npm.sh            (needs: bash deploy/dev/install-clients.sh with WITH_BENCH=1)
#
# Env: DURATION (wrk seconds per run, default 10), VERSIONS (default 1000), TREE (default 100), BIG_MB (default 50),
# RUNS (hyperfine runs, default 3), CARGO_TARGET_DIR (default ./target).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CLIENTS=${ENTREPOT_CLIENTS:-$HOME/.cache/entrepot/clients}
DURATION=${DURATION:-10}
VERSIONS=${VERSIONS:-1000}
TREE=${TREE:-100}
BIG_MB=${BIG_MB:-50}
RUNS=${RUNS:-3}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
EP=127.0.0.1:14874
VD=127.0.0.1:14873
WORK=$(mktemp -d /tmp/entrepot-npm-bench.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
say() { printf '\n=== %s\n' "$*"; }
for tool in wrk hyperfine npm python3 curl; do command -v $tool >/dev/null || { echo "missing $tool" >&2; exit 1; }; done
[ -x "$CLIENTS/bin/verdaccio" ] || { echo "missing verdaccio: WITH_BENCH=1 bash deploy/dev/install-clients.sh" >&2; exit 1; }

say "machine"
uptime
nproc

say "build (release)"
(cd "$ROOT" && CARGO_TARGET_DIR=$TARGET cargo build --release --locked -p entrepot 2>&1 | tail -n 2)
BIN=$TARGET/release/entrepot

# ---------------------------------------------------------------------------------------------------- Entrepôt
say "start Entrepôt on $EP"
mkdir -p "$WORK/ep"
export ENTREPOT_POLICY__ANONYMOUS_READ='["container","npm"]'
"$BIN" --data-dir "$WORK/ep" admin user create bench >/dev/null
EP_TOKEN=$("$BIN" --data-dir "$WORK/ep" admin token create bench --name bench \
  --scopes read:packages,write:packages,delete:packages | tail -n 1)
ENTREPOT_TELEMETRY__LOG_FILTER=info "$BIN" serve --data-dir "$WORK/ep" --listen $EP >"$WORK/ep.log" 2>&1 &
EP_PID=$!
PIDS+=($EP_PID)

# ---------------------------------------------------------------------------------------------------- Verdaccio
say "start Verdaccio on $VD"
mkdir -p "$WORK/vd/storage"
cat >"$WORK/vd/config.yaml" <<EOF
storage: $WORK/vd/storage
auth:
  htpasswd:
    file: $WORK/vd/htpasswd
    max_users: 1000
uplinks: {}
packages:
  '@*/*':
    access: \$all
    publish: \$authenticated
    unpublish: \$authenticated
server:
  keepAliveTimeout: 60
middlewares:
  audit:
    enabled: false
log: { type: stdout, format: pretty, level: warn }
web:
  enable: false
max_body_size: 200mb
EOF
"$CLIENTS/bin/verdaccio" --config "$WORK/vd/config.yaml" --listen $VD >"$WORK/vd.log" 2>&1 &
VD_PID=$!
PIDS+=($VD_PID)
for _ in $(seq 100); do
  curl -fs "http://$EP/healthz" >/dev/null && curl -fs "http://$VD/-/ping" >/dev/null && break
  sleep 0.2
done
VD_TOKEN=$(curl -fs -X PUT -H 'content-type: application/json' \
  -d '{"name":"bench","password":"bench-password-1"}' \
  "http://$VD/-/user/org.couchdb.user:bench" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')

pub() { python3 "$ROOT/deploy/bench/npm_publish.py" "$@"; }

say "publish @bench/big with $VERSIONS versions to both"
time pub --public "http://$EP/npm" "$EP_TOKEN" versions @bench/big "$VERSIONS"
time pub --public "http://$VD" "$VD_TOKEN" versions @bench/big "$VERSIONS"
curl -fs -o /dev/null -w 'entrepot full packument: %{size_download} bytes\n' -H "authorization: Bearer $EP_TOKEN" \
  -H 'accept: application/json' "http://$EP/npm/@bench%2fbig"
curl -fs -o /dev/null -w 'verdaccio full packument: %{size_download} bytes\n' -H "authorization: Bearer $VD_TOKEN" \
  -H 'accept: application/json' "http://$VD/@bench%2fbig"

CORGI='application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*'
bench() { # name url token accept connections
  local out rps p99
  out=$(wrk -t2 -c"$5" -d"${DURATION}s" --latency -H "authorization: Bearer $3" -H "accept: $4" \
    -H 'accept-encoding: gzip' "$2")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  errors=$(grep -E 'Non-2xx|Socket errors' <<<"$out" | tr '\n' ' ' || true)
  printf '%-44s %6s conns  %10s req/s  p99 %8s  %s\n' "$1" "$5" "$rps" "$p99" "$errors"
}
say "packument GET (wrk, ${DURATION}s each, Authorization header on every request, gzip accepted)"
for c in 16 64; do
  bench "entrepot  full        @bench/big" "http://$EP/npm/@bench%2fbig" "$EP_TOKEN" application/json $c
  bench "verdaccio full        @bench/big" "http://$VD/@bench%2fbig" "$VD_TOKEN" application/json $c
  bench "entrepot  abbreviated @bench/big" "http://$EP/npm/@bench%2fbig" "$EP_TOKEN" "$CORGI" $c
  bench "verdaccio abbreviated @bench/big" "http://$VD/@bench%2fbig" "$VD_TOKEN" "$CORGI" $c
done
say "tarball GET"
for c in 16 64; do
  bench "entrepot  tarball" "http://$EP/npm/@bench/big/-/big-1.0.0.tgz" "$EP_TOKEN" '*/*' $c
  bench "verdaccio tarball" "http://$VD/@bench/big/-/big-1.0.0.tgz" "$VD_TOKEN" '*/*' $c
done

say "publish latency (50 sequential publishes to a package with $VERSIONS versions; client-side)"
echo "entrepot  $(pub --public "http://$EP/npm" "$EP_TOKEN" latency @bench/big 50)"
echo "verdaccio $(pub --public "http://$VD" "$VD_TOKEN" latency @bench/big 50)"
echo "entrepot server-side (request log, PUT /npm/@bench%2fbig, last 50):"
grep -a 'request completed' "$WORK/ep.log" | grep -a 'PUT' | grep -a 'bench%2fbig' | tail -n 50 |
  grep -o 'duration_ms=[0-9.]*' | cut -d= -f2 | sort -n |
  awk '{a[NR]=$1} END {printf "  median %.2f ms  p90 %.2f ms  max %.2f ms\n", a[int(NR/2)+1], a[int(NR*0.9)], a[NR]}'

say "cold npm install of a tree of $TREE packages (hyperfine, $RUNS runs, fresh cache and node_modules)"
pub --public "http://$EP/npm" "$EP_TOKEN" tree @bench "$TREE"
pub --public "http://$VD" "$VD_TOKEN" tree @bench "$TREE"
for side in ep-token ep-anon vd-token vd-anon; do
  dir=$WORK/install-$side
  mkdir -p "$dir"
  case $side in
    ep-*) url=http://$EP/npm/ host=$EP/npm/ token=$EP_TOKEN ;;
    vd-*) url=http://$VD/ host=$VD/ token=$VD_TOKEN ;;
  esac
  {
    echo "registry=$url"
    echo "update-notifier=false"
    echo "fund=false"
    echo "audit=false"
    [[ $side == *-token ]] && echo "//$host:_authToken=$token"
  } >"$dir/.npmrc"
  echo '{"name":"consumer","version":"1.0.0","private":true,"dependencies":{"@bench/p0":"^1.0.0"}}' >"$dir/package.json"
done
hyperfine --runs "$RUNS" --warmup 1 \
  --prepare 'for d in '"$WORK"'/install-*; do rm -rf $d/node_modules $d/package-lock.json $d/cache; done' \
  -n 'entrepot, token' "cd $WORK/install-ep-token && NPM_CONFIG_USERCONFIG=.npmrc npm_config_cache=./cache npm install --no-audit --prefer-online >/dev/null" \
  -n 'entrepot, no token' "cd $WORK/install-ep-anon && NPM_CONFIG_USERCONFIG=.npmrc npm_config_cache=./cache npm install --no-audit --prefer-online >/dev/null" \
  -n 'verdaccio, token' "cd $WORK/install-vd-token && NPM_CONFIG_USERCONFIG=.npmrc npm_config_cache=./cache npm install --no-audit --prefer-online >/dev/null" \
  -n 'verdaccio, no token' "cd $WORK/install-vd-anon && NPM_CONFIG_USERCONFIG=.npmrc npm_config_cache=./cache npm install --no-audit --prefer-online >/dev/null"
(cd "$WORK/install-ep-token" && NPM_CONFIG_USERCONFIG=.npmrc npm_config_cache=./cache npm install --no-audit >/dev/null)
echo "packages installed from entrepot: $(ls "$WORK/install-ep-token/node_modules/@bench" | wc -l)"

say "a ${BIG_MB} MB publish, then peak RSS (VmHWM) over the whole run"
time pub "http://$EP/npm" "$EP_TOKEN" big @bench/huge "$BIG_MB"
time pub "http://$VD" "$VD_TOKEN" big @bench/huge "$BIG_MB"
echo "entrepot  peak RSS: $(awk '/VmHWM/ {printf "%.1f MiB", $2/1024}' /proc/$EP_PID/status)"
echo "verdaccio peak RSS: $(awk '/VmHWM/ {printf "%.1f MiB", $2/1024}' /proc/$VD_PID/status)"
uptime
