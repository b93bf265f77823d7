#!/usr/bin/env bash
# The majority rule: a witness quorum that is not more than half of the
# witnesses lets two disjoint sets of them each cosign a different history.
# scoped warns (never refuses) at startup, on SIGHUP and in `scoped config`;
# scopectl warns for --quorum (or a profile's quorum) with its --witness keys.
# On SIGHUP a change of the witness settings is logged as taking effect on
# restart (witness_interval_s too), and the running ones stay.  A
# witness key of type 0x06 (ML-DSA-44, subtree/v1) is refused, naming OpenSSL.
set -u
. "$(dirname "$0")/lib.sh"

inst=$tmp/inst
"$SCOPED" init "$inst" --origin test.example/quorum >/dev/null || { echo "Bail out! init"; exit 1; }
for r in lead auditor admin; do echo "cn:$r $r *"; done > "$inst/roles.conf"
mkdir -p "$tmp/w"
for i in 1 2 3 4; do
	"$SCOPED" witness init "$tmp/w/$i" --name "w$i.example/w" --listen 127.0.0.1:0 > "$tmp/w$i.init" 2>/dev/null ||
		{ echo "Bail out! witness init"; exit 1; }
	eval "vk$i=\$(head -n 1 \"$tmp/w$i.init\")"
done
cp "$inst/scoped.conf" "$tmp/base.conf"
# conf QUORUM N: the instance's configuration with witnesses 1..N (never
# reached: a closed loopback port) and witness_quorum = QUORUM
conf() {
	cp "$tmp/base.conf" "$inst/scoped.conf"
	for i in $(seq 1 "$2"); do
		eval "echo \"witness = w$i.example/w \$vk$i http://127.0.0.1:9/w$i\""
	done >> "$inst/scoped.conf"
	echo "witness_quorum = $1" >> "$inst/scoped.conf"
}
warning='is not a majority: two disjoint sets of'

# ---- scoped config ----
conf 1 2
ok "scoped config: quorum 1 of 2 is accepted" "$SCOPED" config -c "$inst/scoped.conf"
has "  with a warning naming the majority rule" "$tmp/err" "scoped config: warning: witness_quorum: a quorum of 1 of 2 witnesses is not a majority: two disjoint sets of 1 witnesses could each cosign a different history of the log (a split view); a quorum of at least 2 (more than half) rules that out (SECURITY.md, \"Majority rule\")"
conf 2 4
ok "scoped config: quorum 2 of 4" "$SCOPED" config -c "$inst/scoped.conf"
has "  is half, not a majority: a warning" "$tmp/err" "a quorum of 2 of 4 witnesses $warning 2 witnesses"
has "  saying 3 would do" "$tmp/err" "a quorum of at least 3 (more than half)"
for q in "2 3" "2 2" "3 4" "0 4" "1 1"; do
	conf $q
	ok "scoped config: quorum $q[0] of ${q#* }" "$SCOPED" config -c "$inst/scoped.conf"
	is "  a majority: no warning" "$(cat "$tmp/err")" ""
done
conf 0 0
ok "scoped config without witnesses" "$SCOPED" config -c "$inst/scoped.conf"
is "  no warning" "$(cat "$tmp/err")" ""

# ---- scoped at startup and on SIGHUP ----
conf 1 2
ok "scoped starts with quorum 1 of 2 (a warning, not a refusal)" start_daemon "$inst"
has "  it warns at startup" "$tmp/scoped.log" "witnesses: witness_quorum: a quorum of 1 of 2 witnesses $warning"
stop_daemon
conf 2 2
ok "scoped with quorum 2 of 2" start_daemon "$inst"
is "  no warning" "$(grep -c "$warning" "$tmp/scoped.log")" 0
ok "SIGHUP with nothing changed" reload_daemon
is "  says nothing of the witnesses" "$(grep -c 'witness settings' "$tmp/scoped.log")" 0
conf 1 2
ok "SIGHUP with quorum 1 of 2" reload_daemon
has "  warns of the majority rule" "$tmp/scoped.log" "SIGHUP: witness_quorum: a quorum of 1 of 2 witnesses $warning"
has "  and that the witness settings take effect on restart" "$tmp/scoped.log" "SIGHUP: the witness settings (witness, witness_quorum, witness_ca, witness_interval_s) changed in the configuration; they take effect on restart, the running ones stay"
ok "  info" ctl "$inst" admin info --json
is "  still shows the running quorum" "$(/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["stats"]["witnesses"]["quorum"])' < "$tmp/out")" 2
conf 2 3
ok "SIGHUP with a third witness" reload_daemon
is "  a change again" "$(grep -c 'witness settings (witness, witness_quorum, witness_ca, witness_interval_s) changed' "$tmp/scoped.log")" 2
is "  but quorum 2 of 3 is a majority" "$(grep -c "$warning" "$tmp/scoped.log")" 1
ok "  info" ctl "$inst" admin info --json
is "  still the two witnesses of the start" "$(/usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)["stats"]["witnesses"]["each"]))' < "$tmp/out")" 2
echo "witness_interval_s = 5" >> "$inst/scoped.conf"
ok "SIGHUP with only witness_interval_s changed" reload_daemon
is "  a change too" "$(grep -c 'witness settings (witness, witness_quorum, witness_ca, witness_interval_s) changed' "$tmp/scoped.log")" 3
stop_daemon

# ---- scopectl ----
conf 0 0
ok "scoped without witnesses" start_daemon "$inst"
# this log has no witnesses: each command below fails (exit 4, the server refused), after the warning
exits 4 "scopectl info with --quorum 1 of 2 --witness keys" ctl "$inst" auditor info --witness "$vk1" --witness "$vk2" --quorum 1
has "  warns of the majority rule" "$tmp/err" "scopectl: warning: --quorum (or quorum in the profile): a quorum of 1 of 2 witnesses $warning"
q=$inst/clients/q.conf
cp "$inst/clients/auditor.conf" "$q"
{ echo "witness = $vk1"; echo "witness = $vk2"; echo "witness = $vk3"; echo "witness = $vk4"; echo "quorum = 2"; } >> "$q"
exits 4 "a profile with quorum 2 of 4" "$SCOPECTL" info --config "$q" --server "127.0.0.1:$PORT"
has "  warns" "$tmp/err" "a quorum of 2 of 4 witnesses $warning"
exits 4 "  --quorum 3 overrides it" "$SCOPECTL" info --config "$q" --server "127.0.0.1:$PORT" --quorum 3
is "  no warning" "$(grep -c "$warning" "$tmp/err")" 0
exits 4 "--quorum 2 of 3" ctl "$inst" auditor info --witness "$vk1" --witness "$vk2" --witness "$vk3" --quorum 2
is "  no warning" "$(grep -c "$warning" "$tmp/err")" 0
ok "an append" ctl "$inst" lead project create pr --client C --title T --currency JPY --amount 1
ok "its receipt" ctl "$inst" auditor receipt 0 -o "$tmp/r.json"
key=$(sed -n 's/^trust = //p' "$inst/clients/auditor.conf")
"$SCOPECTL" verify --receipt "$tmp/r.json" --trust "$key" --witness "$vk1" --witness "$vk2" --quorum 1 >/dev/null 2>"$tmp/verr"
has "verify --receipt --quorum 1 of 2 warns" "$tmp/verr" "scopectl: warning: --quorum: a quorum of 1 of 2 witnesses $warning"
stop_daemon

# ---- an ML-DSA-44 witness key ----
mldsa=$(/usr/bin/python3 -c '
import base64, hashlib
name = "pq.example/w"; pub = bytes(range(256)) * 5 + bytes(32)	# 1312 bytes
kid = hashlib.sha256(name.encode() + b"\n" + b"\x06" + pub).digest()[:4]
print("%s+%s+%s" % (name, kid.hex(), base64.b64encode(b"\x06" + pub).decode()))')
cp "$tmp/base.conf" "$inst/scoped.conf"
echo "witness = pq.example/w $mldsa http://127.0.0.1:9/pq" >> "$inst/scoped.conf"
exits 2 "scoped config refuses a witness key of type 0x06 (ML-DSA-44)" "$SCOPED" config -c "$inst/scoped.conf"
has "  saying what it is" "$tmp/err" "an ML-DSA-44 key (subtree/v1, type 0x06)"
has "  naming the OpenSSL in use" "$tmp/err" "this OpenSSL (OpenSSL "
has "  and what to use instead" "$tmp/err" "use the witness's Ed25519 cosignature/v1 key (type 0x04)"
exits 2 "scopectl --witness refuses it too" ctl "$inst" auditor info --witness "$mldsa"
has "  saying what it is" "$tmp/err" "an ML-DSA-44 key (subtree/v1, type 0x06)"
is "  with no majority warning" "$(grep -c "$warning" "$tmp/err")" 0
finish
