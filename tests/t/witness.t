#!/bin/bash
# scoped witness: C2SP tlog-witness add-checkpoint with every status code of
# the spec, the GET of a log's checkpoint, two logs, durability across a
# restart; a fork (a signed checkpoint of the cosigned size with another
# root) kept as evidence, a garbage proof neither kept nor logged past a
# minute's lines.
. "$(dirname "$0")/lib.sh"

wpid=
trap '[ -n "$wpid" ] && kill -9 $wpid 2>/dev/null; cleanup' EXIT
for l in 1 2; do
	"$SCOPED" init "$tmp/l$l" --origin "log$l.example/scope" >/dev/null 2>&1
done
vk1=$(cat "$tmp/l1/keys/verifier.txt") vk2=$(cat "$tmp/l2/keys/verifier.txt")
W=$tmp/w
ok "witness init" "$SCOPED" witness init "$W" --name w.example/w1 --listen 127.0.0.1:0 --log "$vk1" --log "$vk2"
has "  prints a cosignature/v1 verifier key" "$tmp/out" "w.example/w1+"
exits 2 "init refuses a bad --log key" "$SCOPED" witness init "$tmp/w2" --name w.example/w2 --log nonsense

start_witness() {
	: > "$tmp/w.log"
	"$SCOPED" witness -c "$W/witness.conf" ${1:+--listen 127.0.0.1:$1} 2>>"$tmp/w.log" &
	wpid=$!
	for _ in $(seq 1 100); do
		WPORT=$(sed -n 's/.*ready on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/w.log" | tail -n 1)
		[ -n "$WPORT" ] && return 0
		sleep 0.05
	done
	sed 's/^/#   /' "$tmp/w.log"; return 1
}
ok "the witness starts" start_witness

append() {	# append N INSTANCE: N notes (a project first, if none yet)
	"$SCOPED" append -c "$2/scoped.conf" --project site --kind project --request-id p \
		--body-json '{"client":"C","title":"S","contract_type":"fixed","currency":"JPY","amount_minor":1}' >/dev/null 2>&1
	for _ in $(seq 1 "$1"); do
		"$SCOPED" append -c "$2/scoped.conf" --project site --kind note --body-json '{"text":"x"}' >/dev/null
	done
}
# body OLD INSTANCE [PROOF-FROM]: an add-checkpoint body for the instance's checkpoint
body() {
	echo "old $1"
	if [ "$1" -gt 0 ]; then
		"$SCOPED" consistency -c "$2/scoped.conf" "$1" | sed 's/.*"proof":\[//; s/\].*//; s/"//g' | tr , '\n' |
			while read -r h; do [ -n "$h" ] && echo "$h" | xxd -r -p | base64; done
	fi
	echo
	"$SCOPED" checkpoint -c "$2/scoped.conf"
}
post() {	# post FILE: the status code; the answer in $tmp/ans, its headers in $tmp/hdr
	curl -s --cacert "$W/ca.crt" -D "$tmp/hdr" -o "$tmp/ans" -w '%{http_code}' \
		--data-binary @"$1" "https://127.0.0.1:$WPORT/add-checkpoint"
}

body 0 "$tmp/l1" > "$tmp/b"
is "an empty tree, old 0: 200" "$(post "$tmp/b")" 200
has "  the answer is a cosignature line" "$tmp/ans" "— w.example/w1 "
append 2 "$tmp/l1"
body 0 "$tmp/l1" > "$tmp/b"
is "size 3, old 0: 200" "$(post "$tmp/b")" 200
cp "$tmp/b" "$tmp/b3"
append 2 "$tmp/l1"
body 0 "$tmp/l1" > "$tmp/b"
is "old 0 when the witness holds 3: 409" "$(post "$tmp/b")" 409
is "  the body is its size" "$(cat "$tmp/ans")" 3
has "  of type text/x.tlog.size" "$tmp/hdr" "text/x.tlog.size"
body 3 "$tmp/l1" > "$tmp/b"
is "old 3 with the consistency proof to 5: 200" "$(post "$tmp/b")" 200
# the cosigned note verifies: the witness's line over this checkpoint
{ sed '1,/^$/d' "$tmp/b"; cat "$tmp/ans"; } > "$tmp/cosigned"
has "  the cosigned note holds the log's and the witness's lines" "$tmp/cosigned" "— w.example/w1 "
body 3 "$tmp/l1" > "$tmp/b"
is "the same request again (old 3, the witness at 5): 409" "$(post "$tmp/b")" 409
{ echo "old 5"; echo; "$SCOPED" checkpoint -c "$tmp/l1/scoped.conf"; } > "$tmp/b5"
is "old 5, size 5, same root: 200" "$(post "$tmp/b5")" 200

# 400
printf 'old 01\n\n' > "$tmp/b"; cat "$tmp/b3" | sed '1,/^$/d' >> "$tmp/b"
is "a leading zero in old: 400" "$(post "$tmp/b")" 400
printf 'old 9\n\n' > "$tmp/b"; sed '1,/^$/d' "$tmp/b3" >> "$tmp/b"
is "old larger than the checkpoint: 400" "$(post "$tmp/b")" 400
printf 'old 0\nnot-a-hash\n\n' > "$tmp/b"; sed '1,/^$/d' "$tmp/b3" >> "$tmp/b"
is "a proof line that is not a hash: 400" "$(post "$tmp/b")" 400
printf 'old 0\n' > "$tmp/b"
is "no checkpoint: 400" "$(post "$tmp/b")" 400
# 404
printf 'old 0\n\nnobody.example/log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n— nobody.example/log AAAAAAAA\n' > "$tmp/b"
is "an unknown origin: 404" "$(post "$tmp/b")" 404
# 403
sed '/^— log1/d' "$tmp/b3" > "$tmp/b"; echo "— other.example/k AAAAAAAAAA==" >> "$tmp/b"
is "no signature by the log's key: 403" "$(post "$tmp/b")" 403
sed 's/^\(— log1.example\/scope [A-Za-z0-9+\/]\{10\}\)./\1A/' "$tmp/b3" > "$tmp/b"
cmp -s "$tmp/b" "$tmp/b3" && sed -i 's/^\(— log1.example\/scope [A-Za-z0-9+\/]\{10\}\)./\1B/' "$tmp/b"
is "a log signature that does not verify: 403" "$(post "$tmp/b")" 403
# 422
{ echo "old 0"; echo "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="; echo; "$SCOPED" checkpoint -c "$tmp/l2/scoped.conf"; } > "$tmp/b"
is "a proof with old 0: 422" "$(post "$tmp/b")" 422
append 1 "$tmp/l1"
body 5 "$tmp/l1" > "$tmp/b"
awk 'NR==2{print "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="; next} {print}' "$tmp/b" > "$tmp/bad"
is "a consistency proof that does not verify: 422" "$(post "$tmp/bad")" 422
# anyone can pair the log's public checkpoint with a garbage proof: a bad
# request, not evidence, and its log lines are limited (10 a minute)
for _ in $(seq 1 30); do post "$tmp/bad" >/dev/null; done
is "  30 more of them: 422 each" "$(post "$tmp/bad")" 422
is "  at most 10 lines logged for them" "$([ "$(grep -c "consistency proof does not verify" "$tmp/w.log")" -le 10 ] && echo yes)" yes
is "  none kept as evidence" "$(grep -c 'kept as evidence' "$tmp/w.log")" 0
is "  nothing of them stored" "$(grep -c -a 'the consistency proof does not verify' "$W/data/data.mdb")" 0
# a forked log: same key, another history of the same size
cp -r "$tmp/l1" "$tmp/fork"
"$SCOPED" append -c "$tmp/fork/scoped.conf" --project site --kind note --body-json '{"text":"other"}' >/dev/null
is "the real history goes on: 200" "$(post "$tmp/b")" 200
{ echo "old 6"; echo; "$SCOPED" checkpoint -c "$tmp/fork/scoped.conf"; } > "$tmp/b"
is "the fork one entry on, without a proof: 422" "$(post "$tmp/b")" 422
is "  a bad request, not kept" "$(grep -c 'kept as evidence' "$tmp/w.log")" 0
append 1 "$tmp/l1"
body 6 "$tmp/l1" > "$tmp/b"
is "the real history to 7: 200" "$(post "$tmp/b")" 200
{ echo "old 7"; echo; "$SCOPED" checkpoint -c "$tmp/fork/scoped.conf"; } > "$tmp/b"
is "the fork at the same size, another root: 422" "$(post "$tmp/b")" 422
has "  logged as a fork kept as evidence" "$tmp/w.log" "log1.example/scope: a fork: size 7 signed by the log with another root"
is "  stored" "$(grep -c -a 'another root' "$W/data/data.mdb")" 1
is "  the same fork again: 422" "$(post "$tmp/b")" 422
is "  logged as a fork once" "$(grep -c 'a fork: size 7' "$tmp/w.log")" 1

# GET the checkpoint; the second log
h1=$(printf 'log1.example/scope' | sha256sum | cut -d' ' -f1)
h2=$(printf 'log2.example/scope' | sha256sum | cut -d' ' -f1)
is "GET the checkpoint of log 1: 200" "$(curl -s --cacert "$W/ca.crt" -o "$tmp/g" -w '%{http_code}' "https://127.0.0.1:$WPORT/$h1/checkpoint")" 200
is "  at size 7" "$(sed -n 2p "$tmp/g")" 7
has "  with the log's signature" "$tmp/g" "— log1.example/scope "
has "  and the witness's" "$tmp/g" "— w.example/w1 "
is "GET of a log never cosigned: 404" "$(curl -s --cacert "$W/ca.crt" -o /dev/null -w '%{http_code}' "https://127.0.0.1:$WPORT/$h2/checkpoint")" 404
append 1 "$tmp/l2"
body 0 "$tmp/l2" > "$tmp/b"
is "the second log: 200" "$(post "$tmp/b")" 200
is "GET on add-checkpoint: 405" "$(curl -s --cacert "$W/ca.crt" -o /dev/null -w '%{http_code}' "https://127.0.0.1:$WPORT/add-checkpoint")" 405

# durability: restart on the same port
kill -TERM $wpid; wait $wpid; wpid=
ok "the witness restarts" start_witness "$WPORT"
body 0 "$tmp/l1" > "$tmp/b"
is "after a restart it still holds log 1 at 7: 409" "$(post "$tmp/b")" 409
is "  7" "$(cat "$tmp/ans")" 7
body 0 "$tmp/l2" > "$tmp/b"
is "and log 2 at 2: 409" "$(post "$tmp/b")" 409
is "  2" "$(cat "$tmp/ans")" 2
kill -TERM $wpid; wait $wpid; wpid=
finish
