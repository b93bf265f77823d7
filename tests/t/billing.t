#!/usr/bin/env bash
# Money the way finance counts it (issue 13, part 2), end to end against a
# live daemon: tax from the quote to approval, invoice lines and payments;
# invoice issue and due dates with the project's payment terms; lines that
# bill the base contract, never beyond its value; report receivables aged
# by due date as of a given day, re-derived with --verify; and no payment
# or invoice dated in the future.
set -u
export TZ=JST-9
. "$(dirname "$0")/lib.sh"

inst=$tmp/inst
"$SCOPED" init "$inst" --origin test.example/billing >/dev/null || { echo "Bail out! init"; exit 1; }
start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }
fin() { ctl "$inst" finance "$@"; }

exits 2 "--payment-days beyond 3650 is refused" ctl "$inst" lead project create Q --client C --title T \
	--currency JPY --amount 1 --payment-days 3651
ok "lead: project P with 45 days' payment terms" ctl "$inst" lead project create P --client "C Corp" \
	--title "Site" --currency JPY --amount 1000000 --payment-days 45
ok "lead: project D without terms" ctl "$inst" lead project create D --client C --title T --currency USD --amount 100
ok "status D --json" ctl "$inst" lead status D --json
has "  its terms default to 30 days" "$tmp/out" '"payment_days":30'
ok "lead: CR-1" ctl "$inst" lead change raise -p P "Redesign" --by "C PM" --via email --reason client_request
ok "approver: out of scope" ctl "$inst" approver change assess -p P CR-1 --class out_of_scope --rationale new
ok "lead: quote fee 100000, tax 10000" ctl "$inst" lead change quote -p P CR-1 --fee 100000 --tax 10000 --effort-hours 8
ok "lead: approval on the client's behalf" ctl "$inst" lead respond -p P --change CR-1 --quote 1 --decision approved --by "C PM" --via email
ok "status --json" ctl "$inst" lead status P --json
has "  approved is the total" "$tmp/out" '"approved_minor":110000,"approved":"110000","approved_tax_minor":10000'
has "  with the quote's fee, tax and total" "$tmp/out" '"fee_minor":100000,"fee":"100000","tax_minor":10000,"tax":"10000","total_minor":110000'
ok "status shows fee, tax and total" ctl "$inst" lead status P
has "  as columns" "$tmp/out" "fee          tax        total     approved"

exits 4 "a fee beyond the approved fee is refused" fin invoice -p P INV-1 --change CR-1=100001
has "  naming the fee and the numbers" "$tmp/err" "CR-1: invoicing a fee of 100001 would exceed the approved fee 100000 (already invoiced 0)"
exits 4 "tax beyond the approved tax is refused" fin invoice -p P INV-1 --change CR-1=50000:10001
has "  naming the tax and the numbers" "$tmp/err" "CR-1: invoicing tax of 10001 would exceed the approved tax 10000 (already invoiced 0)"
exits 4 "a due date before the issue date is refused" fin invoice -p P INV-1 --change CR-1=1 --issued 2025-01-10 --due 2025-01-09
has "  naming both" "$tmp/err" "the due date 2025-01-09 is before the issue date 2025-01-10"
exits 4 "an issue date in the future is refused" fin invoice -p P INV-1 --change CR-1=1 --issued 2099-01-01
has "  naming it and today" "$tmp/err" "the issue date 2099-01-01 lies in the future (today is 20"
ok "finance: INV-1, fee 50000 and tax 5000, issued 2025-01-10" fin invoice -p P INV-1 --change CR-1=50000:5000 --issued 2025-01-10 --json
has "  due after the project's 45 days" "$tmp/out" '"due":"2025-02-24"'
has "  the line carries its tax" "$tmp/out" '"amount_minor":50000,"change":"CR-1","tax_minor":5000'
ok "finance: INV-0 today, due by the terms" fin invoice -p D INV-0 --contract 1.00 --json
has "  issued today (the local date)" "$tmp/out" "\"issued\":\"$(date +%Y-%m-%d)\""
has "  due in 30 days" "$tmp/out" "\"due\":\"$(date -d "$(date +%Y-%m-%d) + 30 days" +%Y-%m-%d)\""

exits 4 "the contract beyond its value is refused" fin invoice -p P INV-2 --contract 1000001
has "  naming the value and what is invoiced" "$tmp/err" "the contract: invoicing a fee of 1000001 would exceed the contract value 1000000 (already invoiced 0)"
ok "finance: INV-2 bills the contract, 600000 and tax 60000" fin invoice -p P INV-2 --contract 600000:60000 \
	--issued 2025-03-01 --due 2025-03-31 --json
has "  as a contract line" "$tmp/out" '{"amount_minor":600000,"contract":true,"tax_minor":60000}'
exits 4 "the rest of the contract plus one is refused" fin invoice -p P INV-3 --contract 400001
has "  naming what is already invoiced" "$tmp/err" "would exceed the contract value 1000000 (already invoiced 600000)"
ok "finance: INV-3, the rest of the contract and of CR-1" fin invoice -p P INV-3 --contract 400000 \
	--change CR-1=50000:5000 --issued 2025-06-01 --due 2025-07-01
ok "finance: INV-4 for an amount due 2025-05-15" fin invoice -p D INV-4 --contract 0.50 --issued 2025-05-01 --due 2025-05-15
exits 4 "a line naming a change and the contract is refused" ctl "$inst" finance append --project P --kind invoice \
	--body-json '{"number":"INV-9","lines":[{"change":"CR-1","contract":true,"amount_minor":1}]}'
has "  saying a line names exactly one" "$tmp/err" 'an invoice line names exactly one of "change"'

exits 4 "a payment dated in the future is refused" fin payment -p P INV-1 --amount 55000 --date 2099-01-01
has "  naming the date and today" "$tmp/err" "the payment date 2099-01-01 lies in the future (today is 20"
ok "finance: INV-1 paid in full (fee and tax)" fin payment -p P INV-1 --amount 55000 --date 2025-02-01
ok "finance: INV-2 paid in part" fin payment -p P INV-2 --amount 100000 --date 2025-04-01
ok "status --json" ctl "$inst" lead status P --json
has "  CR-1 invoiced with its tax" "$tmp/out" '"invoiced_minor":110000,"invoiced":"110000","invoiced_tax_minor":10000,"invoiced_tax":"10000","paid_minor":55000'
has "  the contract invoiced in full" "$tmp/out" '"contract_invoiced_minor":1000000'

ok "report receivables as of 2025-06-30" fin report receivables --as-of 2025-06-30 --json
has "  counts to that day" "$tmp/out" '"as_of_date":"2025-06-30"'
is "  and names as_of once" "$(grep -o '"as_of":' "$tmp/out" | wc -l)" 1
has "  JPY outstanding in total" "$tmp/out" '"currency":"JPY","exponent":0,"outstanding_minor":1015000,'
has "  JPY not yet due" "$tmp/out" '"current_minor":455000,'
has "  JPY over 90 days" "$tmp/out" '"days_61_90_minor":0,"days_61_90":"0","days_over_90_minor":560000'
has "  USD totals apart" "$tmp/out" '"currency":"USD","exponent":2,"outstanding_minor":'
if grep -q '"INV-1"' "$tmp/out"; then is "  the paid INV-1 is left out" shown absent; else is "  the paid INV-1 is left out" absent absent; fi
ok "report receivables as of 2025-06-30 --csv" fin report receivables --as-of 2025-06-30 --csv
has "  INV-2 is over 90 days overdue" "$tmp/out" "P,INV-2,JPY,2025-03-01,2025-03-31,600000,60000,660000,100000,560000,91,over_90"
has "  INV-3 is not yet due" "$tmp/out" "P,INV-3,JPY,2025-06-01,2025-07-01,450000,5000,455000,0,455000,0,current"
has "  INV-4 is 31-60 days overdue" "$tmp/out" "D,INV-4,USD,2025-05-01,2025-05-15,0.50,0.00,0.50,0.00,0.50,46,31-60"
ok "as of 2025-04-15, INV-2 is 0-30" fin report receivables --project P --as-of 2025-04-15 --csv
has "  in the CSV" "$tmp/out" "P,INV-2,JPY,2025-03-01,2025-03-31,600000,60000,660000,100000,560000,15,0-30"
ok "report receivables --verify re-derives it" fin report receivables --as-of 2025-06-30 --verify
has "  says so" "$tmp/err" "verified: re-derived from"
has "  the table" "$tmp/out" "invoices not yet (fully) paid, as of 2025-06-30"
ok "report receivables --verify as of today" ctl "$inst" auditor report receivables --verify
ok "status --verify agrees" ctl "$inst" auditor status P --verify
ok "report unbilled --verify" ctl "$inst" auditor report unbilled --verify --json
ok "report exposure --verify" ctl "$inst" auditor report exposure --verify
exits 2 "--as-of that is no date is refused" fin report receivables --as-of 30/06/2025
ok "finance cancels INV-3 (unpaid)" fin invoice cancel -p P INV-3 --reason "issued in error"
ok "report receivables after it" fin report receivables --as-of 2025-06-30 --csv
if grep -q ',INV-3,' "$tmp/out"; then is "  the cancelled INV-3 is not receivable" shown absent
else is "  the cancelled INV-3 is not receivable" absent absent; fi
ok "  and --verify agrees" fin report receivables --as-of 2025-06-30 --verify
finish
