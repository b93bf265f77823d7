#!/usr/bin/env bash
# Runs the benchmark matrix on this machine and prints one table.
#   BENCH_SECONDS  seconds per append run (default 3)
#   BENCH_ENTRIES  size of the generated ledger for verify/prove/open (default 1000000)
#   SMOKE=1        CI's smoke run: 1-second runs, a 20000-entry ledger
# Numbers only; nothing here passes or fails on a timing.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${BUILD_DIR:-$top/build}
scoped=$bin/daemon/scoped
scopectl=$bin/client/scopectl
bench=$bin/tests/bench/scope-bench
secs=${BENCH_SECONDS:-3}
entries=${BENCH_ENTRIES:-1000000}
if [ -n "${SMOKE:-}" ]; then secs=1; entries=20000; fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/scope-bench-XXXXXX")
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
export XDG_STATE_HOME=$tmp/state

. "$top/tests/bench/instance.sh"
# serve INSTANCE: starts scoped on a free loopback port; sets pid and port
serve() {
	bench_serve "$scoped" "$tmp/$1" "$tmp/$1.log" || exit 1
	pid=$bench_pid
	port=$bench_port
}

bench_init "$scoped" "$tmp/live" bench.example/live
serve live
profile=$tmp/live/clients/admin.conf

row() {	# row LABEL JSON
	local j=$2
	get() { echo "$j" | sed -n "s/.*\"$1\":\([0-9.-]*\).*/\1/p"; }
	printf '%-34s %10s %9s %9s %9s %9s %8s %9s\n' "$1" "$(get entries_per_s)" "$(get p50_ms)" \
		"$(get p99_ms)" "$(get p999_ms)" "$(get max_ms)" "$(get server_cpu_s)" "$(get server_rss_kb)"
}
echo "machine: $(nproc) cores, $(free -m | awk '/Mem:/ {print $2}') MiB, $(sed -n 's/^model name\t: //p' /proc/cpuinfo | head -1)"
echo "durable appends over mutual TLS, ${secs}s each, 32 in flight per connection"
printf '%-34s %10s %9s %9s %9s %9s %8s %9s\n' "run" "entries/s" "p50 ms" "p99 ms" "p99.9 ms" "max ms" "cpu s" "rss KiB"
for size in 256 4096; do
	for conns in 1 16 64 256; do
		j=$("$bench" append --config "$profile" --connections "$conns" --pipeline 32 --duration "$secs" \
			--size "$size" --pid "$pid" --json 2>/dev/null || echo '{}')
		row "$conns conn x 32, ${size} B" "$j"
	done
done
j=$("$bench" append --config "$profile" --connections 1 --pipeline 1 --duration "$secs" --pid "$pid" --json 2>/dev/null || echo '{}')
row "1 conn x 1 (no pipelining)" "$j"
j=$("$bench" append --config "$profile" --connections 16 --pipeline 32 --rate 10000 --duration "$secs" --pid "$pid" --json 2>/dev/null || echo '{}')
row "offered 10000/s, 16 conn" "$j"

# one scopectl append end to end: process start, handshake, commit, reply,
# and the inclusion proof it checks
runs=20; [ -n "${SMOKE:-}" ] && runs=3
t0=$(date +%s%N)
for i in $(seq 1 "$runs"); do
	"$scopectl" append --config "$profile" --project "" --kind note --body-json '{"text":"one"}' >/dev/null
done
t1=$(date +%s%N)
echo "scopectl append end to end (with its proof check): $(( (t1 - t0) / runs / 1000 )) us mean over $runs runs"
# memory with idle connections (max_connections is 1024 by default)
idle=1000; idle_secs=10; [ -n "${SMOKE:-}" ] && { idle=50; idle_secs=1; }
"$bench" idle --config "$profile" --pid "$pid" --connections "$idle" --duration "$idle_secs" || true
kill -TERM "$pid"; wait "$pid" || true; pid=

# a large ledger, built through the ledger layer
"$scoped" init "$tmp/big" --origin bench.example/big >/dev/null
printf 'map_initial_mib = 1024\n' >> "$tmp/big/scoped.conf"
"$bench" generate -c "$tmp/big/scoped.conf" --count "$entries" --batch 10000 --size 200
"$bench" verify -c "$tmp/big/scoped.conf"
"$bench" prove -c "$tmp/big/scoped.conf" --count 20000
"$bench" open -c "$tmp/big/scoped.conf" --count 20

# offline verification of an export, and online verification over mutual TLS,
# as an auditor runs them (scopectl: decode, chain, leaf hashes, root, signature)
rate() {	# rate LABEL COMMAND...: entries/s for the whole ledger
	local label=$1; shift
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null || { echo "$label: failed"; return 0; }
	t1=$(date +%s%N)
	echo "$label: $entries entries in $(( (t1 - t0) / 1000000 )) ms: $(( entries * 1000000000 / (t1 - t0 + 1) )) entries/s"
}
"$scoped" export -c "$tmp/big/scoped.conf" --format raw -o "$tmp/big.raw"
"$scoped" checkpoint -c "$tmp/big/scoped.conf" > "$tmp/big.cp"
rate "scopectl verify --export (offline)" "$scopectl" verify --export "$tmp/big.raw" --checkpoint "$tmp/big.cp" \
	--trust "$(cat "$tmp/big/keys/verifier.txt")"
rm -f "$tmp/big.raw"
serve big
rate "scopectl verify (online, over TLS)" "$scopectl" verify --config "$tmp/big/clients/auditor.conf" \
	--server "127.0.0.1:$port"
# the same pages fetched and dropped, as the network's bound for the row above
"$bench" fetch --config "$tmp/big/clients/auditor.conf" --pid "$pid" || true
