#!/usr/bin/env bash
# The client's links over TLS: link create refuses, recording nothing, while
# the server has no portal_url; with one it prints PORTAL_URL/l/TOKEN once,
# the ledger holding only the token's SHA-256 (the token is nowhere in the
# data directory); link list and revoke; a lead or client forging what only
# scoped's portal records is refused; the derived state rebuilds identically.
set -u
. "$(dirname "$0")/lib.sh"

inst=$tmp/inst
"$SCOPED" init "$inst" --origin test.example/link >/dev/null || { echo "Bail out! init"; exit 1; }
for r in lead approver finance auditor admin; do echo "cn:$r $r *"; done > "$inst/roles.conf"
echo "cn:client client pr-a" >> "$inst/roles.conf"
start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }
{ ctl "$inst" lead project create pr-a --client "A Corp" --title "A site" --currency JPY --amount 3000000 &&
  ctl "$inst" lead baseline add -p pr-a --item R1="Five pages" &&
  ctl "$inst" client change raise -p pr-a "Two more pages" --by "Ms A" --via email --reason client_request --items R1 &&
  ctl "$inst" approver change assess -p pr-a CR-1 --class out_of_scope --rationale "Not in R1" &&
  ctl "$inst" lead change quote -p pr-a CR-1 --fee 200000 --effort-hours 16; } >/dev/null 2>"$tmp/err" ||
	{ echo "Bail out! setup"; cat "$tmp/err"; exit 1; }
size() { ctl "$inst" auditor checkpoint | sed -n '2p'; }

before=$(size)
exits 4 "no portal_url: link create refuses" ctl "$inst" lead link create -p pr-a --change CR-1 --to "Ms A"
has "  naming what to set" "$tmp/err" "Set portal_listen (and portal_url"
is "  and records nothing" "$(size)" "$before"

stop_daemon
printf '%s\n' "portal_listen = 127.0.0.1:0" "portal_url = https://portal.test.example/" >> "$inst/scoped.conf"
start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }
ok "info reports portal_url" ctl "$inst" lead info --json
has "  as configured" "$tmp/out" '"portal_url":"https://portal.test.example/"'
exits 2 "--expires past 90 days is refused here" ctl "$inst" lead link create -p pr-a --change CR-1 --to "Ms A" --expires 91d
exits 2 "--expires needs d or h" ctl "$inst" lead link create -p pr-a --change CR-1 --to "Ms A" --expires 7
exits 4 "the client may not make links" ctl "$inst" client link create -p pr-a --change CR-1 --to "Ms A"
ok "lead: a link for CR-1, its current quote revision" ctl "$inst" lead link create -p pr-a --change CR-1 --to "Ms A" --expires 2d
url=$(grep '^https://' "$tmp/out")
tok=${url#https://portal.test.example/l/}
is "  the URL is the portal's, without a doubled slash" "${url%/l/*}" "https://portal.test.example"
is "  the token is 43 characters of base64url" "$(printf %s "$tok" | grep -cE '^[A-Za-z0-9_-]{43}$')" 1
has "  shown only once" "$tmp/err" "shown only once"
seq=$(sed -n 's/.*recorded link LNK-1 in pr-a as entry \([0-9]*\).*/\1/p' "$tmp/out")
ok "the link entry" ctl "$inst" auditor get "$seq" --json
has "  holds the token's SHA-256" "$tmp/out" "\"token_sha256\":\"$(printf %s "$tok" | sha256sum | cut -c1-64)\""
has "  and the current quote revision" "$tmp/out" '"quote":1'
ok "  the token itself is nowhere in the data directory" test -z "$(grep -rlF -- "$tok" "$inst" 2>/dev/null)"
ok "lead: a project link" ctl "$inst" lead link create -p pr-a --project --to "Ms A"
ok "link list" ctl "$inst" lead link list -p pr-a --csv
has "  LNK-1 open" "$tmp/out" "pr-a,LNK-1,change,CR-1,1,Ms A,$seq,"
has "  LNK-2 for the project" "$tmp/out" ",LNK-2,project,,,Ms A,"

forged='{"change":"CR-1","quote":1,"decision":"approved","respondent":"Ms A","channel":"portal","link":"LNK-1","address":"192.0.2.1","user_agent":"x","page_sha256":"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef","page_lang":"en"}'
exits 4 "a lead forging a portal answer is refused" ctl "$inst" lead append --project pr-a --kind response --body-json "$forged"
has "  saying only the portal records it" "$tmp/err" "recorded only by scoped's client portal"
exits 4 "so is the client" ctl "$inst" client append --project pr-a --kind response --body-json "$forged"
has "  with the same reason" "$tmp/err" "recorded only by scoped's client portal"

ok "a new quote revision" ctl "$inst" lead change quote -p pr-a CR-1 --fee 180000 --effort-hours 14
ok "lead: revokes LNK-2" ctl "$inst" lead link revoke -p pr-a LNK-2 --reason "sent to the wrong address"
exits 4 "revoked twice" ctl "$inst" lead link revoke -p pr-a LNK-2
has "  says so" "$tmp/err" "LNK-2 is already revoked"
ok "link list" ctl "$inst" lead link list -p pr-a
has "  LNK-1 superseded by the new revision" "$tmp/out" "LNK-1    change    CR-1       1 superseded"
has "  LNK-2 revoked" "$tmp/out" "LNK-2    project                revoked"
has "  the counts" "$tmp/out" "0 open, 0 used, 0 expired, 1 revoked, 1 superseded"
ok "the auditor re-derives report links" ctl "$inst" auditor report links --project pr-a --verify
stop_daemon
ok "the derived state rebuilds identically" "$SCOPED" reindex -c "$inst/scoped.conf"
has "  identical" "$tmp/out" "(identical)"
finish
