#!/usr/bin/env bash
# A dossier's index.html in headless Chromium: it renders, has its sections
# and Japanese text, makes no request beyond file://, and prints to A4 PDF
# (tests/t/dossier-browser.js).  Skipped when chromium or playwright-core is
# missing (deploy/install-deps.sh --test installs both).
set -u
. "$(dirname "$0")/lib.sh"

if [ ! -x /usr/bin/chromium ] || [ ! -d "$here/../node_modules/playwright-core" ] || ! command -v node >/dev/null; then
	echo "1..0 # SKIP chromium, node or playwright-core not installed (deploy/install-deps.sh --test)"
	exit 0
fi
inst=$tmp/inst
"$SCOPED" init "$inst" --origin test.example/browser --client-project pr-site >/dev/null || { echo "Bail out! init"; exit 1; }
start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }
echo "requirement definition v1" > "$tmp/req.txt"
ok "project" ctl "$inst" lead project create pr-site --client "C株式会社" --title "PRサイト制作 <web>" --currency JPY --amount 3000000 --type fixed
ok "baseline" ctl "$inst" lead baseline add -p pr-site --item R1="参考サイトAに沿ったデザイン" --doc "$tmp/req.txt"
ok "confirmed" ctl "$inst" client respond -p pr-site --baseline 1 --decision approved --by "C manager" --via email
ok "a change" ctl "$inst" client change raise -p pr-site "サイトBに沿った再デザイン" --by "C manager" --via meeting --reason client_request
ok "dossier" ctl "$inst" auditor dossier pr-site --all -o "$tmp/d"
ok "index.html renders in Chromium, no external requests, prints to A4" node "$here/dossier-browser.js" "$tmp/d" "$tmp/d.pdf"
[ "$(head -c 5 "$tmp/d.pdf")" = "%PDF-" ]; is "  the PDF is a PDF" $? 0
[ -n "${DOSSIER_PDF:-}" ] && cp "$tmp/d.pdf" "$DOSSIER_PDF"
stop_daemon
finish
