#!/usr/bin/env bash
# The certificate procedure of deploy/README.md, run as written: an own CA,
# a server certificate, a person's client certificate, and a role for them.
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
exits 3 "the trial CA's certificates are refused by this server" "$SCOPECTL" info --config "$inst/clients/lead.conf" --server "127.0.0.1:$PORT" --server-name ledger.example.com --ca "$d/ca.crt"
exits 3 "a wrong server name is refused by the client" "$SCOPECTL" info --config "$d/alice.conf" --server-name other.example.com
stop_daemon
finish
