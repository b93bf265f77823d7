#!/usr/bin/env bash
# The worked case of the product brief, end to end through scopectl against
# a live daemon: a baseline naming reference site A, the client's free
# redesign demand, the approver's out-of-scope assessment, a quote, the
# rejection, the contractual minor revision approved at no charge; then a
# second project whose approved change is invoiced in two parts and paid.
# Reports show the expected figures; receipts verify offline, and a receipt
# with one changed byte does not.
set -u
. "$(dirname "$0")/lib.sh"

inst=$tmp/inst
"$SCOPED" init "$inst" --origin test.example/case --client-project pr-site --client-project pr-x --client-project pr-app >/dev/null || { echo "Bail out! init"; exit 1; }
start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }
key=$inst/keys/verifier.txt
echo "requirement definition v1: reference site A" > "$tmp/requirements.txt"
echo "From: V PM -- this definition fixes the order; changing it is an additional order" > "$tmp/fee-rule.eml"
echo "From: C manager -- OK by phone, confirmed" > "$tmp/confirm.eml"

ok "lead: project pr-site" ctl "$inst" lead project create pr-site --client "C Corp" --title "PR web site" \
	--currency JPY --amount 3000000 --type fixed --vendor-lead "V PM" --client-lead "C manager" --acceptance-days 14
exits 4 "a client may not create projects" ctl "$inst" client project create pr-x --client C --title T --currency JPY --amount 1
has "  the refusal names the roles" "$tmp/err" "needs one of the roles lead,admin"
ok "lead: baseline naming reference site A" ctl "$inst" lead baseline add -p pr-site \
	--item R1="Design after reference site A" --item R2="Five pages" --doc "$tmp/requirements.txt" \
	--doc "$tmp/fee-rule.eml" --rule "Changes after this definition are additional orders with an additional fee."
has "  prints the new version" "$tmp/out" "baseline version 1"
ok "client: confirms the baseline" ctl "$inst" client respond -p pr-site --baseline 1 --decision approved --by "C manager" --via email
ok "status: baseline confirmed" ctl "$inst" lead status pr-site
has "  says so" "$tmp/out" "version 1, confirmed by the client"

ok "client: demands a redesign along site B" ctl "$inst" client change raise -p pr-site "Redesign along site B" \
	--by "C manager" --via meeting --reason client_request --items R1 --description "Free: the sales rep promised revisions"
has "  numbered CR-1" "$tmp/out" "change CR-1"
exits 4 "the lead may not assess it" ctl "$inst" lead change assess -p pr-site CR-1 --class in_scope --rationale "x"
has "  only an approver decides" "$tmp/err" "needs one of the roles approver"
ok "approver: out of scope" ctl "$inst" approver change assess -p pr-site CR-1 --class out_of_scope \
	--rationale "No promise on record; the definition names site A; the fee rule applies" --cites 1
ok "lead: quote with a receipt" ctl "$inst" lead change quote -p pr-site CR-1 --fee 1500000 --tax 150000 \
	--effort-hours 120 --schedule-days 30 --valid-until 2027-01-31 --receipt "$tmp/quote.json"
has "  revision 1" "$tmp/out" "quote revision 1"
ok "exposure shows the quoted redesign" ctl "$inst" finance report exposure --project pr-site --json
has "  with its fee as minor units" "$tmp/out" '"quoted_minor":1500000'
has "  and as text" "$tmp/out" '"quoted":"1500000"'
exits 4 "a rejection without a reason is refused" ctl "$inst" client respond -p pr-site --change CR-1 --quote 1 --decision rejected --by "C manager" --via email
has "  saying a reason is needed" "$tmp/err" "needs a reason"
ok "client: rejects" ctl "$inst" client respond -p pr-site --change CR-1 --quote 1 --decision rejected \
	--reason "expected it free" --by "C manager" --via email
ok "lead: the contractual minor revision" ctl "$inst" lead change raise -p pr-site "Minor design revision (contractual)" \
	--by "V PM" --via email --reason vendor_proposal --items R1
ok "approver: minor revision" ctl "$inst" approver change assess -p pr-site CR-2 --class minor_revision --rationale "One minor revision is in the contract"
exits 4 "no quote for a no-charge change" ctl "$inst" lead change quote -p pr-site CR-2 --fee 1 --effort-hours 1
ok "lead records the client's approval by phone" ctl "$inst" lead respond -p pr-site --change CR-2 --decision approved --by "C manager" --title Manager --via phone --json
resp=$(sed -n 's/^{"seq":\([0-9]*\),.*/\1/p' "$tmp/out")
has "  on the client's behalf" "$tmp/out" '"on_behalf":true'
ok "status" ctl "$inst" lead status pr-site
has "  contract value unchanged" "$tmp/out" "contract value             3000000 JPY"
has "  CR-1 rejected" "$tmp/out" "CR-1    rejected"
has "  CR-2 approved at no charge" "$tmp/out" "CR-2    approved_no_charge"
has "  the phone approval is unconfirmed" "$tmp/out" "entries $resp"
ok "lead: the confirming e-mail as evidence" ctl "$inst" lead evidence -p pr-site "$resp" "$tmp/confirm.eml"
ok "status again" ctl "$inst" lead status pr-site
has "  nothing unconfirmed" "$tmp/out" "without evidence:
  none"
ok "history of CR-1" ctl "$inst" auditor history pr-site --change CR-1 --json
is "  change, assessment, quote, response" "$(grep -c '"kind"' "$tmp/out")" 4
ok "the quote's receipt verifies offline" "$SCOPECTL" verify --receipt "$tmp/quote.json" --trust "$key"
has "  naming the entry" "$tmp/out" "quote in pr-site"
sed 's/"entry":"\(.\{40\}\)\(.\)/"entry":"\1X\2/' "$tmp/quote.json" | sed 's/X0/1/; s/X1/0/; s/X2/3/; s/X3/2/; s/X4/5/; s/X5/4/; s/X6/7/; s/X7/6/; s/X8/9/; s/X9/8/; s/Xa/b/; s/Xb/a/; s/Xc/d/; s/Xd/c/; s/Xe/f/; s/Xf/e/' > "$tmp/bad.json"
exits 1 "a receipt with one changed byte does not" "$SCOPECTL" verify --receipt "$tmp/bad.json" --trust "$key"

# second scenario: invoiced in two parts and paid
ok "lead: project pr-app in USD" ctl "$inst" lead project create pr-app --client "D Inc" --title "App" --currency USD --amount 100000.00 --type tm
ok "lead: a change, work already proceeding" ctl "$inst" lead change raise -p pr-app "CSV export" --by "D PM" --via phone --reason client_request --proceeding
ok "approver: out of scope" ctl "$inst" approver change assess -p pr-app CR-1 --class out_of_scope --rationale "new feature"
exits 2 "more decimals than USD has are refused" ctl "$inst" lead change quote -p pr-app CR-1 --fee 5000.001 --effort-hours 40
ok "lead: quote 5000.00" ctl "$inst" lead change quote -p pr-app CR-1 --fee 5000.00 --effort-hours 40
ok "exposure: work proceeding without approval" ctl "$inst" finance report exposure
has "  lists CR-1 of pr-app as proceeding" "$tmp/out" "pr-app       CR-1    quoted            out_of_scope  yes"
ok "client: approves" ctl "$inst" client respond -p pr-app --change CR-1 --quote 1 --decision approved --by "D PM" --via email --evidence "$tmp/confirm.eml"
exits 4 "the lead may not invoice" ctl "$inst" lead invoice -p pr-app INV-1 --change CR-1=2000.00
ok "unbilled: the approved fee" ctl "$inst" finance report unbilled --json
has "  5000.00 unbilled" "$tmp/out" '"unbilled_minor":500000,"unbilled":"5000.00"'
has "  aged 0 days" "$tmp/out" '"age_days":0'
ok "finance: first invoice 2000.00" ctl "$inst" finance invoice -p pr-app INV-1 --change CR-1=2000.00
exits 4 "over-invoicing is refused" ctl "$inst" finance invoice -p pr-app INV-2 --change CR-1=3000.01
has "  naming what was approved" "$tmp/err" "exceed the approved fee 500000"
ok "finance: second invoice 3000.00" ctl "$inst" finance invoice -p pr-app INV-2 --change CR-1=3000.00
ok "unbilled is empty" ctl "$inst" finance report unbilled --csv
is "  only the header" "$(wc -l < "$tmp/out")" 1
ok "finance: INV-1 paid" ctl "$inst" finance payment -p pr-app INV-1 --amount 2000.00 --date "$(date -u +%F)"
ok "finance: INV-2 paid" ctl "$inst" finance payment -p pr-app INV-2 --amount 3000.00 --date "$(date -u +%F)"
ok "status of pr-app" ctl "$inst" lead status pr-app
has "  contract value = 100000.00 + 5000.00" "$tmp/out" "contract value           105000.00 USD"
has "  CR-1 paid" "$tmp/out" "CR-1    paid"
ok "the auditor verifies everything" ctl "$inst" auditor verify
stop_daemon
ok "the derived state rebuilds identically" "$SCOPED" reindex -c "$inst/scoped.conf"
has "  identical" "$tmp/out" "(identical)"
finish
