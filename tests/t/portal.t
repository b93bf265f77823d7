#!/usr/bin/env bash
# The client portal (PROTOCOL.md section 11) over curl against a real scoped
# with portal_listen: the strict headers on every route, CSRF refusals, forged
# and malformed tokens, a body too large, an answer through a link recorded
# as the client's own with its address and browser, the receipt downloaded and
# verified offline, a used link showing no form, and the rate limit; the
# refusals counted by cause in info; behind portal_proxy, in Japanese, answers
# refused by the schema and the rules and one recorded; connections held open.
set -u
. "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || { echo "1..0 # SKIP curl is not installed (deploy/install-deps.sh --test)"; exit 0; }

inst=$tmp/inst
"$SCOPED" init "$inst" --origin test.example/portal >/dev/null || { echo "Bail out! init"; exit 1; }
for r in lead approver finance auditor admin client; do echo "cn:$r $r *"; done > "$inst/roles.conf"
printf '%s\n' "portal_listen = 127.0.0.1:0" "portal_rate_per_min = 40" >> "$inst/scoped.conf"
start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }
PP=$(sed -n 's/.*portal listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/scoped.log" | tail -n 1)
base=https://127.0.0.1:$PP
rec() { ctl "$inst" "$@" >"$tmp/out" 2>"$tmp/err" || { echo "Bail out! $*"; cat "$tmp/err" >&2; exit 1; }; }
rec lead project create pr-p --client "C Corp" --title "C site" --currency JPY --amount 3000000
echo "the contract's specification" > "$tmp/spec.txt"
echo "estimate: a sixth page, 200000 JPY" > "$tmp/estimate.txt"
rec lead baseline add -p pr-p --item R1="Five pages" --doc "$tmp/spec.txt" --upload
rec lead change raise -p pr-p "A sixth page" --by "C manager" --via email --reason client_request
rec approver change assess -p pr-p CR-1 --class out_of_scope --rationale "a new page"
rec lead change quote -p pr-p CR-1 --fee 200000 --effort-hours 10 --doc "$tmp/estimate.txt" --upload

rec lead info --json
has "info's portal_url defaults to https:// and the portal's address" "$tmp/out" "\"portal_url\":\"$base\""
ok "a link for CR-1's quote" ctl "$inst" lead link create -p pr-p --change CR-1 --to Kimura
url=$(grep '^https://' "$tmp/out")
tok=${url#"$base"/l/}
is "  under the portal's URL" "$url" "$base/l/$tok"

c() { curl -sk -A "portal-test/1 (curl)" "$@"; }
headers_ok() {	# headers_ok FILE: the strict headers are all there
	grep -qi "^content-security-policy: default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'" "$1" &&
		grep -qi '^x-frame-options: DENY' "$1" && grep -qi '^referrer-policy: no-referrer' "$1" &&
		grep -qi '^strict-transport-security: max-age=31536000' "$1" && grep -qi '^x-content-type-options: nosniff' "$1"
}

# ---- the page ----
c -D "$tmp/h1" -c "$tmp/jar" -o "$tmp/page.html" "$base/l/$tok"
is "GET /l/TOKEN is 200" "$(status "$tmp/h1")" 200
ok "  with the strict headers" headers_ok "$tmp/h1"
has "  and no-store" "$tmp/h1" "Cache-Control: no-store"
has "  sets the CSRF cookie" "$tmp/h1" "__Host-sl="
has "  Secure, HttpOnly, SameSite=Strict" "$tmp/h1" "Secure; HttpOnly; SameSite=Strict; Path=/"
csrf=$(field "$tmp/page.html" csrf)
shown=$(field "$tmp/page.html" shown)
is "  the form carries a csrf field" "${#csrf}" 64
is "  and shown, the content's SHA-256" "${#shown}" 64

c -D "$tmp/h2" -o /dev/null "$base/static/portal.css"
is "GET /static/portal.css is 200" "$(status "$tmp/h2")" 200
ok "  with the strict headers" headers_ok "$tmp/h2"
exits 1 "  and may be cached" grep -qi '^cache-control: no-store' "$tmp/h2"

est=$(sha256sum "$tmp/estimate.txt" | cut -d' ' -f1)
spec=$(sha256sum "$tmp/spec.txt" | cut -d' ' -f1)
has "the page lists the quote's document by its SHA-256" "$tmp/page.html" "$est"
c -D "$tmp/hd" -o "$tmp/doc.bin" "$base/l/$tok/doc/$est"
is "GET /l/TOKEN/doc/SHA256 of the quote's document is 200" "$(status "$tmp/hd")" 200
ok "  with the strict headers" headers_ok "$tmp/hd"
has "  as an attachment" "$tmp/hd" "Content-Disposition: attachment"
has "  of application/octet-stream" "$tmp/hd" "Content-Type: application/octet-stream"
ok "  the stored bytes" cmp "$tmp/doc.bin" "$tmp/estimate.txt"
c -D "$tmp/hd2" -o /dev/null "$base/l/$tok/doc/$spec"
is "  a file the project holds but the item does not cite is 404" "$(status "$tmp/hd2")" 404

# ---- tokens ----
forged=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')
c -D "$tmp/h3" -o /dev/null "$base/l/$forged"
is "a forged token is 404" "$(status "$tmp/h3")" 404
ok "  with the strict headers" headers_ok "$tmp/h3"
c -D "$tmp/h4" -o /dev/null "$base/l/${tok:0:42}"
is "a short token is 404" "$(status "$tmp/h4")" 404
c -D "$tmp/h5" -o /dev/null "$base/l/${tok}A"
is "a long token is 404" "$(status "$tmp/h5")" 404
c -D "$tmp/h6" -o /dev/null -X DELETE "$base/l/$tok"
is "DELETE is 405" "$(status "$tmp/h6")" 405

# ---- CSRF ----
form="decision=approved&csrf=$csrf&shown=$shown"
c -D "$tmp/h7" -o /dev/null --data "$form" "$base/l/$tok"
is "a POST without the cookie is 403" "$(status "$tmp/h7")" 403
ok "  with the strict headers" headers_ok "$tmp/h7"
c -D "$tmp/h8" -o /dev/null -b "$tmp/jar" --data "decision=approved&respondent=Kimura&csrf=$(printf '%064d' 0)&shown=$shown" "$base/l/$tok"
is "a POST with a wrong csrf field is 403" "$(status "$tmp/h8")" 403
c -D "$tmp/h9" -o /dev/null -b "$tmp/jar" -H "Origin: https://evil.example" --data "$form" "$base/l/$tok"
is "a POST from a foreign Origin is 403" "$(status "$tmp/h9")" 403
c -D "$tmp/h9n" -o /dev/null -b "$tmp/jar" -H "Origin: null" --data "$form" "$base/l/$tok"
is "a POST with Origin null and no Sec-Fetch-Site is 403" "$(status "$tmp/h9n")" 403
c -D "$tmp/h9s" -o /dev/null -b "$tmp/jar" -H "Origin: $base" -H "Sec-Fetch-Site: cross-site" --data "$form" "$base/l/$tok"
is "a POST the browser says is cross-site is 403, whatever its Origin" "$(status "$tmp/h9s")" 403
c -D "$tmp/h10" -o /dev/null -b "$tmp/jar" --data "$form&decision=rejected" "$base/l/$tok"
is "a repeated field is 400" "$(status "$tmp/h10")" 400
c -D "$tmp/h11" -o /dev/null -b "$tmp/jar" --data "$form&evil=1" "$base/l/$tok"
is "an unknown field is 400" "$(status "$tmp/h11")" 400
head -c 20000 /dev/zero | tr '\0' a > "$tmp/big"
c -D "$tmp/h12" -o /dev/null -b "$tmp/jar" --data-binary "@$tmp/big" "$base/l/$tok"
is "a body past portal_max_body is 413" "$(status "$tmp/h12")" 413
c -D "$tmp/h13" -o /dev/null -b "$tmp/jar" --data "decision=approved&respondent=Kimura&csrf=$csrf&shown=$(printf '%064d' 0)" "$base/l/$tok"
is "an answer to another page than the one now is 409" "$(status "$tmp/h13")" 409

# ---- the answer ----
c -D "$tmp/h14" -o "$tmp/receipt.html" -b "$tmp/jar" -H "Origin: $base" --data "$form" "$base/l/$tok"
is "the answer is 200" "$(status "$tmp/h14")" 200
ok "  with the strict headers" headers_ok "$tmp/h14"
rec admin info --json
cp "$tmp/out" "$tmp/info.json"
seq=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tree_size"] - 1)' "$tmp/info.json")
rec lead get "$seq" --json
cp "$tmp/out" "$tmp/entry.json"
jq_() { python3 -c 'import json,sys; e=json.load(open(sys.argv[1])); e=e.get("entry", e); print(e["kind"] if sys.argv[2]=="kind" else e["body"].get(sys.argv[2]))' "$tmp/entry.json" "$1"; }
is "  recorded as a response" "$(jq_ kind)" response
is "  through the portal" "$(jq_ channel)" portal
is "  as the client's own answer" "$(jq_ on_behalf)" False
is "  with the link" "$(jq_ link)" LNK-1
is "  the browser's address" "$(jq_ address)" 127.0.0.1
is "  its user agent" "$(jq_ user_agent)" "portal-test/1 (curl)"
is "  and the SHA-256 of the page shown" "$(jq_ page_sha256)" "$shown"
is "  the decision" "$(jq_ decision)" approved
is "  in the language shown" "$(jq_ page_lang)" en
is "  answered by the one the link is for (the form sent no name: the link's to is recorded)" "$(jq_ respondent)" Kimura

c -D "$tmp/h15" -o "$tmp/r.json" "$base/l/$tok/receipt"
is "the receipt downloads" "$(status "$tmp/h15")" 200
has "  as an attachment" "$tmp/h15" "Content-Disposition: attachment"
ok "  and verifies offline, with the page shown" "$SCOPECTL" verify --receipt "$tmp/r.json" --trust "$inst/keys/verifier.txt"
has "  its page matching the entry's page_sha256" "$tmp/out" "page_sha256"
python3 - "$tmp/r.json" "$tmp/bad.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); r["page"] = r["page"].replace("<main", "<main data-x=\"1\"", 1)
json.dump(r, open(sys.argv[2], "w"))
PY
exits 1 "  a receipt with another page fails" "$SCOPECTL" verify --receipt "$tmp/bad.json" --trust "$inst/keys/verifier.txt"
python3 - "$tmp/r.json" "$tmp/nopage.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); del r["page"]
json.dump(r, open(sys.argv[2], "w"))
PY
ok "  a receipt without its page verifies" "$SCOPECTL" verify --receipt "$tmp/nopage.json" --trust "$inst/keys/verifier.txt"
has "  saying the page is not checked" "$tmp/out" "the receipt carries no page: the page is not checked"
exits 1 "  the receipt does not hold the link's token" grep -qF "$tok" "$tmp/r.json"
exits 1 "  nor does the data directory, the page kept as evidence included" grep -rqF "$tok" "$inst/data"
has "  the page shown links its document relative to its base" "$tmp/receipt.html" "<base href=\"/l/$tok/\">"
rec lead receipt 1 -o "$tmp/r1.json"
python3 - "$tmp/r1.json" "$tmp/r.json" "$tmp/forged.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); r["page"] = json.load(open(sys.argv[2]))["page"]
json.dump(r, open(sys.argv[3], "w"))
PY
exits 1 "  a page added to the receipt of an entry that records none fails" "$SCOPECTL" verify --receipt "$tmp/forged.json" --trust "$inst/keys/verifier.txt"
has "  naming why" "$tmp/err" "records no page_sha256"

c -D "$tmp/h16" -o "$tmp/used.html" -b "$tmp/jar" "$base/l/$tok"
is "the used link's page is 200" "$(status "$tmp/h16")" 200
is "  with no form" "$(field "$tmp/used.html" csrf)" ""
c -D "$tmp/h17" -o /dev/null -b "$tmp/jar" -H "Origin: $base" --data "$form" "$base/l/$tok"
exits 1 "  and a second answer is not 200" grep -q '^HTTP/[0-9.]* 200' "$tmp/h17"

# ---- the rate limit, then the counters ----
# The limit counts per clock minute: 81 requests (twice the limit and one)
# put more than 40 in one minute however a minute's end splits them.
for _ in $(seq 1 81); do c -o /dev/null -w '%{http_code}\n' "$base/static/portal.css"; done > "$tmp/codes"
has "past portal_rate_per_min an address gets 429" "$tmp/codes" 429
rec admin info --json
python3 - "$tmp/out" > "$tmp/counts" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))["stats"]["portal"]
r = p["refused"]
print("answers=%d token=%d csrf=%d origin=%d method=%d changed=%d rate=%s size=%d" % (p["answers"], r["token"], r["csrf"], r["origin"], r["method"], r["changed_page"], r["rate"] > 0, r["size"]))
PY
is "info counts the answer and each refusal by cause" "$(cat "$tmp/counts")" \
	"answers=1 token=3 csrf=2 origin=3 method=1 changed=2 rate=True size=2"
ok "scoped stops cleanly on SIGTERM" stop_daemon

# ---- behind a proxy, in Japanese, a refusal by the rules ----
echo "portal_proxy = 127.0.0.1" >> "$inst/scoped.conf"
start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }
PP=$(sed -n 's/.*portal listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/scoped.log" | tail -n 1)
base=https://127.0.0.1:$PP
rec lead change raise -p pr-p "A contact form" --by "C manager" --via email --reason client_request
rec approver change assess -p pr-p CR-2 --class out_of_scope --rationale "a new form"
rec lead change quote -p pr-p CR-2 --fee 50000 --effort-hours 3
ok "a link for CR-2" ctl "$inst" lead link create -p pr-p --change CR-2 --to Kimura
url=$(grep '^https://' "$tmp/out")
tok2=${url##*/l/}
xc() { c -b "$tmp/jar2" -c "$tmp/jar2" -H "Accept-Language: ja" -H "X-Forwarded-For: 10.1.1.1, 198.51.100.7" "$@"; }
xc -o "$tmp/p2.html" "$base/l/$tok2"
csrf2=$(field "$tmp/p2.html" csrf)
shown2=$(field "$tmp/p2.html" shown)
xc -D "$tmp/h20" -o "$tmp/p3.html" --data "decision=rejected&csrf=$csrf2&shown=$shown2&lang=ja" "$base/l/$tok2"
is "a rejection without a reason is refused by the rules: 422" "$(status "$tmp/h20")" 422
is "  the form is shown again" "$(field "$tmp/p3.html" csrf)" "$csrf2"
has "  with the rules' message" "$tmp/p3.html" "reason"
xc -D "$tmp/h22" -o "$tmp/p4.html" --data "decision=rejected&reason=too%07much&csrf=$csrf2&shown=$shown2&lang=ja" "$base/l/$tok2"
is "a reason with a control character is refused by the schema: 422" "$(status "$tmp/h22")" 422
has "  naming the field and why" "$tmp/p4.html" "response.reason: contains a control character"
xc -D "$tmp/h21" -o /dev/null -A $'bad\x01agent\x7f' --data "decision=rejected&reason=too+expensive+for+now&csrf=$csrf2&shown=$shown2&lang=ja" "$base/l/$tok2"
is "  with a reason it is recorded" "$(status "$tmp/h21")" 200
rec admin info --json
seq=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tree_size"] - 1)' "$tmp/out")
rec lead get "$seq" --json
cp "$tmp/out" "$tmp/entry.json"
is "  the address is X-Forwarded-For's last hop, from portal_proxy" "$(jq_ address)" 198.51.100.7
is "  control characters in the user agent are spaces" "$(jq_ user_agent)" "bad agent "
is "  the page was Japanese" "$(jq_ page_lang)" ja
is "  the reason as typed" "$(jq_ reason)" "too expensive for now"

# ---- connections held open with headers never finished ----
python3 - "$PP" > "$tmp/held" <<'PY'
import socket, ssl, subprocess, sys
port = int(sys.argv[1])
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
held = []
for _ in range(300):	# more than the portal keeps open, each in its headers
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=5))
    s.sendall(b"GET /static/portal.css HTTP/1.1\r\nX-Slow: 1\r\n")
    held.append(s)
r = subprocess.run(["curl", "-sk", "-m", "5", "-o", "/dev/null", "-w", "%{http_code}",
                    "https://127.0.0.1:%d/static/portal.css" % port], capture_output=True, text=True)
print(r.stdout)
PY
is "300 connections held open in their headers do not lock another browser out" "$(cat "$tmp/held")" 200
rec admin info --json
python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))["stats"]["portal"]["refused"]["connections"] < 44)' "$tmp/out"
is "  the oldest were ended, counted as connections" "$?" 0
ok "scoped stops cleanly on SIGTERM" stop_daemon
finish
