#!/usr/bin/env bash
# Every kind of answer through the portal (PROTOCOL.md section 11) over curl
# against a real scoped with portal_listen: a quote revision sent back for
# revision, a notice disputed with its reason, one delivery passed and
# another failed with what fails, a baseline approved, an amendment approved.
# Each recorded entry is read back with scopectl: its link, the name and
# title typed, channel portal, the browser's address and user agent, the
# page's language and SHA-256, not on the client's behalf; each receipt
# downloads and verifies offline with its page.  Then the project's
# read-only page: every quote revision of the change with its own answers,
# the same bytes after scoped reindex, which verifies.
set -u
. "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || { echo "1..0 # SKIP curl is not installed (deploy/install-deps.sh --test)"; exit 0; }

inst=$tmp/inst
"$SCOPED" init "$inst" --origin test.example/portal-answers >/dev/null || { echo "Bail out! init"; exit 1; }
for r in lead approver finance auditor admin client; do echo "cn:$r $r *"; done > "$inst/roles.conf"
printf '%s\n' "portal_listen = 127.0.0.1:0" "portal_rate_per_min = 1000" >> "$inst/scoped.conf"
start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }
portal_port() { sed -n 's/.*portal listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/scoped.log" | tail -n 1; }
base=https://127.0.0.1:$(portal_port)
rec() { ctl "$inst" "$@" >"$tmp/out" 2>"$tmp/err" || { echo "Bail out! $*"; cat "$tmp/err" >&2; exit 1; }; }
link() {	# link ARGS...: a link's token into $tok
	rec lead link create -p pr-a "$@"
	tok=$(grep '^https://' "$tmp/out" | sed 's|.*/l/||')
}

rec lead project create pr-a --client "A Corp" --title "A site" --currency JPY --amount 3000000 --acceptance-days 10
rec lead baseline add -p pr-a --item R1="Five pages" --item R2="A contact form"
rec lead change raise -p pr-a "A gallery" --by "A manager" --via email --reason client_request
rec approver change assess -p pr-a CR-1 --class out_of_scope --rationale "a new page"
rec lead change quote -p pr-a CR-1 --fee 200000 --tax 20000 --effort-hours 10 --schedule-days 5
rec lead notice -p pr-a --type delay_risk --text "The hosting contract is late." --schedule-days 7
rec lead delivery -p pr-a --deliverable "The top page" --items R1
rec lead delivery -p pr-a --deliverable "The contact form" --items R2

c() { curl -sk -A "answers-test/2 (curl)" -b "$tmp/jar" -c "$tmp/jar" "$@"; }
last_seq() { rec admin info --json; python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tree_size"] - 1)' "$tmp/out"; }
# answer NAME LANG DATA: the page of $tok read in LANG, answered with DATA
# (urlencoded decision, reason...), as "Ms. Sato", "Buyer"; the entry it
# recorded in $tmp/NAME.json, the page's SHA-256 in $shown
answer() {
	local name=$1 lang=$2 data=$3 before
	c -H "Accept-Language: $lang" -o "$tmp/$name.html" "$base/l/$tok"
	local csrf; csrf=$(field "$tmp/$name.html" csrf)
	shown=$(field "$tmp/$name.html" shown)
	before=$(last_seq)
	c -D "$tmp/$name.h" -o "$tmp/$name.receipt.html" -H "Origin: $base" \
		--data "$data&respondent=Ms.+Sato&respondent_title=Buyer&csrf=$csrf&shown=$shown&lang=$lang" "$base/l/$tok"
	is "$name: the answer is 200" "$(status "$tmp/$name.h")" 200
	local seq; seq=$(last_seq)
	is "  one entry recorded" "$seq" "$((before + 1))"
	rec lead get "$seq" --json
	cp "$tmp/out" "$tmp/$name.json"
	c -D "$tmp/$name.rh" -o "$tmp/$name.r.json" "$base/l/$tok/receipt"
	is "  its receipt downloads" "$(status "$tmp/$name.rh")" 200
	ok "  and verifies offline, with the page shown" "$SCOPECTL" verify --receipt "$tmp/$name.r.json" --trust "$inst/keys/verifier.txt"
	has "  the page checked against the entry's page_sha256" "$tmp/out" "page_sha256"
}
# facts NAME KEYS...: the entry's kind, then each body field asked for, one line
facts() { python3 - "$tmp/$1.json" "${@:2}" <<'PY'
import json, sys
e = json.load(open(sys.argv[1])); e = e.get("entry", e)
print(" ".join([e["kind"]] + [str(e["body"].get(k)) for k in sys.argv[2:]]))
PY
}
common() {	# common NAME LNK LANG: the fields every portal answer records
	is "  recorded with link, name, title, channel, address, user agent, language, not on the client's behalf" \
		"$(facts "$1" link respondent respondent_title channel address user_agent page_lang on_behalf)" \
		"$4 $2 Ms. Sato Buyer portal 127.0.0.1 answers-test/2 (curl) $3 False"
	is "  with the SHA-256 of the page shown" "$(facts "$1" page_sha256)" "$4 $shown"
}

# ---- a quote revision sent back, then the next one ----
link --change CR-1 --to "Ms. Sato"
answer revise en "decision=revise&reason=Fewer+photos%2C+a+lower+fee"
common revise LNK-1 en response
is "  the change, its quote revision, the decision and reason" "$(facts revise change quote decision reason)" \
	"response CR-1 1 revise Fewer photos, a lower fee"
rec lead change quote -p pr-a CR-1 --fee 150000 --tax 15000 --effort-hours 8 --schedule-days 4
link --change CR-1 --to "Ms. Sato"
answer approve ja "decision=approved"
common approve LNK-2 ja response
is "  the change's revision 2 approved" "$(facts approve change quote decision)" "response CR-1 2 approved"

# ---- a notice disputed ----
link --notice NTC-1 --to "Ms. Sato"
answer dispute en "decision=disputed&reason=The+hosting+was+ours+to+choose"
common dispute LNK-3 en response
is "  the notice, disputed, with the reason" "$(facts dispute notice decision reason)" \
	"response NTC-1 disputed The hosting was ours to choose"
rec lead report notices --project pr-a --csv
has "  the notice is disputed" "$tmp/out" "NTC-1,delay_risk"
is "  its state disputed" "$(grep -c 'NTC-1,.*,disputed' "$tmp/out")" 1

# ---- deliveries: one passed, one failed ----
link --delivery DLV-1 --to "Ms. Sato"
answer pass ja "decision=passed"
common pass LNK-4 ja accept
is "  DLV-1 passed" "$(facts pass delivery outcome)" "accept DLV-1 passed"
link --delivery DLV-2 --to "Ms. Sato"
c -H "Accept-Language: en" -o "$tmp/short.html" "$base/l/$tok"
c -D "$tmp/short.h" -o /dev/null -H "Origin: $base" \
	--data "decision=failed&reason=Broken&respondent=Ms.+Sato&csrf=$(field "$tmp/short.html" csrf)&shown=$(field "$tmp/short.html" shown)&lang=en" "$base/l/$tok"
is "a failure without saying what fails (under 30 characters) is refused: 422" "$(status "$tmp/short.h")" 422
answer fail en "decision=failed&reason=The+form+sends+nothing%3A+no+message+reaches+the+inbox+at+all."
common fail LNK-5 en accept
is "  DLV-2 failed, with what fails" "$(facts fail delivery outcome reason)" \
	"accept DLV-2 failed The form sends nothing: no message reaches the inbox at all."

# ---- the baseline approved ----
link --baseline 1 --to "Ms. Sato"
answer baseline en "decision=approved"
common baseline LNK-6 en response
is "  baseline version 1 approved" "$(facts baseline baseline decision)" "response 1 approved"
rec lead status pr-a --json
has "  the baseline is confirmed" "$tmp/out" '"baseline_confirmed":true'

# ---- an amendment approved ----
rec lead amendment -p pr-a --changes CR-1 --title "Gallery amendment"
link --amendment AMD-1 --to "Ms. Sato"
answer amendment ja "decision=approved"
common amendment LNK-7 ja response
is "  AMD-1 approved" "$(facts amendment amendment decision)" "response AMD-1 approved"

rec lead link list -p pr-a --csv
is "every link answered once is used" "$(cut -d, -f10 "$tmp/out" | grep -c '^used$')" 7

# ---- the project's page: every revision with its own answers ----
link --project --to "Ms. Sato"
ptok=$tok
c -H "Accept-Language: en" -o "$tmp/project.html" "$base/l/$ptok"
python3 - "$tmp/project.html" > "$tmp/project.txt" <<'PY'
import html, re, sys
s = open(sys.argv[1], encoding="utf-8").read()
s = s[s.index("<h4>Quote revision 1</h4>"):]
s = s[:s.index("</section>\n</section>")]
t = re.sub(r"<[^>]+>", " ", s)
print(" ".join(html.unescape(t).split()))
PY
has "the project page lists revision 1 with its total" "$tmp/project.txt" "Quote revision 1 This revision was replaced by revision 2. Fee (before tax) 200,000 JPY Tax 20,000 JPY Total (with tax) 220,000 JPY"
has "  revision 1's answer: a revision asked for, by whom, through the portal, the client's own" "$tmp/project.txt" \
	"Answer a revised quote asked for For quote revision 1 Answered by Ms. Sato (Buyer)"
has "  its reason" "$tmp/project.txt" "Fewer photos, a lower fee"
has "  then revision 2 with its total" "$tmp/project.txt" "Quote revision 2 Fee (before tax) 150,000 JPY Tax 15,000 JPY Total (with tax) 165,000 JPY"
has "  and its approval" "$tmp/project.txt" "Answer approved For quote revision 2 Answered by Ms. Sato (Buyer)"
has "  each through the portal, the client's own" "$tmp/project.txt" \
	"Answered by way of this page (the client portal) (the client's own answer) Entry number 12"
ok "scoped stops cleanly on SIGTERM" stop_daemon
ok "scoped reindex rebuilds the state, the quote revisions with it" "$SCOPED" reindex -c "$inst/scoped.conf"
ok "  which verifies" "$SCOPED" verify -c "$inst/scoped.conf"
start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }
base=https://127.0.0.1:$(portal_port)
c -H "Accept-Language: en" -o "$tmp/project2.html" "$base/l/$ptok"
ok "  the project page is the same bytes after it" cmp "$tmp/project.html" "$tmp/project2.html"
ok "scoped stops cleanly on SIGTERM" stop_daemon
finish
