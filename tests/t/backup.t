#!/usr/bin/env bash
# Online backup and restore: a backup taken while appends keep arriving,
# streamed over TLS (scopectl backup) and on the server (scoped backup),
# restored into a fresh data directory and verified there, by scoped and by
# scopectl against a daemon serving the restored ledger.
set -u
. "$(dirname "$0")/lib.sh"

inst=$tmp/inst
"$SCOPED" init "$inst" --origin test.example/backup >/dev/null || { echo "Bail out! init failed"; exit 1; }
start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }
size_now() { ctl "$inst" auditor info --json | sed -n 's/.*"tree_size":\([0-9]*\).*/\1/p'; }
ok "create a project" ctl "$inst" lead append --project pr --kind project \
	--body-json '{"client":"C","title":"T","contract_type":"fixed","currency":"JPY","amount_minor":1000}'

# appends keep arriving during both backups
( for i in $(seq 1 150); do
	ctl "$inst" lead append --project pr --kind note --body-json "{\"text\":\"during $i\"}" >/dev/null 2>&1 || echo fail
  done ) > "$tmp/appender.out" &
appender=$!
sleep 0.5
before=$(size_now)
ok "an auditor takes a backup over TLS while appends continue" ctl "$inst" auditor backup -o "$tmp/online.mdb"
has "  and is told its size and digest" "$tmp/out" "bytes in $tmp/online.mdb, sha256 "
ok "the operator takes one on the server at the same time" "$SCOPED" backup -c "$inst/scoped.conf" -o "$tmp/local.mdb"
has "  likewise" "$tmp/out" "bytes in $tmp/local.mdb, sha256 "
exits 4 "a lead may not take a backup" ctl "$inst" lead backup -o "$tmp/no.mdb"
has "  and is told who may" "$tmp/err" "backup needs the admin or auditor role with all projects"
is "  and nothing is left behind" "$(ls "$tmp"/no.mdb* 2>/dev/null | wc -l)" 0
wait "$appender"
is "every concurrent append succeeded" "$(grep -c fail "$tmp/appender.out")" 0
after=$(size_now)
is "  all 151 entries are there" "$after" 151
ok "info counts the backups' connections like any other" ctl "$inst" admin info
stop_daemon

# restore each into a fresh instance with the same keys
restore_into() {	# restore_into DIR BACKUP
	cp -a "$inst" "$1" && rm -rf "$1/data" && mkdir "$1/data"
	"$SCOPED" restore -c "$1/scoped.conf" "$2"
}
ok "restore the TLS backup into a fresh data directory" restore_into "$tmp/r1" "$tmp/online.mdb"
has "  which verifies everything on the way" "$tmp/out" "chain, leaf hashes, tree nodes, root and signed checkpoint verified; derived state, request-id and project indexes and metadata match the log"
got=$(sed -n 's/^restored \([0-9]*\) entries.*/\1/p' "$tmp/out")
ok "  it holds at least the entries from before the backup ($got >= $before)" test "$got" -ge "$before"
ok "  and no more than were written ($got <= $after)" test "$got" -le "$after"
start_daemon "$tmp/r1" || { echo "Bail out! no daemon on the restored copy"; exit 1; }
exits 1 "a client that saw the later entries flags the restored, shorter log" ctl "$tmp/r1" auditor verify
has "  as a rollback" "$tmp/err" "ROLLBACK"
XDG_STATE_HOME=$tmp/fresh-state
ok "scopectl verify against the restored instance" ctl "$tmp/r1" auditor verify
has "  checks all $got entries" "$tmp/out" "all $got entries verified"
ok "  which takes new appends" ctl "$tmp/r1" lead append --project pr --kind note --body-json '{"text":"after restore"}'
stop_daemon
ok "restore the server-side backup" restore_into "$tmp/r2" "$tmp/local.mdb"
ok "  scoped verify agrees" "$SCOPED" verify -c "$tmp/r2/scoped.conf"

# refusals leave nothing half-written
exits 2 "restoring over an existing ledger is refused" "$SCOPED" restore -c "$tmp/r2/scoped.conf" "$tmp/local.mdb"
has "  saying why" "$tmp/err" "already holds a ledger"
ok "  and that ledger is untouched" "$SCOPED" verify -c "$tmp/r2/scoped.conf"
cp "$tmp/online.mdb" "$tmp/damaged.mdb"
size=$(stat -c %s "$tmp/damaged.mdb")
for page in $(seq 2 $((size / 4096 - 1))); do	# the end of every data page, where LMDB keeps its nodes
	printf 'XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX' | dd of="$tmp/damaged.mdb" bs=1 seek=$((page * 4096 + 4096 - 32)) conv=notrunc 2>/dev/null
done
cp -a "$inst" "$tmp/r3" && rm -rf "$tmp/r3/data" && mkdir "$tmp/r3/data"
"$SCOPED" restore -c "$tmp/r3/scoped.conf" "$tmp/damaged.mdb" >"$tmp/out" 2>"$tmp/damaged.err"
rc=$?
ok "a damaged backup is not restored (exit $rc)" test "$rc" -ne 0
has "  the error says so" "$tmp/damaged.err" "not restored (the data directory is empty again)"
is "  and the data directory is left empty" "$(ls -A "$tmp/r3/data")" ""
"$SCOPED" init "$tmp/other" --origin test.example/other >/dev/null
cp -a "$tmp/other" "$tmp/r4" && rm -rf "$tmp/r4/data" && mkdir "$tmp/r4/data"
exits 1 "a backup of another log is refused by its origin and key" "$SCOPED" restore -c "$tmp/r4/scoped.conf" "$tmp/local.mdb"
is "  leaving nothing" "$(ls -A "$tmp/r4/data")" ""
finish
