# Sourced by the benchmark scripts: a throwaway Scope Ledger instance.
#   bench_init SCOPED DIR ORIGIN   makes one in DIR (scoped init); every load
#       generator connects from 127.0.0.1 with many handshakes at once, so it
#       raises max_handshakes and max_handshakes_per_address to 2048 (with the
#       defaults, 512 and 32, the daemon drops the oldest handshakes of that
#       one address, as it would a flood)
#   bench_serve SCOPED DIR LOG     starts SCOPED on DIR on a free loopback port,
#       logging to LOG; sets bench_pid and bench_port, and points DIR's admin and
#       auditor profiles at that port; prints LOG and fails if it never gets ready
#   bench_log_port LOG WHAT        waits (up to 10 s) for the line "WHAT on
#       127.0.0.1:PORT" a daemon logs to LOG and prints PORT; prints LOG and
#       fails if it never comes

bench_init() {
	"$1" init "$2" --origin "$3" >/dev/null
	printf 'max_handshakes = 2048\nmax_handshakes_per_address = 2048\n' >> "$2/scoped.conf"
}

bench_log_port() {
	local port
	for _ in $(seq 1 200); do
		port=$(sed -n "s/.*$2 on 127\.0\.0\.1:\([0-9]*\).*/\1/p" "$1")
		if [ -n "$port" ]; then
			echo "$port"
			return 0
		fi
		sleep 0.05
	done
	cat "$1" >&2
	return 1
}

bench_serve() {
	: > "$3"
	"$1" -c "$2/scoped.conf" --listen 127.0.0.1:0 2>>"$3" &
	bench_pid=$!
	bench_port=$(bench_log_port "$3" ready) || return 1
	sed -i "s/^server = .*/server = 127.0.0.1:$bench_port/" "$2/clients/admin.conf" "$2/clients/auditor.conf"
}
