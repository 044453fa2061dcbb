#!/usr/bin/env bash
# Side-by-side benchmark of Entrepôt's container registry against the reference registry (Debian's
# docker-registry, CNCF distribution 2.8), in one run on one machine, so that the ratios stay meaningful on a
# loaded or virtualised host. Documented in docs/benchmarks.md.
#
# Measures: this machine's limits (openssl sha256 speed, dd write with fdatasync); push of one layer of
# SIZE_MIB (monolithic PUT with curl, and chunked PATCH of CHUNK_MIB chunks over one connection with
# chunked_push.py); pull of it, and PAUSE seconds later of the chunked one; manifest GET (wrk) and HEAD (ab)
# requests per second at 16 and 64 connections; each server's peak RSS (VmHWM); how much of each push the disk was
# busy (/proc/diskstats), which tells a push bounded by the disk from one bounded by the CPU. The same pushes also
# go to the upload ceiling (services/entrepot/examples/upload_ceiling.rs: actix-web and a sha256 thread, storing
# nothing), the most any push through this HTTP stack can do on this machine with these clients.
# The pushes and the pull run ROUNDS times with fresh layers, the two servers taking turns to go first, and the
# table shows each figure's median: this virtual disk's speed drifts by 2-5x within minutes, and one sample per
# server measured the drift as much as the servers.
#
# usage: deploy/bench/container.sh   (builds the release binary and the ceiling unless ENTREPOT_BIN, CEILING_BIN are set)
# env:   SIZE_MIB=1024 CHUNK_MIB=64 ROUNDS=3 PAUSE=5 DURATION=10 REQUESTS=20000 WORKDIR=/var/tmp ENTREPOT_BIN=path
#        CEILING_BIN=path
set -euo pipefail

SIZE_MIB=${SIZE_MIB:-1024}
CHUNK_MIB=${CHUNK_MIB:-64}
ROUNDS=${ROUNDS:-3}
PAUSE=${PAUSE:-5}
DURATION=${DURATION:-10}
REQUESTS=${REQUESTS:-20000}
REF_PORT=${REF_PORT:-15000}
ENT_PORT=${ENT_PORT:-15001}
CEIL_PORT=${CEIL_PORT:-15002}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

for tool in docker-registry wrk ab curl openssl dd sha256sum python3; do
    command -v "$tool" >/dev/null || { echo "missing $tool: run WITH_BENCH=1 bash deploy/dev/install-clients.sh" >&2; exit 1; }
done
# The interpreter itself, not a version manager's shim in front of it (pyenv's costs 60-70 ms a start, which
# the timed chunked push would count).
PYTHON=$(python3 -c 'import sys; print(sys.executable)')
if [[ -z "${ENTREPOT_BIN:-}" ]]; then
    (cd "$ROOT" && cargo build --release -p entrepot >&2)
    ENTREPOT_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/entrepot"
fi
# A build of its own: an example brings the package's dev-dependencies, whose features must not reach the binary
# measured above.
if [[ -z "${CEILING_BIN:-}" ]]; then
    (cd "$ROOT" && cargo build --release -p entrepot --example upload_ceiling >&2)
    CEILING_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/examples/upload_ceiling"
fi

# On disk, not tmpfs: durability is part of what is measured.
WORK=$(mktemp -d "${WORKDIR:-/var/tmp}/entrepot-bench.XXXXXX")
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

now() { date +%s.%N; }
mibps() { awk -v mib="$1" -v s="$2" 'BEGIN { printf "%.0f", mib / s }'; }
hwm_mib() { awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
row() { printf '%-34s %14s %14s %8s\n' "$@"; }

echo "== machine: $(nproc) cores; load: $(uptime | sed 's/.*load average: //')"
SHA=$(openssl speed -evp sha256 -bytes 16384 -seconds 3 2>/dev/null | awk '/^sha256/ { v = $NF } END { sub("k", "", v); printf "%.0f", v * 1000 / 1048576 }')
dd if=/dev/zero of="$WORK/dd" bs=1M count="$SIZE_MIB" conv=fdatasync 2>"$WORK/dd.log"
DISK=$(awk '/copied/ { for (i = 1; i <= NF; i++) if ($i == "s,") t = $(i - 1) } END { print t }' "$WORK/dd.log")
DISK=$(mibps "$SIZE_MIB" "$DISK")
rm -f "$WORK/dd"
echo "   openssl sha256: $SHA MiB/s; dd write + fdatasync: $DISK MiB/s"
LIMIT=$(( SHA < DISK ? SHA : DISK ))

# The reference registry: filesystem storage, no auth, access log off.
mkdir -p "$WORK/ref"
cat >"$WORK/ref.yml" <<EOF
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $WORK/ref}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$REF_PORT}
EOF
docker-registry serve "$WORK/ref.yml" >"$WORK/ref.log" 2>&1 &
REF_PID=$!
PIDS+=("$REF_PID")

# Entrepôt: embedded SQLite and blob store, a user with a token, logs at warn.
export ENTREPOT_TELEMETRY__LOG_FILTER=warn
"$ENTREPOT_BIN" admin --data-dir "$WORK/ent" user create bench >/dev/null
TOKEN=$("$ENTREPOT_BIN" admin --data-dir "$WORK/ent" token create bench --name bench --scopes read:packages,write:packages,delete:packages)
"$ENTREPOT_BIN" serve --data-dir "$WORK/ent" --listen "127.0.0.1:$ENT_PORT" >"$WORK/ent.log" 2>&1 &
ENT_PID=$!
PIDS+=("$ENT_PID")
"$CEILING_BIN" "127.0.0.1:$CEIL_PORT" >"$WORK/ceiling.log" 2>&1 &
PIDS+=("$!")
for port in "$REF_PORT" "$ENT_PORT" "$CEIL_PORT"; do
    for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/v2/" && break; sleep 0.1; done
done

# curl with Basic user:PAT for Entrepôt, nothing for the reference.
auth() { [[ "$1" == "$ENT_PORT" ]] && echo "-ubench:$TOKEN" || echo "-s"; }
location() { tr -d '\r' | awk 'tolower($1) == "location:" { print $2 }' | tail -1; }
absolute() { [[ "$2" == http* ]] && echo "$2" || echo "http://127.0.0.1:$1$2"; }

push_monolithic() { # port name file digest
    local loc
    loc=$(curl -sS -D - -o /dev/null "$(auth "$1")" -X POST "http://127.0.0.1:$1/v2/$2/blobs/uploads/" | location)
    loc=$(absolute "$1" "$loc")
    local sep='?'; [[ "$loc" == *\?* ]] && sep='&'
    curl -sS -f -o /dev/null "$(auth "$1")" -H 'Expect:' -X PUT -H 'Content-Type: application/octet-stream' -T "$3" "$loc${sep}digest=$4"
}

push_chunked() { # port name file digest
    local user=()
    [[ "$1" == "$ENT_PORT" ]] && user=("bench:$TOKEN")
    "$PYTHON" "$ROOT/deploy/bench/chunked_push.py" "http://127.0.0.1:$1" "$2" "$3" "$4" "$CHUNK_MIB" "${user[@]}"
}

timed() { local t0 t1; t0=$(now); "$@"; t1=$(now); awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'; }
# The block device under $WORK and the milliseconds it has spent with I/O in flight (/proc/diskstats, 13th field;
# empty where the device is not listed there, as under some overlays).
DEV=$(basename "$(df --output=source "$WORK" | tail -1)")
io_ms() { awk -v d="$DEV" '$3 == d { print $13 }' /proc/diskstats; }
# Runs "$@" and prints its seconds and the share of them the disk was busy (%), or "-": a push during which the
# disk was busy nearly all the time was bounded by the disk, whatever the server did.
timed_busy() {
    local b0 b1 t
    b0=$(io_ms); t=$(timed "$@"); b1=$(io_ms)
    awk -v t="$t" -v a="$b0" -v b="$b1" 'BEGIN { if (a == "" || b == "") print t, "-"; else printf "%s %.0f\n", t, (b - a) / (t * 10) }'
}

declare -A R
# Drops the page cache, then reads the layers back in: the client's input comes from memory, as a client pushing a
# freshly built image reads it; otherwise this virtual disk's cold-read speed (200-300 MiB/s at times) is what
# every push measures.
fresh_cache() {
    sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
    cat "$WORK/layer1" "$WORK/layer2" >/dev/null
}
# One round: two fresh random layers; each server, after dropping the page cache, gets a monolithic push of the
# first, a chunked push of the second, a pull of the first, and PAUSE seconds later a pull of the second; the
# ceiling then gets the same two pushes. Figures go to R[port,metric] as space-separated samples.
round() {
    local first=$1 second=$2 port t busy out
    head -c "$((SIZE_MIB * 1048576))" /dev/urandom >"$WORK/layer1"
    head -c "$((SIZE_MIB * 1048576))" /dev/urandom >"$WORK/layer2"
    D1="sha256:$(sha256sum "$WORK/layer1" | cut -d' ' -f1)"
    D2="sha256:$(sha256sum "$WORK/layer2" | cut -d' ' -f1)"
    for port in "$first" "$second"; do
        fresh_cache
        out=$(timed_busy push_monolithic "$port" bench/layer "$WORK/layer1" "$D1"); read -r t busy <<<"$out"
        R[$port,mono]+=" $(mibps "$SIZE_MIB" "$t")"; R[$port,mono_busy]+=" $busy"
        out=$(timed_busy push_chunked "$port" bench/layer "$WORK/layer2" "$D2"); read -r t busy <<<"$out"
        R[$port,chunked]+=" $(mibps "$SIZE_MIB" "$t")"; R[$port,chunked_busy]+=" $busy"
        t=$(timed curl -sS -f -o /dev/null "$(auth "$port")" "http://127.0.0.1:$port/v2/bench/layer/blobs/$D1")
        R[$port,pull]+=" $(mibps "$SIZE_MIB" "$t")"
        # The layer a deployment pulls a while after CI pushed it: memory idle for seconds costs more to touch
        # on some virtual machines (docs/blob-store.md), and a first pull must not pay for it.
        sleep "$PAUSE"
        t=$(timed curl -sS -f -o /dev/null "$(auth "$port")" "http://127.0.0.1:$port/v2/bench/layer/blobs/$D2")
        R[$port,later]+=" $(mibps "$SIZE_MIB" "$t")"
    done
    fresh_cache
    t=$(timed push_monolithic "$CEIL_PORT" bench/layer "$WORK/layer1" "$D1"); R[$CEIL_PORT,mono]+=" $(mibps "$SIZE_MIB" "$t")"
    t=$(timed push_chunked "$CEIL_PORT" bench/layer "$WORK/layer2" "$D2"); R[$CEIL_PORT,chunked]+=" $(mibps "$SIZE_MIB" "$t")"
}
median() { tr ' ' '\n' | awk 'NF' | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

for r in $(seq "$ROUNDS"); do
    echo "== round $r of $ROUNDS: two random layers of $SIZE_MIB MiB"
    if ((r % 2)); then round "$REF_PORT" "$ENT_PORT"; else round "$ENT_PORT" "$REF_PORT"; fi
done
R[$REF_PORT,rounds_rss]=$(hwm_mib "$REF_PID")
R[$ENT_PORT,rounds_rss]=$(hwm_mib "$ENT_PID")

# A small image for the manifest benchmarks; public on Entrepôt so that both are read anonymously.
printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}' >"$WORK/config.json"
DC="sha256:$(sha256sum "$WORK/config.json" | cut -d' ' -f1)"
SC=$(stat -c %s "$WORK/config.json")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%s}]}' \
    "$DC" "$SC" "$D1" "$((SIZE_MIB * 1048576))" >"$WORK/manifest.json"
for port in "$REF_PORT" "$ENT_PORT"; do
    push_monolithic "$port" bench/layer "$WORK/config.json" "$DC"
    curl -sS -f -o /dev/null "$(auth "$port")" -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
        --data-binary @"$WORK/manifest.json" "http://127.0.0.1:$port/v2/bench/layer/manifests/v1"
done
"$ENTREPOT_BIN" admin --data-dir "$WORK/ent" package set-visibility container bench layer public >/dev/null

ACCEPT='Accept: application/vnd.oci.image.manifest.v1+json'
for port in "$REF_PORT" "$ENT_PORT"; do
    url="http://127.0.0.1:$port/v2/bench/layer/manifests/v1"
    curl -sS -f -o /dev/null -H "$ACCEPT" "$url"
    for c in 16 64; do
        R[$port,get$c]=$(wrk -t2 -c"$c" -d"${DURATION}s" -H "$ACCEPT" "$url" | awk '/Requests\/sec/ { printf "%.0f", $2 }')
        R[$port,head$c]=$(ab -q -k -i -n "$REQUESTS" -c "$c" -H "$ACCEPT" "$url" 2>/dev/null | awk '/Requests per second/ { printf "%.0f", $4 }')
    done
done
R[$REF_PORT,rss]=$(hwm_mib "$REF_PID")
R[$ENT_PORT,rss]=$(hwm_mib "$ENT_PID")

label() { [[ $1 == later ]] && echo "pull ${PAUSE} s later" || echo "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
echo
echo "== each round"
for m in mono chunked pull later; do
    for port in "$REF_PORT" "$ENT_PORT"; do
        busy=""
        [[ -n "${R[$port,${m}_busy]:-}" ]] && busy="; disk busy (%):${R[$port,${m}_busy]}"
        echo "   $(label "$m"), $([[ $port == "$REF_PORT" ]] && echo reference || echo entrepot), each round (MiB/s):${R[$port,$m]}$busy"
        R[$port,$m]=$(median <<<"${R[$port,$m]}")
    done
done
for m in mono chunked; do
    echo "   $m, ceiling, each round (MiB/s):${R[$CEIL_PORT,$m]}"
    R[$CEIL_PORT,$m]=$(median <<<"${R[$CEIL_PORT,$m]}")
done
echo
echo "== results ($SIZE_MIB MiB layers, chunks of $CHUNK_MIB MiB, $ROUNDS rounds; load after: $(uptime | sed 's/.*load average: //'))"
row "" "reference" "entrepot" "ratio"
for m in mono chunked pull later; do
    row "$(label "$m"), median (MiB/s)" "${R[$REF_PORT,$m]}" "${R[$ENT_PORT,$m]}" "$(ratio "${R[$ENT_PORT,$m]}" "${R[$REF_PORT,$m]}")"
done
for m in get16 get64 head16 head64; do
    row "manifest $m (req/s)" "${R[$REF_PORT,$m]}" "${R[$ENT_PORT,$m]}" "$(ratio "${R[$ENT_PORT,$m]}" "${R[$REF_PORT,$m]}")"
done
row "peak RSS after the rounds (MiB)" "${R[$REF_PORT,rounds_rss]}" "${R[$ENT_PORT,rounds_rss]}" ""
row "peak RSS overall (MiB)" "${R[$REF_PORT,rss]}" "${R[$ENT_PORT,rss]}" ""
echo "push vs machine limit (min of sha256 $SHA and disk $DISK = $LIMIT MiB/s): mono $(ratio "${R[$ENT_PORT,mono]}" "$LIMIT"), chunked $(ratio "${R[$ENT_PORT,chunked]}" "$LIMIT")"
echo "upload ceiling, median (MiB/s): mono ${R[$CEIL_PORT,mono]}, chunked ${R[$CEIL_PORT,chunked]}; vs machine limit: mono $(ratio "${R[$CEIL_PORT,mono]}" "$LIMIT"), chunked $(ratio "${R[$CEIL_PORT,chunked]}" "$LIMIT")"
echo "push vs upload ceiling: mono $(ratio "${R[$ENT_PORT,mono]}" "${R[$CEIL_PORT,mono]}"), chunked $(ratio "${R[$ENT_PORT,chunked]}" "${R[$CEIL_PORT,chunked]}")"
