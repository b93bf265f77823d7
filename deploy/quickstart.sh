#!/usr/bin/env bash
# Runs Scope Ledger's main job on a local embedded instance under ./var:
# starts scoped on loopback, on the address scoped init wrote to
# var/scoped.conf, and records the worked case of the product brief (a free
# redesign demand answered with the record) as the lead, the client, the
# approver and finance would, over mutual TLS; shows status, reports and
# history; and verifies everything the way a client, auditor or court would:
# online, and offline with nothing but the public key; shows the operator's
# counters and takes an online backup; then checks the stored ledger with
# the daemon stopped, starts it again and leaves it running, printing the
# commands to try and how to stop it.  Every command shown is the command
# run, as typed from the top of the repository.
#
# Safe to run again: the instance is reused, the case is recorded once, and
# a scoped left running by an earlier run is stopped and started again.
#   deploy/quickstart.sh          set up (once), record (once), show, verify
#   deploy/quickstart.sh stop     stop the scoped it left running
# SCOPE_VAR (default var), BUILD_DIR (default build), SCOPE_LISTEN (the
# address a new instance is given, default scoped init's 127.0.0.1:7443) and
# SCOPE_PORTAL (its client portal's, default 127.0.0.1:8443) change where it
# works.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BUILD_DIR:-build}
scoped=$bin/daemon/scoped
scopectl=$bin/client/scopectl
var=${SCOPE_VAR:-var}
pidfile=$var/scoped.pid

show() {	# show COMMAND...: print the command as typed, then run it
	printf '$'; printf ' %q' "$@"; printf '\n'
	"$@"
}
running() {	# running: the pid of the scoped an earlier run left, if it still runs
	local pid
	pid=$(cat "$pidfile" 2>/dev/null) || return 1
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null &&
		tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q "scoped -c $var/scoped.conf" &&
		echo "$pid"
}
stop() {	# stop: SIGTERM to the scoped left running, and wait until it is gone
	local pid
	pid=$(running) || { rm -f "$pidfile"; return 0; }
	show kill -TERM "$pid"
	for _ in $(seq 1 200); do
		kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; return 0; }
		sleep 0.05
	done
	echo "quickstart: scoped (pid $pid) did not stop within 10 s" >&2
	return 1
}
start() {	# start: scoped in the background on var/scoped.conf's listen address
	local listen pid
	listen=$(sed -n 's/^listen *= *//p' "$var/scoped.conf")
	echo "== starting scoped on $listen (log: $var/scoped.log, pid in $pidfile)"
	printf '$ %q -c %q 2>%q &\n' "$scoped" "$var/scoped.conf" "$var/scoped.log"
	"$scoped" -c "$var/scoped.conf" 2>"$var/scoped.log" </dev/null &
	pid=$!
	for _ in $(seq 1 200); do
		if grep -q 'ready on' "$var/scoped.log"; then
			echo "$pid" > "$pidfile"
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	cat "$var/scoped.log" >&2
	if grep -q 'Address already in use' "$var/scoped.log"; then
		echo "quickstart: $listen (listen in $var/scoped.conf) is busy: another program listens on it." >&2
		echo "  Stop that program, or give this instance another port: change listen in $var/scoped.conf" >&2
		echo "  and the server line in $var/clients/*.conf to the same HOST:PORT." >&2
	fi
	kill -TERM "$pid" 2>/dev/null
	exit 1
}

if [ "${1:-}" = stop ]; then
	stop
	exit
fi
[ $# -eq 0 ] || { echo "usage: deploy/quickstart.sh [stop]" >&2; exit 2; }

if [ ! -f "$var/scoped.conf" ]; then
	echo "== a new instance in $var"
	show "$scoped" init "$var" --origin localhost/scope-ledger --client-project pr-site --client-project my-site \
		${SCOPE_LISTEN:+--listen "$SCOPE_LISTEN"} --portal "${SCOPE_PORTAL:-127.0.0.1:8443}"
fi
# scopectl remembers the checkpoints it has seen of this ledger here (a fresh
# instance under the same origin would otherwise look like a rewritten log)
case $bin in /*) binpath=$bin ;; *) binpath=\$PWD/$bin ;; esac
case $var in /*) state=$var/state ;; *) state=\$PWD/$var/state ;; esac
echo "$ export XDG_STATE_HOME=$state"
eval "export XDG_STATE_HOME=$state"
if pid=$(running); then
	echo "== reusing scoped left running by an earlier run (pid $pid)"
else
	start
fi
run() {	# run ROLE ARGS...: scopectl ARGS with ROLE's profile, shown as run
	local role=$1; shift
	show "$scopectl" "$@" --config "$var/clients/$role.conf"
}
docs=$var/documents
mkdir -p "$docs"
[ -f "$docs/requirements.txt" ] || echo "Requirement definition v1: PR site after reference site A, five pages." > "$docs/requirements.txt"
[ -f "$docs/fee-rule.eml" ] || echo "From: V PM - This definition fixes the order; changing it is an additional order with an additional fee." > "$docs/fee-rule.eml"

if ! "$scopectl" status pr-site --config "$var/clients/auditor.conf" >/dev/null 2>&1; then
	echo "== recording the worked case as it happens"
	run lead project create pr-site --client "C Corp" --title "PR web site" --currency JPY --amount 3000000 \
		--vendor-lead "V PM" --client-lead "C manager" --acceptance-days 14
	run lead baseline add -p pr-site --item R1="Design after reference site A" --item R2="Five pages" \
		--doc "$docs/requirements.txt" --doc "$docs/fee-rule.eml" \
		--rule "Changes after this definition are additional orders with an additional fee."
	run client respond -p pr-site --baseline 1 --decision approved --by "C manager" --via email
	run client change raise -p pr-site "Redesign along site B" --by "C manager" --via meeting \
		--reason client_request --items R1 --description "Free: the sales rep promised revisions any time"
	run approver change assess -p pr-site CR-1 --class out_of_scope --cites 1 \
		--rationale "No promise on record; the definition names site A; changes are additional orders"
	run lead change quote -p pr-site CR-1 --fee 1500000 --tax 150000 --effort-hours 120 --schedule-days 30 \
		--receipt "$var/quote-CR-1.receipt.json"
	run client respond -p pr-site --change CR-1 --quote 1 --decision rejected --reason "expected it free" \
		--by "C manager" --via email
	run lead change raise -p pr-site "Minor design revision (contractual)" --by "V PM" --via email \
		--reason vendor_proposal --items R1
	run approver change assess -p pr-site CR-2 --class minor_revision --rationale "One minor revision is in the contract"
	run client respond -p pr-site --change CR-2 --decision approved --by "C manager" --via email
fi

echo "== what the lead and finance see"
run lead status pr-site
run finance report unbilled
run finance report exposure
echo "== finance and the auditor re-derive them from proven entries, trusting no report"
run finance report unbilled --verify
run auditor status pr-site --verify
echo "== the history of CR-1, and the client's receipt for the quote, checked offline"
run auditor history pr-site --change CR-1
show "$scopectl" verify --receipt "$var/quote-CR-1.receipt.json" --trust "$var/keys/verifier.txt"
echo "== proof that the approver's determination is in the signed log"
run auditor prove 4
echo "== the auditor verifies the whole ledger online"
run auditor verify
echo "== export, checkpoint, and offline verification with the public key only"
run auditor export -o "$var/export.hex"
printf '$ %q checkpoint --config %q > %q\n' "$scopectl" "$var/clients/auditor.conf" "$var/checkpoint.txt"
"$scopectl" checkpoint --config "$var/clients/auditor.conf" > "$var/checkpoint.txt"
show "$scopectl" verify --export "$var/export.hex" --checkpoint "$var/checkpoint.txt" \
	--trust "$var/keys/verifier.txt"
echo "== the operator's view, and an online backup"
run admin info
run auditor backup -o "$var/backup.mdb"

echo "== stopping scoped, checking the stored ledger and rebuilding its indexes"
stop
show "$scoped" verify -c "$var/scoped.conf"
show "$scoped" reindex -c "$var/scoped.conf"
start

cat <<EOT
== scoped is running on $(sed -n 's/^listen *= *//p' "$var/scoped.conf") (pid $(cat "$pidfile"), log $var/scoped.log).
From the top of the repository, as the lead (var/clients/ROLE.conf for the others):
  export XDG_STATE_HOME=$state
  $scopectl status pr-site --config $var/clients/lead.conf
  $scopectl history pr-site --config $var/clients/auditor.conf
or with the programs on PATH and a default profile (the README walk-through):
  export PATH=$binpath/daemon:$binpath/client:\$PATH
  export SCOPECTL_CONFIG=$var/clients/lead.conf
  scopectl status pr-site
Stop it with: deploy/quickstart.sh stop   (or: kill \$(cat $pidfile))
EOT
