#!/usr/bin/env bash
# End-to-end: scoped over mutual TLS with scopectl clients, on loopback.
set -u
. "$(dirname "$0")/lib.sh"

inst=$tmp/inst
"$SCOPED" init "$inst" --origin test.example/daemon --client-project pr-site --client-project pr-a --client-project pr-b >/dev/null || { echo "Bail out! init failed"; exit 1; }
cp -a "$inst" "$tmp/twin"	# same keys and origin: used later to play a forking server
start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }
project='{"client":"C Corp","title":"PR site","contract_type":"fixed","currency":"JPY","amount_minor":3000000}'
exits 4 "a note for a project that does not exist is refused" ctl "$inst" lead append --project pr-site --kind note --body-json '{"text":"too early"}'
has "  saying so" "$tmp/err" "project pr-site does not exist"
ok "the lead creates project pr-site" ctl "$inst" lead append --project pr-site --kind project --body-json "$project"

ok "info as lead" ctl "$inst" lead info
has "  names the identity" "$tmp/out" "you are:       lead"
has "  and trusts the server's key" "$tmp/out" "(trusted)"
ok "info as JSON" ctl "$inst" auditor info --json
has "  has verifier_key" "$tmp/out" '"verifier_key":"test.example/daemon+'

# several clients at once
pids=
for role in lead approver finance client; do
	( for i in $(seq 1 10); do
		ctl "$inst" "$role" append --project pr-site --kind note --body-json "{\"text\":\"$role $i\"}" --json >> "$tmp/par-$role.out" || echo fail >> "$tmp/par-$role.out"
	  done ) &
	pids="$pids $!"
done
wait $pids
is "40 concurrent appends from four clients all succeeded" "$(cat "$tmp"/par-*.out | grep -c '"duplicate":false')" 40
is "  with 40 distinct sequence numbers" "$(cat "$tmp"/par-*.out | sed -n 's/.*"seq":\([0-9]*\).*/\1/p' | sort -u | wc -l)" 40
ok "the auditor lists them" ctl "$inst" auditor log --json
is "  40 entries" "$(grep -c '"kind":"note"' "$tmp/out")" 40
ok "get entry 17 (and its inclusion proof is checked)" ctl "$inst" auditor get 17 --json
has "  returns entry 17" "$tmp/out" '"seq":17,'
ok "prove entry 3" ctl "$inst" auditor prove 3 --json
has "  in the documented JSON form" "$tmp/out" '{"tree_size":41,"leaf_index":3,"leaf_hash":"'
ok "prove entry 3 in the older tree of size 10" ctl "$inst" auditor prove 3 --size 10 --json
has "  for size 10" "$tmp/out" '"tree_size":10,'
ok "consistency 5 -> latest" ctl "$inst" auditor consistency 5 --json
has "  documented JSON form" "$tmp/out" '{"old_size":5,"new_size":41,'
ok "consistency 5 -> 20" ctl "$inst" auditor consistency 5 20 --json
exits 2 "consistency from 0 is a usage error" ctl "$inst" auditor consistency 0
ok "online verify" ctl "$inst" auditor verify
has "  all 41 entries" "$tmp/out" "all 41 entries verified"
ok "export" ctl "$inst" auditor export -o "$tmp/all.hex"
pipe_out "export to a named pipe" ctl "$inst" auditor export -o "$tmp/pipe"
ok "  carrying the export" cmp "$tmp/pipe.got" "$tmp/all.hex"
mkdir "$tmp/adir"
exits 2 "export to a directory is refused" ctl "$inst" auditor export -o "$tmp/adir"
has "  naming it" "$tmp/err" "$tmp/adir is a directory: name a file to write"
ok "checkpoint" ctl "$inst" auditor checkpoint
cp "$tmp/out" "$tmp/cp.txt"
ok "the export verifies offline" "$SCOPECTL" verify --export "$tmp/all.hex" --checkpoint "$tmp/cp.txt" --trust "$inst/keys/verifier.txt"

# idempotent retry
ok "append with request id r-same" ctl "$inst" lead append --project pr-site --kind note --body-json '{"text":"once"}' --request-id r-same --json
first=$(sed -n 's/.*"seq":\([0-9]*\).*/\1/p' "$tmp/out")
ok "the same request again" ctl "$inst" lead append --project pr-site --kind note --body-json '{"text":"once"}' --request-id r-same --json
is "  yields the same entry" "$(sed -n 's/.*"seq":\([0-9]*\).*/\1/p' "$tmp/out")" "$first"
has "  marked as a duplicate" "$tmp/out" '"duplicate":true'
exits 4 "the same request id with other content is refused" ctl "$inst" lead append --project pr-site --kind note --body-json '{"text":"twice"}' --request-id r-same
has "  as a conflict" "$tmp/err" "conflict"
size_now() { ctl "$inst" auditor info --json | sed -n 's/.*"tree_size":\([0-9]*\).*/\1/p'; }
is "one entry for the repeated request" "$(size_now)" 42

# refusals write nothing
exits 4 "the auditor may not append" ctl "$inst" auditor append --project pr-site --kind note --body-json '{"text":"x"}'
has "  the error names the roles needed" "$tmp/err" "needs one of the roles lead,approver,finance,client,admin"
exits 4 "an unknown kind is refused" ctl "$inst" lead append --project pr-site --kind gossip --body-json '{"text":"x"}'
has "  naming the known kinds" "$tmp/err" "known: project, baseline"
exits 4 "a note without text is refused" ctl "$inst" lead append --project pr-site --kind note --body-json '{"txt":"x"}'
has "  by its schema" "$tmp/err" 'note: unknown field "txt"'
exits 4 "a note with a control character in its text is refused" ctl "$inst" lead append --project pr-site --kind note --body-json '{"text":"a\u0007b"}'
has "  naming the field and why" "$tmp/err" "note.text: contains a control character"
exits 4 "  so is an empty one" ctl "$inst" lead append --project pr-site --kind note --body-json '{"text":""}'
has "  named" "$tmp/err" "note.text: must be 1 to 65536 characters, not 0"
exits 4 "a ledger-level entry needs admin" ctl "$inst" lead append --project "" --kind note --body-json '{"text":"x"}'
ok "admin may write a ledger-level note" ctl "$inst" admin append --project "" --kind note --body-json '{"text":"ledger note"}'
"$SCOPED" init "$tmp/other" --origin test.example/other >/dev/null
exits 3 "a certificate from another CA is refused in the handshake" "$SCOPECTL" info --config "$tmp/other/clients/lead.conf" --server "127.0.0.1:$PORT" --ca "$inst/tls/ca.crt"
ok "the lead creates project pr-a" ctl "$inst" lead append --project pr-a --kind project --body-json "$project"
# TLS session tickets between scopectl runs
last_conn() { grep "$1 connected from" "$tmp/scoped.log" | tail -n 1; }
rm -f "$XDG_STATE_HOME"/scopectl/*.ticket
ok "a lead command without a ticket" ctl "$inst" lead info
has "  makes a full handshake" <(last_conn lead) "(TLSv1.3)"
ok "a second lead command" ctl "$inst" lead info
has "  resumes the TLS session with the ticket of the first" <(last_conn lead) "resumed)"
ok "then a finance command" ctl "$inst" finance info
has "  makes a full handshake: the lead's ticket is not offered for another certificate" <(last_conn finance) "(TLSv1.3)"
has "  and is finance, not a resumed lead" "$tmp/out" "you are:       finance"
for f in "$XDG_STATE_HOME"/scopectl/*.ticket; do printf 'not a session' > "$f"; done
ok "a damaged ticket" ctl "$inst" lead info
has "  costs only a full handshake" <(last_conn lead) "(TLSv1.3)"
is "ticket files are private" "$(stat -c %a "$XDG_STATE_HOME"/scopectl/*.ticket | sort -u)" 600
sed 's/^key = .*/key = finance.key/' "$inst/clients/lead.conf" > "$inst/clients/mismatch.conf"
exits 2 "a profile whose key does not belong to its certificate" ctl "$inst" mismatch info
has "  is told which files" "$tmp/err" "client certificate $inst/clients/lead.crt or key $inst/clients/finance.key"
sed 's/^cert = .*/cert = nowhere.crt/' "$inst/clients/lead.conf" > "$inst/clients/nocert.conf"
exits 2 "a profile whose certificate file is missing" ctl "$inst" nocert info
has "  names it" "$tmp/err" "nowhere.crt: No such file or directory"
# restrict lead to pr-a, reload with SIGHUP
sed -i 's/^cn:lead .*/cn:lead lead pr-a/' "$inst/roles.conf"
reload_daemon
ok "after SIGHUP the lead connects" ctl "$inst" lead info
has "  with a full handshake: the reload invalidated every ticket" <(last_conn lead) "(TLSv1.3)"
exits 4 "after SIGHUP, lead may not write outside its projects" ctl "$inst" lead append --project pr-b --kind note --body-json '{"text":"x"}'
has "  the error names the project" "$tmp/err" 'project "pr-b" is not among yours'
ok "  but may write to pr-a" ctl "$inst" lead append --project pr-a --kind note --body-json '{"text":"in a"}'
exits 4 "  and may not read another project's entry" ctl "$inst" lead get 0
exits 4 "  nor export all projects" ctl "$inst" lead export -o "$tmp/no.hex"
ok "  but may list its own project" ctl "$inst" lead log --project pr-a --json
is "  which holds two entries" "$(grep -c '"project":"pr-a"' "$tmp/out")" 2
cp "$inst/scoped.conf" "$tmp/conf.saved"
echo "max_conections = 5" >> "$inst/scoped.conf"
reload_daemon
has "a reload with a broken configuration is refused" "$tmp/scoped.log" 'configuration not reloaded, keeping the running one: '
has "  naming the bad line" "$tmp/scoped.log" 'unknown option "max_conections"'
ok "  and the daemon serves on" ctl "$inst" lead info
cp "$tmp/conf.saved" "$inst/scoped.conf"
sed -i 's/^origin = .*/origin = test.example\/renamed/' "$inst/scoped.conf"
reload_daemon
has "a reload reports an option that needs a restart" "$tmp/scoped.log" 'origin changed in the configuration; it takes effect on restart'
cp "$tmp/conf.saved" "$inst/scoped.conf"
sed -i '/^cn:client /d' "$inst/roles.conf"
reload_daemon
exits 4 "an identity without a role can do nothing" ctl "$inst" client log
has "  and is told so" "$tmp/err" "has no role"
ok "  except ask who it is" ctl "$inst" client info
is "nothing was written by the refusals" "$(size_now)" 45

# the operator's counters in info
stat() { ctl "$inst" auditor info --json | grep -o "\"$1\":[0-9]*" | head -n 1 | cut -d: -f2; }
f0=$(stat forbidden) i0=$(stat invalid) h0=$(stat tls_handshake) a0=$(stat appended) c0=$(stat commits)
ctl "$inst" auditor append --project pr-site --kind note --body-json '{"text":"x"}' 2>/dev/null
ctl "$inst" lead append --project pr-a --kind note --body-json '{"txt":"x"}' 2>/dev/null
openssl s_client -connect "127.0.0.1:$PORT" -CAfile "$inst/tls/ca.crt" -cert "$tmp/other/clients/lead.crt" \
	-key "$tmp/other/clients/lead.key" </dev/null >/dev/null 2>&1
ctl "$inst" lead append --project pr-a --kind note --body-json '{"text":"counted"}' >/dev/null
is "info counts a forbidden request" "$(stat forbidden)" $((f0 + 1))
is "  an invalid entry" "$(stat invalid)" $((i0 + 1))
is "  a failed handshake" "$(stat tls_handshake)" $((h0 + 1))
is "  an appended entry" "$(stat appended)" $((a0 + 1))
is "  and its commit" "$(stat commits)" $((c0 + 1))
f0=$(stat forbidden)
ok "the auditor's info" ctl "$inst" auditor info
has "  shows the verified checkpoint" "$tmp/out" "checkpoint:    size 46, root "
has "  append latency percentiles" "$tmp/out" "append latency, queued to durable (us):"
has "  refusals by reason" "$tmp/out" "forbidden $f0"
has "  and map usage" "$tmp/out" "map:           "
ok "the lead's info" ctl "$inst" lead info
is "  has no operator counters" "$(grep -c 'uptime\|refused' "$tmp/out")" 0

# restart and continue
stop_daemon; is "SIGTERM stops scoped cleanly" "$?" 0
start_daemon "$inst" || { echo "Bail out! no restart"; exit 1; }
ok "after a restart the chain continues" ctl "$inst" approver append --project pr-site --kind note --body-json '{"text":"after restart"}' --json
has "  as entry 46" "$tmp/out" '"seq":46,'
ok "  and the whole log verifies" ctl "$inst" auditor verify
has "  47 entries" "$tmp/out" "all 47 entries"
ok "a request id with a quote and a backslash" ctl "$inst" approver append --project pr-site --kind note \
	--body-json '{"text":"quoted"}' --request-id 'r-"q"\x' --json
cp "$tmp/out" "$tmp/quoted.json"
ok "  --json is still one JSON document naming it" perl -MJSON::PP -e '
	my $d = JSON::PP->new->decode(do { local $/; <STDIN> }); exit($d->{request_id} eq q{r-"q"\x} ? 0 : 1)' <"$tmp/quoted.json"
stop_daemon

# a forking server: same key and origin, another history
start_daemon "$tmp/twin" || { echo "Bail out! no twin"; exit 1; }
ctl "$tmp/twin" lead append --project pr-site --kind project --body-json "$project" >/dev/null 2>&1
for i in $(seq 1 47); do
	ctl "$tmp/twin" lead append --project pr-site --kind note --body-json "{\"text\":\"rewritten $i\"}" >/dev/null 2>&1 || true
done 2>/dev/null
exits 1 "the client detects the rewritten history" ctl "$tmp/twin" auditor checkpoint
has "  loudly" "$tmp/err" "FORK DETECTED"
has "  showing the remembered checkpoint" "$tmp/err" "--- remembered"
has "  and the one presented now" "$tmp/err" "--- presented now ---"
stop_daemon
finish
