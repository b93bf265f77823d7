#!/usr/bin/env bash
# Corrections, billing and amendments together: corrections of the fields
# billing added (payment terms, the contract value against its invoiced
# lines, invoice dates, payment dates), quote corrections under tax and
# amendments, a payment recorded in error corrected to 0 so its invoice can
# be cancelled, payments not before their invoice's issue, history showing
# what each correction changed, projects showing corrected names, amounts
# in refusals in the currency's major unit, and a closed project refusing
# amendments and signatories.
set -u
. "$(dirname "$0")/lib.sh"

inst=$tmp/inst
"$SCOPED" init "$inst" --origin test.example/integrate >/dev/null || { echo "Bail out! init"; exit 1; }
for r in lead approver finance auditor admin client; do echo "cn:$r $r *"; done > "$inst/roles.conf"
start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }
seq_of() { sed -n 's/.* as entry \([0-9]*\) .*/\1/p' "$tmp/out"; }
rec() {	# rec ROLE ARGS...: records, prints the entry's seq
	ctl "$inst" "$@" >"$tmp/out" 2>"$tmp/err" || { echo "Bail out! $*"; cat "$tmp/err" >&2; exit 1; }
	seq_of
}
change() {	# change CR-N TITLE FEE TAX: raised, assessed out of scope and quoted; prints the quote's seq
	rec lead change raise -p pr-i "$2" --by "C PM" --via email --reason client_request >/dev/null
	rec approver change assess -p pr-i "$1" --class out_of_scope --rationale new >/dev/null
	rec lead change quote -p pr-i "$1" --fee "$3" --tax "$4" --effort-hours 8
}
approve() { ctl "$inst" lead respond -p pr-i --change "$1" --quote 1 --decision approved --by "${2:-C PM}" --via email; }

pr=$(rec lead project create pr-i --client "I Crop" --title "I sit" --currency EUR --amount 10000.00)
q1=$(change CR-1 "Extra page" 1000.00 100.00)
rec lead signatory add -p pr-i "C PM" --title "Project manager" >/dev/null
rec lead signatory add -p pr-i "C buyer" --title "Purchasing" --limit 600.00 >/dev/null

# ---- amounts in refusals: the currency's major unit ----
exits 4 "an approval beyond a signatory's limit is refused" approve CR-1 "C buyer"
has "  naming the limit and the total in EUR" "$tmp/err" \
	"C buyer may approve up to 600.00 EUR (their limit on the signatory register); the quote of CR-1 totals 1100.00 EUR"
ok "C PM approves CR-1" approve CR-1

# ---- corrections of the project's new fields ----
rec finance invoice -p pr-i INV-1 --contract 2000.00 --issued 2025-01-10 >/dev/null
inv1=$(seq_of)
exits 4 "a contract value below what its lines invoiced is refused" \
	ctl "$inst" lead correct -p pr-i "$pr" --reason x --set amount_minor=150000
has "  naming both" "$tmp/err" "a contract value of 1500.00 EUR would be below the 2000.00 EUR of it already invoiced"
fixv=$(rec lead correct -p pr-i "$pr" --reason "signed value" --set amount_minor=200000)	# the contract value, to what is invoiced
fixn=$(rec lead correct -p pr-i "$pr" --reason typos --set client="I Corp" --set title="I site")
ok "projects" ctl "$inst" lead projects --json
has "  shows the corrected client and title" "$tmp/out" '"project":"pr-i","client":"I Corp","title":"I site"'
exits 4 "payment terms beyond 3650 days are refused" ctl "$inst" lead correct -p pr-i "$pr" --reason x --set payment_days=3651
has "  naming the field" "$tmp/err" "set.payment_days"
fixd=$(rec lead correct -p pr-i "$pr" --reason "agreed terms" --set payment_days=60)
ok "  status" ctl "$inst" lead status pr-i --json
has "  shows them" "$tmp/out" '"payment_days":60'
ok "an invoice after it falls due by the new terms" ctl "$inst" finance invoice -p pr-i INV-2 --change CR-1=100.00 --issued 2025-02-01 --json
has "  60 days after issue" "$tmp/out" '"due":"2025-04-02"'

# ---- corrections of an invoice's dates ----
exits 4 "a due date before the issue date is refused" ctl "$inst" finance correct -p pr-i "$inv1" --reason x --set due=2025-01-09
has "  naming both" "$tmp/err" "invoice INV-1: the due date 2025-01-09 would be before the issue date 2025-01-10"
exits 4 "an issue date in the future is refused" ctl "$inst" finance correct -p pr-i "$inv1" --reason x --set issued=2099-01-01
has "  naming it" "$tmp/err" "the issue date 2099-01-01 lies in the future"
ok "finance corrects INV-1's dates" ctl "$inst" finance correct -p pr-i "$inv1" --reason "as sent" --set issued=2025-01-05 --set due=2025-01-20
ok "report receivables" ctl "$inst" finance report receivables --as-of 2025-06-30 --csv
has "  follows the corrected dates" "$tmp/out" "pr-i,INV-1,EUR,2025-01-05,2025-01-20,"
ok "  --verify agrees" ctl "$inst" auditor report receivables --as-of 2025-06-30 --verify

# ---- payment dates ----
exits 4 "a payment before its invoice's issue date is refused" ctl "$inst" finance payment -p pr-i INV-1 --amount 1.00 --date 2025-01-04
has "  naming both dates" "$tmp/err" "the payment date 2025-01-04 is before invoice INV-1's issue date 2025-01-05"
pay=$(rec finance payment -p pr-i INV-1 --amount 2000.00 --date 2025-01-15)
exits 4 "a payment date corrected into the future is refused" ctl "$inst" finance correct -p pr-i "$pay" --reason x --set date=2099-01-01
has "  naming it" "$tmp/err" "the payment date 2099-01-01 lies in the future"
exits 4 "a payment date corrected before the issue is refused" ctl "$inst" finance correct -p pr-i "$pay" --reason x --set date=2025-01-01
has "  naming both dates" "$tmp/err" "the payment date 2025-01-01 is before invoice INV-1's issue date 2025-01-05"

# ---- a payment recorded in error ----
exits 4 "a paid invoice is not cancelled" ctl "$inst" finance invoice cancel -p pr-i INV-1 --reason x
has "  pointing to correcting the payment" "$tmp/err" "correct it: scopectl correct"
exits 4 "a new payment of 0 is still refused" ctl "$inst" finance payment -p pr-i INV-1 --amount 0 --date 2025-01-15
has "  naming the range" "$tmp/err" "payment.amount_minor: 0 is outside 1.."
ok "the payment is corrected to 0" ctl "$inst" finance correct -p pr-i "$pay" --reason "recorded in error" --set amount_minor=0
ok "then INV-1 is cancelled" ctl "$inst" finance invoice cancel -p pr-i INV-1 --reason "wrong amount"
ok "and the contract is invoiced again" ctl "$inst" finance invoice -p pr-i INV-3 --contract 2000.00 --issued 2025-01-05
ok "  status --verify agrees" ctl "$inst" auditor status pr-i --verify

# ---- quote corrections: while the quote is open, never once answered ----
exits 4 "the fee of approved CR-1 is not corrected" ctl "$inst" lead correct -p pr-i "$q1" --reason "agreed fee" --set fee_minor=120000
has "  naming the answer and the remedy" "$tmp/err" "quote revision 1 of CR-1 was answered (CR-1 is partly_invoiced): its fee, tax and validity are what the client answered and are not corrected; the remedy is a new quote revision (when one is asked for) or a new change"
exits 4 "  nor its tax" ctl "$inst" lead correct -p pr-i "$q1" --reason "no tax" --set tax_minor=0
exits 4 "  nor its validity" ctl "$inst" lead correct -p pr-i "$q1" --reason "longer" --set valid_until=2099-12-31
ok "  its effort still is" ctl "$inst" lead correct -p pr-i "$q1" --reason "as estimated" --set effort_hours=9
q2o=$(change CR-2 "Search" 500.00 50.00)
ok "an open quote's fee is corrected" ctl "$inst" lead correct -p pr-i "$q2o" --reason "the fee as sent" --set fee_minor=45000
ok "  and then approved" approve CR-2
ok "  status" ctl "$inst" lead status pr-i --json
has "  the approved total is the corrected fee and the tax" "$tmp/out" '"change":"CR-2","title":"Search","status":"approved","class":"out_of_scope","proceeding":false,"quote_revision":1,"fee_minor":45000,"fee":"450.00","tax_minor":5000,"tax":"50.00","total_minor":50000,"total":"500.00","approved_minor":50000'
rec finance invoice -p pr-i INV-4 --change CR-1=100.00:50.00 --issued 2025-02-01 >/dev/null

# ---- an assessment's class and amendments ----
q2=$(change CR-3 "Form" 300.00 30.00)
ok "CR-3 approved" approve CR-3
ok "AMD-1 holds CR-3" ctl "$inst" lead amendment -p pr-i --changes CR-3
exits 4 "while AMD-1 awaits its answer, CR-3's class is not corrected" ctl "$inst" approver correct -p pr-i "$((q2 - 1))" --reason x --set class=in_scope
has "  naming the amendment" "$tmp/err" "CR-3 is in AMD-1 (awaiting its answer): its class is not corrected while an amendment binds it"
ok "AMD-1 is rejected" ctl "$inst" client respond -p pr-i --amendment AMD-1 --decision rejected --by "C PM" --via email --reason "not yet"
ok "AMD-2 holds CR-3" ctl "$inst" lead amendment -p pr-i --changes CR-3
ok "AMD-2 is signed" ctl "$inst" client respond -p pr-i --amendment AMD-2 --decision approved --by "C PM" --via email
exits 4 "a change in a signed amendment is not reclassified" ctl "$inst" approver correct -p pr-i "$((q2 - 1))" --reason x --set class=in_scope
has "  naming it" "$tmp/err" "CR-3 is in AMD-2 (signed): its class is not corrected while an amendment binds it"

# ---- who answered, under a signatory register ----
exits 4 "a response's respondent is not corrected under a register" ctl "$inst" lead correct -p pr-i "$((q2 + 1))" --reason x --set respondent=Mallory
has "  naming the register" "$tmp/err" "project pr-i has a signatory register: who answered is checked against it"

# ---- closed: amendments and signatories are refused too ----
for inv in INV-2 INV-3 INV-4; do rec finance invoice cancel -p pr-i "$inv" --reason "closing" >/dev/null; done
ok "the lead closes the project" ctl "$inst" lead project close -p pr-i --reason done
exits 4 "a signatory is refused after closure" ctl "$inst" lead signatory add -p pr-i "C new" --title "Director"
has "  naming the closure" "$tmp/err" "project pr-i was closed by entry"
exits 4 "an amendment is refused after closure" ctl "$inst" lead amendment -p pr-i --changes CR-1
has "  naming the closure" "$tmp/err" "only corrections, notes and complaint cases are recorded in it now"

# ---- history: what each correction changed ----
ok "history" ctl "$inst" lead history pr-i
has "  the project entry is marked as corrected" "$tmp/out" "        corrected by #$fixv, #$fixn, #$fixd"
has "  a correction shows the old value and the new" "$tmp/out" "        amount_minor: 1000000 -> 200000"
has "  each field of it" "$tmp/out" '        client: "I Crop" -> "I Corp"'
has "  the payment corrected to 0" "$tmp/out" "        amount_minor: 200000 -> 0"
ok "history --json" ctl "$inst" lead history pr-i --json
has "  names the corrections" "$tmp/out" "\"corrected_by\":[$fixv,$fixn,$fixd]"
has "  and a correction the values before it" "$tmp/out" '"previous":{"client":"I Crop","title":"I sit"}'
ok "history --csv" ctl "$inst" lead history pr-i --csv
has "  has the columns" "$tmp/out" "seq,time_utc,kind,author,leaf,body,corrected_by,previous"
has "  names the corrections" "$tmp/out" ",$fixv $fixn $fixd,"
ok "history --change CR-2" ctl "$inst" lead history pr-i --change CR-2
has "  the quote corrected, old -> new" "$tmp/out" "        fee_minor: 50000 -> 45000"

stop_daemon
ok "scoped verify on the store after all of it" "$SCOPED" verify -c "$inst/scoped.conf"
finish
