#!/usr/bin/env bash
# Mistakes corrected, visibly: corrections (who may make them, what they
# change, what they may not), reassessment, invoice cancellation (a credit
# note) and project closure, with the reports and the client's
# re-derivation agreeing after them, and scoped verify on the store.
set -u
. "$(dirname "$0")/lib.sh"

inst=$tmp/inst
"$SCOPED" init "$inst" --origin test.example/correct >/dev/null || { echo "Bail out! init"; exit 1; }
for r in lead approver finance auditor admin client; do echo "cn:$r $r *"; done > "$inst/roles.conf"
start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }
seq_of() { sed -n 's/.* as entry \([0-9]*\) .*/\1/p' "$tmp/out"; }
rec() {	# rec ROLE ARGS...: records, prints the entry's seq
	ctl "$inst" "$@" >"$tmp/out" 2>"$tmp/err" || { echo "Bail out! $*"; cat "$tmp/err" >&2; exit 1; }
	seq_of
}
pr=$(rec lead project create pr-c --client "C Crop" --title "C site" --currency JPY --amount 3000000)
bl=$(rec lead baseline add -p pr-c --item R1="Five pages" --item R2="A form")
ch1=$(rec lead change raise -p pr-c "Sixth pag" --by "C manager" --via email --reason client_request)
rec lead change raise -p pr-c "Typo" --by "C manager" --via email --reason defect >/dev/null
as1=$(rec approver change assess -p pr-c CR-1 --class out_of_scope --rationale "a new page")
as2=$(rec approver change assess -p pr-c CR-2 --class out_of_scope --rationale "looks new")
q1=$(rec lead change quote -p pr-c CR-1 --fee 200000 --effort-hours 10)

# ---- corrections ----
ok "the lead corrects a change's title" ctl "$inst" lead correct -p pr-c "$ch1" --reason "typo" --set title="Sixth page"
fix1=$(seq_of)
ok "  status shows the corrected title" ctl "$inst" lead status pr-c --json
has "  the new title" "$tmp/out" '"title":"Sixth page"'
exits 4 "an assigned field never changes" ctl "$inst" lead correct -p pr-c "$ch1" --reason x --set number=CR-9
has "  naming it" "$tmp/err" "change.number is assigned by the ledger and never changes"
exits 4 "an identity field never changes" ctl "$inst" lead correct -p pr-c "$pr" --reason x --set currency=USD
has "  naming why" "$tmp/err" "project.currency is not corrected: every amount of the project is in it"
exits 4 "baseline items are not corrected" ctl "$inst" lead correct -p pr-c "$bl" --reason x --set items=R1
has "  naming the remedy" "$tmp/err" "record a new baseline version instead"
exits 4 "a value is checked against the field's own schema" ctl "$inst" lead correct -p pr-c "$ch1" --reason x --set channel=fax
has "  naming the field" "$tmp/err" "set.channel: must be one of meeting, phone, email, chat, other"
exits 4 "items must be in the current baseline" ctl "$inst" lead correct -p pr-c "$ch1" --reason x --set items=R9
has "  naming the item" "$tmp/err" "item R9 is not in baseline version 1"
exits 4 "a correction is not corrected" ctl "$inst" lead correct -p pr-c "$fix1" --reason x --set reason=y
has "  pointing to the original" "$tmp/err" "correct the original entry again"
exits 4 "the approver cannot correct a quote" ctl "$inst" approver correct -p pr-c "$q1" --reason x --set fee_minor=1
has "  naming the roles that may" "$tmp/err" "correcting a quote needs one of the roles lead; approver has other roles"
exits 4 "finance cannot correct an assessment" ctl "$inst" finance correct -p pr-c "$as1" --reason x --set class=in_scope
has "  naming the roles that may" "$tmp/err" "correcting an assessment needs one of the roles approver"

# ---- reassess ----
exits 4 "a plain second assessment is still refused" ctl "$inst" approver change assess -p pr-c CR-2 --class in_scope --rationale again
has "  pointing to reassess" "$tmp/err" "to revisit the assessment, scopectl change reassess"
ok "the approver reassesses CR-2" ctl "$inst" approver change reassess -p pr-c CR-2 --class in_scope --rationale "a defect after all"
ok "  status" ctl "$inst" lead status pr-c --json
has "  CR-2 is no_charge" "$tmp/out" '"change":"CR-2","title":"Typo","status":"no_charge"'

# ---- approval, invoice, correction of the quote, cancel ----
rec client respond -p pr-c --change CR-1 --quote 1 --decision approved --by "C manager" --via email >/dev/null
exits 4 "reassess after approval is refused" ctl "$inst" approver change reassess -p pr-c CR-1 --class in_scope --rationale x
has "  pointing to correct" "$tmp/err" "correct the assessment's class instead (scopectl correct -p pr-c SEQ --set class="
rec finance invoice -p pr-c INV-1 --change CR-1=150000 --issued 2025-05-30 >/dev/null
exits 4 "an approved quote's fee is not corrected" ctl "$inst" lead correct -p pr-c "$q1" --reason "the agreed fee" --set fee_minor=250000
has "  naming the answer" "$tmp/err" "quote revision 1 of CR-1 was answered (CR-1 is partly_invoiced)"
ok "  unbilled report" ctl "$inst" finance report unbilled --json
has "  keeps the approval the client gave" "$tmp/out" '"approved_minor":200000'
ok "  what it says of the effort is still corrected" ctl "$inst" lead correct -p pr-c "$q1" --reason "the effort as estimated" --set effort_hours=130
exits 4 "an assessment's class is not corrected while invoiced" ctl "$inst" approver correct -p pr-c "$as1" --reason x --set class=in_scope
has "  naming the invoice" "$tmp/err" "CR-1 is billed on invoice INV-1"
pay=$(rec finance payment -p pr-c INV-1 --amount 100000 --date 2025-06-01)
exits 4 "an invoice with payments is not cancelled" ctl "$inst" finance invoice cancel -p pr-c INV-1 --reason x
has "  naming the amount" "$tmp/err" "invoice INV-1 has payments of 100000 recorded"
exits 4 "a payment above the invoice total is refused" ctl "$inst" finance correct -p pr-c "$pay" --reason x --set amount_minor=150001
has "  naming the total" "$tmp/err" "above its total of 150000"
exits 4 "the approver cannot correct a payment" ctl "$inst" approver correct -p pr-c "$pay" --reason x --set amount_minor=1
has "  naming finance" "$tmp/err" "correcting a payment needs one of the roles finance"
ok "finance corrects the payment" ctl "$inst" finance correct -p pr-c "$pay" --reason "bank statement" --set amount_minor=150000
ok "  status" ctl "$inst" lead status pr-c --json
has "  CR-1 is partly invoiced" "$tmp/out" '"change":"CR-1","title":"Sixth page","status":"partly_invoiced"'
rec finance invoice -p pr-c INV-2 --change CR-1=50000 >/dev/null
ok "finance cancels INV-2" ctl "$inst" finance invoice cancel -p pr-c INV-2 --reason "wrong amount"
exits 4 "  twice is refused" ctl "$inst" finance invoice cancel -p pr-c INV-2 --reason again
has "  naming the credit" "$tmp/err" "invoice INV-2 was cancelled by entry"
exits 4 "a payment of a cancelled invoice is refused" ctl "$inst" finance payment -p pr-c INV-2 --amount 1 --date 2025-06-01
exits 4 "an unknown invoice is not cancelled" ctl "$inst" finance invoice cancel -p pr-c INV-9 --reason x
has "  naming it" "$tmp/err" "invoice INV-9 does not exist in project pr-c"
ok "  unbilled report" ctl "$inst" finance report unbilled --json
has "  counts INV-2's lines as unbilled again" "$tmp/out" '"invoiced_minor":150000'
exits 4 "a project is still not voided" ctl "$inst" lead void -p pr-c "$pr" --reason x
has "  naming the remedies" "$tmp/err" "cancel the project (scopectl project cancel) or correct it (scopectl correct)"

# ---- the client's re-derivation and history ----
ok "status --verify agrees after corrections" ctl "$inst" auditor status pr-c --verify
ok "report unbilled --verify agrees" ctl "$inst" auditor report unbilled --verify
ok "history" ctl "$inst" lead history pr-c --wide
has "  shows the correction" "$tmp/out" "correction"
has "  with its reason" "$tmp/out" "bank statement"
ok "change show CR-1" ctl "$inst" lead change show -p pr-c CR-1
has "  lists the correction of its change entry" "$tmp/out" "Sixth page"
has "  and of its quote" "$tmp/out" "the effort as estimated"

# ---- closure ----
rec finance invoice -p pr-c INV-3 --change CR-1=50000 >/dev/null
exits 4 "a project with an open invoice is not closed" ctl "$inst" lead project close -p pr-c --reason done
has "  naming the invoice and its balance" "$tmp/err" "invoice INV-3 has an open balance of 50000"
exits 4 "finance does not close a project" ctl "$inst" finance project close -p pr-c --reason done
ok "finance cancels INV-3" ctl "$inst" finance invoice cancel -p pr-c INV-3 --reason "not yet"
ok "the lead closes the project" ctl "$inst" lead project close -p pr-c --reason "work accepted"
close=$(seq_of)
exits 4 "after it, a change is refused" ctl "$inst" lead change raise -p pr-c "More" --by x --via email --reason defect
has "  naming the closure" "$tmp/err" "project pr-c was closed by entry $close (work accepted); only corrections, notes and complaint cases are recorded in it now"
ok "  a note is recorded" ctl "$inst" lead append --project pr-c --kind note --body-json '{"text":"archived"}'
ok "  and a correction" ctl "$inst" lead correct -p pr-c "$ch1" --reason "final wording" --set title="Sixth page (final)"
exits 4 "  but not of what it counts: a payment's amount" ctl "$inst" finance correct -p pr-c "$pay" --reason x --set amount_minor=1
has "  naming the closure and the field" "$tmp/err" "project pr-c was closed by entry $close: amount_minor counts in its settled amounts and dates and is not corrected after the closure"
exits 4 "  nor a payment's date" ctl "$inst" finance correct -p pr-c "$pay" --reason x --set date=2025-06-02
ok "status shows it closed" ctl "$inst" lead status pr-c
has "  with the reason" "$tmp/out" "closed by entry $close: work accepted"
ok "status --verify still agrees" ctl "$inst" auditor status pr-c --verify
rec admin project create pr-oops --client X --title "by mistake" --currency JPY --amount 0 >/dev/null
exits 4 "a project is not voided" ctl "$inst" lead void -p pr-oops "$(seq_of)" --reason x
ok "a placeholder project is cancelled" ctl "$inst" admin project cancel -p pr-oops --reason "created by mistake"
ok "projects shows it cancelled" ctl "$inst" admin projects
has "  as cancelled" "$tmp/out" "cancelled"

stop_daemon
ok "scoped verify on the store after all of it" "$SCOPED" verify -c "$inst/scoped.conf"
finish
