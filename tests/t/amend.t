#!/usr/bin/env bash
# Contract amendments (AMD-N) and who may sign for the client: an amendment
# binds approved changes at their approved totals and is answered once; the
# signatory register and its limits; a quote past valid_until cannot be
# approved; status shows all of it and --verify re-derives it.  A live
# daemon over TLS.
set -u
. "$(dirname "$0")/lib.sh"

inst=$tmp/inst
"$SCOPED" init "$inst" --origin test.example/amend >/dev/null || { echo "Bail out! init"; exit 1; }
for r in lead approver finance auditor admin; do echo "cn:$r $r *"; done > "$inst/roles.conf"
echo "cn:client client pr-a" >> "$inst/roles.conf"
start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }
echo "signed change agreement" > "$tmp/amd.pdf"
quoted() {	# quoted CR FEE [options]: raise, assess out of scope, quote
	ctl "$inst" lead change raise -p pr-a "$1" --by "C manager" --via email --reason client_request &&
	ctl "$inst" approver change assess -p pr-a "$2" --class out_of_scope --rationale "new work" &&
	ctl "$inst" lead change quote -p pr-a "$2" --fee "$3" --effort-hours 10 "${@:4}"
}
approve() { ctl "$inst" lead respond -p pr-a --change "$1" --quote "${2:-1}" --decision approved --by "${3:-C manager}" --via email; }
{
	ctl "$inst" lead project create pr-a --client "A Corp" --title "A site" --currency JPY --amount 3000000
	quoted "Sixth page" CR-1 200000
	quoted "Seventh page" CR-2 300000 --tax 30000
	quoted "Search" CR-3 100000
	ctl "$inst" lead change raise -p pr-a "Typo" --by "C manager" --via email --reason defect
	ctl "$inst" approver change assess -p pr-a CR-4 --class in_scope --rationale "a defect"
	approve CR-1; approve CR-2
	ctl "$inst" lead respond -p pr-a --change CR-4 --decision approved --by "C manager" --via email
} >/dev/null 2>"$tmp/err" || { echo "Bail out! setup"; cat "$tmp/err"; exit 1; }

# ---- amendments ----
exits 4 "an amendment of a change that is not approved is refused" ctl "$inst" lead amendment -p pr-a --changes CR-1,CR-3
has "  naming it and its state" "$tmp/err" "CR-3 is quoted: only an approved change is put in an amendment"
exits 4 "a change listed twice is refused" ctl "$inst" lead append --project pr-a --kind amendment --body-json '{"lines":[{"change":"CR-1","amount_minor":200000},{"change":"CR-1","amount_minor":200000}]}'
has "  naming it" "$tmp/err" "CR-1 is listed twice"
exits 4 "a line not at the change's approved total is refused" ctl "$inst" lead append --project pr-a --kind amendment --body-json '{"lines":[{"change":"CR-1","amount_minor":150000}]}'
has "  naming both amounts" "$tmp/err" "CR-1: the line binds 150000 but the change's approved total is 200000"
exits 4 "an amendment without changes is refused" ctl "$inst" lead append --project pr-a --kind amendment --body-json '{"lines":[]}'
exits 4 "only a lead records an amendment" ctl "$inst" finance amendment -p pr-a --changes CR-1
ok "lead: amendment of CR-1 and CR-4" ctl "$inst" lead amendment -p pr-a --changes CR-1,CR-4 --doc "$tmp/amd.pdf" --effective 2026-07-01 --title "Change agreement 1"
has "  numbered AMD-1" "$tmp/out" "AMD-1"
exits 4 "a change in an amendment awaiting its answer is refused" ctl "$inst" lead amendment -p pr-a --changes CR-2,CR-1
has "  naming that amendment" "$tmp/err" "CR-1 is already in AMD-1 (still awaiting its answer)"
exits 4 "an amendment cannot be asked to be revised" ctl "$inst" client respond -p pr-a --amendment AMD-1 --decision revise --by "C manager" --via email
has "  saying what to do" "$tmp/err" "an amendment is approved (signed) or rejected"
exits 2 "a response names one of change, baseline or amendment" ctl "$inst" client respond -p pr-a --amendment AMD-1 --change CR-1 --decision approved --by "C manager" --via email
exits 4 "an unknown amendment is refused" ctl "$inst" client respond -p pr-a --amendment AMD-7 --decision approved --by "C manager" --via email
has "  naming it" "$tmp/err" "AMD-7 does not exist in project pr-a"
ok "client rejects AMD-1" ctl "$inst" client respond -p pr-a --amendment AMD-1 --decision rejected --reason "wrong date" --by "C manager" --via email
exits 4 "an amendment is answered once" ctl "$inst" client respond -p pr-a --amendment AMD-1 --decision approved --by "C manager" --via email
has "  naming its answer" "$tmp/err" "AMD-1 is already answered (rejected"
ok "a rejection frees the changes: AMD-2 with CR-1, CR-2, CR-4" ctl "$inst" lead amendment -p pr-a --changes CR-1,CR-2,CR-4
has "  numbered AMD-2" "$tmp/out" "AMD-2"
ok "client signs AMD-2" ctl "$inst" client respond -p pr-a --amendment AMD-2 --decision approved --by "C manager" --via email
exits 4 "a change in a signed amendment is refused" ctl "$inst" lead amendment -p pr-a --changes CR-2
has "  naming it" "$tmp/err" "CR-2 is already in AMD-2 (signed)"

# ---- the quote's valid_until ----
{
	quoted "Old offer" CR-5 50000 --valid-until 2020-01-31
	quoted "Open offer" CR-6 70000 --valid-until 2099-12-31
} >/dev/null 2>"$tmp/err" || { echo "Bail out! quotes"; cat "$tmp/err"; exit 1; }
exits 4 "approving a quote past its valid_until is refused" approve CR-5
has "  naming the date and the remedy" "$tmp/err" "quote revision 1 of CR-5 was valid until 2020-01-31 and cannot be approved on"
has "  the remedy" "$tmp/err" "record a new quote revision"
ok "rejecting an expired quote is recorded" ctl "$inst" client respond -p pr-a --change CR-5 --quote 1 --decision rejected --reason "too late" --by "C manager" --via email

# ---- the signatory register ----
ok "a response before the register exists: anyone" approve CR-3 1 "Somebody"
exits 4 "only a lead or admin keeps the register" ctl "$inst" client signatory add -p pr-a "C manager" --title "Manager"
ok "lead adds C manager (no limit)" ctl "$inst" lead signatory add -p pr-a "C manager" --title "Project manager"
ok "admin adds C buyer (limit 60000)" ctl "$inst" admin signatory add -p pr-a "C buyer" --title "Purchasing" --limit 60000
exits 4 "adding a name already on the register is refused" ctl "$inst" lead signatory add -p pr-a "C buyer" --title "Boss"
has "  saying how to change it" "$tmp/err" "C buyer is already on project pr-a's signatory register"
has "  remove and add" "$tmp/err" "remove them and add them again"
exits 4 "removing a name not on it is refused" ctl "$inst" lead signatory remove -p pr-a "Nobody"
has "  naming it" "$tmp/err" "Nobody is not on project pr-a's signatory register"
exits 4 "a respondent not on the register is refused" approve CR-6 1 "Somebody"
has "  naming the register" "$tmp/err" "Somebody is not on project pr-a's signatory register (C buyer, C manager); add them with scopectl signatory add"
exits 4 "an approval beyond the signatory's limit is refused" approve CR-6 1 "C buyer"
has "  naming the limit" "$tmp/err" "C buyer may approve up to 60000 JPY (their limit on the signatory register); the quote of CR-6 totals 70000 JPY"
exits 4 "a revision request without saying what to revise is refused" ctl "$inst" client respond -p pr-a --change CR-6 --quote 1 --decision revise --by "C buyer" --via email
has "  asking for the reason" "$tmp/err" "a request for a revised quote needs a reason: what to revise (--reason TEXT)"
ok "a revision request needs only the register" ctl "$inst" client respond -p pr-a --change CR-6 --quote 1 --decision revise --reason "cheaper" --by "C buyer" --via email
ok "a new revision within the limit" ctl "$inst" lead change quote -p pr-a CR-6 --fee 55000 --tax 5000 --effort-hours 8
ok "  is approved by C buyer" approve CR-6 2 "C buyer"
ok "an amendment of CR-3, CR-6" ctl "$inst" lead amendment -p pr-a --changes CR-3,CR-6
exits 4 "  beyond C buyer's limit is refused" ctl "$inst" client respond -p pr-a --amendment AMD-3 --decision approved --by "C buyer" --via email
has "  naming the limit" "$tmp/err" "AMD-3 totals 160000 JPY"
ok "lead removes C buyer" ctl "$inst" lead signatory remove -p pr-a "C buyer" --reason "left the company"

# ---- status ----
ok "status" ctl "$inst" auditor status pr-a --wide
has "  the signed contract value" "$tmp/out" "signed value               3530000 JPY"
has "  apart from the approved changes in no signed amendment" "$tmp/out" "not yet amended             160000 JPY (2 approved changes)"
has "  AMD-1 rejected" "$tmp/out" "AMD-1  rejected"
has "  AMD-2 signed, with its changes" "$tmp/out" "AMD-2  signed                    530000  entry 17  CR-1, CR-2, CR-4"
has "  AMD-3 awaiting its answer" "$tmp/out" "AMD-3  awaiting answer"
has "  the register" "$tmp/out" "C manager                limit           none  Project manager"
is "  C buyer no longer on it" "$(grep -c 'C buyer  *limit' "$tmp/out")" 0
has "  a response by someone who was never on it" "$tmp/out" "entry 26     approved CR-3         by Somebody"
has "  a response by someone removed" "$tmp/out" "entry 31     approved CR-6         by C buyer"
is "  the superseded revision request is not in force" "$(grep -c 'revise   CR-6' "$tmp/out")" 0
ok "status --json" ctl "$inst" auditor status pr-a --json
has "  signed_contract_value_minor" "$tmp/out" '"signed_contract_value_minor":3530000'
has "  unamended" "$tmp/out" '"unamended_count":2,"unamended_minor":160000'
has "  amendment lines" "$tmp/out" '"lines":[{"change":"CR-1","amount_minor":200000,"amount":"200000"},{"change":"CR-2","amount_minor":330000,"amount":"330000"},{"change":"CR-4","amount_minor":0,"amount":"0"}]'
has "  the register" "$tmp/out" '"signatories":[{"name":"C manager","title":"Project manager","limit_minor":null'
ok "status --verify agrees" ctl "$inst" auditor status pr-a --verify
has "  re-derived" "$tmp/err" "verified: re-derived"

# ---- responses to baselines follow the register ----
ok "a baseline" ctl "$inst" lead baseline add -p pr-a --item R1="Five pages"
exits 4 "  confirmed by someone not on the register is refused" ctl "$inst" client respond -p pr-a --baseline 1 --decision approved --by "C buyer" --via email
has "  naming the register" "$tmp/err" "C buyer is not on project pr-a's signatory register (C manager)"
exits 4 "  a revision of it is refused" ctl "$inst" client respond -p pr-a --baseline 1 --decision revise --reason "more" --by "C manager" --via email
has "  as revise is for a change's quote" "$tmp/err" "revise asks for a revised quote of a change"
ok "  confirmed by a signatory" ctl "$inst" client respond -p pr-a --baseline 1 --decision approved --by "C manager" --via email

# ---- report quotes ----
{
	quoted "Stale offer" CR-7 40000 --valid-until 2020-02-01
	quoted "Open-ended offer" CR-8 30000
	quoted "Far offer" CR-9 20000 --tax 2000 --valid-until 2099-06-30
} >/dev/null 2>"$tmp/err" || { echo "Bail out! open quotes"; cat "$tmp/err"; exit 1; }
ok "report quotes" ctl "$inst" auditor report quotes --project pr-a --csv
is "  soonest expiry first, none last" "$(sed 1d "$tmp/out" | cut -d, -f2 | tr '\n' ' ')" "CR-7 CR-9 CR-8 "
has "  the expired one, with negative days left" "$tmp/out" "pr-a,CR-7,1,JPY,40000,0,40000,"
n=$((n + 1)); left=$(grep '^pr-a,CR-7' "$tmp/out" | cut -d, -f11)
if [ "$left" -lt 0 ]; then echo "ok $n - days left of an expired quote is negative ($left)"; else failed=$((failed + 1)); echo "not ok $n - days left $left"; fi
has "  fee, tax and total" "$tmp/out" "pr-a,CR-9,1,JPY,20000,2000,22000,"
ok "report quotes (table)" ctl "$inst" auditor report quotes --wide
has "  marks the expired quote" "$tmp/out" "EXPIRED"
has "  totals" "$tmp/out" "JPY: 3 open quote(s) totalling 92000, 1 expired"
ok "report quotes --json" ctl "$inst" auditor report quotes --json
has "  days_left and expired" "$tmp/out" '"expired":true'
ok "report quotes --verify agrees" ctl "$inst" auditor report quotes --verify
has "  re-derived" "$tmp/err" "verified: re-derived"
ok "status --verify agrees at the end" ctl "$inst" auditor status pr-a --verify

stop_daemon
ok "scoped verify on the store" "$SCOPED" verify -c "$inst/scoped.conf"
finish
