#!/usr/bin/env bash
# ThreadSanitizer run of the daemon: builds the tree with -DSCOPE_TSAN=ON
# (clang) in build-tsan, runs scoped under scope-bench load (several
# pipelined connections) with concurrent reads (info, get, prove, status,
# checkpoint) and a SIGHUP reload, stops it with SIGTERM while appends are
# in flight, then runs the tests nearest the commit path with the same
# build.  Fails on any TSan report (halt_on_error, exit code 66).
#   TSAN_SECONDS  seconds of load (default 10)
#   BUILD_DIR     where to build (default build-tsan)
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${BUILD_DIR:-$top/build-tsan}
. "$top/tests/bench/instance.sh"
secs=${TSAN_SECONDS:-10}
cmake -S "$top" -B "$bin" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DSCOPE_TSAN=ON \
	-DSCOPE_WERROR=ON >/dev/null
cmake --build "$bin" -j"$(nproc)" --target scoped scopectl scope-bench scoped-testclock test_commit \
	test_ledger >/dev/null
tmp=$(mktemp -d "${TMPDIR:-/tmp}/scope-tsan-XXXXXX")
# every report of every process goes to $tmp/report.PID, also from the
# daemons the tests start and kill
export TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1 log_path=$tmp/report ${TSAN_OPTIONS:-}"
reports() {	# fails, printing them, if there is any report
	if ls "$tmp"/report.* >/dev/null 2>&1; then
		head -80 "$tmp"/report.*
		echo "tsan: ThreadSanitizer reported the above" >&2
		exit 1
	fi
}
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
export XDG_STATE_HOME=$tmp/state
scoped=$bin/daemon/scoped scopectl=$bin/client/scopectl

"$scoped" init "$tmp/inst" --origin tsan.example/live >/dev/null
printf 'max_handshakes = 2048\nmax_handshakes_per_address = 2048\n' >> "$tmp/inst/scoped.conf"
"$scoped" -c "$tmp/inst/scoped.conf" --listen 127.0.0.1:0 2>"$tmp/scoped.log" &
pid=$!
port=$(bench_log_port "$tmp/scoped.log" ready)
for c in "$tmp"/inst/clients/*.conf; do sed -i "s/^server = .*/server = 127.0.0.1:$port/" "$c"; done
ctl() { "$scopectl" --config "$tmp/inst/clients/$1.conf" "${@:2}"; }
ctl lead project create pr --client C --title T --currency JPY --amount 1 >/dev/null

"$bin/tests/bench/scope-bench" append --config "$tmp/inst/clients/admin.conf" --connections 16 --pipeline 32 \
	--duration "$secs" --size 256 > "$tmp/load.out" 2>&1 &
load=$!
reads=0 rounds=0
end=$(( $(date +%s) + secs ))
while [ "$(date +%s)" -lt "$end" ]; do
	# a reload in the first round and every tenth (a round takes about a
	# second under ThreadSanitizer)
	[ $((rounds % 10)) -eq 0 ] && kill -HUP "$pid"
	rounds=$((rounds + 1))
	ctl auditor info --json >/dev/null
	ctl auditor get 0 >/dev/null
	ctl auditor prove 0 >/dev/null
	ctl auditor checkpoint >/dev/null
	ctl lead status pr >/dev/null
	ctl lead append --project pr --kind note --body-json '{"text":"tsan"}' >/dev/null
	reads=$((reads + 5))
done
wait "$load"
cat "$tmp/load.out"
reloads=$(grep -c 'SIGHUP: reloaded' "$tmp/scoped.log" || true)
[ "$reloads" -gt 0 ] || { tail -20 "$tmp/scoped.log"; echo "tsan: no reload happened during the load" >&2; exit 1; }
# SIGTERM with appends in flight: drained, answered, then a clean exit
"$bin/tests/bench/scope-bench" append --config "$tmp/inst/clients/admin.conf" --connections 8 --pipeline 32 \
	--duration 3 > /dev/null 2>&1 &
load=$!
sleep 1
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=
wait "$load" || true
reports
[ "$rc" -eq 0 ] || { tail -20 "$tmp/scoped.log"; echo "tsan: scoped exited $rc" >&2; exit 1; }
echo "tsan: scoped under load: $reads reads and $reloads reloads during it, no report"

# the tests nearest the commit path, in the same build
for t in test_commit test_ledger; do
	"$bin/tests/$t" > "$tmp/t.out" 2>&1 || { cat "$tmp/t.out"; reports; exit 1; }
done
for t in writer crash daemon; do
	SCOPED=$scoped SCOPECTL=$scopectl SCOPED_TESTCLOCK=$bin/tests/scoped-testclock CRASH_CYCLES=5 \
		bash "$top/tests/t/$t.t" > "$tmp/t.out" 2>&1 || { cat "$tmp/t.out"; reports; exit 1; }
	reports
done
echo "tsan: test_commit, test_ledger, t/writer.t, t/crash.t (5 cycles), t/daemon.t: no report"
