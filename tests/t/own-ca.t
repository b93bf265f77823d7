#!/usr/bin/env bash
# The certificate procedure of deploy/README.md, run as written: an own CA,
# a server certificate, a person's client certificate, and a role for them;
# renewal, and revocation with a CRL taking effect on SIGHUP.
set -u
. "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || { echo "1..0 # SKIP no openssl command"; exit 0; }

d=$tmp/pki
mkdir -p "$d" && cd "$d" || exit 1
ok "make the CA" openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout ca.key -out ca.crt -days 3650 -subj "/O=Example Ltd/CN=Example Scope Ledger CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
ok "server key and CSR" openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout server.key -out server.csr -subj "/O=Example Ltd/CN=ledger.example.com"
printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
    "extendedKeyUsage=serverAuth" "subjectAltName=DNS:ledger.example.com,IP:127.0.0.1" > server.ext
ok "sign the server certificate" openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 825 \
    -sha256 -extfile server.ext -out server.crt
chmod 600 server.key ca.key
ok "alice's key and CSR" openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout alice.key -out alice.csr -subj "/O=Example Ltd/CN=alice"
printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
    "extendedKeyUsage=clientAuth" > client.ext
ok "sign alice's certificate" openssl x509 -req -in alice.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 825 \
    -sha256 -extfile client.ext -out alice.crt
chmod 600 alice.key

inst=$tmp/inst
"$SCOPED" init "$inst" --origin ledger.example.com/acme >/dev/null
cat >> "$inst/scoped.conf" <<CONF
tls_cert = $d/server.crt
tls_key = $d/server.key
tls_ca = $d/ca.crt
CONF
printf '%s\n' "cn:alice lead pr-site" > "$inst/roles.conf"
start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }
cat > "$d/alice.conf" <<PROFILE
server = 127.0.0.1:$PORT
server_name = ledger.example.com
cert = alice.crt
key = alice.key
ca = ca.crt
trust = $inst/keys/verifier.txt
PROFILE
ok "alice connects with her own certificate" "$SCOPECTL" info --config "$d/alice.conf"
has "  as alice" "$tmp/out" "you are:       alice"
has "  with the role lead on pr-site" "$tmp/out" '["pr-site"]'
ok "alice creates project pr-site" "$SCOPECTL" append --config "$d/alice.conf" --project pr-site --kind project --body-json '{"client":"C Corp","title":"Site","contract_type":"fixed","currency":"JPY","amount_minor":1000000}'
ok "alice records a note" "$SCOPECTL" append --config "$d/alice.conf" --project pr-site --kind note --body-json '{"text":"hello"}'
ok "  which names her as the author" "$SCOPECTL" get 1 --config "$d/alice.conf" --json
has "  author alice" "$tmp/out" '"author":"alice"'
# renewing and revoking (deploy/README.md sections 5 and 6)
ok "bob's key and CSR" openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout bob.key -out bob.csr -subj "/O=Example Ltd/CN=bob"
ok "sign bob's certificate" openssl x509 -req -in bob.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 825 \
    -sha256 -extfile client.ext -out bob.crt
chmod 600 bob.key
printf '%s\n' "cn:bob approver" >> "$inst/roles.conf"
reload_daemon
sed 's/alice/bob/g' "$d/alice.conf" > "$d/bob.conf"
ok "bob connects" "$SCOPECTL" info --config "$d/bob.conf"
ok "  twice (the second resumes the TLS session)" "$SCOPECTL" info --config "$d/bob.conf"
# bob keeps a connection open across the revocation
mkfifo "$tmp/bob.in"
openssl s_client -quiet -connect "127.0.0.1:$PORT" -CAfile ca.crt -cert bob.crt -key bob.key \
	< "$tmp/bob.in" > /dev/null 2>&1 &
bob_pid=$!
exec 7> "$tmp/bob.in"
sleep 0.5
mkdir -p ca/newcerts && : > ca/index.txt && echo 1000 > ca/crlnumber
cat > ca/openssl.cnf <<'CNF'
[ca]
default_ca = scope_ca
[scope_ca]
dir = ./ca
database = $dir/index.txt
new_certs_dir = $dir/newcerts
certificate = ./ca.crt
private_key = ./ca.key
crlnumber = $dir/crlnumber
default_md = sha256
default_crl_days = 30
CNF
ok "revoke bob's certificate" openssl ca -config ca/openssl.cnf -revoke bob.crt
ok "publish the CRL" openssl ca -config ca/openssl.cnf -gencrl -out crl.pem
printf 'tls_crl = %s\n' "$d/crl.pem" >> "$inst/scoped.conf"
reload_daemon
exits 3 "after the reload bob is refused, his TLS session ticket with him" "$SCOPECTL" info --config "$d/bob.conf"
has "  the daemon names the reason" "$tmp/scoped.log" "certificate revoked"
has "  and closed his open connection" "$tmp/scoped.log" "bob (127.0.0.1"
has "  because of the revocation" "$tmp/scoped.log" "certificate no longer accepted: certificate revoked"
for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$bob_pid" 2>/dev/null || break; sleep 0.2; done
exec 7>&-
is "  which his client saw end" "$(kill -0 "$bob_pid" 2>/dev/null && echo open || echo closed)" closed
ok "alice is still served" "$SCOPECTL" info --config "$d/alice.conf"
ok "renew alice: a new key and CSR" openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout alice2.key -out alice2.csr -subj "/O=Example Ltd/CN=alice"
ok "  signed by the CA" openssl x509 -req -in alice2.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 825 \
    -sha256 -extfile client.ext -out alice2.crt
chmod 600 alice2.key
sed -e 's/^cert = .*/cert = alice2.crt/' -e 's/^key = .*/key = alice2.key/' "$d/alice.conf" > "$d/alice2.conf"
ok "the renewed certificate works" "$SCOPECTL" info --config "$d/alice2.conf"
has "  with the same identity, so the same roles" "$tmp/out" "you are:       alice"
exits 3 "the trial CA's certificates are refused by this server" "$SCOPECTL" info --config "$inst/clients/lead.conf" --server "127.0.0.1:$PORT" --server-name ledger.example.com --ca "$d/ca.crt"
exits 3 "a wrong server name is refused by the client" "$SCOPECTL" info --config "$d/alice.conf" --server-name other.example.com
stop_daemon
finish
