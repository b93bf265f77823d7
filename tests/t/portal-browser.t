#!/usr/bin/env bash
# The client portal in headless Chromium (tests/t/portal-browser.js), one
# browser for the whole test, against a real scoped with portal_listen: a
# quote's page read in Japanese and English (fee, tax, total; the Japanese
# font really used), approved, its receipt downloaded and verified offline
# with the page shown; a rejection without a reason refused and shown again,
# then recorded with one; a used link, a superseded link, an expired link
# (a copy of the instance under scoped-testclock, 2 hours ahead), a forged
# token and a cross-site form post refused, nothing recorded; a notice
# acknowledged and a delivery failed through their links; the read-only
# project page with every quote revision and its answers; no horizontal
# scroll on a phone.  Screenshots of every page are kept in $PORTAL_SHOTS
# (ctest sets it to build/tests/portal-shots; by hand it defaults to the
# same), replaced on each run.  Skipped when chromium or playwright-core is
# missing (deploy/install-deps.sh --test installs both).
set -u
. "$(dirname "$0")/lib.sh"

if [ ! -x /usr/bin/chromium ] || [ ! -d "$here/../node_modules/playwright-core" ] || ! command -v node >/dev/null; then
	echo "1..0 # SKIP chromium, node or playwright-core not installed (deploy/install-deps.sh --test)"
	exit 0
fi
[ -x "${SCOPED_TESTCLOCK:-}" ] || { echo "Bail out! no scoped-testclock (set SCOPED_TESTCLOCK)"; exit 1; }

inst=$tmp/inst
"$SCOPED" init "$inst" --origin test.example/portal-browser >/dev/null || { echo "Bail out! init"; exit 1; }
for r in lead approver finance auditor admin client; do echo "cn:$r $r *"; done > "$inst/roles.conf"
printf '%s\n' "portal_listen = 127.0.0.1:0" "portal_rate_per_min = 1000" >> "$inst/scoped.conf"
start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }
portal_port() { sed -n 's/.*portal listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$1" | tail -n 1; }
base=https://127.0.0.1:$(portal_port "$tmp/scoped.log")
rec() { ctl "$inst" "$@" >"$tmp/out" 2>"$tmp/err" || { echo "Bail out! $*"; cat "$tmp/err" >&2; exit 1; }; }
links=$tmp/links
: > "$links"
link() {	# link NAME ARGS...: a link, its URL kept under NAME for the browser
	local name=$1; shift
	rec lead link create -p pr-web "$@"
	echo "$name $(grep '^https://' "$tmp/out")" >> "$links"
}

echo "サイト仕様書 第1版" > "$tmp/spec.txt"
echo "見積書: 採用ページの追加" > "$tmp/estimate.txt"
rec lead project create pr-web --client "株式会社サンプル商事" --title "コーポレートサイト リニューアル" \
	--currency JPY --amount 3000000 --type fixed --acceptance-days 10
rec lead baseline add -p pr-web --item R1="トップページ" --item R2="会社概要ページ" --item R3="お問い合わせフォーム" --doc "$tmp/spec.txt" --upload
rec client respond -p pr-web --baseline 1 --decision approved --by "木村" --via email
change() {	# change TITLE ITEMS FEE: a change raised, assessed out of scope and quoted
	rec client change raise -p pr-web "$1" --by "木村" --via email --reason client_request --items "$2"
	local cr; cr=$(sed -n 's/.*recorded change \(CR-[0-9]*\).*/\1/p' "$tmp/out")
	rec approver change assess -p pr-web "$cr" --class out_of_scope --rationale "合意項目 $2 に含まれない新しいページです"
	rec lead change quote -p pr-web "$cr" --fee "$3" --effort-hours 16 --schedule-days 5 --tax $(($3 / 10)) --valid-until 2099-12-31 --doc "$tmp/estimate.txt" --upload
}
change "採用ページの追加" R2 200000		# CR-1: approved in the browser
link approve --change CR-1 --to "木村"
change "英語版トップページ" R1 350000		# CR-2: rejected, first without a reason
link reject --change CR-2 --to "木村"
change "お問い合わせフォームの項目追加" R3 80000	# CR-3: a revision asked for, quoted again
link old --change CR-3 --to "木村"
rec client respond -p pr-web --change CR-3 --quote 1 --decision revise --reason "項目は3つまでに絞ってください。" --by "木村" --via meeting
rec lead change quote -p pr-web CR-3 --fee 60000 --effort-hours 6
link cross --change CR-3 --to "木村"
change "ニュース一覧ページ" R1 120000		# CR-4: its link expires in an hour
link expired --change CR-4 --to "木村" --expires 1h
rec lead notice -p pr-web --type delay_risk --text "CMSの提供元からの部品の納入が遅れています。" --schedule-days 7 --respond-by 2099-01-31
link notice --notice NTC-1 --to "木村"
rec lead delivery -p pr-web --deliverable "第1回納品：トップページ" --items R1
link delivery --delivery DLV-1 --to "木村"
link project --project --to "木村"
echo "forged $base/l/$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')" >> "$links"
size() { ctl "$inst" auditor checkpoint | sed -n '2p'; }
before=$(size)

# The expired link: a copy of the instance under a clock 2 hours ahead.
stop_daemon || { echo "Bail out! stop"; exit 1; }
cp -a "$inst" "$tmp/ahead"
SCOPED_TEST_CLOCK_OFFSET_S=7200 "$SCOPED_TESTCLOCK" -c "$tmp/ahead/scoped.conf" --listen 127.0.0.1:0 2>"$tmp/ahead.log" &
ahead_pid=$!
start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }
for _ in $(seq 1 100); do [ -n "$(portal_port "$tmp/ahead.log")" ] && break; sleep 0.05; done
ahead=https://127.0.0.1:$(portal_port "$tmp/ahead.log")
base=https://127.0.0.1:$(portal_port "$tmp/scoped.log")
sed -i "s|https://127\.0\.0\.1:[0-9]*/|$base/|; s|^expired $base|expired $ahead|" "$links"
spki=$(openssl x509 -in "$inst/tls/server.crt" -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)

# The browser: each check it makes is one line, "ok|DESCRIPTION" or "not ok|DESCRIPTION|WHY".
shots=$tmp/shots
mkdir -p "$shots"
node "$here/portal-browser.js" "$links" "$shots" "$spki" > "$tmp/browser.out" 2> "$tmp/browser.err"
rc=$?
while IFS='|' read -r res desc why; do
	n=$((n + 1))
	if [ "$res" = ok ]; then echo "ok $n - $desc"
	else failed=$((failed + 1)); echo "not ok $n - $desc"; echo "#   $why"; fi
done < "$tmp/browser.out"
is "the browser's script ran to its end" "$rc" 0
[ "$rc" -eq 0 ] || sed 's/^/#   /' "$tmp/browser.err" | head -20
kill "$ahead_pid" 2>/dev/null; wait "$ahead_pid" 2>/dev/null
keep=${PORTAL_SHOTS:-$here/../../build/tests/portal-shots}
mkdir -p "$keep" && rm -f "$keep"/*.png && cp "$shots"/*.png "$keep"/
ok "the screenshots are kept in $keep" test -s "$keep/project-revisions.png"

# ---- what the ledger holds now ----
ok "the downloaded receipt verifies offline" "$SCOPECTL" verify --receipt "$shots/receipt-approve.json" --trust "$inst/keys/verifier.txt"
has "  and says the page shown matches the entry" "$tmp/out" "page_sha256"
rec lead link list -p pr-web --csv
cp "$tmp/out" "$tmp/list.csv"
state() { grep ",$1," "$tmp/list.csv" | python3 -c 'import csv,sys; r=next(csv.reader(sys.stdin)); print(r[9])'; }
is "LNK-1 (approved) is used" "$(state LNK-1)" used
is "LNK-2 (rejected, once) is used" "$(state LNK-2)" used
is "LNK-3 (the old revision) is superseded" "$(state LNK-3)" superseded
is "LNK-4 (the cross-site post) is still open" "$(state LNK-4)" open
is "LNK-6 (the notice) is used" "$(state LNK-6)" used
is "LNK-7 (the delivery) is used" "$(state LNK-7)" used
is "exactly four answers were recorded (approve, reject, notice, delivery)" "$(( $(size) - before ))" 4
rec auditor history pr-web --json
cp "$tmp/out" "$tmp/history.json"
python3 - "$tmp/history.json" > "$tmp/answers" <<'PY'
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    if not line.startswith("{"):
        continue
    e = json.loads(line)
    b = e.get("body", {})
    if b.get("channel") == "portal":
        item = b.get("change") or b.get("notice") or b.get("delivery")
        print(e["kind"], item, b.get("decision") or b.get("outcome"), b["link"], b["page_lang"], b.get("on_behalf"), bool(b.get("reason")))
PY
is "the portal's answers, each the client's own, with the link and the page's language" "$(cat "$tmp/answers")" \
"response CR-1 approved LNK-1 en False False
response CR-2 rejected LNK-2 ja False True
response NTC-1 acknowledged LNK-6 ja False False
accept DLV-1 failed LNK-7 ja False True"
page=$(python3 - "$tmp/history.json" <<'PY'
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    if line.startswith("{") and json.loads(line)["body"].get("link") == "LNK-1":
        print(json.loads(line)["body"]["page_sha256"])
PY
)
ok "the dossier of the project" ctl "$inst" auditor dossier pr-web --all -o "$tmp/d"
is "  holds the page shown for LNK-1's answer as files/PAGE_SHA256" "$(sha256sum < "$tmp/d/files/$page" 2>/dev/null | cut -c1-64)" "$page"
has "  the page is what the browser's receipt carried" "$tmp/d/files/$page" "<main"
has "  its story says the answer came through the portal, from where, with which page" "$tmp/d/index.html" \
	"the client&#39;s answer through the portal, link LNK-1, from address 127.0.0.1, browser "
has "  naming the page's file" "$tmp/d/index.html" "the page shown: files/$page"
ok "verify --dossier checks the page's file like any other" "$SCOPECTL" verify --dossier "$tmp/d" --trust "$inst/keys/verifier.txt"
printf x >> "$tmp/d/files/$page"
exits 1 "  and fails when it was altered" "$SCOPECTL" verify --dossier "$tmp/d" --trust "$inst/keys/verifier.txt"
ok "change show CR-1" ctl "$inst" lead change show -p pr-web CR-1
has "  shows the portal's link" "$tmp/out" "LNK-1"
has "  and the browser's address" "$tmp/out" "127.0.0.1"
ok "scoped stops cleanly on SIGTERM" stop_daemon
finish
