#!/usr/bin/env bash
# The dossier's anchors: a daemon time-stamping its checkpoints at a local
# TSA (as t/anchor.t), a dossier whose entries are covered by anchors.
# anchors/ holds each covering anchor entry with its tlog-proof, its token
# and the consistency proof of its root; verify --dossier --tsa-ca checks
# them and prints the anchored times, which the story shows; without the
# CA it says the tokens were not checked; a changed byte in a token, or
# another CA, fails naming the token.  A live daemon over TLS.
set -u
. "$(dirname "$0")/lib.sh"

pki=$tmp/tsa
bash "$here/tsa_pki.sh" "$pki" >/dev/null 2>"$tmp/err" || { echo "Bail out! TSA certificates"; cat "$tmp/err"; exit 1; }
echo ok > "$pki/mode"
/usr/bin/python3 "$here/tsa.py" "$pki/tsa.cnf" "$pki/mode" > "$pki/port" &
tsa_pid=$!
trap 'kill $tsa_pid 2>/dev/null; cleanup' EXIT
for _ in $(seq 1 100); do grep -q port "$pki/port" && break; sleep 0.05; done
TSA_PORT=$(sed -n 's/^port //p' "$pki/port")
[ -n "$TSA_PORT" ] || { echo "Bail out! no TSA"; exit 1; }

inst=$tmp/inst
"$SCOPED" init "$inst" --origin test.example/dossier-anchor >/dev/null || { echo "Bail out! init"; exit 1; }
for r in lead approver finance auditor admin; do echo "cn:$r $r *"; done > "$inst/roles.conf"
{ echo "tsa_url = http://127.0.0.1:$TSA_PORT/tsa"; echo "tsa_ca = $pki/ca.crt"; echo "anchor_interval_s = 1"; } >> "$inst/scoped.conf"
start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }
key=$inst/keys/verifier.txt
anchored() {	# anchored SIZE: the daemon has anchored a tree of at least SIZE
	[ "$(ctl "$inst" admin info --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["stats"]["anchors"]["last_size"])')" -ge "$1" ]
}
wait_for() { for _ in $(seq 1 200); do "$@" && return 0; sleep 0.05; done; return 1; }

ok "a project" ctl "$inst" lead project create pr-a --client "A Corp" --title "A site" --currency JPY --amount 3000000
ok "  anchored (entry 1 anchors size 1)" wait_for anchored 1
ok "a baseline" ctl "$inst" lead baseline add -p pr-a --item R1="the site as agreed"
ok "  anchored (entry 3 anchors size 3)" wait_for anchored 3

d=$tmp/d
ok "dossier --all" ctl "$inst" auditor dossier pr-a --all -o "$d"
has "  counting its anchors" "$tmp/err" "; 2 anchors"
is "  anchors/ holds the two covering anchors, each with proof, token and consistency proof" \
	"$(cd "$d/anchors" && ls | tr '\n' ' ')" \
	"000001.consistency.json 000001.json 000001.tlog-proof 000001.tsr 000003.consistency.json 000003.json 000003.tlog-proof 000003.tsr "
has "  the anchor entry as entries/ holds them" "$d/anchors/000001.json" '"kind":"anchor"'
has "  with its raw bytes" "$d/anchors/000001.json" '"raw":"'
/usr/bin/openssl ts -reply -token_in -in "$d/anchors/000001.tsr" -token_out -text > "$tmp/tsr.txt" 2>&1
has "  the .tsr is an RFC 3161 token (openssl reads it)" "$tmp/tsr.txt" "Time stamp:"

ok "verify --dossier --tsa-ca passes" "$SCOPECTL" verify --dossier "$d" --trust "$key" --tsa-ca "$pki/ca.crt"
has "  each anchor checked" "$tmp/out" "anchor entry 1: checkpoint size 1 time-stamped by the TSA at "
has "  with its token verified" "$tmp/out" "(token verified with --tsa-ca)"
has "  every entry anchored" "$tmp/out" "2 of 2 entries carry an anchored time"
t1=$(sed -n 's/.*anchor entry 1: checkpoint size 1 time-stamped by the TSA at \([^ ]*\) .*/\1/p' "$tmp/out")
t1=${t1%+00:00}	# the story gives it as ...T..:..:..(.microseconds)Z
[ -n "$t1" ] && grep -q -- "anchored.*$t1\." "$d/index.html"; is "  the story shows that anchored time ($t1)" $? 0
ok "verify --dossier without --tsa-ca passes" "$SCOPECTL" verify --dossier "$d" --trust "$key"
has "  saying the tokens were not checked" "$tmp/out" "token NOT checked: give --tsa-ca FILE"
exits 1 "another TSA CA fails" "$SCOPECTL" verify --dossier "$d" --trust "$key" --tsa-ca "$pki/other-ca.crt"
has "  naming the token" "$tmp/err" "anchor: anchors/000001.tsr: the token does not verify with --tsa-ca"

cp -a "$d" "$tmp/t"
/usr/bin/python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[len(b)//2]^=1; open(p,"wb").write(b)' "$tmp/t/anchors/000003.tsr"
exits 1 "one changed byte in a token fails" "$SCOPECTL" verify --dossier "$tmp/t" --trust "$key" --tsa-ca "$pki/ca.crt"
has "  naming it" "$tmp/err" "anchor: anchors/000003.tsr: is not the token its anchor entry holds"
rm -rf "$tmp/t"; cp -a "$d" "$tmp/t"
sed -i 's/"size":3,/"size":2,/' "$tmp/t/anchors/000003.json"
exits 1 "an edited anchor entry fails" "$SCOPECTL" verify --dossier "$tmp/t" --trust "$key" --tsa-ca "$pki/ca.crt"
has "  naming it" "$tmp/err" "entry: anchors/000003.json: its fields are not what its raw bytes say"

stop_daemon
finish
