#!/usr/bin/env bash
# tsa_pki.sh DIR: the test time-stamping authority's files in DIR, for
# t/anchor.t (tsa.py answers with them) and test_anchors (tokens made
# with `openssl ts -reply -config DIR/tsa.cnf`): a CA (ca.crt), a signer
# certificate with the single critical extendedKeyUsage timeStamping
# (signer.crt, signer.key), the TSA's config (tsa.cnf, serial) and an
# unrelated CA (other-ca.crt).
set -eu
pki=$1
mkdir -p "$pki"
cat > "$pki/tsa.cnf" <<CNF
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = Test TSA
[ ca_ext ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
[ tsa_ext ]
basicConstraints = CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, timeStamping
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = $pki
serial = \$dir/serial
signer_cert = \$dir/signer.crt
certs = \$dir/ca.crt
signer_key = \$dir/signer.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256
accuracy = secs:1
ordering = no
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
CNF
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$pki/ca.key" \
	-out "$pki/ca.crt" -days 2 -subj "/CN=Test TSA CA" -config "$pki/tsa.cnf" -extensions ca_ext
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$pki/signer.key" \
	-out "$pki/signer.csr" -config "$pki/tsa.cnf"
openssl x509 -req -in "$pki/signer.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
	-out "$pki/signer.crt" -days 2 -extfile "$pki/tsa.cnf" -extensions tsa_ext
echo 01 > "$pki/serial"
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$pki/other.key" \
	-out "$pki/other-ca.crt" -days 2 -subj "/CN=Another CA" -config "$pki/tsa.cnf" -extensions ca_ext
