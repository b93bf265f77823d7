#!/usr/bin/env bash
# Writes the seed corpora under tests/fuzz/corpus/ from a small real ledger
# (built with scoped) and hand-made frames.  Run from the top of the
# repository after a build; the result is committed.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
scoped=${SCOPED:-$top/build/daemon/scoped}
c=$top/tests/fuzz/corpus
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$scoped" init "$tmp/i" --origin fuzz.example/seed >/dev/null
conf=$tmp/i/scoped.conf
"$scoped" append -c "$conf" --project pr --kind project --request-id p1 \
	--body-json '{"client":"C","title":"T","contract_type":"fixed","currency":"JPY","amount_minor":1000}' >/dev/null
"$scoped" append -c "$conf" --project pr --kind change --request-id c1 \
	--body-json '{"title":"Redesign","raised_by":"C","channel":"email","reason":"client_request"}' >/dev/null
"$scoped" append -c "$conf" --project pr --kind note --request-id n1 --body-json '{"text":"caf\u00e9 \ud83d\ude00"}' >/dev/null
"$scoped" export -c "$conf" -o "$c/fuzz_export/three-hex"
"$scoped" export -c "$conf" --format raw -o "$c/fuzz_export/three-raw"
for s in 0 1 2; do "$scoped" export -c "$conf" --from $s --to $((s + 1)) --format raw -o "$c/fuzz_entry/entry-$s"; done
"$scoped" checkpoint -c "$conf" > "$c/fuzz_note/checkpoint"
printf 'If you think cryptography is the answer to your problem,\nthen you don'"'"'t know what your problem is.\n\n\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n' > "$c/fuzz_note/peterneumann"
printf 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW' > "$c/fuzz_note/verifier-key"

# requests: {"id":1,"op":"info"}, an append, a get, entries with a project
printf '\x82\xa2id\x01\xa2op\xa4info' > "$c/fuzz_request/info"
printf '\x86\xa2id\x02\xa2op\xa6append\xa4kind\xa4note\xa7project\xa7pr-site\xaarequest_id\xa3r-1\xa4body\x81\xa4text\xa2hi' > "$c/fuzz_request/append-note"
printf '\x86\xa2id\x03\xa2op\xa6append\xa4kind\xa6change\xa7project\xa2pr\xaarequest_id\xa2c2\xa4body\x84\xa5title\xa1t\xa9raised_by\xa1x\xa7channel\xa5email\xa6reason\xa6defect' > "$c/fuzz_request/append-change"
printf '\x83\xa2id\x04\xa2op\xa3get\xa3seq\x05' > "$c/fuzz_request/get"
printf '\x85\xa2id\x05\xa2op\xa7entries\xa4from\x00\xa5limit\xcd\x03\xe8\xa7project\xa2pr' > "$c/fuzz_request/entries"
# frame streams: two frames back to back, and a frame with a huge length
for f in info get; do
	n=$(stat -c %s "$c/fuzz_request/$f")
	printf "\\x00\\x00\\x00\\x$(printf %02x "$n")" > "$c/fuzz_frame/$f"
	cat "$c/fuzz_request/$f" >> "$c/fuzz_frame/$f"
done
cat "$c/fuzz_frame/info" "$c/fuzz_frame/get" > "$c/fuzz_frame/two"
printf '\xff\xff\xff\xff\x82' > "$c/fuzz_frame/huge-length"
echo "corpora written under $c"
