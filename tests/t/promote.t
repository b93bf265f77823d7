#!/usr/bin/env bash
# Promoting a follower when the primary is lost, with a witness
# (deploy/README.md section 12): the commands the procedure gives to read
# the size the witness last cosigned (GET /<sha256 of origin>/checkpoint of
# `scoped witness`) and the follower's own size (scoped checkpoint on its
# stopped copy) work as typed; a follower at that size, promoted with the
# escrowed key and witness lines, is cosigned again; a follower behind it,
# promoted against the procedure's advice, is never cosigned (the witness's
# 409 is counted as ahead, then its history is refused with 422).
set -u
. "$(dirname "$0")/lib.sh"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; cleanup' EXIT

wait_for() {	# wait_for CMD...: up to 30 s until CMD succeeds
	local end=$((SECONDS + 30))
	while [ $SECONDS -lt $end ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
	return 1
}
# c ROLE ARGS...: scopectl as ROLE (the primary's profiles) against whichever
# instance runs on PORT, remembering checkpoints in $ST
ST=$tmp/state
c() { local role=$1; shift; XDG_STATE_HOME=$ST "$SCOPECTL" "$@" --config "$p/clients/$role.conf" --server "127.0.0.1:$PORT"; }
p=$tmp/p origin=test.example/promote
"$SCOPED" init "$p" --origin "$origin" --listen 127.0.0.1:0 >/dev/null 2>&1 || { echo "Bail out! init"; exit 1; }
for r in lead auditor admin; do echo "cn:$r $r *"; done > "$p/roles.conf"
tport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
vkey=$(cat "$p/keys/verifier.txt")

# the witness, over HTTPS with its own CA
mkdir -p "$tmp/w"
"$SCOPED" witness init "$tmp/w/w1" --name w1.example/w --listen 127.0.0.1:0 --log "$vkey" > "$tmp/w1.init" 2>/dev/null ||
	{ echo "Bail out! witness init"; exit 1; }
wvkey=$(head -n 1 "$tmp/w1.init")
"$SCOPED" witness -c "$tmp/w/w1/witness.conf" 2>"$tmp/w1.log" &
pids+=($!)
wait_for grep -q 'ready on' "$tmp/w1.log" || { echo "Bail out! witness"; cat "$tmp/w1.log"; exit 1; }
wport=$(sed -n 's/.*ready on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/w1.log" | tail -n 1)
# the witness lines, kept in escrow with the signing key
{ echo "witness = w1.example/w $wvkey https://127.0.0.1:$wport"
  echo "witness_ca = $tmp/w/w1/ca.crt"; echo "witness_interval_s = 1"; } > "$tmp/escrow-witness.conf"
{ echo "tiles_listen = 127.0.0.1:$tport"; cat "$tmp/escrow-witness.conf"; } >> "$p/scoped.conf"

# cosigned_size: what info says the witness last cosigned
cosigned_size() {
	c admin info --json |
		/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["stats"]["witnesses"]["each"][0]["cosigned_size"])'
}
failures() {	# failures CAUSE
	c admin info --json |
		/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["stats"]["witnesses"]["each"][0]["failures"]["'"$1"'"])'
}
ok "the primary starts" start_daemon "$p"
ok "a project" ctl "$p" lead append --project pr --kind project \
	--body-json '{"client":"C","title":"T","contract_type":"fixed","currency":"JPY","amount_minor":1000}'
for i in 1 2; do ctl "$p" lead append --project pr --kind note --body-json "{\"text\":\"n$i\"}" >/dev/null; done
ok "the witness cosigns size 3" wait_for eval '[ "$(cosigned_size)" = 3 ]'

# two followers; f stops at 3, g goes on
for x in f g; do mkdir -p "$tmp/$x/data"; follow_conf "$p" "$vkey" > "$tmp/$x/scoped.conf"; done
ok "follower f starts" start_follower "$tmp/f/scoped.conf" "https://127.0.0.1:$tport" "$tmp/f.log"
fpid=$FOLLOW_PID; pids+=($fpid)
ok "  holds 3" follower_holds "$tmp/f.log" 3
kill -TERM "$fpid"; wait "$fpid" 2>/dev/null
ok "follower g starts" start_follower "$tmp/g/scoped.conf" "https://127.0.0.1:$tport" "$tmp/g.log"
gpid=$FOLLOW_PID; pids+=($gpid)
for i in 3 4; do ctl "$p" lead append --project pr --kind note --body-json "{\"text\":\"n$i\"}" >/dev/null; done
ok "the witness cosigns size 5" wait_for eval '[ "$(cosigned_size)" = 5 ]'
ok "  g holds 5" follower_holds "$tmp/g.log" 5
kill -TERM "$gpid"; wait "$gpid" 2>/dev/null
ok "the primary is lost" stop_daemon

# ---- the procedure's checks, as typed in deploy/README.md ----
h=$(printf '%s' "$origin" | sha256sum | cut -d' ' -f1)
ok "GET the witness's latest cosigned checkpoint for the origin" \
	curl -sf --cacert "$tmp/w/w1/ca.crt" "https://127.0.0.1:$wport/$h/checkpoint"
cp "$tmp/out" "$tmp/w1.checkpoint"
is "  its second line is the size it cosigned" "$(sed -n 2p "$tmp/w1.checkpoint")" 5
has "  with the witness's cosignature" "$tmp/w1.checkpoint" "— w1.example/w "
exits 22 "a log the witness never cosigned: 404" curl -sf --cacert "$tmp/w/w1/ca.crt" \
	"https://127.0.0.1:$wport/$(printf '%s' other.example/log | sha256sum | cut -d' ' -f1)/checkpoint"
is "follower f's stopped copy: size 3 (scoped checkpoint)" "$("$SCOPED" checkpoint -c "$tmp/f/scoped.conf" | sed -n 2p)" 3
is "follower g's: size 5" "$("$SCOPED" checkpoint -c "$tmp/g/scoped.conf" | sed -n 2p)" 5

# ---- g is at the witness's size: promote it ----
promote() {	# promote DIR: step 4 of the procedure, on DIR/scoped.conf
	sed -i '/^follow_/d' "$1/scoped.conf"
	echo "signing_key = $p/keys/signing.key" >> "$1/scoped.conf"
	cat "$tmp/escrow-witness.conf" >> "$1/scoped.conf"
}
cp -a "$tmp/f" "$tmp/f-copy"
promote "$tmp/g"
ok "g promoted starts as the primary" start_daemon "$tmp/g"
ok "  an append" c lead append --project pr --kind note --body-json '{"text":"after"}'
ok "  the witness cosigns the new size 6" wait_for eval '[ "$(cosigned_size)" = 6 ]'
ok "  scopectl with the witness's quorum accepts the checkpoint" c auditor checkpoint --witness "$wvkey" --quorum 1
has "  cosigned by it" "$tmp/out" "— w1.example/w "
ok "  stops" stop_daemon

# ---- f is behind it: promoted all the same, the witness never cosigns ----
promote "$tmp/f-copy"
ok "f promoted (behind the witness) starts" start_daemon "$tmp/f-copy"
exits 1 "  a client that saw size 6 reports a rollback" c auditor checkpoint
has "  naming it" "$tmp/err" "ROLLBACK DETECTED: the server's log has 3 entries, but its key signed a"
ST=$tmp/state-new	# a client that never saw the lost entries
ok "  the witness's 409 of size 6 (g's) is counted as ahead" wait_for eval '[ "$(failures ahead)" -ge 1 ]'
has "  logged as an error" "$tmp/scoped.log" "scoped: error: witness w1.example/w: 409: it says it cosigned size 6, but this log has only 3 entries"
for i in 1 2 3; do c lead append --project pr --kind note --body-json "{\"text\":\"other $i\"}" >/dev/null; done
ok "  grown to 6, its other history is refused (422)" wait_for eval '[ "$(failures unprocessable)" -ge 1 ]'
is "  and never cosigned" "$(cosigned_size 2>&1)" 0
ok "  stops" stop_daemon
finish
