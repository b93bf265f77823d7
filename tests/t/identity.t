#!/usr/bin/env bash
# The author namespace (FORMAT.md, author; PROTOCOL.md, identity): a
# certificate's CN, "sha256:<fingerprint>", "local:<user>" for an operator on
# the server and "scoped" for the daemon never collide.  Certificates whose CN
# would pass for another kind of author are refused, at every request, and so
# are such names in the role file; a certificate mapped by fingerprint records
# its fingerprint as the author.
set -u
. "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || { echo "1..0 # SKIP no openssl command"; exit 0; }

inst=$tmp/inst
"$SCOPED" init "$inst" --origin test.example/identity >/dev/null || { echo "Bail out! init"; exit 1; }
# cert NAME SUBJECT: a client certificate from the instance's CA and a profile
cert() {
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$inst/clients/$1.key" \
		-out "$tmp/$1.csr" -subj "$2" 2>/dev/null &&
	openssl x509 -req -in "$tmp/$1.csr" -CA "$inst/tls/ca.crt" -CAkey "$inst/tls/ca.key" -CAcreateserial \
		-days 30 -out "$inst/clients/$1.crt" -extfile <(printf 'extendedKeyUsage=clientAuth\n') 2>/dev/null &&
	sed -e "s|^cert = .*|cert = $1.crt|" -e "s|^key = .*|key = $1.key|" "$inst/clients/lead.conf" \
		> "$inst/clients/$1.conf"
}
fp() { openssl x509 -in "$inst/clients/$1.crt" -outform DER | sha256sum | cut -d' ' -f1; }
cert daemon "/CN=scoped" && cert operator "/CN=local:root" && cert Operator "/CN=LOCAL:root" &&
	cert fingerprint "/CN=sha256:0123abcd" && cert control $'/CN=lead\x01' &&
	cert pinned "/CN=lead" && cert nameless "/O=Acme" || { echo "Bail out! certificates"; exit 1; }
# the reserved names are mapped too, so only the namespace rule can refuse them
for id in "sha256:$(fp daemon)" "sha256:$(fp operator)" "sha256:$(fp nameless)" "sha256:$(fp pinned)"; do
	echo "$id admin" >> "$inst/roles.conf"
done
start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }

for c in "daemon:is reserved for the entries scoped records itself" \
	 "operator:begins with \"local:\"" "Operator:begins with \"local:\"" \
	 "fingerprint:begins with \"sha256:\"" "control:holds a control character"; do
	name=${c%%:*} why=${c#*:}
	exits 4 "a certificate with the CN of $name is refused" ctl "$inst" "$name" append --project "" \
		--kind note --body-json '{"text":"who am I"}'
	has "  saying why" "$tmp/err" "$why"
	has "  and what to do" "$tmp/err" "so it cannot name an author; use a certificate with another CN"
	exits 4 "  even for info" ctl "$inst" "$name" info
	has "  and the log says so" "$tmp/scoped.log" "every request refused: the certificate's CN"
done
has "a control character is not written to the log" "$tmp/scoped.log" "CN \"lead?\" holds a control character"

ok "a certificate without a CN" ctl "$inst" nameless append --project "" --kind note --body-json '{"text":"x"}' --json
seq=$(sed -n 's/^{"seq":\([0-9]*\),.*/\1/p' "$tmp/out")
ok "  read back" ctl "$inst" auditor get "$seq" --json
has "  is recorded by its fingerprint" "$tmp/out" "\"author\":\"sha256:$(fp nameless)\""

ok "a certificate mapped by fingerprint, whose CN is lead" ctl "$inst" pinned info
has "  is known by its fingerprint" "$tmp/out" "you are:       sha256:$(fp pinned)"
ok "  appends" ctl "$inst" pinned append --project "" --kind note --body-json '{"text":"pinned"}' --json
seq=$(sed -n 's/^{"seq":\([0-9]*\),.*/\1/p' "$tmp/out")
ok "  read back" ctl "$inst" auditor get "$seq" --json
has "  as its fingerprint, not as the other certificate named lead" "$tmp/out" "\"author\":\"sha256:$(fp pinned)\""
ok "the lead's own certificate" ctl "$inst" lead info
has "  is still lead" "$tmp/out" "you are:       lead"

for name in scoped local:root LOCAL:x sha256:abc; do
	cp "$inst/roles.conf" "$tmp/roles.saved"
	echo "cn:$name admin" >> "$inst/roles.conf"
	lines=$(wc -l < "$tmp/scoped.log")
	reload_daemon
	tail -n +$((lines + 1)) "$tmp/scoped.log" > "$tmp/reload.log"
	has "a role file naming cn:$name is not loaded" "$tmp/reload.log" "identity cn:$name: the name"
	has "  and the running one is kept" "$tmp/reload.log" "keeping the old roles"
	cp "$tmp/roles.saved" "$inst/roles.conf"
done
stop_daemon
echo 'cn:scoped admin' >> "$inst/roles.conf"
exits 2 "scoped does not start with such a role file" timeout 20 "$SCOPED" -c "$inst/scoped.conf" --listen 127.0.0.1:0
has "  naming the line and the reason" "$tmp/err" "roles.conf:$(wc -l < "$inst/roles.conf"): identity cn:scoped: the name is reserved"
finish
