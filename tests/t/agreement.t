#!/usr/bin/env bash
# Verbal agreements and meetings (AGR-N): recorded unconfirmed, confirmed
# by written evidence or by the client's response, disputed by the other
# side; a change_consultation lists both sides; report agreements is the
# lead's to-do list (ages from the agreement's date, so past dates make
# them deterministic); status counts the unconfirmed ones and --verify
# re-derives both.  A live daemon over TLS.
set -u
. "$(dirname "$0")/lib.sh"

inst=$tmp/inst
"$SCOPED" init "$inst" --origin test.example/agree >/dev/null || { echo "Bail out! init"; exit 1; }
for r in lead approver finance auditor admin; do echo "cn:$r $r *"; done > "$inst/roles.conf"
echo "cn:client client pr-a" >> "$inst/roles.conf"
start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }
echo "minutes of the kickoff" > "$tmp/minutes.txt"
ctl "$inst" lead project create pr-a --client "A Corp" --title "A site" --currency JPY --amount 3000000 >/dev/null 2>"$tmp/err" ||
	{ echo "Bail out! setup"; cat "$tmp/err"; exit 1; }
add() { ctl "$inst" "$1" agreement add -p pr-a "${@:2}"; }
both='Sato|vendor|PM,Tanaka|client|Director'

ok "lead: a meeting agreed two weeks ago" add lead --date 2026-01-05 --kind meeting --participants "$both" --summary "Top page uses reference site A" --commitment "V sends minutes" --commitment "C sends logo"
has "  numbered AGR-1" "$tmp/out" "recorded agreement AGR-1"
ok "approver: a verbal agreement" add approver --date 2026-01-06 --kind verbal --participants "Sato|vendor" --summary "Fonts are the client's to buy"
ok "lead: a call" add lead --date 2026-01-07 --kind call --participants "$both" --summary "Launch moves to March"
ok "lead: a change consultation with both sides" add lead --date 2026-01-08 --kind change-consultation --participants "$both" --summary "Search page is an added order"
has "  numbered AGR-4" "$tmp/out" "AGR-4"
exits 4 "a change_consultation with one side only is refused" add lead --date 2026-01-08 --kind change_consultation --participants "Sato|vendor|PM" --summary "x"
has "  naming the rule" "$tmp/err" "a change_consultation (変更協議) lists a participant from each side"
exits 4 "a date in the future is refused" add lead --date 2099-01-01 --kind call --participants "$both" --summary "x"
has "  naming it" "$tmp/err" "lies after today"
exits 4 "the client does not record agreements" add client --date 2026-01-05 --kind call --participants "$both" --summary "x"
exits 4 "finance does not record agreements" add finance --date 2026-01-05 --kind call --participants "$both" --summary "x"
exits 4 "a bad side is refused" add lead --date 2026-01-05 --kind call --participants "Sato|boss" --summary "x"
has "  naming the field" "$tmp/err" "side"
ok "a recent agreement (today)" add lead --date "$(date -u +%F)" --kind call --participants "$both" --summary "Today's call"

ok "report agreements --unconfirmed: older than 3 days by default" ctl "$inst" lead report agreements -p pr-a --unconfirmed
has "  AGR-1 is listed" "$tmp/out" "AGR-1"
if grep -q "AGR-5" "$tmp/out"; then n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - today's agreement is not yet on the to-do list"; else n=$((n + 1)); echo "ok $n - today's agreement is not yet on the to-do list"; fi

ok "the lead confirms AGR-1 by evidence" ctl "$inst" lead agreement confirm -p pr-a AGR-1 --evidence "$tmp/minutes.txt"
exits 4 "an agreement is confirmed once" ctl "$inst" lead agreement confirm -p pr-a AGR-1 --evidence "$tmp/minutes.txt"
has "  naming the confirmation" "$tmp/err" "AGR-1 is already confirmed (entry"
exits 4 "the auditor does not confirm" ctl "$inst" auditor agreement confirm -p pr-a AGR-2 --evidence "$tmp/minutes.txt"
ok "client confirms AGR-2 by a response" ctl "$inst" client respond -p pr-a --agreement AGR-2 --decision approved --by "Tanaka" --via email
exits 4 "an agreement cannot be asked to be revised" ctl "$inst" client respond -p pr-a --agreement AGR-3 --decision revise --by "Tanaka" --via email
has "  saying what to do" "$tmp/err" "an agreement is approved (confirmed) or rejected (disputed)"
exits 4 "acknowledged is for notices" ctl "$inst" client respond -p pr-a --agreement AGR-3 --decision acknowledged --by "Tanaka" --via email
ok "the lead records that the client disputes AGR-3" ctl "$inst" lead agreement dispute -p pr-a AGR-3 --by "Tanaka" --reason "we never agreed to move the launch"
exits 4 "an agreement is disputed once" ctl "$inst" lead agreement dispute -p pr-a AGR-3 --by "Sato" --reason "again"
exits 4 "the client does not record a contest: it answers with a response" ctl "$inst" client agreement dispute -p pr-a AGR-4 --by "Nobody" --reason "x"
exits 4 "  nor a confirmation" ctl "$inst" client agreement confirm -p pr-a AGR-4 --evidence "$tmp/minutes.txt"
has "  naming who records it" "$tmp/err" "lead,approver"
ok "client rejects AGR-4 by a response: disputed" ctl "$inst" client respond -p pr-a --agreement AGR-4 --decision rejected --reason "not an added order" --by "Tanaka" --via email
ok "a disputed agreement may still be confirmed by evidence" ctl "$inst" lead agreement confirm -p pr-a AGR-3 --evidence "$tmp/minutes.txt"
exits 4 "a confirmed agreement is not disputed" ctl "$inst" lead agreement dispute -p pr-a AGR-1 --by "Tanaka" --reason "x"
has "  saying why" "$tmp/err" "AGR-1 is confirmed in writing"
exits 4 "an unknown agreement is refused" ctl "$inst" lead agreement confirm -p pr-a AGR-9 --evidence "$tmp/minutes.txt"
has "  naming it" "$tmp/err" "AGR-9 does not exist in project pr-a"

ok "report agreements --unconfirmed --older-than 0 --csv" ctl "$inst" lead report agreements -p pr-a --unconfirmed --older-than 0 --csv
has "  the disputed AGR-4" "$tmp/out" "pr-a,AGR-4,2026-01-08,change_consultation,disputed,"
has "  today's AGR-5 is not older than 0 days" "$tmp/out" "project,agreement,date"
if grep -q "AGR-1\|AGR-2\|AGR-3\|AGR-5" "$tmp/out"; then n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - confirmed and new ones are not listed"; cat "$tmp/out"; else n=$((n + 1)); echo "ok $n - confirmed and new ones are not listed"; fi
ok "report agreements --json has every state" ctl "$inst" auditor report agreements --json
has "  confirmed" "$tmp/out" '"state":"confirmed"'
has "  unconfirmed count" "$tmp/out" '"unconfirmed_count":2'
ok "report agreements --verify agrees" ctl "$inst" auditor report agreements --verify
has "  re-derived" "$tmp/err" "verified: re-derived"
ok "status counts the agreements not confirmed" ctl "$inst" lead status pr-a
has "  two (AGR-4 disputed, AGR-5 new)" "$tmp/out" "agreements          2 not confirmed in writing"
ok "status --json" ctl "$inst" lead status pr-a --json
has "  member" "$tmp/out" '"unconfirmed_agreements":2'
ok "status --verify agrees" ctl "$inst" auditor status pr-a --verify
ok "history shows them" ctl "$inst" auditor history pr-a
has "  the contest" "$tmp/out" "contest"
has "  the confirmation" "$tmp/out" "confirmation"

stop_daemon
ok "scoped verify on the store" "$SCOPED" verify -c "$inst/scoped.conf"
finish
