#!/usr/bin/env bash
# Witnesses (C2SP tlog-witness, cosignature/v1) on loopback: two logs and
# two witnesses.  Appends are acknowledged at once and cosigned checkpoints
# follow; scopectl with --witness/--quorum accepts only a checkpoint that
# carries the quorum and names the witnesses that did not cosign; a witness
# that is down; a witness whose state is behind the log's record (409, then
# the retry from its size); scoped restarted keeps what was cosigned; a
# forked log (the same key, two data directories with different histories)
# never reaches the quorum; the tiles' /checkpoint carries the cosignature
# lines of exactly that checkpoint, which verify; a commit that grows the log starts a round at once,
# and at most one round runs per witness_interval_s.
set -u
. "$(dirname "$0")/lib.sh"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; cleanup' EXIT

wait_for() {	# wait_for CMD...: up to 20 s until CMD succeeds
	for _ in $(seq 1 400); do "$@" >/dev/null 2>&1 && return 0; sleep 0.05; done
	return 1
}
# init_witness W NAME LOG-VKEY...: a `scoped witness` for those logs; sets W_vkey.
init_witness() {
	local w=$1 name=$2; shift 2
	local logs=(); for k in "$@"; do logs+=(--log "$k"); done
	"$SCOPED" witness init "$tmp/$w" --name "$name" --listen 127.0.0.1:0 "${logs[@]}" > "$tmp/$w.init" 2>"$tmp/$w.init.err" ||
		{ echo "Bail out! witness init $name"; cat "$tmp/$w.init.err"; exit 1; }
	eval "${w}_vkey=\$(head -n 1 \"$tmp/$w.init\")"
}
# start_witness W: runs it on loopback (the port fixed once chosen, so that
# it can be restarted); sets W_port, W_pid.
start_witness() {
	local w=$1 port; eval "port=\${${w}_port:-}"
	: > "$tmp/$w.log"
	"$SCOPED" witness -c "$tmp/$w/witness.conf" ${port:+--listen 127.0.0.1:$port} 2>>"$tmp/$w.log" &
	eval "${w}_pid=$!"; pids+=($!)
	wait_for grep -q 'ready on' "$tmp/$w.log" || { echo "Bail out! witness $w"; cat "$tmp/$w.log"; exit 1; }
	eval "${w}_port=\$(sed -n 's/.*ready on 127\.0\.0\.1:\([0-9]*\).*/\1/p' \"$tmp/$w.log\" | tail -n 1)"
}
stop_witness() { eval "kill -TERM \$${1}_pid; wait \$${1}_pid" 2>/dev/null; }
# new_log INST ORIGIN: an instance whose checkpoints go to both witnesses.
new_log() {
	"$SCOPED" init "$1" --origin "$2" >/dev/null || { echo "Bail out! init"; exit 1; }
	for r in lead approver finance auditor admin; do echo "cn:$r $r *"; done > "$1/roles.conf"
}
add_witnesses() {	# add_witnesses INST QUORUM
	{ echo "witness = w1.example/w $w1_vkey https://127.0.0.1:$w1_port"
	  echo "witness = w2.example/w $w2_vkey https://127.0.0.1:$w2_port"
	  echo "witness_ca = $tmp/witness-ca.pem"
	  echo "witness_quorum = $2"; echo "witness_interval_s = 1"; } >> "$1/scoped.conf"
}
# run_log INST: scoped for INST on a free port; sets INST's port in P[INST].
declare -A P PID
run_log() {
	local log=$1.log
	: > "$log"
	"$SCOPED" -c "$1/scoped.conf" --listen 127.0.0.1:0 2>>"$log" &
	PID[$1]=$!; pids+=($!)
	wait_for grep -q 'ready on' "$log" || { echo "Bail out! scoped $1"; cat "$log"; exit 1; }
	P[$1]=$(sed -n 's/.*ready on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | tail -n 1)
}
stop_log() { kill -TERM "${PID[$1]}"; wait "${PID[$1]}" 2>/dev/null; }
c() {	# c INST ROLE ARGS...: history two's clients remember checkpoints apart
	local inst=$1 role=$2 state=$tmp/state; shift 2
	[ "$inst" = "$f2" ] && state=$tmp/state2
	XDG_STATE_HOME=$state "$SCOPECTL" "$@" --config "$inst/clients/$role.conf" --server "127.0.0.1:${P[$inst]}"
}
q2() { echo --witness "$w1_vkey" --witness "$w2_vkey" --quorum 2; }
stat_w() {	# stat_w INST INDEX FIELD: info's stats.witnesses.each[INDEX].FIELD
	c "$1" admin info --json | /usr/bin/python3 -c 'import json,sys; w=json.load(sys.stdin)["stats"]["witnesses"]; print(w["each"]['"$2"']["'"$3"'"])'
}
rounds() { c "$1" admin info --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["stats"]["witnesses"]["rounds"])'; }
cosigned_at_least() { [ "$(stat_w "$1" 0 cosigned_size)" -ge "$3" ] && [ "$(stat_w "$1" 1 cosigned_size)" -ge "$3" ]; }
size_of() { c "$1" auditor info --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["tree_size"])'; }

a=$tmp/a b=$tmp/b f=$tmp/f f2=$tmp/f2 s=$tmp/s
new_log "$a" test.example/wit-a
new_log "$b" test.example/wit-b
new_log "$s" test.example/wit-s
new_log "$f" test.example/fork
cp -a "$f" "$f2"	# the same key and origin, another data directory
key_a=$(sed -n 's/^trust = //p' "$a/clients/admin.conf")
key_b=$(sed -n 's/^trust = //p' "$b/clients/admin.conf")
key_f=$(sed -n 's/^trust = //p' "$f/clients/admin.conf")
key_s=$(sed -n 's/^trust = //p' "$s/clients/admin.conf")
init_witness w1 w1.example/w "$key_a" "$key_b" "$key_f" "$key_s"
init_witness w2 w2.example/w "$key_a" "$key_b" "$key_f" "$key_s"
init_witness w3 w1.example/w "$key_a"	# w1's name, another key
cat "$tmp/w1/ca.crt" "$tmp/w2/ca.crt" > "$tmp/witness-ca.pem"
start_witness w1
start_witness w2
for i in "$a" "$b" "$f" "$f2" "$s"; do add_witnesses "$i" 0; done
printf '%s\n' "tiles_listen = 127.0.0.1:0" "tiles_public = yes" >> "$a/scoped.conf"
run_log "$a"
run_log "$b"

# ---- appends are acknowledged at once; cosigned checkpoints follow ----
ok "log a: an append, acknowledged under the log's own signature" c "$a" lead project create pr-a --client "A Corp" --title "A site" --currency JPY --amount 3000000
ok "log b: an append" c "$b" lead project create pr-b --client "B Corp" --title "B site" --currency JPY --amount 1000
ok "log a: both witnesses cosign its checkpoint" wait_for cosigned_at_least "$a" 0 1
ok "log b: both witnesses cosign its checkpoint" wait_for cosigned_at_least "$b" 0 1
stop_witness w2	# its state now, for a witness that comes back behind, below
cp -a "$tmp/w2/data" "$tmp/w2.early"
start_witness w2
ok "scopectl with the quorum of 2 accepts log a's cosigned checkpoint" c "$a" auditor checkpoint $(q2)
has "  it carries w1's cosignature" "$tmp/out" "— w1.example/w "
has "  and w2's" "$tmp/out" "— w2.example/w "
ok "  status with the quorum too" c "$a" auditor status pr-a $(q2)
ok "an append with the quorum waits for the witnesses and is proven in a cosigned checkpoint" c "$a" lead append --project pr-a --kind note --body-json '{"text":"witnessed"}' $(q2)
has "  proven" "$tmp/out" "proven in the checkpoint of size 2"
tport_a=$(sed -n 's/.*tiles listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$a.log" | tail -n 1)
ok "the tiles' /checkpoint of log a" curl -sfk -o "$tmp/tcp" "https://127.0.0.1:$tport_a/checkpoint"
is "  is the latest, of size 2" "$(sed -n 2p "$tmp/tcp")" 2
has "  signed by the log" "$tmp/tcp" "— test.example/wit-a "
has "  with w1's cosignature line" "$tmp/tcp" "— w1.example/w "
has "  and w2's" "$tmp/tcp" "— w2.example/w "
ok "  the log's signature and both cosignatures verify" /usr/bin/python3 "$(dirname "$0")/cosig_verify.py" "$tmp/tcp" "$key_a" "$w1_vkey" "$w2_vkey"
ok "log b with the quorum" c "$b" auditor checkpoint $(q2)
ok "a receipt with the quorum carries the cosigned checkpoint" c "$a" auditor receipt 1 -o "$tmp/r2.json" $(q2)
ok "  verify --receipt checks the cosignatures" "$SCOPECTL" verify --receipt "$tmp/r2.json" --trust "$key_a" $(q2)
has "  saying who cosigned, and when" "$tmp/out" "ok: witness w1.example/w cosigned the checkpoint at "
has "  both" "$tmp/out" "ok: witness w2.example/w cosigned the checkpoint at "
ok "a dossier with the quorum carries the cosigned checkpoint" c "$a" auditor dossier pr-a --all -o "$tmp/d2" $(q2)
has "  checkpoint.txt holds w1's cosignature" "$tmp/d2/checkpoint.txt" "— w1.example/w "
ok "  verify --dossier --witness --quorum checks the cosignatures" "$SCOPECTL" verify --dossier "$tmp/d2" --trust "$key_a" $(q2)
has "  saying who cosigned, and when" "$tmp/out" "  ok: witness w1.example/w cosigned the checkpoint at "
has "  both" "$tmp/out" "  ok: witness w2.example/w cosigned the checkpoint at "
ok "  without --witness the dossier verifies" "$SCOPECTL" verify --dossier "$tmp/d2" --trust "$key_a"
has "  saying the cosignatures were not checked" "$tmp/out" "not verified: the signatures on checkpoint.txt by w1.example/w; checkpoint.txt by w2.example/w; latest.txt by w1.example/w; latest.txt by w2.example/w (no --trust key for them; witnesses' cosignatures are checked with --witness VKEY --quorum N)"
ok "  with --witness" "$SCOPECTL" verify --dossier "$tmp/d2" --trust "$key_a" $(q2)
has "  only latest.txt's are left unchecked" "$tmp/out" "not verified: the signatures on latest.txt by w1.example/w; latest.txt by w2.example/w (no"
exits 1 "  w1's name with another key: the dossier is refused" "$SCOPECTL" verify --dossier "$tmp/d2" --trust "$key_a" --witness "$w3_vkey" --quorum 1
has "  naming the witness" "$tmp/err" "VERIFICATION FAILED: witnesses: checkpoint.txt: checkpoint is cosigned by 0 of the trusted witnesses, 1 needed (no cosignature from: w1.example/w)"
ok "verify --receipt --json" "$SCOPECTL" verify --receipt "$tmp/r2.json" --trust "$key_a" $(q2) --json
is "  lists the cosigners and when" "$(/usr/bin/python3 -c 'import json,sys; print(" ".join("%s:%s:%d" % (w["name"], w["cosigned"], w["time_s"] > 0) for w in json.load(sys.stdin)["cosigners"]))' < "$tmp/out")" "w1.example/w:True:1 w2.example/w:True:1"
# the same witnesses as a C2SP tlog-policy file
printf 'log %s\n# both must cosign\nwitness one %s\nwitness two %s\ngroup both all one two\nquorum both\n' \
	"$key_a" "$w1_vkey" "$w2_vkey" > "$tmp/both.policy"
ok "verify --receipt --policy: the policy's log is the key trusted" "$SCOPECTL" verify --receipt "$tmp/r2.json" --policy "$tmp/both.policy"
has "  saying who cosigned" "$tmp/out" "ok: witness w2.example/w cosigned the checkpoint at "
cp "$tmp/err" "$tmp/both.err"
exits 1 "  both of two is a majority: no warning" grep -q warning "$tmp/both.err"
ok "  with --trust too" "$SCOPECTL" verify --receipt "$tmp/r2.json" --trust "$key_a" --policy "$tmp/both.policy"
ok "verify --dossier --policy" "$SCOPECTL" verify --dossier "$tmp/d2" --policy "$tmp/both.policy"
printf 'witness three %s\nquorum three\n' "$w3_vkey" > "$tmp/w3.policy"
exits 1 "  a policy whose witness did not cosign refuses the receipt" "$SCOPECTL" verify --receipt "$tmp/r2.json" --trust "$key_a" --policy "$tmp/w3.policy"
has "  naming the quorum" "$tmp/err" "does not meet the policy's quorum three (cosigned by: none of its witnesses; not by: three)"
printf 'log %s\nwitness one %s\nquorum one\n' "$key_b" "$w1_vkey" > "$tmp/b.policy"
exits 2 "  a --trust key the policy does not list is refused" "$SCOPECTL" verify --receipt "$tmp/r2.json" --trust "$key_a" --policy "$tmp/b.policy"
has "  saying which line to add" "$tmp/err" "does not list the log key given with --trust; add the line \"log $key_a\""
exits 1 "  without --trust, the policy's other log does not sign the receipt" "$SCOPECTL" verify --receipt "$tmp/r2.json" --policy "$tmp/b.policy"
exits 2 "  --policy with --witness is refused" "$SCOPECTL" verify --receipt "$tmp/r2.json" --policy "$tmp/both.policy" --witness "$w1_vkey"
printf 'witness one %s\ngroup g any one nobody\nquorum g\n' "$w1_vkey" > "$tmp/bad.policy"
exits 2 "  a policy with a fault is refused" "$SCOPECTL" verify --receipt "$tmp/r2.json" --trust "$key_a" --policy "$tmp/bad.policy"
has "  naming its line and fault" "$tmp/err" "bad.policy: policy line 2: \"nobody\" is not a witness or group defined on an earlier line"
exits 1 "w1's name with another key: its cosignature does not count" c "$a" auditor checkpoint --witness "$w3_vkey" --quorum 1
has "  naming it" "$tmp/err" "no cosignature from: w1.example/w"
ok "info counts per witness" stat_w "$a" 0 cosigned
is "  with no failures" "$(stat_w "$a" 0 failures | tr -d ' ')" "{'transport':0,'forbidden':0,'not_found':0,'conflict':0,'unprocessable':0,'http':0,'bad_reply':0,'ahead':0,'timeout':0}"

# ---- a witness that is down ----
stop_witness w2
stop_log "$a"
sed -i 's/^witness_quorum = 0$/witness_quorum = 1/' "$a/scoped.conf"
run_log "$a"
ok "with w2 down, appends go on" c "$a" lead append --project pr-a --kind note --body-json '{"text":"w2 down"}'
size=$(size_of "$a")
ok "  w1 still cosigns" wait_for eval '[ "$(stat_w "$a" 0 cosigned_size)" -ge '"$size"' ]'
ok "  w2's failures are counted as transport errors" wait_for eval '[ "$(stat_w "$a" 1 failures | sed "s/.*.transport.: \([0-9]*\).*/\1/")" -ge 1 ]'
ok "  scopectl with quorum 1 accepts the checkpoint w1 cosigned" c "$a" auditor checkpoint --witness "$w1_vkey" --witness "$w2_vkey" --quorum 1
cp "$tmp/out" "$tmp/cp.txt"
ok "  of the new size" grep -qx "$size" "$tmp/cp.txt"
exits 1 "  scopectl with quorum 2 refuses it" c "$a" auditor checkpoint $(q2)
has "  saying which witness did not cosign" "$tmp/err" "cosigned by 1 of the trusted witnesses, 2 needed (no cosignature from: w2.example/w)"
ok "  a receipt with quorum 1" c "$a" auditor receipt 2 -o "$tmp/r1.json" --witness "$w1_vkey" --witness "$w2_vkey" --quorum 1
ok "  verifies with quorum 1, saying w2 did not cosign" "$SCOPECTL" verify --receipt "$tmp/r1.json" --trust "$key_a" --witness "$w1_vkey" --witness "$w2_vkey" --quorum 1
has "  (w2)" "$tmp/out" "note: witness w2.example/w did not cosign the checkpoint"
exits 1 "  verify --receipt with quorum 2 refuses it" "$SCOPECTL" verify --receipt "$tmp/r1.json" --trust "$key_a" $(q2)
has "  naming w2" "$tmp/err" "no cosignature from: w2.example/w"
printf 'witness one %s\nwitness two %s\ngroup either any one two\nquorum either\n' "$w1_vkey" "$w2_vkey" > "$tmp/either.policy"
ok "  a policy of either witness accepts it" "$SCOPECTL" verify --receipt "$tmp/r1.json" --trust "$key_a" --policy "$tmp/either.policy"
has "  warning that either of two is no majority" "$tmp/err" "warning: --policy: two disjoint sets of its witnesses could each meet its quorum either"
exits 1 "  the policy of both refuses it" "$SCOPECTL" verify --receipt "$tmp/r1.json" --policy "$tmp/both.policy"
has "  saying who did not cosign" "$tmp/err" "does not meet the policy's quorum both (cosigned by: one; not by: two)"
ok "  online, --policy with either witness accepts the checkpoint" c "$a" auditor checkpoint --policy "$tmp/either.policy"
exits 1 "  --policy with both refuses it" c "$a" auditor checkpoint --policy "$tmp/both.policy"
has "  naming the witness that did not cosign" "$tmp/err" "VERIFICATION FAILED: refused checkpoint"
has "  (two)" "$tmp/err" "cosigned by: one; not by: two"
cp "$a/clients/auditor.conf" "$a/clients/policy.conf"
echo "policy = $tmp/either.policy" >> "$a/clients/policy.conf"
ok "  a profile's policy line" "$SCOPECTL" checkpoint --config "$a/clients/policy.conf" --server "127.0.0.1:${P[$a]}"
has "  warning of the majority rule there too" "$tmp/err" "warning: the policy: two disjoint sets of its witnesses could each meet its quorum either"
exits 2 "  --policy with --quorum is refused" c "$a" auditor checkpoint --policy "$tmp/either.policy" --quorum 1 --witness "$w1_vkey"
has "  saying to give one or the other" "$tmp/err" "a policy names the witnesses and the quorum"
exits 2 "  a policy that does not list the trusted log is refused" c "$a" auditor checkpoint --policy "$tmp/b.policy"
has "  saying which line to add" "$tmp/err" "the policy does not list the trusted log key; add the line \"log $key_a\""

# ---- a witness restarted, behind the log's record of it: 409, then from its size ----
rm -rf "$tmp/w2/data"; cp -a "$tmp/w2.early" "$tmp/w2/data"	# w2 comes back knowing less than the log thinks
start_witness w2
ok "w2 back: it answers 409 with its size, and the log proves from there" wait_for cosigned_at_least "$a" 0 "$size"
ok "  scopectl with quorum 2 accepts again" c "$a" auditor checkpoint $(q2)

# ---- scoped restarted: what the witnesses cosigned is kept ----
stop_log "$a"
kill -STOP "$w1_pid" "$w2_pid"
run_log "$a"
is "scoped restarted: w1's cosigned size is read back" "$(stat_w "$a" 0 cosigned_size)" "$size"
ok "  the cosigned checkpoint is served at once" c "$a" auditor checkpoint $(q2)
kill -CONT "$w1_pid" "$w2_pid"
stop_log "$a"
ok "scoped verify on the store holding the witnesses' records" "$SCOPED" verify -c "$a/scoped.conf"

# ---- a forked log: the same key, another data directory, another history ----
run_log "$f"
ok "fork: history one" c "$f" lead project create pr-f --client "F Corp" --title "F site" --currency JPY --amount 1
ok "  is cosigned by both witnesses" wait_for cosigned_at_least "$f" 0 1
run_log "$f2"
ok "fork: history two, the same key, another data directory" c "$f2" lead project create pr-g --client "G Corp" --title "G site" --currency JPY --amount 2
ok "  a second append" c "$f2" lead append --project pr-g --kind note --body-json '{"text":"the other history"}'
ok "  the witnesses refuse it (422 from the size they cosigned)" wait_for eval '[ "$(stat_w "$f2" 0 failures | sed "s/.*.unprocessable.: \([0-9]*\).*/\1/")" -ge 1 ] && [ "$(stat_w "$f2" 1 failures | sed "s/.*.unprocessable.: \([0-9]*\).*/\1/")" -ge 1 ]'
is "  no witness cosigned it" "$(stat_w "$f2" 0 cosigned_size)$(stat_w "$f2" 1 cosigned_size)" "00"
exits 4 "  scopectl with the quorum refuses history two: no cosigned checkpoint" c "$f2" auditor checkpoint $(q2)
has "  saying the quorum is not reached" "$tmp/err" "no checkpoint carries the quorum of witness cosignatures"
ok "  history one stays accepted" c "$f" auditor checkpoint $(q2)

# ---- rounds: after the commit that grew the log, at most one per witness_interval_s ----
sed -i 's/^witness_interval_s = 1$/witness_interval_s = 60/' "$s/scoped.conf"
run_log "$s"
is "witness_interval_s = 60: no round for the empty log" "$(rounds "$s")" 0
ok "  an append" c "$s" lead project create pr-s --client "S Corp" --title "S site" --currency JPY --amount 5
ok "  is cosigned by both witnesses at once, not after the interval" wait_for cosigned_at_least "$s" 0 1
is "  in one round" "$(rounds "$s")" 1
ok "  two more appends in quick succession" c "$s" lead append --project pr-s --kind note --body-json '{"text":"one"}'
ok "  (the second)" c "$s" lead append --project pr-s --kind note --body-json '{"text":"two"}'
is "  start no second round within the interval" "$(rounds "$s")" 1
is "  the witnesses still hold size 1" "$(stat_w "$s" 0 cosigned_size)$(stat_w "$s" 1 cosigned_size)" "11"

# ---- one key under two names counts once: refused in the configuration ----
alias_vkey=$(python3 - "$w1_vkey" <<'EOF'
import base64, hashlib, sys
name, kid, b = sys.argv[1].split("+", 2)
new = "alias.example/w"
print(new + "+" + hashlib.sha256(new.encode() + b"\n" + base64.b64decode(b)).digest()[:4].hex() + "+" + b)
EOF
)
cp "$s/scoped.conf" "$tmp/alias.conf"
echo "witness = alias.example/w $alias_vkey https://127.0.0.1:1" >> "$tmp/alias.conf"
exits 2 "w1's key under another name is refused" "$SCOPED" config -c "$tmp/alias.conf"
has "  naming both" "$tmp/err" "witness alias.example/w: its public key is witness w1.example/w's"

# ---- the log's witnesses and quorum from a C2SP tlog-policy file ----
stop_log "$s"
grep -v '^witness = \|^witness_quorum = ' "$s/scoped.conf" > "$tmp/s.conf" && mv "$tmp/s.conf" "$s/scoped.conf"
printf 'log %s\nwitness one %s https://127.0.0.1:%s\nwitness two %s https://127.0.0.1:%s\ngroup both all one two\nquorum both\n' \
	"$(sed -n 's/^trust = //p' "$s/clients/admin.conf")" "$w1_vkey" "$w1_port" "$w2_vkey" "$w2_port" > "$tmp/s.policy"
echo "witness_policy = $tmp/s.policy" >> "$s/scoped.conf"
ok "witness_policy: scoped config reads its witnesses" "$SCOPED" config -c "$s/scoped.conf"
exits 1 "  no majority-rule warning for all of two" grep -q "two disjoint" "$tmp/err"
sed -i 's/^witness_interval_s = 60$/witness_interval_s = 1/' "$s/scoped.conf"
run_log "$s"
has "  scoped says where its witnesses come from" "$s.log" "witnesses: 2 from witness_policy $tmp/s.policy, quorum both"
ok "  an append" c "$s" lead append --project pr-s --kind note --body-json '{"text":"policy"}'
size_s=$(size_of "$s")
ok "  is cosigned by both" wait_for eval '[ "$(stat_w "$s" 0 cosigned_size)" -ge '"$size_s"' ] && [ "$(stat_w "$s" 1 cosigned_size)" -ge '"$size_s"' ]'
ok "  and served as cosigned under the policy's quorum" wait_for c "$s" auditor checkpoint $(q2)
is "  info names the policy's quorum" "$(c "$s" admin info --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["stats"]["witnesses"]["policy"])')" both
stop_log "$s"
sed -i 's/^group both all one two$/group both any one two/' "$tmp/s.policy"
ok "  a policy of either witness" "$SCOPED" config -c "$s/scoped.conf"
has "  warns of the majority rule" "$tmp/err" "witness_policy: two disjoint sets of its witnesses could each meet its quorum both"
cp "$s/scoped.conf" "$tmp/both.conf"; echo "witness_quorum = 1" >> "$tmp/both.conf"
exits 2 "  witness_policy with witness_quorum is refused" "$SCOPED" config -c "$tmp/both.conf"
has "  saying to give one" "$tmp/err" "witness_policy names the witnesses and the quorum: give it instead of witness and witness_quorum lines"
python3 - "$tmp/many.policy" <<'EOF'
import base64, hashlib, os, sys
with open(sys.argv[1], "w") as f:
    for i in range(32):
        name, pub = "w%02d.example/w" % i, bytes([0x04]) + hashlib.sha256(b"key %d" % i).digest()
        kid = hashlib.sha256(name.encode() + b"\n" + pub).digest()[:4].hex()
        f.write("witness w%d %s+%s+%s https://127.0.0.1:%d\n" % (i, name, kid, base64.b64encode(pub).decode(), 1000 + i))
    f.write("group g 17 " + " ".join("w%d" % i for i in range(32)) + "\nquorum g\n")
EOF
sed "s|^witness_policy = .*|witness_policy = $tmp/many.policy|" "$s/scoped.conf" > "$tmp/many.conf"
ok "  a policy of 32 witnesses (as many as the format recommends supporting)" "$SCOPED" config -c "$tmp/many.conf"
printf 'witness one %s\nquorum one\n' "$w1_vkey" > "$tmp/nourl.policy"
sed "s|^witness_policy = .*|witness_policy = $tmp/nourl.policy|" "$s/scoped.conf" > "$tmp/nourl.conf"
exits 2 "  a policy witness without a URL is refused" "$SCOPED" config -c "$tmp/nourl.conf"
has "  naming it" "$tmp/err" "witness one has no URL"
printf 'log %s\nwitness one %s https://127.0.0.1:%s\nquorum one\n' "$key_b" "$w1_vkey" "$w1_port" > "$tmp/otherlog.policy"
sed "s|^witness_policy = .*|witness_policy = $tmp/otherlog.policy|" "$s/scoped.conf" > "$s/other.conf"
"$SCOPED" -c "$s/other.conf" --listen 127.0.0.1:0 > "$tmp/other.out" 2> "$tmp/other.err"
rc=$?
ok "  a policy not listing this log's key: scoped does not start" [ "$rc" -ne 0 ]
has "  saying which line to add" "$tmp/other.err" "lists logs, but not this log's key: add the line"
finish
