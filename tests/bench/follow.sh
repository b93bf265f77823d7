#!/usr/bin/env bash
# A follower catching up (tests/bench/README.md, "Followers"): builds a
# ledger of BENCH_ENTRIES entries (default 1000000) through the ledger
# layer, serves it with tiles_listen, and times `scoped follow` from its
# start until it holds the primary's checkpoint: every level-0 tile and
# entry bundle fetched over HTTPS (mutual TLS, one request at a time),
# each entry's leaf hash, the root and the checkpoint verified, the
# entries stored and the derived state rebuilt.  Numbers only; nothing here
# passes or fails on a timing.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${BUILD_DIR:-$top/build}
. "$top/tests/bench/instance.sh"
scoped=$bin/daemon/scoped
bench=$bin/tests/bench/scope-bench
entries=${BENCH_ENTRIES:-1000000}
if [ -n "${SMOKE:-}" ]; then entries=20000; fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/scope-bench-follow-XXXXXX")
pid= fpid=
cleanup() { for p in $pid $fpid; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

p=$tmp/big
"$scoped" init "$p" --origin bench.example/follow >/dev/null
printf 'map_initial_mib = 1024\ntiles_listen = 127.0.0.1:0\ntiles_rate_per_min = 10000000\n' >> "$p/scoped.conf"
"$bench" generate -c "$p/scoped.conf" --count "$entries" --batch 10000 --size 200

: > "$tmp/log"
"$scoped" -c "$p/scoped.conf" --listen 127.0.0.1:0 2>>"$tmp/log" &
pid=$!
tp=$(bench_log_port "$tmp/log" "tiles listening")

mkdir -p "$tmp/f/data"
cat > "$tmp/f/scoped.conf" <<CONF
origin = bench.example/follow
listen = 127.0.0.1:0
data_dir = data
map_initial_mib = 1024
tls_cert = $p/tls/server.crt
tls_key = $p/tls/server.key
tls_ca = $p/tls/ca.crt
roles = $p/roles.conf
follow_trust = $(cat "$p/keys/verifier.txt")
follow_cert = $p/clients/auditor.crt
follow_key = $p/clients/auditor.key
follow_ca = $p/tls/ca.crt
CONF
t0=$(date +%s%N)
"$scoped" follow -c "$tmp/f/scoped.conf" --from "https://127.0.0.1:$tp" 2>"$tmp/flog" &
fpid=$!
until grep -q "checkpoint of size $entries\$" "$tmp/flog"; do
	kill -0 "$fpid" 2>/dev/null || { cat "$tmp/flog"; exit 1; }
	sleep 0.1
done
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
echo "follower catch-up: $entries entries of 200 bytes fetched, verified and stored in $ms ms," \
	"$(( entries * 1000 / (ms + 1) )) entries/s"
kill -TERM "$fpid"; wait "$fpid" || true; fpid=
kill -TERM "$pid"; wait "$pid" || true; pid=
