# Shared helpers for the TAP shell tests: assertions, and a real scoped on
# a free loopback port.
here=$(cd "$(dirname "$0")" && pwd)
SCOPED=$(readlink -f "${SCOPED:-$here/../../build/daemon/scoped}")
SCOPECTL=$(readlink -f "${SCOPECTL:-$here/../../build/client/scopectl}")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/scope-t-XXXXXX")
export XDG_STATE_HOME=$tmp/state
n=0 failed=0 daemon_pid=
cleanup() {
	[ -n "$daemon_pid" ] && kill -9 "$daemon_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

ok() {	# ok DESCRIPTION COMMAND...: passes if the command exits 0
	local desc=$1; shift
	n=$((n + 1))
	if "$@" >"$tmp/out" 2>"$tmp/err"; then echo "ok $n - $desc"
	else failed=$((failed + 1)); echo "not ok $n - $desc"; sed 's/^/#   /' "$tmp/err" "$tmp/out" | head -20; fi
}
exits() {	# exits CODE DESCRIPTION COMMAND...: passes if the command exits CODE
	local want=$1 desc=$2; shift 2
	n=$((n + 1))
	"$@" >"$tmp/out" 2>"$tmp/err"; local got=$?
	if [ "$got" -eq "$want" ]; then echo "ok $n - $desc"
	else failed=$((failed + 1)); echo "not ok $n - $desc (exit $got, want $want)"; sed 's/^/#   /' "$tmp/err" "$tmp/out" | head -20; fi
}
has() {	# has DESCRIPTION FILE TEXT: FILE contains TEXT
	n=$((n + 1))
	if grep -qF -- "$3" "$2"; then echo "ok $n - $1"
	else failed=$((failed + 1)); echo "not ok $n - $1"; echo "#   '$3' not in:"; sed 's/^/#   /' "$2" | head -10; fi
}
is() {	# is DESCRIPTION GOT WANT
	n=$((n + 1))
	if [ "$2" = "$3" ]; then echo "ok $n - $1"
	else failed=$((failed + 1)); echo "not ok $n - $1"; echo "#   got '$2', want '$3'"; fi
}
finish() {
	echo "1..$n"
	[ "$failed" -eq 0 ]
}

# start_daemon INSTANCE-DIR: runs scoped on a free port; sets PORT.
start_daemon() {
	local log=$tmp/scoped.log
	: > "$log"
	"$SCOPED" -c "$1/scoped.conf" --listen 127.0.0.1:0 2>>"$log" &
	daemon_pid=$!
	for _ in $(seq 1 100); do
		PORT=$(sed -n 's/.*ready on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | tail -n 1)
		[ -n "$PORT" ] && return 0
		kill -0 "$daemon_pid" 2>/dev/null || break
		sleep 0.05
	done
	echo "# scoped did not start:"; sed 's/^/#   /' "$log"
	return 1
}

# reload_daemon: SIGHUP to the daemon start_daemon started, then waits (up
# to 10 s) until it logs the reload's end, whether it applied or refused it.
reload_daemon() {
	local log=$tmp/scoped.log pat='SIGHUP: (reloaded|configuration not reloaded|out of memory)'
	local before
	before=$(grep -Ec "$pat" "$log")
	kill -HUP "$daemon_pid"
	for _ in $(seq 1 200); do
		[ "$(grep -Ec "$pat" "$log")" -gt "$before" ] && return 0
		sleep 0.05
	done
	return 1
}

# stop_daemon: SIGTERM, and the exit status of scoped.
stop_daemon() {
	kill -TERM "$daemon_pid"
	wait "$daemon_pid"
	local rc=$?
	daemon_pid=
	return $rc
}

# ctl INSTANCE ROLE ARGS...: scopectl as ROLE against the running daemon.
ctl() {
	local inst=$1 role=$2; shift 2
	"$SCOPECTL" "$@" --config "$inst/clients/$role.conf" --server "127.0.0.1:$PORT"
}
