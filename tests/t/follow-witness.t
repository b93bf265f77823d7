#!/bin/bash
# A follower of a primary whose checkpoints a witness cosigns (scoped
# witness on loopback): the follower keeps the cosignature lines of the
# checkpoint it holds, verified with its own witness line, and serves them,
# so that scopectl with --witness/--quorum 1 works against it (checkpoint,
# status, the follower's own tiles /checkpoint); a cosignature altered in
# transit (tamper.py, mode cosig) is refused and counted
# (cosignatures_refused), and the quorum client then fails closed; a
# follower with no witness line keeps the altered line and the client
# refuses it itself.
. "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || { echo "1..0 # SKIP curl is not installed (deploy/install-deps.sh --test)"; exit 0; }
need_cryptography
pids=()
trap 'for x in "${pids[@]}"; do kill -9 "$x" 2>/dev/null; done; cleanup' EXIT
wait_for() {	# wait_for CMD...: up to 30 s until CMD succeeds
	for _ in $(seq 1 300); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
	return 1
}
p=$tmp/p
"$SCOPED" init "$p" --origin test.example/fw --listen 127.0.0.1:0 >/dev/null 2>&1 || { echo "Bail out! init"; exit 1; }
key_p=$(sed -n 's/^trust = //p' "$p/clients/admin.conf")
"$SCOPED" witness init "$tmp/w1" --name w1.example/w --listen 127.0.0.1:0 --log "$key_p" > "$tmp/w1.init" 2>"$tmp/w1.init.err" ||
	{ echo "Bail out! witness init"; exit 1; }
w1_vkey=$(head -n 1 "$tmp/w1.init")
"$SCOPED" witness -c "$tmp/w1/witness.conf" 2>"$tmp/w1.log" &
pids+=($!)
wait_for grep -q 'ready on' "$tmp/w1.log" || { echo "Bail out! witness"; cat "$tmp/w1.log"; exit 1; }
w1_port=$(sed -n 's/.*ready on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/w1.log" | tail -n 1)
wline="witness = w1.example/w $w1_vkey https://127.0.0.1:$w1_port"
tport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf '%s\n' "tiles_listen = 127.0.0.1:$tport" "$wline" "witness_ca = $tmp/w1/ca.crt" "witness_interval_s = 1" \
	>> "$p/scoped.conf"
start_daemon "$p" || exit 1
pids+=($daemon_pid)
vkey=$(sed -n 's/.*verifier key \(.*\)$/\1/p' "$tmp/scoped.log" | head -n 1)
w_cosigned() {	# w_cosigned INST-PORT: the primary's witness's cosigned size
	"$SCOPECTL" info --json --config "$p/clients/admin.conf" --server "127.0.0.1:$PORT" |
		/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["stats"]["witnesses"]["each"][0]["cosigned_size"])'
}
ok "a project on the primary" ctl "$p" lead append --project pr --kind project \
	--body-json '{"client":"C","title":"T","contract_type":"fixed","currency":"JPY","amount_minor":1000}'
ok "a note" ctl "$p" lead append --project pr --kind note --body-json '{"text":"n1"}'
ok "the witness cosigns the primary's checkpoint of size 2" wait_for eval '[ "$(w_cosigned)" -ge 2 ]'

# fol NAME URL [WITNESS-LINE]: a follower of URL; sets its port in FP[NAME]
declare -A FP
fol() {
	mkdir -p "$tmp/$1/data"
	{ follow_conf "$p" "$vkey"; [ -n "${3:-}" ] && printf '%s\n' "$3" "witness_ca = $tmp/w1/ca.crt"
	  echo "tiles_listen = 127.0.0.1:0"; echo "tiles_public = yes"; } > "$tmp/$1/scoped.conf"
	start_follower "$tmp/$1/scoped.conf" "$2" "$tmp/$1.log" || exit 1
	pids+=($FOLLOW_PID)
	FP[$1]=$FOLLOW_PORT
}
# fc NAME ROLE ARGS...: scopectl against follower NAME (its own state dir)
fc() { local f=$1 r=$2; shift 2; XDG_STATE_HOME=$tmp/state-$f "$SCOPECTL" "$@" --config "$p/clients/$r.conf" --server "127.0.0.1:${FP[$f]}"; }
finfo() {	# finfo NAME FIELD: info's follow.FIELD
	fc "$1" admin info --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["follow"]["'"$2"'"])'
}
q1() { echo --witness "$w1_vkey" --quorum 1; }

# ---- a follower with the witness's line ----
fol f "https://127.0.0.1:$tport" "$wline"
ok "the follower holds the cosigned checkpoint of size 2" wait_for eval '[ "$(finfo f cosigned_size)" -ge 2 ]'
is "  no cosignature refused" "$(finfo f cosignatures_refused)" 0
ok "scopectl checkpoint --quorum 1 against the follower" fc f auditor checkpoint $(q1)
has "  carries w1's cosignature" "$tmp/out" "— w1.example/w "
ok "  status --verify with the quorum against the follower" fc f auditor status pr --verify $(q1)
ok "another note on the primary" ctl "$p" lead append --project pr --kind note --body-json '{"text":"n2"}'
ok "  cosigned, then followed with its cosignature" wait_for eval '[ "$(finfo f cosigned_size)" -ge 3 ]'
ok "  an append's proof through the follower, with the quorum" fc f auditor verify $(q1)
ftport=$(sed -n 's/.*tiles listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/f.log" | tail -n 1)
ok "the follower's own tiles /checkpoint" curl -sfk -o "$tmp/fcp" "https://127.0.0.1:$ftport/checkpoint"
is "  of size 3" "$(sed -n 2p "$tmp/fcp")" 3
ok "  the primary's signature and w1's cosignature verify" /usr/bin/python3 "$here/cosig_verify.py" "$tmp/fcp" "$vkey" "$w1_vkey"
kill -TERM "$FOLLOW_PID"; wait "$FOLLOW_PID" 2>/dev/null
start_follower "$tmp/f/scoped.conf" "https://127.0.0.1:$tport" "$tmp/f2.log" || exit 1
pids+=($FOLLOW_PID)
FP[f]=$FOLLOW_PORT
is "restarted, the follower still holds the cosigned checkpoint" "$(finfo f cosigned_size)" 3
ok "  and serves it with the quorum" fc f auditor checkpoint $(q1)
kill -TERM "$FOLLOW_PID"; wait "$FOLLOW_PID" 2>/dev/null
ok "scoped verify on the follower's store holding the cosigned checkpoint" "$SCOPED" verify -c "$tmp/f/scoped.conf"

# ---- a cosignature altered in transit ----
echo cosig > "$tmp/mode"
/usr/bin/python3 "$here/tamper.py" "https://127.0.0.1:$tport" "$p/tls/server.crt" "$p/tls/server.key" \
	"$p/clients/auditor.crt" "$p/clients/auditor.key" "$p/tls/ca.crt" "$tmp/mode" > "$tmp/proxy" &
pids+=($!)
wait_for grep -q port "$tmp/proxy" || { echo "Bail out! proxy"; exit 1; }
pport=$(sed -n 's/^port //p' "$tmp/proxy")
fol g "https://127.0.0.1:$pport" "$wline"
ok "a follower through the proxy refuses the altered cosignature" wait_for eval '[ "$(finfo g cosignatures_refused)" -ge 1 ]'
has "  saying so in its log" "$tmp/g.log" "a cosignature line by w1.example/w on the primary's checkpoint"
ok "  it holds the entries nonetheless" wait_for eval '[ "$(fc g auditor info --json | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)[\"tree_size\"])")" -eq 3 ]'
is "  but no cosigned checkpoint" "$(finfo g cosigned_size)" 0
exits 4 "  scopectl with the quorum against it fails closed" fc g auditor checkpoint $(q1)
has "  saying why" "$tmp/err" "this follower holds no cosigned checkpoint yet"
exits 4 "  status --verify with the quorum too" fc g auditor status pr --verify $(q1)
ok "  without the quorum it serves the primary's checkpoint" fc g auditor checkpoint

fol h "https://127.0.0.1:$pport"
ok "a follower with no witness line keeps the line it cannot check" wait_for eval '[ "$(finfo h cosigned_size)" -ge 3 ]'
exits 1 "  scopectl with the quorum refuses it" fc h auditor checkpoint $(q1)
has "  naming the bad cosignature" "$tmp/err" "cosignature by trusted witness w1.example/w does not verify"
finish
