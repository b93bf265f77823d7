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
flip() {	# flip FILE OFFSET: changes one byte, whatever it held
	local b; b=$(dd if="$1" bs=1 skip="$2" count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
	printf "$(printf '\\%03o' $(( (b + 1) % 256 )))" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
pipe_out() {	# pipe_out DESCRIPTION COMMAND...: COMMAND writes to the named pipe $tmp/pipe
	# (as to /dev/null): passes if it exits 0 and the pipe is still a pipe, not
	# replaced by a file; what came through is in $tmp/pipe.got
	rm -f "$tmp/pipe" "$tmp/pipe.got"
	mkfifo "$tmp/pipe"
	timeout 20 cat "$tmp/pipe" > "$tmp/pipe.got" &
	local reader=$!
	ok "$1" "${@:2}"
	ok "  the pipe is still a pipe, not replaced by a file" test -p "$tmp/pipe"
	[ -p "$tmp/pipe" ] || kill "$reader" 2>/dev/null
	wait "$reader" 2>/dev/null || true
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
# status FILE: the HTTP status of the headers curl -D wrote to FILE.
status() { sed -n '1s/^HTTP\/[0-9.]* \([0-9]*\).*/\1/p' "$1"; }
# field FILE NAME: the value of the form's input NAME in the HTML page FILE.
field() { python3 - "$1" "$2" <<'PY'
import re, sys
html = open(sys.argv[1], encoding="utf-8").read()
for tag in re.findall(r"<input[^>]*>", html):
    if re.search(r'name="%s"' % re.escape(sys.argv[2]), tag):
        m = re.search(r'value="([^"]*)"', tag)
        print(m.group(1) if m else "")
        break
PY
}

ctl() {
	local inst=$1 role=$2; shift 2
	"$SCOPECTL" "$@" --config "$inst/clients/$role.conf" --server "127.0.0.1:$PORT"
}

# follow_primary DIR: scoped init DIR for a primary to follow, or a SKIP
# (and exit) when this scoped has no tiles listener.
follow_primary() {
	"$SCOPED" init "$1" --listen 127.0.0.1:0 >/dev/null 2>&1 || { echo "Bail out! init"; exit 1; }
	if ! "$SCOPED" config -c "$1/scoped.conf" 2>/dev/null | grep -q '^tiles_listen'; then
		echo "1..0 # SKIP scoped has no tiles listener to follow"
		exit 0
	fi
}
# need_cryptography: a SKIP (and exit) without python3-cryptography (the
# lying primaries and tampered cosignatures sign with it).
need_cryptography() {
	if ! /usr/bin/python3 -c 'import cryptography' 2>/dev/null; then
		echo "1..0 # SKIP python3-cryptography is not installed"
		exit 0
	fi
}

# follow_conf PRIMARY-DIR VERIFIER-KEY: a follower's scoped.conf (data_dir
# "data" beside it) for a primary `scoped init` made: its server
# certificate, and its auditor's to fetch the entry bundles.
follow_conf() {
	cat <<CONF
origin = ${2%%+*}
listen = 127.0.0.1:0
data_dir = data
tls_cert = $1/tls/server.crt
tls_key = $1/tls/server.key
tls_ca = $1/tls/ca.crt
roles = $1/roles.conf
follow_trust = $2
follow_cert = $1/clients/auditor.crt
follow_key = $1/clients/auditor.key
follow_ca = $1/tls/ca.crt
follow_interval_s = 1
CONF
}

# start_follower CONF URL LOG: `scoped follow` in the background, its
# stderr in LOG; sets FOLLOW_PID and FOLLOW_PORT once it is ready.
start_follower() {
	"$SCOPED" follow -c "$1" --from "$2" 2>"$3" &
	FOLLOW_PID=$! FOLLOW_PORT=
	for _ in $(seq 1 100); do
		FOLLOW_PORT=$(sed -n 's/.*ready on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$3" | head -n 1)
		[ -n "$FOLLOW_PORT" ] && return 0
		sleep 0.05
	done
	echo "# scoped follow did not start:"; sed 's/^/#   /' "$3"
	return 1
}

# follower_holds LOG SIZE: waits (polling, at most 30 s) until the
# follower's LOG says it holds the primary's checkpoint of SIZE.
follower_holds() {
	for _ in $(seq 1 300); do
		grep -q "checkpoint of size $2\$" "$1" && return 0
		sleep 0.1
	done
	sed 's/^/#   /' "$1" | tail -5
	return 1
}
