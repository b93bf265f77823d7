#!/usr/bin/env bash
# Links that end, on the portal (PROTOCOL.md section 11, "Revoked and
# expired links"), over curl against a real scoped (scoped-testclock, moved
# two hours ahead for the expiries): a revoked item link, used or not, and a
# revoked project link are 410 on the page, the documents and the POST, in
# the reader's language and with nothing of the record, but the receipt of
# an answer given through one stays downloadable; an expired project link is
# 410 the same way; an expired item link still shows its item without the
# form, saying it expired unanswered.  With a signatory register an answer
# gives the register's title, byte for byte, and a link whose signatory left
# the register shows no form.  A request for a revised quote needs a reason.
set -u
. "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || { echo "1..0 # SKIP curl is not installed (deploy/install-deps.sh --test)"; exit 0; }
[ -x "${SCOPED_TESTCLOCK:-}" ] || { echo "Bail out! no scoped-testclock (set SCOPED_TESTCLOCK)"; exit 1; }
SCOPED=$(readlink -f "$SCOPED_TESTCLOCK")

inst=$tmp/inst
"$SCOPED" init "$inst" --origin test.example/portal >/dev/null || { echo "Bail out! init"; exit 1; }
for r in lead approver finance auditor admin client; do echo "cn:$r $r *"; done > "$inst/roles.conf"
printf '%s\n' "portal_listen = 127.0.0.1:0" "portal_rate_per_min = 1000" >> "$inst/scoped.conf"
start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }
portal() { base=https://127.0.0.1:$(sed -n 's/.*portal listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/scoped.log" | tail -n 1); }
portal
rec() { ctl "$inst" "$@" >"$tmp/out" 2>"$tmp/err" || { echo "Bail out! $*"; cat "$tmp/err" >&2; exit 1; }; }
link() {	# link VAR ARGS...: a link's token into VAR
	local var=$1; shift
	rec lead link create "$@"
	local url; url=$(grep '^https://' "$tmp/out")
	printf -v "$var" '%s' "${url##*/l/}"
}
quoted() {	# quoted TITLE CR-N: a change raised, assessed and quoted with the estimate
	rec lead change raise -p "$P" "$1" --by "C manager" --via email --reason client_request
	rec approver change assess -p "$P" "$2" --class out_of_scope --rationale "new work"
	rec lead change quote -p "$P" "$2" --fee 100000 --effort-hours 5 --doc "$tmp/estimate.txt" --upload
}
c() { curl -sk -A "portal-test/1 (curl)" "$@"; }
size() { ctl "$inst" auditor checkpoint | sed -n '2p'; }
open_form() {	# open_form TOKEN JAR: GET the page, its form's csrf and shown into $csrf, $shown
	c -b "$2" -c "$2" -o "$tmp/form.html" "$base/l/$1"
	csrf=$(field "$tmp/form.html" csrf)
	shown=$(field "$tmp/form.html" shown)
}
post() {	# post TOKEN JAR HEADERS OUT FORM...
	local t=$1 jar=$2 h=$3 o=$4; shift 4
	c -D "$h" -o "$o" -b "$jar" -H "Origin: $base" --data "$*" "$base/l/$t"
}
gone() {	# gone DESCRIPTION FILE_HEADERS FILE_BODY TEXT: a 410 saying TEXT, nothing of the record
	is "$1: 410" "$(status "$2")" 410
	has "  saying why" "$3" "$4"
	is "  nothing of the project" "$(grep -c 'C site' "$3")" 0
	is "  nothing of the change" "$(grep -c 'A sixth page' "$3")" 0
	is "  no form" "$(grep -c '<form' "$3")" 0
}

P=pr-e
rec lead project create pr-e --client "C Corp" --title "C site" --currency JPY --amount 3000000
echo "estimate: a sixth page, 100000 JPY" > "$tmp/estimate.txt"
est=$(sha256sum "$tmp/estimate.txt" | cut -d' ' -f1)
rec lead baseline add -p pr-e --item R1="Five pages"
quoted "A sixth page" CR-1
quoted "A seventh page" CR-2
quoted "An eighth page" CR-3
quoted "A ninth page" CR-4

# ---- an item link used, then revoked: its receipt stays ----
link t1 -p pr-e --change CR-1 --to Kimura
open_form "$t1" "$tmp/j1"
post "$t1" "$tmp/j1" "$tmp/h1" "$tmp/b1" "decision=approved&csrf=$csrf&shown=$shown"
is "LNK-1 answered" "$(status "$tmp/h1")" 200
ok "LNK-1 revoked" ctl "$inst" lead link revoke -p pr-e LNK-1 --reason "sent to the wrong address"
c -D "$tmp/h2" -o "$tmp/b2" -H "Accept-Language: ja" "$base/l/$t1"
gone "the used, revoked link's page" "$tmp/h2" "$tmp/b2" "このリンクは担当者により無効にされました"
has "  in Japanese, the reader's language" "$tmp/b2" '<html lang="ja"'
has "  with the portal's headers" "$tmp/h2" "Cache-Control: no-store"
c -D "$tmp/h3" -o "$tmp/b3" "$base/l/$t1/doc/$est"
gone "  its item's document" "$tmp/h3" "$tmp/b3" "The vendor has revoked this link"
c -D "$tmp/h4" -o "$tmp/r1.json" "$base/l/$t1/receipt"
is "  the receipt of its answer still downloads" "$(status "$tmp/h4")" 200
ok "  and verifies" "$SCOPECTL" verify --receipt "$tmp/r1.json" --trust "$inst/keys/verifier.txt"

# ---- an item link revoked while its form is open ----
link t2 -p pr-e --change CR-2 --to Kimura
open_form "$t2" "$tmp/j2"
is "LNK-2's page has the form" "${#csrf}" 64
ok "LNK-2 revoked" ctl "$inst" lead link revoke -p pr-e LNK-2
before=$(size)
post "$t2" "$tmp/j2" "$tmp/h5" "$tmp/b5" "decision=approved&csrf=$csrf&shown=$shown&lang=en"
gone "  the form sent after the revocation" "$tmp/h5" "$tmp/b5" "The vendor has revoked this link"
is "  recording nothing" "$(size)" "$before"
c -D "$tmp/h6" -o "$tmp/b6" "$base/l/$t2"
gone "  its page" "$tmp/h6" "$tmp/b6" "The vendor has revoked this link"
c -D "$tmp/h7" -o "$tmp/b7" "$base/l/$t2/receipt"
gone "  its receipt, nothing having been answered" "$tmp/h7" "$tmp/b7" "The vendor has revoked this link"
c -D "$tmp/h8" -o "$tmp/b8" "$base/l/$t2/doc/$est"
gone "  its document" "$tmp/h8" "$tmp/b8" "The vendor has revoked this link"

# ---- a project link revoked ----
link t3 -p pr-e --project --to Kimura
c -D "$tmp/h9" -o "$tmp/b9" "$base/l/$t3"
is "the project link's page is 200" "$(status "$tmp/h9")" 200
has "  with the record" "$tmp/b9" "A sixth page"
ok "LNK-3 revoked" ctl "$inst" lead link revoke -p pr-e LNK-3
c -D "$tmp/h10" -o "$tmp/b10" "$base/l/$t3?lang=ja"
gone "  then its page" "$tmp/h10" "$tmp/b10" "このリンクは担当者により無効にされました"
c -D "$tmp/h11" -o "$tmp/b11" "$base/l/$t3/doc/$est"
gone "  and its documents" "$tmp/h11" "$tmp/b11" "The vendor has revoked this link"

# ---- a request for a revised quote needs a reason ----
link t6 -p pr-e --change CR-4 --to Kimura
open_form "$t6" "$tmp/j6"
post "$t6" "$tmp/j6" "$tmp/h12" "$tmp/b12" "decision=revise&csrf=$csrf&shown=$shown"
is "a revision asked without a reason is refused by the rules: 422" "$(status "$tmp/h12")" 422
has "  asking what to revise" "$tmp/b12" "a request for a revised quote needs a reason: what to revise"
post "$t6" "$tmp/j6" "$tmp/h13" "$tmp/b13" "decision=revise&reason=fewer+hours&csrf=$csrf&shown=$shown"
is "  with one it is recorded" "$(status "$tmp/h13")" 200

# ---- expiry: a project link and an item link for an hour ----
link t4 -p pr-e --project --to Kimura --expires 1h
link t5 -p pr-e --change CR-3 --to Kimura --expires 1h
open_form "$t5" "$tmp/j5"
is "an item link for an hour has the form" "${#csrf}" 64
ok "scoped stops" stop_daemon
export SCOPED_TEST_CLOCK_OFFSET_S=7200
start_daemon "$inst" || { echo "Bail out! no daemon two hours ahead"; exit 1; }
unset SCOPED_TEST_CLOCK_OFFSET_S
portal
c -D "$tmp/h14" -o "$tmp/b14" "$base/l/$t4"
gone "two hours later the project link's page" "$tmp/h14" "$tmp/b14" "This read-only link has expired"
c -D "$tmp/h15" -o "$tmp/b15" -H "Accept-Language: ja" "$base/l/$t4/doc/$est"
gone "  and its documents" "$tmp/h15" "$tmp/b15" "この閲覧用リンクの有効期限が切れました"
c -D "$tmp/h16" -o "$tmp/b16" "$base/l/$t5"
is "the expired item link's page is 200" "$(status "$tmp/h16")" 200
has "  showing its item" "$tmp/b16" "An eighth page"
has "  saying it expired unanswered" "$tmp/b16" "This link has expired unanswered"
is "  without the form" "$(grep -c '<form' "$tmp/b16")" 0
c -D "$tmp/h17" -o /dev/null "$base/l/$t5/doc/$est"
is "  its item's document still downloads" "$(status "$tmp/h17")" 200
before=$(size)
post "$t5" "$tmp/j5" "$tmp/h18" "$tmp/b18" "decision=approved&csrf=$csrf&shown=$shown"
exits 1 "  the form sent after the expiry is not recorded" grep -q '^HTTP/[0-9.]* 200' "$tmp/h18"
is "  nothing in the ledger" "$(size)" "$before"

# ---- a signatory register: the title as it has it, and a signatory who left ----
P=pr-s
rec lead project create pr-s --client "S Corp" --title "S site" --currency JPY --amount 1000000
rec lead baseline add -p pr-s --item R1="Two pages"
rec lead signatory add -p pr-s "Sato" --title "Manager"
quoted "A third page" CR-1
quoted "A fourth page" CR-2
link s1 -p pr-s --change CR-1 --to Sato
open_form "$s1" "$tmp/js"
is "the form prefills the signatory's title" "$(field "$tmp/form.html" respondent_title)" Manager
post "$s1" "$tmp/js" "$tmp/h19" "$tmp/b19" "decision=approved&respondent=Sato&respondent_title=Boss&csrf=$csrf&shown=$shown"
is "another title is refused by the rules: 422" "$(status "$tmp/h19")" 422
has "  naming the register's" "$tmp/b19" "whose title on project pr-s&#39;s signatory register is &quot;Manager&quot;"
post "$s1" "$tmp/js" "$tmp/h20" "$tmp/b20" "decision=approved&respondent=Sato&respondent_title=Manager&csrf=$csrf&shown=$shown"
is "  the register's title is recorded" "$(status "$tmp/h20")" 200
link s2 -p pr-s --change CR-2 --to Sato
rec lead signatory remove -p pr-s "Sato" --reason "left the client"
c -D "$tmp/h21" -o "$tmp/b21" "$base/l/$s2"
is "the link of a signatory who left the register: 200" "$(status "$tmp/h21")" 200
has "  saying so" "$tmp/b21" "is no longer on the client"
is "  without the form" "$(grep -c '<form' "$tmp/b21")" 0
rec admin info --json
cp "$tmp/out" "$tmp/info.json"
ok "info counts the 410s as refusals (gone)" python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))["stats"]["portal"]["refused"]["gone"] < 1)' "$tmp/info.json"
ok "scoped stops cleanly on SIGTERM" stop_daemon
finish
