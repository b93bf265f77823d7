#!/usr/bin/env bash
# Finding things: history of what does not exist is an error, history as
# CSV, log --to inclusive; a change's history with the evidence, invoices
# and payments linked to it; receipts for any entry; projects, change list
# and change show.  A live daemon over TLS.
set -u
. "$(dirname "$0")/lib.sh"

inst=$tmp/inst
"$SCOPED" init "$inst" --origin test.example/finding >/dev/null || { echo "Bail out! init"; exit 1; }
# the client sees pr-a only; everyone else every project
for r in lead approver finance auditor admin; do echo "cn:$r $r *"; done > "$inst/roles.conf"
echo "cn:client client pr-a" >> "$inst/roles.conf"
start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }
key=$inst/keys/verifier.txt
echo "From: C manager -- approved, signed" > "$tmp/signed.eml"
{
	ctl "$inst" lead project create pr-a --client "A Corp" --title "A site" --currency JPY --amount 3000000 --type fixed
	ctl "$inst" lead baseline add -p pr-a --item R1="Five pages"
	ctl "$inst" lead change raise -p pr-a "Sixth page" --by "C manager" --via email --reason client_request --items R1
	ctl "$inst" lead change raise -p pr-a "Typo" --by "C manager" --via email --reason defect
	ctl "$inst" approver change assess -p pr-a CR-1 --class out_of_scope --rationale "a new page"
	ctl "$inst" approver change assess -p pr-a CR-2 --class in_scope --rationale "a defect"
	ctl "$inst" lead change quote -p pr-a CR-1 --fee 200000 --effort-hours 10
} >/dev/null 2>"$tmp/err" || { echo "Bail out! setup"; cat "$tmp/err"; exit 1; }

# ---- history and log ----
exits 4 "history of a project that does not exist is an error" ctl "$inst" lead history nosuch
has "  naming it" "$tmp/err" "nosuch"
is "  printing no table" "$(wc -c < "$tmp/out")" 0
exits 4 "history of a change that does not exist is an error" ctl "$inst" lead history pr-a --change CR-9
has "  naming it" "$tmp/err" "project pr-a has no change CR-9"
is "  printing no table" "$(wc -c < "$tmp/out")" 0
ok "history --csv" ctl "$inst" lead history pr-a --csv
has "  has a CSV header" "$tmp/out" "seq,time_utc,kind,author,leaf,body,corrected_by,previous"
n=$((n + 1)); bad=$(sed 1d "$tmp/out" | grep -cvE '^[0-9]+,[0-9T:Z.-]+,[a-z_]+,[a-z]+,[0-9a-f]{64},"\{.*\}",[0-9 ]*,("\{.*\}")?$')
if [ "$bad" -eq 0 ]; then echo "ok $n - every row is seq,time,kind,author,leaf,body,corrected_by,previous"; else failed=$((failed + 1)); echo "not ok $n - $bad rows are not CSV entries"; sed 's/^/#   /' "$tmp/out" | head; fi
is "  one row per entry" "$(sed 1d "$tmp/out" | wc -l)" 7
ok "log --from 2 --to 4" ctl "$inst" auditor log --from 2 --to 4 --json
is "  shows entries 2, 3 and 4" "$(sed -n 's/^{"seq":\([0-9]*\),.*/\1/p' "$tmp/out" | tr '\n' ' ')" "2 3 4 "

# ---- a change's history: its evidence, invoices and payments ----
{
	ctl "$inst" lead change raise -p pr-a "Seventh page" --by "C manager" --via email --reason client_request
	ctl "$inst" approver change assess -p pr-a CR-3 --class out_of_scope --rationale "a new page"
	ctl "$inst" lead change quote -p pr-a CR-3 --fee 300000 --effort-hours 10
	ctl "$inst" lead respond -p pr-a --baseline 1 --decision approved --by "C manager" --via phone
	ctl "$inst" lead respond -p pr-a --change CR-1 --quote 1 --decision approved --by "C manager" --via phone
	ctl "$inst" client respond -p pr-a --change CR-3 --quote 1 --decision approved --by "C manager" --via email
} >/dev/null 2>"$tmp/err" || { echo "Bail out! setup 2"; cat "$tmp/err"; exit 1; }
seq_of() { ctl "$inst" auditor log --project pr-a --json 2>/dev/null | grep "\"kind\":\"$1\"" | grep -F "$2" | sed -n 's/^{"seq":\([0-9]*\),.*/\1/p' | tail -n 1; }
base_resp=$(seq_of response '"baseline":1')
cr1_resp=$(seq_of response '"change":"CR-1"')
{
	ctl "$inst" lead evidence -p pr-a "$base_resp" "$tmp/signed.eml"
	ctl "$inst" lead evidence -p pr-a "$cr1_resp" "$tmp/signed.eml"
	ctl "$inst" finance invoice -p pr-a INV-1 --change CR-1=100000 --issued 2026-01-02
	ctl "$inst" finance invoice -p pr-a INV-2 --change CR-3=300000 --issued 2026-01-02
	ctl "$inst" finance payment -p pr-a INV-2 --amount 300000 --date 2026-01-05
	ctl "$inst" finance payment -p pr-a INV-1 --amount 100000 --date 2026-01-06
} >/dev/null 2>"$tmp/err" || { echo "Bail out! setup 3"; cat "$tmp/err"; exit 1; }
ok "history --change CR-1" ctl "$inst" lead history pr-a --change CR-1 --json
cp "$tmp/out" "$tmp/cr1.json"
is "  its entries: change, assessment, quote, response, evidence, invoice, payment" \
	"$(sed -n 's/.*"kind":"\([a-z]*\)".*/\1/p' "$tmp/cr1.json" | tr '\n' ' ')" "change assessment quote response evidence invoice payment "
has "  the evidence is of its response" "$tmp/cr1.json" "\"response\":$cr1_resp"
has "  the payment is of INV-1" "$tmp/cr1.json" '"invoice":"INV-1"'
is "  nothing of INV-2" "$(grep -c 'INV-2' "$tmp/cr1.json")" 0
has "  every entry shown is proven" "$tmp/err" "every entry shown is proven in the checkpoint"

# ---- receipts for any entry ----
ok "a receipt for the first change, recorded long ago" ctl "$inst" client receipt 2 -o "$tmp/cr1.receipt"
has "  says which entry" "$tmp/out" "receipt for entry 2 (change in pr-a)"
ok "  verifies offline" "$SCOPECTL" verify --receipt "$tmp/cr1.receipt" --trust "$key"
has "  as the change entry" "$tmp/out" "entry 2 (change in pr-a"
sed -E 's/("entry":"[0-9a-f]{50})0/\11/; t; s/("entry":"[0-9a-f]{50})[0-9a-f]/\10/' "$tmp/cr1.receipt" > "$tmp/bad.receipt"
exits 1 "  and one changed byte does not" "$SCOPECTL" verify --receipt "$tmp/bad.receipt" --trust "$key"
ok "a receipt is the same as --receipt writes" ctl "$inst" lead change raise -p pr-a "Eighth page" --by "C manager" --via email --reason client_request --receipt "$tmp/at-record.receipt" --json
seq8=$(sed -n 's/^{"seq":\([0-9]*\),.*/\1/p' "$tmp/out")
ok "  asked for afterwards" ctl "$inst" lead receipt "$seq8" -o "$tmp/later.receipt"
is "  holds the same entry" "$(grep -o '"entry":"[0-9a-f]*"' "$tmp/later.receipt")" "$(grep -o '"entry":"[0-9a-f]*"' "$tmp/at-record.receipt")"
exits 4 "a receipt for an entry that does not exist" ctl "$inst" lead receipt 999 -o "$tmp/none.receipt"
n=$((n + 1)); if [ -e "$tmp/none.receipt" ]; then failed=$((failed + 1)); echo "not ok $n - a file was written"; else echo "ok $n -   writes no file"; fi
exits 2 "receipt without -o" ctl "$inst" lead receipt 2
has "  says what is missing" "$tmp/err" "-o FILE"

# ---- change list and change show ----
ok "change list" ctl "$inst" lead change list -p pr-a
is "  one row per change" "$(grep -c '^  CR-' "$tmp/out")" 4
has "  CR-1 partly invoiced" "$tmp/out" "CR-1    partly_invoiced"
ok "change list --state raised" ctl "$inst" finance change list -p pr-a --state raised
is "  only the raised one" "$(grep -o '^  CR-[0-9]*' "$tmp/out" | tr -d ' ')" "CR-4"
ok "change list --state no_charge --json" ctl "$inst" lead change list -p pr-a --state no_charge --json
has "  as a JSON array" "$tmp/out" '[{"change":"CR-2"'
ok "change list --csv" ctl "$inst" lead change list -p pr-a --csv
is "  a header and four rows" "$(wc -l < "$tmp/out")" 5
exits 2 "an unknown state" ctl "$inst" lead change list -p pr-a --state done
has "  lists the states" "$tmp/err" "--state is one of raised, assessed"
exits 4 "change list of a project that does not exist" ctl "$inst" lead change list -p nosuch
has "  names it" "$tmp/err" "nosuch"
ok "change show CR-1" ctl "$inst" lead change show -p pr-a CR-1
cp "$tmp/out" "$tmp/show.txt"
has "  its title" "$tmp/show.txt" "change CR-1: Sixth page"
has "  its state" "$tmp/show.txt" "status                 partly_invoiced"
has "  its approved amount" "$tmp/show.txt" "200000"
cr1_leaf=$(sed -n 's/.*"seq":2,.*"leaf_hash":"\([0-9a-f]*\)".*/\1/p' "$tmp/cr1.json")
has "  its first entry with its whole leaf hash" "$tmp/show.txt" "lead         $cr1_leaf"
has "  the evidence of its response" "$tmp/show.txt" "\"response\":$cr1_resp"
has "  the invoice billing it" "$tmp/show.txt" '"number":"INV-1"'
has "  the payment of that invoice" "$tmp/show.txt" '"invoice":"INV-1"'
is "  nothing of INV-2" "$(grep -c 'INV-2' "$tmp/show.txt")" 0
has "  every entry proven" "$tmp/err" "every entry shown is proven in the checkpoint"
ok "change show --json" ctl "$inst" lead change show -p pr-a CR-1 --json
has "  the state first" "$tmp/out" '{"change":"CR-1"'
is "  then the seven entries" "$(grep -c '"leaf_hash"' "$tmp/out")" 7
exits 4 "change show of a change that does not exist" ctl "$inst" lead change show -p pr-a CR-99
has "  names it" "$tmp/err" "project pr-a has no change CR-99"

# ---- projects ----
ctl "$inst" lead project create pr-b --client "B, Inc." --title "B app" --currency USD --amount 1000000 --type tm >/dev/null 2>&1 ||
	{ echo "Bail out! pr-b"; exit 1; }
ok "projects" ctl "$inst" finance projects
cp "$tmp/out" "$tmp/projects.txt"
has "  pr-a with its client and contract value" "$tmp/projects.txt" "pr-a             A Corp               JPY           3500000"
is "  and one open change (CR-4 raised; CR-2 no charge)" "$(grep '^pr-a' "$tmp/projects.txt" | awk '{print $6}')" 2
has "  pr-b in dollars" "$tmp/projects.txt" "USD        1000000.00"
has "  says what is proven" "$tmp/err" "proven in the checkpoint of size"
ok "projects --json" ctl "$inst" finance projects --json
has "  pr-a's last activity is its last entry" "$tmp/out" "\"last_activity_us\":$(ctl "$inst" auditor log --project pr-a --json 2>/dev/null | tail -n 1 | sed -n 's/.*"time_us":\([0-9]*\).*/\1/p')"
has "  with open changes as a number" "$tmp/out" '"open_changes":2'
ok "projects --csv" ctl "$inst" finance projects --csv
has "  quotes a client with a comma" "$tmp/out" '"B, Inc."'
ok "the client's projects" ctl "$inst" client projects
has "  pr-a" "$tmp/out" "pr-a "
is "  not pr-b" "$(grep -c '^pr-b' "$tmp/out")" 0

stop_daemon
finish
