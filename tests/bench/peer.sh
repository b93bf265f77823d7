#!/usr/bin/env bash
# Scope Ledger beside a PostgreSQL peer doing the same work and beside the raw
# LMDB ceiling, in one run on this machine: durable appends of 256-byte notes
# to a hash chain.
#   BENCH_ROUNDS   rounds (default 3); each runs all three, in turning order
#   BENCH_SECONDS  seconds per run (default 5)
#   SMOKE=1        1 round of 1 s, and a clean skip when PostgreSQL is missing
# Scope Ledger: a real scoped, scope-bench with 64 connections x 32 in flight.
# The peer: Debian's PostgreSQL in a throwaway cluster (127.0.0.1 only, a free
# port, TLS with a throwaway certificate, synchronous_commit = on), the
# hash-chained table and trigger of peer.sql, pgbench with 64 clients over TLS
# running peer-insert.sql.  The ceiling: scope-bench ceiling, raw LMDB with
# 256 durable appends per transaction and no network.  Each round runs all
# three, in an order that turns from round to round; prints the three rates,
# the ratios scope/peer and scope/ceiling per round and their medians, and then
# checks that the peer's chain is intact (peer-verify.sql).
# Numbers only; nothing here passes or fails on a timing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
bin=${BUILD_DIR:-$top/build}
scoped=$bin/daemon/scoped
bench=$bin/tests/bench/scope-bench
rounds=${BENCH_ROUNDS:-3}
secs=${BENCH_SECONDS:-5}
[ -n "${SMOKE:-}" ] && { rounds=1; secs=1; }

pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$pgbin" ] || [ ! -x "$pgbin/pgbench" ]; then
	if [ -n "${SMOKE:-}" ]; then
		echo "peer.sh: skipped, PostgreSQL is not installed (deploy/install-deps.sh --bench)"
		exit 0
	fi
	"$top/deploy/install-deps.sh" --bench
	pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/scope-peer-XXXXXX")
chmod 755 "$tmp"
pid=
pgdata=$tmp/pg
# initdb refuses root: the cluster then belongs to the postgres user
as_pg=()
[ "$(id -u)" -eq 0 ] && as_pg=(runuser -u postgres --)
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	[ -f "$pgdata/postmaster.pid" ] && "${as_pg[@]}" "$pgbin/pg_ctl" -D "$pgdata" -m immediate stop >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
export XDG_STATE_HOME=$tmp/state

# Scope Ledger, as run.sh starts it
. "$here/instance.sh"
bench_init "$scoped" "$tmp/live" bench.example/peer
bench_serve "$scoped" "$tmp/live" "$tmp/scoped.log"
pid=$bench_pid
profile=$tmp/live/clients/admin.conf

# the peer's cluster
mkdir -m 700 "$pgdata"
[ ${#as_pg[@]} -gt 0 ] && chown postgres: "$pgdata"
pguser=$(${as_pg[@]+"${as_pg[@]}"} id -un)
"${as_pg[@]}" "$pgbin/initdb" -D "$pgdata" -U "$pguser" -A reject --no-sync >/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
	-keyout "$pgdata/server.key" -out "$pgdata/server.crt" 2>/dev/null
chmod 600 "$pgdata/server.key"
[ ${#as_pg[@]} -gt 0 ] && chown postgres: "$pgdata/server.key" "$pgdata/server.crt"
pgport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >> "$pgdata/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $pgport
unix_socket_directories = ''
ssl = on
synchronous_commit = on
fsync = on
max_connections = 100
CONF
# TLS connections from 127.0.0.1 only: a throwaway cluster nobody else reaches
printf 'hostssl all all 127.0.0.1/32 trust\n' > "$pgdata/pg_hba.conf"
"${as_pg[@]}" "$pgbin/pg_ctl" -D "$pgdata" -l "$pgdata/server.log" -w start >/dev/null
export PGHOST=127.0.0.1 PGPORT=$pgport PGUSER=$pguser PGDATABASE=postgres PGSSLMODE=require
"$pgbin/psql" -q -v ON_ERROR_STOP=1 -f "$here/peer.sql"

scope_rate() {
	"$bench" append --config "$profile" --connections 64 --pipeline 32 --duration "$secs" \
		--size 256 --json 2>/dev/null | sed -n 's/.*"entries_per_s":\([0-9.]*\).*/\1/p'
}
# pgbench's rate after its 64 TLS handshakes ("without initial connection time")
peer_rate() {
	"$pgbin/pgbench" -n -c 64 -j 2 -T "$secs" -f "$here/peer-insert.sql" 2>/dev/null |
		sed -n 's/^tps = \([0-9.]*\) .*/\1/p'
}

# the storage ceiling: raw LMDB, 256 durable appends per transaction, no
# network, in a fresh directory each run (on the same file system as the others)
ceiling_rate() {
	rm -rf "$tmp/ceiling"
	"$bench" ceiling --dir "$tmp/ceiling" --duration "$secs" --batch 256 --size 256 --json 2>/dev/null |
		sed -n 's/.*"entries_per_s":\([0-9.]*\).*/\1/p'
	rm -rf "$tmp/ceiling"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "-"; else printf "%.3g", a / b }'; }
median() { grep -v '^-$' | sort -g | awk '{ v[NR] = $1 } END { if (NR) printf "%.3g", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; else print "-" }'; }

echo "machine: $(nproc) cores, $(sed -n 's/^model name\t: //p' /proc/cpuinfo | head -1); the load generators on the same machine"
echo "durable 256-byte notes, ${secs}s per run: scope-bench 64 conn x 32 over mutual TLS; pgbench 64 clients over TLS, $("$pgbin/postgres" --version); raw LMDB, 256 appends per durable transaction, no network"
printf '%-6s %14s %14s %14s %12s %14s\n' round "scope entries/s" "peer rows/s" "ceiling /s" scope/peer scope/ceiling
peer_ratios=() ceil_ratios=()
for r in $(seq 1 "$rounds"); do
	# the order turns each round, so no one always runs first or last
	for k in 0 1 2; do
		case $(((r + k) % 3)) in
		0) s=$(scope_rate) ;;
		1) p=$(peer_rate) ;;
		2) c=$(ceiling_rate) ;;
		esac
	done
	rp=$(ratio "$s" "$p")
	rc=$(ratio "$s" "$c")
	peer_ratios+=("$rp")
	ceil_ratios+=("$rc")
	printf '%-6s %14.0f %14.0f %14.0f %12s %14s\n' "$r" "${s:-0}" "${p:-0}" "${c:-0}" "$rp" "$rc"
done
echo "median scope/peer: $(printf '%s\n' "${peer_ratios[@]}" | median)"
echo "median scope/ceiling: $(printf '%s\n' "${ceil_ratios[@]}" | median)"

# the peer did the same work honestly: every row chained onto the one before
read -r rows broken < <("$pgbin/psql" -qAtF ' ' -v ON_ERROR_STOP=1 -f "$here/peer-verify.sql")
echo "peer chain: $rows rows, $broken not chained"
[ "$broken" = 0 ] && [ "$rows" -gt 0 ]
