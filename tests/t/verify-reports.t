#!/usr/bin/env bash
# Status and reports checked without trusting the server (--verify): on an
# honest daemon each is re-derived from the proven entries and found equal,
# for an identity that reads the whole log and for one granted two
# projects; under a writer they never cry wolf.  Then the derived state is
# edited in data.mdb with the daemon stopped (a change's state, an approved
# amount, the contract amount): plain status and reports show the lie,
# --verify exits 1 naming each field with both values, and a report the
# edits do not touch still verifies.
set -u
. "$(dirname "$0")/lib.sh"

inst=$tmp/inst
"$SCOPED" init "$inst" --origin test.example/verify --client-project pr-site --client-project pr-app >/dev/null || { echo "Bail out! init"; exit 1; }
# finance sees two of the three projects: it cannot read the whole log
sed -i 's/^cn:finance .*/cn:finance finance pr-site,pr-app/' "$inst/roles.conf"
start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }
echo "From: D PM -- approved" > "$tmp/ok.eml"

# the worked case: pr-site (8 entries), pr-app (6), pr-other (2)
site() {
	ctl "$inst" lead project create pr-site --client "C Corp" --title "PR web site" --currency JPY --amount 3000000 --type fixed &&
	ctl "$inst" client change raise -p pr-site "Redesign along site B" --by "C manager" --via meeting --reason client_request &&
	ctl "$inst" approver change assess -p pr-site CR-1 --class out_of_scope --rationale "the definition names site A" &&
	ctl "$inst" lead change quote -p pr-site CR-1 --fee 1500000 --effort-hours 120 &&
	ctl "$inst" client respond -p pr-site --change CR-1 --quote 1 --decision rejected --reason "expected it free" \
		--by "C manager" --via email &&
	ctl "$inst" lead change raise -p pr-site "Minor design revision" --by "V PM" --via email --reason vendor_proposal &&
	ctl "$inst" approver change assess -p pr-site CR-2 --class minor_revision --rationale "in the contract" &&
	ctl "$inst" lead respond -p pr-site --change CR-2 --decision approved --by "C manager" --via phone
}
app() {
	ctl "$inst" lead project create pr-app --client "D Inc" --title App --currency USD --amount 100000.00 --type tm &&
	ctl "$inst" lead change raise -p pr-app "CSV export" --by "D PM" --via phone --reason client_request --proceeding &&
	ctl "$inst" approver change assess -p pr-app CR-1 --class out_of_scope --rationale "new feature" &&
	ctl "$inst" lead change quote -p pr-app CR-1 --fee 5000.00 --effort-hours 40 &&
	ctl "$inst" client respond -p pr-app --change CR-1 --quote 1 --decision approved --by "D PM" --via email \
		--evidence "$tmp/ok.eml" &&
	ctl "$inst" finance invoice -p pr-app INV-1 --change CR-1=2000.00 &&
	ctl "$inst" lead project create pr-other --client E --title Other --currency JPY --amount 10 &&
	ctl "$inst" lead change raise -p pr-other "More pages" --by E --via email --reason client_request
}
ok "pr-site: a change quoted and rejected, a minor revision approved by phone" site
ok "pr-app: a change proceeding, approved and invoiced in part; pr-other: a change raised" app
ctl "$inst" auditor checkpoint > "$tmp/cp" 2>&1
size=$(sed -n 2p "$tmp/cp")
is "the log holds the 16 entries" "$size" 16

# honest: every answer re-derived and equal
ok "status pr-site as usual" ctl "$inst" auditor status pr-site
cp "$tmp/out" "$tmp/plain"
ok "status pr-site --verify" ctl "$inst" auditor status pr-site --verify
is "  prints the same status" "$(cmp -s "$tmp/plain" "$tmp/out" && echo same)" same
has "  and says it was re-derived from the project's 8 entries, the whole log read" "$tmp/err" \
	"re-derived from 8 proven entries up to checkpoint size 16 (the whole log read: no entry left out)"
ok "status pr-site --verify --json" ctl "$inst" auditor status pr-site --verify --json
has "  says so in the JSON" "$tmp/out" '"verified":{"entries":8,"checkpoint_size":16,"whole_log":true}'
has "  beside the status" "$tmp/out" '"contract_minor":3000000'
ok "status pr-app --verify" ctl "$inst" lead status pr-app --verify
ok "report unbilled --verify (the whole log)" ctl "$inst" auditor report unbilled --verify --json
has "  the unbilled 3000.00 of pr-app" "$tmp/out" '"unbilled_minor":300000'
has "  counted to the server's time" "$tmp/out" '"as_of_us":'
has "  from all 16 entries" "$tmp/out" '"verified":{"entries":16,"checkpoint_size":16,"whole_log":true}'
ok "report exposure --verify (the whole log)" ctl "$inst" auditor report exposure --verify
has "  lists pr-other's change" "$tmp/out" "pr-other     CR-1    raised"
ok "finance: report unbilled as usual" ctl "$inst" finance report unbilled
cp "$tmp/out" "$tmp/plain"
ok "finance: report unbilled --verify across its two projects" ctl "$inst" finance report unbilled --verify
is "  prints the same report" "$(cmp -s "$tmp/plain" "$tmp/out" && echo same)" same
has "  re-derived from the 14 entries of pr-site and pr-app, each listing proven" "$tmp/err" \
	"re-derived from 14 proven entries up to checkpoint size 16 (each project's listing proven"
ok "finance: report exposure --verify --json" ctl "$inst" finance report exposure --verify --json
has "  without pr-other" "$tmp/out" '"verified":{"entries":14,"checkpoint_size":16,"whole_log":false}'
ok "finance: report exposure --project pr-app --verify" ctl "$inst" finance report exposure --project pr-app --verify
has "  from pr-app's 6 entries" "$tmp/err" "re-derived from 6 proven entries"
exits 2 "history takes no --verify" ctl "$inst" auditor history pr-site --verify

# a busy ledger is not a lying one: answers read while the log grows are
# asked again, or the command gives up with exit 3, never exit 1
(for i in 1 2 3 4 5 6 7 8 9 10; do
	ctl "$inst" lead change raise -p pr-other "busy $i" --by E --via email --reason client_request >/dev/null 2>&1
done) &
writer=$!
busy=ok
for i in 1 2 3; do
	ctl "$inst" auditor report exposure --verify >/dev/null 2>"$tmp/busy.err"
	rc=$?
	[ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || { busy="exit $rc: $(cat "$tmp/busy.err")"; }
done
wait "$writer"
is "report exposure --verify under a writer: exit 0 or 3, no false lie" "$busy" ok
stop_daemon

# the derived state lied about behind the daemon's back (msgpack records:
# "status", "approved" and "amount"; the entries' bodies use other names)
perl -0777 -pi -e 's/\xa6status\xa8rejected/\xa6status\xa8approved/g;
	s/\xa8approved\xce\x00\x07\xa1\x20/\xa8approved\xce\x00\x0d\xbb\xa0/g;
	s/\xa6amount\xce\x00\x2d\xc6\xc0/\xa6amount\xce\x00\x3d\x09\x00/g' "$inst/data/data.mdb"
start_daemon "$inst" || { echo "Bail out! no restart"; exit 1; }
ok "plain status pr-site believes the server" ctl "$inst" auditor status pr-site
has "  a contract amount of 4000000" "$tmp/out" "contract amount            4000000 JPY"
has "  CR-1 approved" "$tmp/out" "CR-1    approved"
exits 1 "status pr-site --verify catches it" ctl "$inst" auditor status pr-site --verify
has "  naming the contract amount with both values" "$tmp/err" "contract_minor: server 4000000, re-derived 3000000"
has "  and the change's state" "$tmp/err" 'changes[0].status: server "approved", re-derived "rejected"'
has "  and the count by state" "$tmp/err" "by_state.rejected: server (none), re-derived 1"
is "  printing no status" "$(wc -c < "$tmp/out")" 0
exits 1 "status pr-site --verify --json" ctl "$inst" auditor status pr-site --verify --json
has "  gives the differences as JSON" "$tmp/out" '{"path":"contract_minor","server":4000000,"rederived":3000000}'
exits 1 "status pr-app --verify catches the approved amount" ctl "$inst" lead status pr-app --verify
has "  naming it" "$tmp/err" "changes[0].approved_minor: server 900000, re-derived 500000"
ok "plain report unbilled shows 7000.00 unbilled" ctl "$inst" finance report unbilled
has "  for pr-app" "$tmp/out" "7000.00"
exits 1 "finance: report unbilled --verify catches it" ctl "$inst" finance report unbilled --verify
has "  the row's approved amount" "$tmp/err" "rows[0].approved_minor: server 900000, re-derived 500000"
has "  and the total" "$tmp/err" "totals[0].unbilled_minor: server 700000, re-derived 300000"
exits 1 "so does the auditor's, over the whole log" ctl "$inst" auditor report unbilled --verify
ok "report exposure, which the edits do not touch, still verifies" ctl "$inst" auditor report exposure --verify
stop_daemon
finish
