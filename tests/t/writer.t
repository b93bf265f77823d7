#!/usr/bin/env bash
# The commit on the writer thread, end to end, with the test build's hooks
# (scoped-testclock): while the writer holds a batch
# after its commit (SCOPED_TEST_COMMIT_HOLD_MS), reads are answered at once
# and show the published state, not the batch the store already holds; the append is answered only after its
# commit.  A commit whose sync fails (SCOPED_TEST_COMMIT_FAIL_AT) gives the
# client the error and writes nothing, and the same request commits once in
# the next batch.  SIGTERM during a held commit answers it first.  Derived
# state is read at the published state too: while a change request's commit
# is held, status shows the project without it and `status --verify`
# (re-deriving it from the proven entries) agrees with the server; so does
# the portal, whose link shows unanswered until its answer is published.
set -u
. "$(dirname "$0")/lib.sh"
SCOPED=$(readlink -f "${SCOPED_TESTCLOCK:-$SCOPED}")

inst=$tmp/inst
"$SCOPED" init "$inst" --origin test.example/writer >/dev/null || { echo "Bail out! init failed"; exit 1; }
echo 'log_level = debug' >> "$inst/scoped.conf"	# each append logged
size_now() { ctl "$inst" auditor info --json | sed -n 's/.*"tree_size":\([0-9]*\).*/\1/p'; }
append() {	# append REQUEST-ID: one note, its reply in $tmp/append.REQUEST-ID
	ctl "$inst" lead append --project pr --kind note --request-id "$1" --body-json "{\"text\":\"$1\"}" \
		--json > "$tmp/append.$1" 2>&1
}

# ---- a failed sync: commit 2 fails (commit 1 creates the project) ----
export SCOPED_TEST_COMMIT_FAIL_AT=2
start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }
unset SCOPED_TEST_COMMIT_FAIL_AT
ctl "$inst" lead project create pr --client C --title T --currency JPY --amount 1 >/dev/null 2>&1 ||
	{ echo "Bail out! project"; exit 1; }
before=$(size_now)
exits 4 "an append whose commit fails is refused" append fail-1
has "  with the storage error" "$tmp/append.fail-1" "Input/output error"
is "  nothing is written" "$(size_now)" "$before"
has "  the daemon logs the failed commit" "$tmp/scoped.log" "failed, nothing written"
ok "the same request commits in the next batch" append fail-1
is "  once" "$(size_now)" "$((before + 1))"
ok "  and is a repeat when sent again" append fail-1
is "  still once" "$(size_now)" "$((before + 1))"
stop_daemon
is "scoped stops cleanly" "$?" 0

# ---- reads while the writer holds a commit ----
export SCOPED_TEST_COMMIT_HOLD_MS=3000
start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }
unset SCOPED_TEST_COMMIT_HOLD_MS
before=$(size_now)
ctl "$inst" auditor checkpoint > "$tmp/cp.before" 2>&1
t0=$(date +%s%N)
append held-1 &
apid=$!
sleep 0.5
ok "info is answered while the commit is held" ctl "$inst" auditor info --json
ok "  and get of a committed entry" ctl "$inst" auditor get 0
ok "  and status" ctl "$inst" lead status pr
ok "  and prove" ctl "$inst" auditor prove 0
ok "  the append is still waiting for its commit" kill -0 "$apid"
is "  reads show the published size" "$(size_now)" "$before"
ctl "$inst" auditor checkpoint > "$tmp/cp.during" 2>&1
ok "  and the published checkpoint" cmp "$tmp/cp.before" "$tmp/cp.during"
exits 4 "  the entry being written is not there yet" ctl "$inst" auditor get "$before"
wait "$apid"
is "the append is answered after the commit" "$?" 0
t1=$(date +%s%N)
ok "  no sooner than the hold" test $(( (t1 - t0) / 1000000 )) -ge 2900
has "  with its entry" "$tmp/append.held-1" "\"seq\":$before"
is "  which reads now show" "$(size_now)" "$((before + 1))"

# ---- derived state while the writer holds a batch that changes it ----
ctl "$inst" lead status pr --json > "$tmp/status.before" 2>&1
ctl "$inst" lead change raise -p pr "A held page" --by "C manager" --via email --reason client_request \
	> "$tmp/raise" 2>&1 &
apid=$!
sleep 0.5
ok "status is answered while a change request's commit is held" ctl "$inst" lead status pr --json
cp "$tmp/out" "$tmp/status.during"
ok "  showing the published state, not the held change" cmp "$tmp/status.before" "$tmp/status.during"
ok "  and status --verify re-derives the same" ctl "$inst" lead status pr --verify
ok "  the change request is still waiting for its commit" kill -0 "$apid"
wait "$apid"
is "the change request is answered after its commit" "$?" 0
ctl "$inst" lead status pr --json > "$tmp/status.after" 2>&1
has "  and then status shows it" "$tmp/status.after" '"by_state":{"raised":1}'
ok "  and status --verify still agrees" ctl "$inst" lead status pr --verify

# ---- SIGTERM during a held commit: committed and answered, then the
# daemon stops (the client's own follow-up reads then find it gone) ----
next=$(size_now)
append held-2 &
apid=$!
sleep 0.5
kill -TERM "$daemon_pid"
wait "$daemon_pid"
is "SIGTERM while a commit is held: scoped stops cleanly" "$?" 0
daemon_pid=
wait "$apid"
has "  after committing the held append" "$tmp/scoped.log" "appended entry $next (request held-2)"
start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }
is "  which is there after a restart" "$(size_now)" "$((next + 1))"
ok "  sent again, it is the same entry" append held-2
has "  (seq $next)" "$tmp/append.held-2" "\"seq\":$next"
ok "  the ledger verifies" ctl "$inst" auditor verify
# ---- the portal while the writer holds an answer's commit: the link is
# read at the published state, where it is not answered yet ----
if command -v curl >/dev/null; then
	stop_daemon
	for r in lead approver auditor admin client; do echo "cn:$r $r *"; done > "$inst/roles.conf"
	echo "portal_listen = 127.0.0.1:0" >> "$inst/scoped.conf"
	start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }
	ctl "$inst" lead change raise -p pr "A sixth page" --by "C manager" --via email --reason client_request >/dev/null &&
		ctl "$inst" approver change assess -p pr CR-2 --class out_of_scope --rationale "a new page" >/dev/null &&
		ctl "$inst" lead change quote -p pr CR-2 --fee 200000 --effort-hours 10 >/dev/null &&
		ctl "$inst" lead link create -p pr --change CR-2 --to Kimura > "$tmp/link" 2>&1 ||
		{ echo "Bail out! link"; cat "$tmp/link" >&2; exit 1; }
	url=$(grep '^https://' "$tmp/link")
	c() { curl -sk "$@"; }
	code() { sed -n '1s/^HTTP\/[0-9.]* \([0-9]*\).*/\1/p' "$1"; }
	field() { sed -n "s/.*name=\"$2\" value=\"\([0-9a-f]*\)\".*/\1/p" "$1" | head -n 1; }
	stop_daemon
	export SCOPED_TEST_COMMIT_HOLD_MS=3000
	start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }
	unset SCOPED_TEST_COMMIT_HOLD_MS
	PP=$(sed -n 's/.*portal listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/scoped.log" | tail -n 1)
	url="https://127.0.0.1:$PP/${url#https://*/}"
	base=${url%%/l/*}
	c -c "$tmp/jar" -o "$tmp/page.html" "$url"
	form="decision=approved&csrf=$(field "$tmp/page.html" csrf)&shown=$(field "$tmp/page.html" shown)"
	c -D "$tmp/hp" -o /dev/null -b "$tmp/jar" -H "Origin: $base" --data "$form" "$url" &
	cpid=$!
	sleep 1
	c -D "$tmp/hr" -o "$tmp/r.html" "$url/receipt"
	is "the receipt of an answer whose commit is held: nothing answered yet, not an error" "$(code "$tmp/hr")" 404
	c -o "$tmp/page2.html" "$url"
	has "  and the link's page still has the form" "$tmp/page2.html" 'name="csrf"'
	wait "$cpid"
	is "  the answer is 200 after its commit" "$(code "$tmp/hp")" 200
	c -D "$tmp/hr2" -o "$tmp/r.json" "$url/receipt"
	is "  and then the receipt downloads" "$(code "$tmp/hr2")" 200
fi
finish
