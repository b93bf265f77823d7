#!/usr/bin/env bash
# scopectl verify --export on several threads (chunks of 4096 entries
# prepared in parallel, folded in order): a 20,000-entry export verifies
# with 1 and with 4 threads, and a damaged entry in the middle, a chain
# broken at a chunk boundary, an undecodable entry and a bad
# SCOPE_VERIFY_THREADS are reported the same way, with the same first bad
# entry, whatever the number of threads.  Online, verify and export over
# mutual TLS give the same report and entries on 1 and on 4 threads, and an
# entry altered in storage is found online too.  A raw export is split by
# its msgpack headers: a cut or an invalid tag is named.
set -u
. "$(dirname "$0")/lib.sh"
BENCH=${SCOPE_BENCH:-$(dirname "$SCOPED")/../tests/bench/scope-bench}

inst=$tmp/inst
"$SCOPED" init "$inst" --origin test.example/pverify >/dev/null || { echo "Bail out! init"; exit 1; }
"$BENCH" generate -c "$inst/scoped.conf" --count 20000 --batch 5000 --size 100 >/dev/null ||
	{ echo "Bail out! scope-bench generate"; exit 1; }
ok "export" "$SCOPED" export -c "$inst/scoped.conf" -o "$tmp/all.hex"
ok "checkpoint" "$SCOPED" checkpoint -c "$inst/scoped.conf"
cp "$tmp/out" "$tmp/cp.txt"
key=$inst/keys/verifier.txt
v() { "$SCOPECTL" verify --export "$1" --checkpoint "$tmp/cp.txt" --trust "$key" "${@:2}"; }

for t in 1 4; do
	ok "20,000 entries verify with $t thread(s)" v "$tmp/all.hex" --threads "$t"
	has "  all of them" "$tmp/out" "ok: 20000 entries verified"
done

# entry LINE-1 altered: one 'g' of its body becomes 'h'
alter() { awk -v l="$1" 'NR==l { sub(/6767/, "6768") } { print }' "$tmp/all.hex" > "$2"; }
same() {	# same NAME FILE SEQ: exit 1, first bad entry SEQ, identical with 1 and 4 threads
	local name=$1 file=$2 seq=$3
	exits 1 "$name: fails with 1 thread" v "$file" --threads 1
	has "  first bad entry $seq" "$tmp/err" "first bad entry: $seq"
	cp "$tmp/err" "$tmp/err1"
	exits 1 "$name: fails with 4 threads" v "$file" --threads 4
	n=$((n+1))
	if cmp -s "$tmp/err1" "$tmp/err"; then echo "ok $n -   the same message"; else
		failed=$((failed+1)); echo "not ok $n -   the messages differ"; diff "$tmp/err1" "$tmp/err" | sed 's/^/# /'; fi
	SCOPE_VERIFY_THREADS=4 exits 1 "$name: fails with SCOPE_VERIFY_THREADS=4" v "$file" --json
	has "  JSON names entry $seq" "$tmp/out" "\"first_bad_seq\":$seq"
}
alter 10001 "$tmp/mid.hex"
same "entry 10000 altered (in the third chunk)" "$tmp/mid.hex" 10000
alter 4096 "$tmp/edge.hex"
same "entry 4095 altered (the chain breaks between two chunks)" "$tmp/edge.hex" 4095
has "  entry 4096 records the old hash" "$tmp/err1" "entry 4096 records prev"
awk 'NR==4097 { held = $0; next } NR==4098 { print; print held; next } { print }' "$tmp/all.hex" > "$tmp/swap.hex"
same "entries 4096 and 4097 swapped" "$tmp/swap.hex" 4096
awk 'NR==12289 { $0 = "00" } { print }' "$tmp/all.hex" > "$tmp/junk.hex"
same "entry 12288 not an entry" "$tmp/junk.hex" 12288
awk 'NR==8193 { $0 = "zz" } { print }' "$tmp/all.hex" > "$tmp/unreadable.hex"
same "entry 8192 not hex" "$tmp/unreadable.hex" 8192
head -n 19999 "$tmp/all.hex" > "$tmp/short.hex"
exits 1 "a truncated export fails with 4 threads" v "$tmp/short.hex" --threads 4
has "  entries are missing" "$tmp/err" "entries are missing"

# the raw format: entries split by their msgpack headers alone
ok "raw export" "$SCOPED" export -c "$inst/scoped.conf" --format raw -o "$tmp/all.raw"
ok "a raw export verifies with 4 threads" v "$tmp/all.raw" --threads 4
has "  all of it" "$tmp/out" "ok: 20000 entries verified"
head -c -3 "$tmp/all.raw" > "$tmp/cut.raw"
exits 1 "a raw export cut inside its last entry fails" v "$tmp/cut.raw" --threads 4
has "  naming it truncated" "$tmp/err" "entry 19999 is truncated"
{ printf '\x89\xc1'; head -c 32 /dev/zero; } > "$tmp/c1.raw"
exits 1 "a raw export holding the tag 0xc1 fails" v "$tmp/c1.raw" --threads 4
has "  naming it not msgpack" "$tmp/err" "entry 0 is not msgpack"

SCOPE_VERIFY_THREADS=9 exits 2 "SCOPE_VERIFY_THREADS=9 is refused" v "$tmp/all.hex"
has "  saying what to give" "$tmp/err" "from 1 to 8"
exits 2 "--threads 0 is refused" v "$tmp/all.hex" --threads 0
SCOPE_VERIFY_THREADS=2 ok "SCOPE_VERIFY_THREADS=2 verifies" v "$tmp/all.hex"

# online: the same entries over mutual TLS, verified on 1 and on 4 threads
for r in admin auditor; do echo "cn:$r $r *"; done > "$inst/roles.conf"
start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }
SCOPE_VERIFY_THREADS=1 ok "online verify on 1 thread" ctl "$inst" auditor verify --json
cp "$tmp/out" "$tmp/online1"
has "  20,000 entries" "$tmp/online1" '"entries":20000'
SCOPE_VERIFY_THREADS=4 ok "online verify on 4 threads" ctl "$inst" auditor verify --json
is "  the same report" "$(cat "$tmp/out")" "$(cat "$tmp/online1")"
SCOPE_VERIFY_THREADS=4 ok "online export, verified on 4 threads" ctl "$inst" auditor export -o "$tmp/online.hex"
ok "  the same entries as scoped export" cmp "$tmp/online.hex" "$tmp/all.hex"
SCOPE_VERIFY_THREADS=x exits 2 "online: a bad SCOPE_VERIFY_THREADS is refused" ctl "$inst" auditor verify
has "  saying what to give" "$tmp/err" "from 1 to 8"
stop_daemon
# online, the pages give only each entry's seq and the threads check the
# rest: an entry altered in storage is still found, on 1 and on 4 threads
python3 - "$inst/data/data.mdb" <<'PY' || echo "Bail out! cannot alter entry 10000"
import sys
f = open(sys.argv[1], "r+b")
d = f.read()
at = d.find(b"\xaarequest_id\xa7g-10000\xa3seq")
assert at > 0
f.seek(at + 12)
f.write(b"h")
PY
start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }
for t in 1 4; do
	SCOPE_VERIFY_THREADS=$t exits 1 "online: entry 10000 altered in storage fails on $t thread(s)" \
		ctl "$inst" auditor verify --json
	has "  JSON names entry 10000" "$tmp/out" "\"first_bad_seq\":10000"
done
stop_daemon
finish
