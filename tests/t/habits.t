#!/usr/bin/env bash
# A CLI that fits people's habits (issue 13, part 5), end to end against a
# live daemon: shared options before or after the command; ISO 8601 times
# typed with an offset, Z or as a bare date, printed in local time or --utc.
set -u
export TZ=JST-9	# a fixed zone (no tz database needed), nine hours east of UTC
. "$(dirname "$0")/lib.sh"

inst=$tmp/inst
"$SCOPED" init "$inst" --origin test.example/habits >/dev/null || { echo "Bail out! init"; exit 1; }
start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }
lead=$inst/clients/lead.conf
srv=127.0.0.1:$PORT
like() {	# like DESCRIPTION FILE REGEX: a line of FILE matches the extended REGEX
	n=$((n + 1))
	if grep -Eq -- "$3" "$2"; then echo "ok $n - $1"
	else failed=$((failed + 1)); echo "not ok $n - $1"; echo "#   /$3/ not in:"; sed 's/^/#   /' "$2" | head -10; fi
}

ok "lead: project P" ctl "$inst" lead project create P --client "C Corp" --title "Site" --currency JPY --amount 3000000
ok "options before the command" "$SCOPECTL" --config "$lead" --server "$srv" status P
has "  prints the status" "$tmp/out" "3000000"
ok "options after the command" "$SCOPECTL" status P --config "$lead" --server "$srv"
ok "--json and --opt=value before the command" "$SCOPECTL" --json --config="$lead" --server "$srv" status P
has "  prints JSON" "$tmp/out" '"project":"P"'
ok "-c before a recording command" "$SCOPECTL" -c "$lead" --server="$srv" change raise -p P "Redesign" \
	--by "C manager" --via meeting --reason client_request
has "  records it" "$tmp/out" "change CR-1"
exits 2 "an unknown option before the command is refused" "$SCOPECTL" --frob status P
has "  naming it" "$tmp/err" '"--frob" before the command'
exits 2 "a connection option without its value is refused" "$SCOPECTL" --config
has "  naming it" "$tmp/err" "--config needs a value"
exits 2 "options and no command are refused" "$SCOPECTL" --config "$lead"
has "  saying so" "$tmp/err" "no command after the options"

# times typed with an offset, with Z, as a bare date, in local time
raise() { ctl "$inst" lead change raise -p P "$1" --by "V PM" --via email --reason vendor_proposal --occurred "$2" --json; }
ok "--occurred with an offset" raise "Offset" 2025-06-03T10:30:00+09:00
has "  is that instant" "$tmp/out" '"occurred_at":1748914200000000'
ok "--occurred in UTC" raise "Zulu" 2025-06-03T01:30:00Z
has "  is the same instant" "$tmp/out" '"occurred_at":1748914200000000'
ok "--occurred in local time" raise "Local" 2025-06-03T10:30
has "  is the same instant" "$tmp/out" '"occurred_at":1748914200000000'
ok "--occurred as a bare date" raise "Date" 2025-06-03
has "  is local midnight" "$tmp/out" '"occurred_at":1748876400000000'
ok "--occurred with a fraction and +0530" raise "India" 2025-06-03T07:00:00.5+0530
has "  is that instant" "$tmp/out" '"occurred_at":1748914200500000'
exits 2 "--occurred on 30 February is refused" raise "Bad" 2025-02-30
has "  naming the option and the forms" "$tmp/err" '--occurred "2025-02-30" is not a time: write YYYY-MM-DD, or an ISO 8601 time'
ok "approver: CR-1 out of scope" ctl "$inst" approver change assess -p P CR-1 --class out_of_scope --rationale "new"
ok "quote valid until a time with an offset" ctl "$inst" lead change quote -p P CR-1 --fee 100 --effort-hours 1 \
	--valid-until 2027-01-31T23:30:00+09:00 --json
has "  keeps its date as written" "$tmp/out" '"valid_until":"2027-01-31"'
exits 2 "a --valid-until that is no date is refused" ctl "$inst" lead change quote -p P CR-1 --fee 100 --effort-hours 1 --valid-until 31/01/2027
has "  naming the option" "$tmp/err" '--valid-until "31/01/2027" is not a date'
exits 2 "a --date that is no date is refused" ctl "$inst" finance payment -p P INV-1 --amount 100 --date 2027-13-01
has "  naming the option" "$tmp/err" '--date "2027-13-01" is not a date'

# effort in decimal hours; numbers with separators refused naming the option
quote() { ctl "$inst" lead change quote -p P CR-1 "$@" --json; }
ok "--effort-hours 100.5" quote --fee 1500000 --effort-hours 100.5
has "  whole hours" "$tmp/out" '"effort_hours":100,'
has "  and the minutes" "$tmp/out" '"effort_minutes":30'
ok "--effort-hours 120 has no minutes" quote --fee 1500000 --effort-hours 120
has "  whole hours" "$tmp/out" '"effort_hours":120,'
n=$((n + 1)); if grep -q effort_minutes "$tmp/out"; then failed=$((failed+1)); echo "not ok $n -   no effort_minutes"; else echo "ok $n -   no effort_minutes"; fi
exits 2 "--effort-hours finer than a minute is refused" quote --fee 1 --effort-hours 100.123
has "  saying effort is to the minute" "$tmp/err" '--effort-hours 100.123 is not a whole number of minutes'
exits 2 "--effort-hours 1,200 is refused" quote --fee 1 --effort-hours 1,200
has "  with the hint" "$tmp/err" '--effort-hours "1,200" has thousands separators: write 1200'
exits 2 "--fee 1,500,000 is refused" quote --fee 1,500,000 --effort-hours 1
has "  naming the option, with the hint" "$tmp/err" '--fee: amount "1,500,000" has thousands separators: write 1500000'
exits 2 "--schedule-days abc is refused" quote --fee 1 --effort-hours 1 --schedule-days abc
has "  naming the option" "$tmp/err" '--schedule-days "abc" must be a whole number'
exits 2 "--acceptance-days 1.5 is refused" ctl "$inst" lead project create Q --client C --title T --currency JPY --amount 1 --acceptance-days 1.5
has "  naming the option" "$tmp/err" '--acceptance-days "1.5" must be a whole number'
exits 2 "a decimal comma is no thousands separator" quote --fee 1500,5 --effort-hours 1
has "  told to write a plain number" "$tmp/err" 'amount "1500,5" must be a plain decimal number'

# text limits count characters; text files in Shift_JIS or EUC-JP
jp200=$(printf '変%.0s' $(seq 1 200))
ok "a 200-character Japanese title fits" ctl "$inst" lead change raise -p P "$jp200" --by "V PM" --via email --reason defect --json
has "  whole" "$tmp/out" "\"title\":\"$jp200\""
exits 4 "201 characters do not" ctl "$inst" lead change raise -p P "${jp200}変" --by "V PM" --via email --reason defect
has "  counted as characters" "$tmp/err" "must be 1 to 200 characters, not 201"
printf '議事録: 追加の画面を依頼\n' > "$tmp/minutes.txt"
iconv -f UTF-8 -t SHIFT_JIS "$tmp/minutes.txt" > "$tmp/minutes.sjis"
iconv -f UTF-8 -t EUC-JP "$tmp/minutes.txt" > "$tmp/minutes.euc"
raisef() { ctl "$inst" lead change raise -p P "From the minutes" --by "V PM" --via meeting --reason client_request --json "$@"; }
exits 2 "a Shift_JIS --text-file is refused" raisef --text-file "$tmp/minutes.sjis"
has "  naming the encoding" "$tmp/err" "it looks like SHIFT_JIS"
has "  and the iconv command" "$tmp/err" "iconv -f SHIFT_JIS -t UTF-8 '$tmp/minutes.sjis' > '$tmp/minutes.sjis.utf8'"
exits 2 "an EUC-JP --text-file is refused" raisef --text-file "$tmp/minutes.euc"
has "  naming the encoding" "$tmp/err" "it looks like EUC-JP"
ok "--encoding shift_jis converts it" raisef --text-file "$tmp/minutes.sjis" --encoding shift_jis
has "  to UTF-8" "$tmp/out" '"description":"議事録: 追加の画面を依頼\n"'
ok "--encoding euc-jp converts it" raisef --text-file "$tmp/minutes.euc" --encoding euc-jp
has "  to UTF-8" "$tmp/out" '"description":"議事録: 追加の画面を依頼\n"'
exits 2 "an unknown --encoding is refused" raisef --text-file "$tmp/minutes.sjis" --encoding klingon
has "  naming it" "$tmp/err" "--encoding klingon: not an encoding iconv knows"

# enum values with hyphens or capitals, currency codes in any case, "an"
ok "--reason client-request --via Email" ctl "$inst" lead change raise -p P "Hyphens" --by "C manager" --via Email --reason client-request --json
has "  sent as client_request" "$tmp/out" '"reason":"client_request"'
has "  and email" "$tmp/out" '"channel":"email"'
cr=$(sed -n 's/.*"number":"\(CR-[0-9]*\)".*/\1/p' "$tmp/out")
ok "--class out-of-scope" ctl "$inst" approver change assess -p P "$cr" --class out-of-scope --rationale "new" --json
has "  sent as out_of_scope" "$tmp/out" '"class":"out_of_scope"'
aseq=$(sed -n 's/^{"seq":\([0-9]*\),.*/\1/p' "$tmp/out")
ok "--currency eur --type TM" ctl "$inst" lead project create E --client C --title T --currency eur --amount 1250.50 --type TM --json
has "  sent as EUR" "$tmp/out" '"currency":"EUR"'
ok "status prints it upper case" ctl "$inst" lead status E
has "  EUR" "$tmp/out" "EUR"
echo "mail" > "$tmp/mail.eml"
exits 4 "evidence for an assessment is refused" ctl "$inst" lead evidence -p P "$aseq" "$tmp/mail.eml"
has "  in good grammar" "$tmp/err" "entry $aseq is an assessment, not a response"
exits 4 "voiding an assessment is refused" ctl "$inst" lead void -p P "$aseq" --reason "by mistake"
has "  in good grammar" "$tmp/err" "an assessment cannot be voided"

# printed in local time with its offset, or in UTC
ok "history in local time" ctl "$inst" lead history P
like "  with the offset +09:00" "$tmp/out" '^ +1  [0-9-]{10}T[0-9:]{8}\+09:00 '
ok "history --utc" ctl "$inst" lead history P --utc
like "  in UTC" "$tmp/out" '^ +1  [0-9-]{10}T[0-9:]{8}Z '
ok "--utc before the command" "$SCOPECTL" --utc --config "$lead" --server "$srv" log --project P
like "  in UTC" "$tmp/out" '^ +1  [0-9-]{10}T[0-9:]{8}Z '
ok "report unbilled --json" ctl "$inst" finance report unbilled --json
like "  carries as_of in RFC 3339 beside as_of_us" "$tmp/out" '"as_of_us":[0-9]+,"as_of":"[0-9-]{10}T[0-9:]{8}\.[0-9]{6}Z"'

# tables: readable nested values, 80 columns, the full text with --wide
widest() { LC_ALL=C.UTF-8 wc -L < "$1"; }
fits() {	# fits DESCRIPTION FILE: no line wider than 80 columns
	n=$((n + 1)); local w; w=$(widest "$2")
	if [ "$w" -le 80 ]; then echo "ok $n - $1"; else failed=$((failed + 1)); echo "not ok $n - $1 ($w columns)"; fi
}
ok "status P" ctl "$inst" lead status P
like "  changes by state as text" "$tmp/out" '^  changes by state    [a-z_]+: [0-9]+(, [a-z_]+: [0-9]+)*$'
fits "  fits 80 columns" "$tmp/out"
has "  the long title cut" "$tmp/out" "変変..."
ok "status P --wide" ctl "$inst" lead status P --wide
has "  the long title whole" "$tmp/out" "  $jp200"
ok "history P" ctl "$inst" lead history P
fits "  fits 80 columns" "$tmp/out"
like "  bodies as text" "$tmp/out" '^        amount_minor: 3000000, client: C Corp, contract_type: fixed'
like "  times as times" "$tmp/out" 'occurred_at: 2025-06-03T10:30:00\+09:00'
n=$((n + 1)); if grep -q '{"' "$tmp/out"; then failed=$((failed+1)); echo "not ok $n -   no JSON"; else echo "ok $n -   no JSON"; fi
ok "history P --wide" ctl "$inst" lead history P --wide
like "  with the leaf hashes" "$tmp/out" '^ +1  .* [0-9a-f]{64}  '
has "  and the bodies whole" "$tmp/out" "title: $jp200"
ok "report exposure" ctl "$inst" approver report exposure
fits "  fits 80 columns" "$tmp/out"
ok "report exposure --wide" ctl "$inst" approver report exposure --wide
has "  the long title whole" "$tmp/out" "  $jp200"
ok "report unbilled" ctl "$inst" finance report unbilled
fits "  fits 80 columns" "$tmp/out"

finish
