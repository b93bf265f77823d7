#!/usr/bin/env bash
# One daemon scenario under valgrind memcheck (and scopectl status --verify
# under memcheck too): start, serve appends, reads,
# proofs, reports, a verification and a backup over mutual TLS, reload on SIGHUP,
# refuse a bad frame, stop on SIGTERM.  No errors, and no memory definitely
# or indirectly lost.
set -u
. "$(dirname "$0")/lib.sh"
command -v valgrind >/dev/null || { echo "1..0 # SKIP valgrind is not installed"; exit 0; }
# a sanitizer build cannot run under valgrind
[ -n "${SKIP_VALGRIND:-}" ] && { echo "1..0 # SKIP in this build (SKIP_VALGRIND)"; exit 0; }

inst=$tmp/inst
"$SCOPED" init "$inst" --origin test.example/valgrind --client-project pr >/dev/null || { echo "Bail out! init"; exit 1; }
log=$tmp/scoped.log
valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
	--show-leak-kinds=definite,indirect "$SCOPED" -c "$inst/scoped.conf" --listen 127.0.0.1:0 2>"$log" &
daemon_pid=$!
for _ in $(seq 1 600); do
	PORT=$(sed -n 's/.*ready on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | tail -n 1)
	[ -n "$PORT" ] && break
	kill -0 "$daemon_pid" 2>/dev/null || break
	sleep 0.1
done
[ -n "$PORT" ] || { echo "Bail out! scoped did not start under valgrind"; sed 's/^/# /' "$log"; exit 1; }

ok "project" ctl "$inst" lead project create pr --client C --title T --currency EUR --amount 1000.00
ok "baseline" ctl "$inst" lead baseline add -p pr --item A=x
ok "change" ctl "$inst" client change raise -p pr "t" --by x --via email --reason defect
ok "assessment" ctl "$inst" approver change assess -p pr CR-1 --class out_of_scope --rationale x
ok "quote" ctl "$inst" lead change quote -p pr CR-1 --fee 10.00 --effort-hours 1
ok "approval" ctl "$inst" client respond -p pr --change CR-1 --quote 1 --decision approved --by x --via email
ok "invoice" ctl "$inst" finance invoice -p pr INV-1 --change CR-1=10.00
exits 4 "a refused append" ctl "$inst" auditor append --project pr --kind note --body-json '{"text":"x"}'
ok "status" ctl "$inst" lead status pr
ok "report" ctl "$inst" finance report unbilled
ok "history" ctl "$inst" auditor history pr
ok "proof" ctl "$inst" auditor prove 2 --size 4
ok "consistency" ctl "$inst" auditor consistency 2
ok "verify" ctl "$inst" auditor verify
ok "backup (a copy on its own thread)" ctl "$inst" auditor backup -o "$tmp/backup.mdb"
ok "info with the operator counters" ctl "$inst" auditor info --json
# the client under memcheck too: status --verify lists every entry through the
# pages window, whose answers once copied an error code only a refusal sets
clog=$tmp/scopectl.log
VALGRIND_CLIENT="valgrind --error-exitcode=99 --log-file=$clog"
$VALGRIND_CLIENT "$SCOPECTL" status pr --verify --config "$inst/clients/auditor.conf" \
	--server "127.0.0.1:$PORT" >/dev/null 2>&1
is "scopectl status --verify exits 0 under memcheck (99 would mean errors)" "$?" 0
has "scopectl: no memory errors" "$clog" "ERROR SUMMARY: 0 errors"
kill -HUP "$daemon_pid"; sleep 1
ok "after SIGHUP" ctl "$inst" auditor info
exec 3<>"/dev/tcp/127.0.0.1/$PORT" && printf 'not tls' >&3 && exec 3>&-
kill -TERM "$daemon_pid"
wait "$daemon_pid"; rc=$?
daemon_pid=
is "scoped exits 0 under valgrind (99 would mean errors or leaks)" "$rc" 0
has "no memory errors" "$log" "ERROR SUMMARY: 0 errors"
n=$((n + 1))
if grep -qE "definitely lost: [1-9]|indirectly lost: [1-9]" "$log"; then
	failed=$((failed + 1)); echo "not ok $n - no leaks"; grep -E "lost:" "$log" | sed 's/^/#   /'
else echo "ok $n - nothing definitely or indirectly lost"; fi
finish
