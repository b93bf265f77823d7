#!/usr/bin/env bash
# End-to-end: scoped's local commands and scopectl's offline verification,
# on a real instance in a temporary directory.  TAP output.
set -u
. "$(dirname "$0")/lib.sh"

inst=$tmp/inst
conf=$inst/scoped.conf
ok "scoped --version" "$SCOPED" --version
has "  prints the version" "$tmp/out" "scoped "
exits 2 "scoped with no command is a usage error" "$SCOPED"
exits 2 "unknown command is a usage error" "$SCOPED" frobnicate
ok "init an instance" "$SCOPED" init "$inst" --origin test.example/cli
has "  prints the verifier key" "$tmp/out" "test.example/cli+"
exits 2 "init twice is refused" "$SCOPED" init "$inst"
has "  saying it is initialised" "$tmp/err" "already exists"
n=$((n + 1)); mode=$(stat -c %a "$inst/keys/signing.key")
if [ "$mode" = 600 ]; then echo "ok $n - signing key is mode 600"; else failed=$((failed+1)); echo "not ok $n - signing key is mode $mode"; fi

ok "create the project" "$SCOPED" append -c "$conf" --project site --kind project --request-id p-1 --body-json '{"client":"C Corp","title":"Site","contract_type":"fixed","currency":"JPY","amount_minor":3000000}'
exits 4 "a note for a project that does not exist is refused" "$SCOPED" append -c "$conf" --project nosuch --kind note --body-json '{"text":"x"}'
has "  saying so" "$tmp/err" "project nosuch does not exist"
ok "append a note" "$SCOPED" append -c "$conf" --project site --kind note --body-json '{"text":"baseline names reference site A"}' --request-id r-1 --json
has "  prints seq 1" "$tmp/out" '"seq":1'
ok "append the same request again" "$SCOPED" append -c "$conf" --project site --kind note --body-json '{"text":"baseline names reference site A"}' --request-id r-1 --json
has "  returns the original entry" "$tmp/out" '"seq":1,'
has "  flagged as duplicate" "$tmp/out" '"duplicate":true'
exits 4 "same request id with other content is refused" "$SCOPED" append -c "$conf" --project site --kind note --body-json '{"text":"changed"}' --request-id r-1
has "  naming the original entry" "$tmp/err" "already used for entry 1"
exits 2 "a float in the body is refused" "$SCOPED" append -c "$conf" --project site --kind note --body-json '{"fee":12.5}'
has "  explaining minor units" "$tmp/err" "minor units"
exits 2 "broken JSON is refused" "$SCOPED" append -c "$conf" --project site --kind note --body-json '{"text":'
exits 4 "a bad kind is refused" "$SCOPED" append -c "$conf" --project site --kind 'No Such' --body-json '{}'
has "  naming the field" "$tmp/err" "kind"
exits 4 "an unknown kind is refused" "$SCOPED" append -c "$conf" --project site --kind gossip --body-json '{"text":"x"}'
has "  listing the known kinds" "$tmp/err" "known: project, baseline, change"
has "  naming the field" "$tmp/err" "kind"
exits 4 "a body its kind's schema refuses is refused" "$SCOPED" append -c "$conf" --project site --kind note --body-json '{"text":""}'
has "  naming the field and why" "$tmp/err" "note.text: must be 1 to 65536 characters, not 0"
exits 4 "  so is a control character in a text" "$SCOPED" append -c "$conf" --project site --kind note --body-json '{"text":"a\u0007b"}'
has "  named" "$tmp/err" "note.text: contains a control character"
exits 2 "a body that is not an object is refused" "$SCOPED" append -c "$conf" --project site --kind note --body-json '[1]'
for i in 1 2 3 4 5 6 7 8; do
	"$SCOPED" append -c "$conf" --project site --kind note --body-json "{\"text\":\"change $i\"}" >/dev/null || echo "# append $i failed"
done
ok "get entry 4 as JSON" "$SCOPED" get -c "$conf" 4 --json
has "  with its body" "$tmp/out" '"body":{"text":"change 3"}'
exits 4 "get beyond the end is refused" "$SCOPED" get -c "$conf" 99
has "  saying it does not exist" "$tmp/err" "does not exist"

ok "checkpoint" "$SCOPED" checkpoint -c "$conf"
cp "$tmp/out" "$tmp/cp.txt"
has "  covers 10 entries" "$tmp/cp.txt" $'test.example/cli\n10\n'
ok "export" "$SCOPED" export -c "$conf" -o "$tmp/all.hex"
n=$((n + 1)); lines=$(wc -l < "$tmp/all.hex")
if [ "$lines" -eq 10 ]; then echo "ok $n - export has 10 lines"; else failed=$((failed+1)); echo "not ok $n - export has $lines lines"; fi
ok "export raw" "$SCOPED" export -c "$conf" --format raw -o "$tmp/all.raw"
pipe_out "export to a named pipe" "$SCOPED" export -c "$conf" -o "$tmp/pipe"
ok "  carrying the export" cmp "$tmp/pipe.got" "$tmp/all.hex"
mkfifo "$tmp/backup.pipe"
exits 5 "a backup to a named pipe is refused" "$SCOPED" backup -c "$conf" -o "$tmp/backup.pipe"
has "  naming it" "$tmp/err" "is not a regular file"
ok "  the pipe left alone" test -p "$tmp/backup.pipe"
ok "scoped verify" "$SCOPED" verify -c "$conf"
has "  reports 10 entries" "$tmp/out" "10 entries"

key=$inst/keys/verifier.txt
ok "scopectl verifies the hex export offline" "$SCOPECTL" verify --export "$tmp/all.hex" --checkpoint "$tmp/cp.txt" --trust "$key"
ok "scopectl verifies the raw export offline" "$SCOPECTL" verify --export "$tmp/all.raw" --checkpoint "$tmp/cp.txt" --trust "$(cat "$key")"
# tamper: change one hex digit inside entry 4's body text
awk 'NR==5 { sub(/6368616e676520/, "6368616e676521") } { print }' "$tmp/all.hex" > "$tmp/bad.hex"
exits 1 "a changed entry fails verification" "$SCOPECTL" verify --export "$tmp/bad.hex" --checkpoint "$tmp/cp.txt" --trust "$key"
has "  naming entry 4" "$tmp/err" "first bad entry: 4"
head -n 9 "$tmp/all.hex" > "$tmp/short.hex"
exits 1 "a truncated export fails" "$SCOPECTL" verify --export "$tmp/short.hex" --checkpoint "$tmp/cp.txt" --trust "$key"
has "  saying entries are missing" "$tmp/err" "entries are missing"
awk 'NR==2 { held = $0; next } NR==3 { print; print held; next } { print }' "$tmp/all.hex" > "$tmp/swapped.hex"
exits 1 "reordered entries fail" "$SCOPECTL" verify --export "$tmp/swapped.hex" --checkpoint "$tmp/cp.txt" --trust "$key" --json
has "  JSON names entry 1" "$tmp/out" '"first_bad_seq":1'
sed '2s/10/9/' "$tmp/cp.txt" > "$tmp/forged.txt"
exits 1 "a forged checkpoint fails" "$SCOPECTL" verify --export "$tmp/all.hex" --checkpoint "$tmp/forged.txt" --trust "$key"
"$SCOPED" init "$tmp/other" --origin test.example/cli >/dev/null
exits 1 "a checkpoint checked with another key fails" "$SCOPECTL" verify --export "$tmp/all.hex" --checkpoint "$tmp/cp.txt" --trust "$tmp/other/keys/verifier.txt"
has "  no trusted signature" "$tmp/err" "no signature from a trusted key"
exits 2 "scopectl verify without --trust is a usage error" "$SCOPECTL" verify --export "$tmp/all.hex" --checkpoint "$tmp/cp.txt"

ok "inclusion proof for entry 6" "$SCOPED" prove -c "$conf" 6
cp "$tmp/out" "$tmp/p6.json"
has "  in the documented JSON form" "$tmp/p6.json" '{"tree_size":10,"leaf_index":6,"leaf_hash":"'
"$SCOPED" get -c "$conf" 6 --hex > "$tmp/e6.hex"
"$SCOPED" get -c "$conf" 5 --hex > "$tmp/e5.hex"
ok "scopectl checks the proof and the entry" "$SCOPECTL" verify --proof "$tmp/p6.json" --entry "$tmp/e6.hex" --checkpoint "$tmp/cp.txt" --trust "$key"
exits 1 "the proof does not fit another entry" "$SCOPECTL" verify --proof "$tmp/p6.json" --entry "$tmp/e5.hex" --checkpoint "$tmp/cp.txt" --trust "$key"
ok "consistency proof 4 -> 9" "$SCOPED" consistency -c "$conf" 4
has "  in the documented JSON form" "$tmp/out" '{"old_size":4,"new_size":10,"old_root":"'
exits 4 "consistency from 0 is refused" "$SCOPED" consistency -c "$conf" 0

# the key must not be readable by others
chmod 644 "$inst/keys/signing.key"
exits 2 "a world-readable signing key is refused" "$SCOPED" verify -c "$conf"
has "  saying how to fix it" "$tmp/err" "chmod 600"
chmod 600 "$inst/keys/signing.key"
exits 2 "an unknown config option is refused" "$SCOPED" verify -c <(printf 'origin = x\nbogus = 1\n')
has "  naming the line" "$tmp/err" ":2: unknown option"
exits 2 "a max_frame too small for the largest entry is refused" "$SCOPED" verify -c <(printf 'origin = x\nmax_frame = 65536\n')
has "  naming the bound" "$tmp/err" "max_frame: 65536 is outside 300000.."

finish
