#!/usr/bin/env bash
# Scope Ledger beside a PostgreSQL peer doing the same work, in one run on this
# machine: durable appends of 256-byte notes to a hash chain, over TLS.
#   BENCH_ROUNDS   rounds (default 3); each runs both, in alternating order
#   BENCH_SECONDS  seconds per run (default 5)
#   SMOKE=1        1 round of 1 s, and a clean skip when PostgreSQL is missing
# Scope Ledger: a real scoped, scope-bench with 64 connections x 32 in flight.
# The peer: Debian's PostgreSQL in a throwaway cluster (127.0.0.1 only, a free
# port, TLS with a throwaway certificate, synchronous_commit = on), the
# hash-chained table and trigger of peer.sql, pgbench with 64 clients over TLS
# running peer-insert.sql.  Prints both rates and their ratio per round, the
# median ratio, and then checks that the peer's chain is intact (peer-verify.sql).
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
"$scoped" init "$tmp/live" --origin bench.example/peer >/dev/null
printf 'max_handshakes = 2048\nmax_handshakes_per_address = 2048\n' >> "$tmp/live/scoped.conf"
"$scoped" -c "$tmp/live/scoped.conf" --listen 127.0.0.1:0 2>"$tmp/scoped.log" &
pid=$!
port=
for _ in $(seq 1 100); do
	port=$(sed -n 's/.*ready on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/scoped.log")
	[ -n "$port" ] && break
	sleep 0.05
done
[ -n "$port" ] || { cat "$tmp/scoped.log"; exit 1; }
profile=$tmp/live/clients/admin.conf
sed -i "s/^server = .*/server = 127.0.0.1:$port/" "$profile"

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

echo "machine: $(nproc) cores, $(sed -n 's/^model name\t: //p' /proc/cpuinfo | head -1); the load generators on the same machine"
echo "durable 256-byte notes, ${secs}s per run: scope-bench 64 conn x 32 over mutual TLS; pgbench 64 clients over TLS, $("$pgbin/postgres" --version)"
printf '%-6s %14s %14s %8s\n' round "scope entries/s" "peer rows/s" ratio
ratios=()
for r in $(seq 1 "$rounds"); do
	if [ $((r % 2)) -eq 1 ]; then s=$(scope_rate); p=$(peer_rate)
	else p=$(peer_rate); s=$(scope_rate); fi
	ratio=$(awk -v s="$s" -v p="$p" 'BEGIN { if (s == "" || p == "" || p == 0) print "-"; else printf "%.1f", s / p }')
	ratios+=("$ratio")
	printf '%-6s %14.0f %14.0f %8s\n' "$r" "${s:-0}" "${p:-0}" "$ratio"
done
printf '%s\n' "${ratios[@]}" | grep -v '^-$' | sort -g |
	awk '{ v[NR] = $1 } END { if (NR) printf "median ratio: %.1f\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'

# the peer did the same work honestly: every row chained onto the one before
read -r rows broken < <("$pgbin/psql" -qAtF ' ' -v ON_ERROR_STOP=1 -f "$here/peer-verify.sql")
echo "peer chain: $rows rows, $broken not chained"
[ "$broken" = 0 ] && [ "$rows" -gt 0 ]
