#!/usr/bin/env bash
# Storage faults and startup refusals against the real daemon: a map that
# fills up (clear error, nothing half-written, reads and proofs still
# served, appends resume once there is room), a data directory in use, not
# a directory, keys readable by others, and stored bytes altered behind the
# daemon's back (online and offline verification name the entry), and a
# derived-state record altered (scoped verify names it, reindex repairs it).
set -u
. "$(dirname "$0")/lib.sh"

inst=$tmp/inst
"$SCOPED" init "$inst" --origin test.example/storage >/dev/null || { echo "Bail out! init"; exit 1; }
conf=$inst/scoped.conf
cp "$conf" "$tmp/conf.orig"
printf 'map_initial_mib = 1\nmap_max_mib = 1\n' >> "$conf"
start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }
ok "create a project" ctl "$inst" lead project create pr --client C --title T --currency JPY --amount 1
text=$(head -c 60000 /dev/zero | tr '\0' 'x')
full=0 stored=0
for i in $(seq 1 40); do
	if ctl "$inst" lead append --project pr --kind note --request-id "big-$i" --body-json "{\"text\":\"$i $text\"}" >"$tmp/out" 2>"$tmp/err"; then
		stored=$((stored + 1))
	else
		full=$i; break
	fi
done
n=$((n + 1)); if [ "$full" -gt 0 ]; then echo "ok $n - the 1 MiB map fills after $stored large notes"; else failed=$((failed+1)); echo "not ok $n - the map never filled"; fi
has "  the append is refused as storage_full" "$tmp/err" "storage_full"
has "  saying why" "$tmp/err" "ledger storage is full"
ok "reads still work" ctl "$inst" auditor log --json
is "  every stored note is there, nothing half-written" "$(grep -c '"kind":"note"' "$tmp/out")" "$stored"
ok "proofs still work" ctl "$inst" auditor prove 1
ok "the whole ledger verifies" ctl "$inst" auditor verify
stop_daemon
cp "$tmp/conf.orig" "$conf"
printf 'map_initial_mib = 1\nmap_max_mib = 64\n' >> "$conf"
start_daemon "$inst" || { echo "Bail out! no restart"; exit 1; }
ok "with room to grow, the refused append goes through on retry" ctl "$inst" lead append --project pr --kind note --request-id "big-$full" --body-json "{\"text\":\"$full $text\"}" --json
has "  as the next entry" "$tmp/out" "\"seq\":$((stored + 1)),"

# a second daemon on the same data directory
"$SCOPED" -c "$conf" --listen 127.0.0.1:0 >"$tmp/out" 2>"$tmp/err"
rc=$?
n=$((n + 1)); if [ $rc -ne 0 ]; then echo "ok $n - a second scoped on the same data directory is refused (exit $rc)"; else failed=$((failed+1)); echo "not ok $n - second scoped started"; fi
has "  naming the other process" "$tmp/err" "is in use by another process (pid $daemon_pid)"
stop_daemon

# refusals at startup
cp "$conf" "$tmp/conf.good"
echo "data_dir = $inst/scoped.conf" >> "$conf"
exits 5 "a data directory that is a file is refused" "$SCOPED" -c "$conf" --listen 127.0.0.1:0
has "  with a clear message" "$tmp/err" "is not a directory"
cp "$tmp/conf.good" "$conf"
chmod 644 "$inst/tls/server.key"
exits 2 "a TLS key readable by others is refused" "$SCOPED" -c "$conf" --listen 127.0.0.1:0
has "  saying how to fix it" "$tmp/err" "TLS private key"
chmod 600 "$inst/tls/server.key"
chmod 640 "$inst/keys/signing.key"
exits 2 "a signing key readable by the group is refused" "$SCOPED" -c "$conf" --listen 127.0.0.1:0
has "  saying how to fix it" "$tmp/err" "chmod 600"
chmod 600 "$inst/keys/signing.key"
start_daemon "$inst" || { echo "Bail out! no start"; exit 1; }
stop_daemon
n=$((n + 1)); if ! grep -q "PRIVATE KEY" "$tmp/scoped.log"; then echo "ok $n - the log holds no key"; else failed=$((failed+1)); echo "not ok $n - key in log"; fi

# bytes altered behind the daemon's back
start_daemon "$inst" || { echo "Bail out! no start"; exit 1; }
ok "a small note" ctl "$inst" lead append --project pr --kind note --request-id small --body-json '{"text":"marker-AAAA"}' --json
seq=$(sed -n 's/^{"seq":\([0-9]*\),.*/\1/p' "$tmp/out")
ok "one more after it" ctl "$inst" lead append --project pr --kind note --request-id after --body-json '{"text":"after"}'
ok "the auditor's client accepts the checkpoint" ctl "$inst" auditor verify
stop_daemon
# every copy: LMDB's copy-on-write leaves older page versions in the file
perl -0777 -pi -e 's/marker-AAAA/marker-AAAB/g' "$inst/data/data.mdb"
start_daemon "$inst" || { echo "Bail out! no start"; exit 1; }
exits 1 "online verification catches the altered entry" ctl "$inst" auditor verify
has "  naming it" "$tmp/err" "first bad entry: $seq"
stop_daemon
exits 1 "so does the server's own check" "$SCOPED" verify -c "$conf"
has "  naming it" "$tmp/err" "first bad entry: $seq"
perl -0777 -pi -e 's/marker-AAAB/marker-AAAA/g' "$inst/data/data.mdb"
ok "with the entry put back it verifies" "$SCOPED" verify -c "$conf"

# the derived state lied about: the contract amount (1) raised to 127 in
# the project's state record, a msgpack map with the field "amount"
perl -0777 -pi -e 's/\xa6amount\x01/\xa6amount\x7f/g' "$inst/data/data.mdb"
exits 1 "scoped verify catches a contract amount raised behind the daemon's back" "$SCOPED" verify -c "$conf"
has "  naming the record and the field" "$tmp/err" 'derived state: project p/pr differs from what the log implies: field "amount" is 127 where the log implies 1'
ok "scoped reindex rebuilds the state from the log" "$SCOPED" reindex -c "$conf"
ok "  after which it verifies" "$SCOPED" verify -c "$conf"
finish
