#!/usr/bin/env bash
# The C2SP tlog-tiles listener (PROTOCOL.md, "Tiles") over curl against a
# real scoped with tiles_listen: the checkpoint; every level-0 and level-1
# tile of a 601-entry log, from which tiles_verify.py rebuilds the
# checkpoint's root; the entry bundles hashing to the level-0 tiles, with
# an entry past 65535 bytes served only at tile/entries32; malformed paths
# 400, tiles beyond the tree 404; who may read what (no certificate, a lead,
# an auditor; tiles_public = no; a certificate revoked at a reload); the
# caching headers; the counters in info.
set -u
. "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || { echo "1..0 # SKIP curl is not installed (deploy/install-deps.sh --test)"; exit 0; }
BENCH=${SCOPE_BENCH:-$(dirname "$SCOPED")/../tests/bench/scope-bench}
here=$(cd "$(dirname "$0")" && pwd)

inst=$tmp/inst
"$SCOPED" init "$inst" --origin test.example/tiles >/dev/null || { echo "Bail out! init"; exit 1; }
for r in lead auditor admin; do echo "cn:$r $r *"; done > "$inst/roles.conf"
printf '%s\n' "tiles_listen = 127.0.0.1:0" "tiles_public = yes" >> "$inst/scoped.conf"
"$BENCH" generate -c "$inst/scoped.conf" --count 600 --batch 100 --size 100 >/dev/null ||
	{ echo "Bail out! scope-bench generate"; exit 1; }
start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }
tiles_port() { sed -n 's/.*tiles listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/scoped.log" | tail -n 1; }
base=https://127.0.0.1:$(tiles_port)
# one entry longer than a uint16 length: 30000 three-byte characters
python3 -c "import json; print(json.dumps({'text': '日' * 30000}, ensure_ascii=False))" > "$tmp/long.json"
ok "an entry of 90 kB appended (entry 600)" ctl "$inst" admin append --project "" --kind note --body-file "$tmp/long.json"

c() { curl -sk "$@"; }
as() { local r=$1; shift; curl -sk --cert "$inst/clients/$r.crt" --key "$inst/clients/$r.key" "$@"; }
get() {	# get WHO PATH OUT: HTTP status, headers in OUT.h
	local who=$1 path=$2 out=$3
	if [ "$who" = - ]; then c -D "$out.h" -o "$out" "$base$path"; else as "$who" -D "$out.h" -o "$out" "$base$path"; fi
	status "$out.h"
}

# ---- the checkpoint ----
is "GET /checkpoint without a certificate is 200 (tiles_public)" "$(get - /checkpoint "$tmp/cp")" 200
has "  text/plain; charset=utf-8" "$tmp/cp.h" "Content-Type: text/plain; charset=utf-8"
has "  cached for seconds only" "$tmp/cp.h" "Cache-Control: public, max-age=5"
is "  its origin line" "$(sed -n 1p "$tmp/cp")" test.example/tiles
size=$(sed -n 2p "$tmp/cp")
root=$(sed -n 3p "$tmp/cp")
is "  its size: 601" "$size" 601
has "  signed by the log" "$tmp/cp" "— test.example/tiles "

# ---- every hash tile of the tree, and the entry bundles ----
mkdir "$tmp/t"
fetched=0 bad=""
fetch() {	# fetch WHO PATH FILE: PATH under /tile/ into $tmp/t/FILE
	local st
	st=$(get "$1" "/tile/$2" "$tmp/t/$3")
	[ "$st" = 200 ] || bad="$bad $2:$st"
	fetched=$((fetched + 1))
}
fetch - 0/000 t.0.0.256
fetch - 0/001 t.0.1.256
fetch - 0/002.p/89 t.0.2.89
fetch - 1/000.p/2 t.1.0.2
is "every level-0 and level-1 tile is 200 without a certificate" "$bad" ""
is "  a full tile is 8192 bytes" "$(wc -c < "$tmp/t/t.0.0.256")" 8192
is "  the partial level-0 tile of width 89 is 89 hashes" "$(wc -c < "$tmp/t/t.0.2.89")" $((89 * 32))
has "  application/octet-stream" "$tmp/t/t.0.0.256.h" "Content-Type: application/octet-stream"
has "  a full tile is immutable" "$tmp/t/t.0.0.256.h" "Cache-Control: public, max-age=31536000, immutable"
has "  so is a partial one" "$tmp/t/t.1.0.2.h" "Cache-Control: public, max-age=31536000, immutable"

is "an entry bundle without a certificate is 403" "$(get - /tile/entries/000 "$tmp/b")" 403
has "  saying what it needs" "$tmp/b" "connect with a client certificate of the auditor or admin role"
is "  with a lead's certificate 403" "$(get lead /tile/entries/000 "$tmp/b")" 403
has "  saying why" "$tmp/b" "needs the auditor or admin role on all projects"
bad=""
fetch auditor entries/000 e.0.256
fetch auditor entries/001 e.1.256
is "  with an auditor's certificate 200" "$bad" ""
has "  private, immutable" "$tmp/t/e.0.256.h" "Cache-Control: private, max-age=31536000, immutable"
is "the last bundle holds a 90 kB entry: 404 at tile/entries" "$(get auditor /tile/entries/002.p/89 "$tmp/b")" 404
has "  naming the extension URL" "$tmp/b" "served with uint32 lengths at /tile/entries32/002.p/89"
bad=""
fetch admin entries32/002.p/89 E.2.89
is "  200 at tile/entries32 with an admin's certificate" "$bad" ""
python3 "$here/tiles_verify.py" "$tmp/t" "$size" "$root" > "$tmp/verify.out" 2>&1
has "the root rebuilt from the tiles is the checkpoint's" "$tmp/verify.out" "root of 601 leaves rebuilt from the tiles: the checkpoint's"
has "  the three bundles hash to the level-0 tiles" "$tmp/verify.out" "3 entry bundles hash to their level-0 tiles"

# ---- malformed paths: 400; beyond the tree: 404 ----
for p in /tile/0/0 /tile/0/01 /tile/0/1 /tile/00/000 /tile/0/x000/001 /tile/0/001/002 /tile/0/x01/000 \
	/tile/0/000.p/0 /tile/0/000.p/256 /tile/0/000.p/01 /tile/0/000.p/ /tile/64/000 /tile/-1/000 \
	/tile/0/x018/x446/x744/x073/x709/x551/616 /tile/entries/x000/000 /tile/entries/000.p/256 \
	/tile/0/000/ /tiles/0/000 /tile/0/ /; do
	is "GET $p is 400" "$(get - "$p" "$tmp/b")" 400
done
has "  saying what is wrong" "$tmp/b" "no such resource"
is "  leading x000 named" "$(get - /tile/0/x000/001 "$tmp/b")" 400
has "  as such" "$tmp/b" "leading x000 element"
for p in /tile/0/002 /tile/0/002.p/90 /tile/0/003 /tile/1/000 /tile/1/000.p/3 /tile/2/000.p/1 \
	/tile/0/x018/x446/x744/x073/x709/x551/615 /tile/0/x001/000 /tile/63/000.p/1; do
	is "GET $p (beyond the tree of 601) is 404" "$(get - "$p" "$tmp/b")" 404
done
is "GET /tile/entries/003 (beyond) is 404 for an auditor" "$(get auditor /tile/entries/003 "$tmp/b")" 404
is "a partial tile of a smaller size is served: 0/002.p/1" "$(get - /tile/0/002.p/1 "$tmp/b")" 200
ok "  its one hash is the full tile's first" cmp -n 32 "$tmp/b" "$tmp/t/t.0.2.89"
is "POST is 405" "$(c -X POST -D "$tmp/p.h" -o /dev/null "$base/checkpoint"; status "$tmp/p.h")" 405

ctl "$inst" admin info --json > "$tmp/info" 2>&1
has "info counts the tiles served" "$tmp/info" '"tiles":{"on":true'
has "  and the bad paths" "$tmp/info" '"bad_path":21'

# ---- tiles_public = no: every request needs an auditor's or admin's certificate ----
ok "scoped stops cleanly" stop_daemon
sed -i 's/^tiles_public = yes$/tiles_public = no/' "$inst/scoped.conf"
start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }
base=https://127.0.0.1:$(tiles_port)
is "tiles_public = no: /checkpoint without a certificate is 403" "$(get - /checkpoint "$tmp/b")" 403
has "  saying why" "$tmp/b" "tiles_public is no"
is "  a tile without a certificate is 403" "$(get - /tile/0/000 "$tmp/b")" 403
is "  a tile with a lead's certificate is 403" "$(get lead /tile/0/000 "$tmp/b")" 403
is "  with an auditor's certificate 200" "$(get auditor /tile/0/000 "$tmp/b")" 200
ok "  the same bytes as before" cmp "$tmp/b" "$tmp/t/t.0.0.256"
has "  cached privately" "$tmp/b.h" "Cache-Control: private, max-age=31536000, immutable"
is "  the checkpoint with an admin's certificate 200" "$(get admin /checkpoint "$tmp/b")" 200
# a revocation reaches the tiles listener at the reload
ca=$tmp/ca
mkdir -p "$ca/newcerts" && : > "$ca/index.txt" && echo 1000 > "$ca/crlnumber"
printf '%s\n' "[ca]" "default_ca = c" "[c]" "dir = $ca" "database = $ca/index.txt" "new_certs_dir = $ca/newcerts" \
	"certificate = $inst/tls/ca.crt" "private_key = $inst/tls/ca.key" "crlnumber = $ca/crlnumber" \
	"default_md = sha256" "default_crl_days = 30" > "$ca/openssl.cnf"
openssl ca -config "$ca/openssl.cnf" -revoke "$inst/clients/auditor.crt" >/dev/null 2>&1 &&
	openssl ca -config "$ca/openssl.cnf" -gencrl -out "$ca/crl.pem" >/dev/null 2>&1 ||
	{ echo "Bail out! openssl ca"; exit 1; }
echo "tls_crl = $ca/crl.pem" >> "$inst/scoped.conf"
# the auditor's connection kept alive across the reload: a bundle before, then waits for $tmp/go
python3 - "$base" "$inst" "$tmp/go" > "$tmp/kept" 2>&1 <<'PY' &
import http.client, os, ssl, sys, time
base, inst, go = sys.argv[1:4]
x = ssl.create_default_context(cafile=inst + "/tls/ca.crt")
x.check_hostname = False
x.load_cert_chain(inst + "/clients/auditor.crt", inst + "/clients/auditor.key")
c = http.client.HTTPSConnection("127.0.0.1", int(base.rsplit(":", 1)[1]), context=x, timeout=20)
for _ in range(2):
    c.request("GET", "/tile/entries/000")
    r = c.getresponse()
    print(r.status, r.read()[:200], flush=True)
    for _ in range(100):
        if os.path.exists(go):
            break
        time.sleep(0.05)
PY
kept=$!
for _ in $(seq 1 100); do grep -q . "$tmp/kept" && break; sleep 0.05; done
ok "SIGHUP with the auditor's certificate revoked" reload_daemon
touch "$tmp/go"
wait $kept
is "  a connection the auditor kept alive across it got a bundle before" "$(head -c 3 "$tmp/kept")" 200
has "  and none after" "$tmp/kept" "403 b'this client certificate is no longer accepted"
get auditor /tile/entries/000 "$tmp/b" >/dev/null
is "  the revoked auditor gets no bundle: the handshake fails" "$(status "$tmp/b.h")" ""
is "  an admin still does" "$(get admin /tile/entries/000 "$tmp/b")" 200
ok "scoped stops cleanly, again" stop_daemon
finish
