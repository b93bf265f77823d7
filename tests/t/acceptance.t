#!/usr/bin/env bash
# Acceptance (検収): deliveries (DLV-N) with an inspection deadline of the
# project's acceptance_days, inspected once (passed, or failed with a
# reason that says what fails), and deemed passed by scoped itself when the
# deadline passes with no outcome: with the test build's clock running two
# days ahead (scoped-testclock), exactly once across a restart.  Report
# acceptance, status and --verify; scoped verify on the store.  A live
# daemon over TLS.
set -u
. "$(dirname "$0")/lib.sh"

inst=$tmp/inst
"$SCOPED" init "$inst" --origin test.example/accept >/dev/null || { echo "Bail out! init"; exit 1; }
for r in lead approver finance auditor admin; do echo "cn:$r $r *"; done > "$inst/roles.conf"
echo "cn:client client pr-a,pr-b" >> "$inst/roles.conf"
start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }
echo "release 1 notes" > "$tmp/rel.txt"
{
	ctl "$inst" lead project create pr-a --client "A Corp" --title "A site" --currency JPY --amount 3000000 --acceptance-days 1
	ctl "$inst" lead project create pr-b --client "A Corp" --title "B site" --currency JPY --amount 1000000
	ctl "$inst" lead baseline add -p pr-a --item "top=Top page" --item "news=News page"
} >/dev/null 2>"$tmp/err" || { echo "Bail out! setup"; cat "$tmp/err"; exit 1; }

# ---- deliveries ----
exits 4 "a delivery in a project without acceptance_days is refused" ctl "$inst" lead delivery -p pr-b --deliverable "B site"
has "  naming the fix" "$tmp/err" "--set acceptance_days=N"
seq=$(sed -n 's/.*scopectl correct -p pr-b \([0-9]*\) --set.*/\1/p' "$tmp/err")
ok "correct sets acceptance_days to 0" ctl "$inst" lead correct -p pr-b "$seq" --set acceptance_days=0 --reason "none"
exits 4 "  a delivery with 0 days to inspect is refused" ctl "$inst" lead delivery -p pr-b --deliverable "B site"
has "  saying why" "$tmp/err" "gives the client 0 days to inspect a delivery: it would be deemed passed at once"
ok "correct sets acceptance_days" ctl "$inst" lead correct -p pr-b "$seq" --set acceptance_days=1 --reason "inspection period of the contract"
ok "then the delivery is recorded" ctl "$inst" lead delivery -p pr-b --deliverable "B site"
exits 4 "only a lead records a delivery" ctl "$inst" client delivery -p pr-a --deliverable "Release 1"
ok "lead: delivery of release 1" ctl "$inst" lead delivery -p pr-a --deliverable "Release 1" --doc "$tmp/rel.txt" --items top,news
has "  numbered DLV-1" "$tmp/out" "DLV-1"
exits 4 "a delivery's items are in the baseline" ctl "$inst" lead delivery -p pr-a --deliverable "Release 2" --items nope
ok "delivery of release 2" ctl "$inst" lead delivery -p pr-a --deliverable "Release 2"
ok "delivery of release 3" ctl "$inst" lead delivery -p pr-a --deliverable "Release 3"

# ---- inspection ----
exits 4 "a failure without a specific reason is refused" ctl "$inst" client accept -p pr-a DLV-1 --outcome failed --reason "not good" --by "C manager"
has "  saying what is needed" "$tmp/err" "at least 30 characters that says specifically what fails"
exits 4 "an auditor cannot inspect" ctl "$inst" auditor accept -p pr-a DLV-1 --outcome passed --by "C manager"
exits 4 "an unknown delivery is refused" ctl "$inst" client accept -p pr-a DLV-9 --outcome passed --by "C manager"
has "  naming it" "$tmp/err" "DLV-9 does not exist in project pr-a"
ok "client: DLV-1 failed, saying what fails" ctl "$inst" client accept -p pr-a DLV-1 --outcome failed --by "C manager" --reason "the news page shows no entries older than a week"
exits 4 "a delivery is inspected once" ctl "$inst" client accept -p pr-a DLV-1 --outcome passed --by "C manager"
has "  naming its outcome" "$tmp/err" "DLV-1 already has its outcome (failed"
ok "lead records DLV-2 passed on the client's behalf" ctl "$inst" lead accept -p pr-a DLV-2 --outcome passed --by "C manager" --via phone
ok "status lists it as unconfirmed" ctl "$inst" auditor status pr-a --json
has "  one open inspection window (DLV-3)" "$tmp/out" '"open_inspection_windows":1'
exits 4 "a client cannot send a deemed_passed" ctl "$inst" client append --project pr-a --kind deemed_passed --body-json '{"delivery":"DLV-3","deadline_us":1}'
has "  saying who records it" "$tmp/err" "deemed_passed entries are recorded by scoped itself"
exits 4 "nor can an admin" ctl "$inst" admin append --project pr-a --kind deemed_passed --body-json '{"delivery":"DLV-3","deadline_us":1}'
exits 4 "the project is not closed while DLV-3 awaits its inspection" ctl "$inst" lead project close -p pr-a --reason done
has "  naming the delivery and its deadline" "$tmp/err" "DLV-3 awaits the client's inspection until 20"
ok "report acceptance --open" ctl "$inst" auditor report acceptance --project pr-a --open --csv
is "  only DLV-3 is open" "$(sed 1d "$tmp/out" | cut -d, -f2 | tr '\n' ' ')" "DLV-3 "
ok "report acceptance --verify agrees" ctl "$inst" auditor report acceptance --verify
has "  re-derived" "$tmp/err" "verified: re-derived"
stop_daemon >/dev/null

# ---- deemed acceptance: the test build's clock two days ahead ----
[ -x "${SCOPED_TESTCLOCK:-}" ] || { echo "Bail out! no scoped-testclock"; exit 1; }
SCOPED_REAL=$SCOPED
SCOPED=$SCOPED_TESTCLOCK
export SCOPED_TEST_CLOCK_OFFSET_S=$((2 * 86400))
start_daemon "$inst" || { echo "Bail out! no test-clock daemon"; exit 1; }
for _ in $(seq 1 100); do grep -q "deemed passed, entry" "$tmp/scoped.log" && [ "$(grep -c "deemed passed, entry" "$tmp/scoped.log")" -ge 2 ] && break; sleep 0.05; done
is "  at startup, DLV-3 of pr-a and DLV-1 of pr-b are deemed passed" "$(grep -c "deemed passed, entry" "$tmp/scoped.log")" 2
exits 4 "an accept after the deadline is refused" ctl "$inst" client accept -p pr-a DLV-3 --outcome failed --by "C manager" --reason "the news page shows no entries older than a week"
has "  naming the deemed entry" "$tmp/err" "DLV-3 was deemed passed by entry"
ok "history shows the daemon's entry" ctl "$inst" auditor history pr-a --json
has "  author scoped" "$tmp/out" '"author":"scoped"'
has "  kind deemed_passed" "$tmp/out" '"kind":"deemed_passed"'
stop_daemon >/dev/null
start_daemon "$inst" || { echo "Bail out! no test-clock daemon"; exit 1; }
ok "after a restart" ctl "$inst" auditor history pr-a --json
is "  still exactly one deemed_passed" "$(grep -o '"kind":"deemed_passed"' "$tmp/out" | wc -l)" 1
stop_daemon >/dev/null
unset SCOPED_TEST_CLOCK_OFFSET_S
SCOPED=$SCOPED_REAL

# ---- with the product daemon again: reports and verification ----
start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }
ok "report acceptance" ctl "$inst" auditor report acceptance --project pr-a --csv
has "  DLV-1 failed" "$tmp/out" "pr-a,DLV-1,"
has "  DLV-3 deemed passed" "$tmp/out" ",deemed_passed,"
ok "report acceptance (table)" ctl "$inst" auditor report acceptance
has "  totals" "$tmp/out" "0 open (0 past the deadline, awaiting the daemon), 1 passed, 1 failed, 2 deemed passed"
ok "report acceptance --verify agrees" ctl "$inst" auditor report acceptance --verify
ok "status --verify agrees" ctl "$inst" auditor status pr-a --verify
has "  no open inspection window" "$tmp/out" "open inspections    0"
stop_daemon
ok "scoped verify on the store" "$SCOPED" verify -c "$inst/scoped.conf"
finish
