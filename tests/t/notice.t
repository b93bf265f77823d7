#!/usr/bin/env bash
# Notices to the client (NTC-N): the written notice of an event that changes
# scope, cost or schedule with its expected effect (a fee may go down, a
# schedule may gain); the client acknowledges or disputes it by a response
# (taken on the client's behalf without evidence it is unconfirmed); a
# notice may open a change request; report notices lists the unanswered
# ones, overdue first; status counts them and --verify re-derives both.
# A live daemon over TLS.
set -u
. "$(dirname "$0")/lib.sh"

inst=$tmp/inst
"$SCOPED" init "$inst" --origin test.example/notice >/dev/null || { echo "Bail out! init"; exit 1; }
for r in lead approver finance auditor admin; do echo "cn:$r $r *"; done > "$inst/roles.conf"
echo "cn:client client pr-a" >> "$inst/roles.conf"
start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }
echo "the client's signed reply" > "$tmp/reply.txt"
ctl "$inst" lead project create pr-a --client "A Corp" --title "A site" --currency JPY --amount 3000000 >/dev/null 2>"$tmp/err" ||
	{ echo "Bail out! setup"; cat "$tmp/err"; exit 1; }
notice() { ctl "$inst" "$1" notice -p pr-a "${@:2}"; }
answer() { ctl "$inst" "$1" respond -p pr-a --notice "$2" --decision "$3" --by "Tanaka" --via email "${@:4}"; }

ok "lead: a delay risk, due long ago" notice lead --type delay-risk --text "The CMS vendor is late" --schedule-days 10 --respond-by 2026-01-10
has "  numbered NTC-1" "$tmp/out" "recorded notice NTC-1"
ok "approver: an effort increase that opens a change" notice approver --type effort_increase --text "The search needs a new index" --fee-effect 150000 --respond-by 2026-02-01 --opens-change "Search index"
has "  numbered NTC-2" "$tmp/out" "NTC-2"
ok "lead: a spec change lowering the fee and gaining days" notice lead --type spec_change --text "The blog is dropped" --fee-effect -50000 --schedule-days -5
ok "lead: a failure, no deadline" notice lead --type failure --text "The staging server failed"
ok "lead: an added order" notice lead --type added_order --text "Two more pages" --respond-by 2026-01-05
exits 4 "the client does not send notices" notice client --type failure --text "x"
exits 4 "finance does not send notices" notice finance --type failure --text "x"
exits 4 "a fee effect without its sign is refused" ctl "$inst" lead append --project pr-a --kind notice --body-json '{"type":"failure","text":"x","fee_effect_minor":5}'
has "  naming both fields" "$tmp/err" "fee_effect_minor and fee_effect_sign"
exits 4 "a stored change number cannot be sent" ctl "$inst" lead append --project pr-a --kind notice --body-json '{"type":"failure","text":"x","change":"CR-1"}'

ok "the notice opened CR-1" ctl "$inst" auditor change show -p pr-a CR-1
has "  raised" "$tmp/out" "raised"
has "  and its entries include the notice" "$tmp/out" "notice"
has "  the notice names CR-1" "$tmp/out" '"change":"CR-1"'

ok "report notices --unacknowledged: overdue first" ctl "$inst" lead report notices -p pr-a --unacknowledged --csv
is "  NTC-5 (most days late) first, then NTC-1, NTC-2, then those without a deadline" "$(cut -d, -f2 "$tmp/out" | tr '\n' ' ')" "notice NTC-5 NTC-1 NTC-2 NTC-3 NTC-4 "
has "  the signed fee effect" "$tmp/out" "pr-a,NTC-3,spec_change,unacknowledged,0,,0,-50000,-5,,3,The blog is dropped"
has "  an increase stays an increase" "$tmp/out" ",+150000,,CR-1,2,The search needs a new index"

ok "client acknowledges NTC-1" answer client NTC-1 acknowledged
exits 4 "a notice is answered once" answer client NTC-1 disputed --reason "again"
has "  naming its answer" "$tmp/err" "NTC-1 is already answered (acknowledged"
exits 4 "approved is not an answer to a notice" answer client NTC-2 approved
has "  saying which answers" "$tmp/err" "a notice is answered acknowledged or disputed"
exits 4 "a dispute needs a reason" answer client NTC-2 disputed
ok "client disputes NTC-2" answer client NTC-2 disputed --reason "the index was in scope"
ok "lead takes NTC-5's acknowledgment on the client's behalf, without evidence" answer lead NTC-5 acknowledged
ok "lead takes NTC-3's with evidence" answer lead NTC-3 acknowledged --evidence "$tmp/reply.txt"
exits 4 "the auditor does not answer" answer auditor NTC-4 acknowledged
exits 4 "an unknown notice is refused" answer client NTC-9 acknowledged
has "  naming it" "$tmp/err" "NTC-9 does not exist in project pr-a"

ok "status lists the unconfirmed response" ctl "$inst" lead status pr-a --json
has "  one notice unanswered (NTC-4)" "$tmp/out" '"unacknowledged_notices":1'
has "  NTC-5's response is unconfirmed (entry 8)" "$tmp/out" '"unconfirmed_responses":[8]'
ok "status table" ctl "$inst" lead status pr-a
has "  the count" "$tmp/out" "notices             1 not answered by the client"
ok "report notices --unacknowledged" ctl "$inst" lead report notices --unacknowledged
has "  NTC-4" "$tmp/out" "NTC-4"
if grep -q "NTC-1 \|NTC-2 \|NTC-3 " "$tmp/out"; then n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - answered notices are not listed"; else n=$((n + 1)); echo "ok $n - answered notices are not listed"; fi
ok "report notices --json" ctl "$inst" auditor report notices --json
has "  the dispute" "$tmp/out" '"state":"disputed"'
has "  overdue count" "$tmp/out" '"overdue_count":0'
ok "report notices --verify agrees" ctl "$inst" auditor report notices --verify
has "  re-derived" "$tmp/err" "verified: re-derived"
ok "status --verify agrees" ctl "$inst" auditor status pr-a --verify

stop_daemon
ok "scoped verify on the store" "$SCOPED" verify -c "$inst/scoped.conf"
finish
