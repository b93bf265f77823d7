#!/usr/bin/env bash
# The first ten minutes: deploy/quickstart.sh on a fresh instance (in a
# temporary directory, on a free port given to scoped init) serves on the
# address init wrote and leaves scoped running; its closing commands work
# as printed; a second run reuses the instance and the running scoped and
# records nothing twice; then the README walk-through's commands (the
# <!-- walkthrough --> blocks of README.md, so this cannot drift from it)
# run as typed from a directory laid out like the repository; and
# quickstart.sh stop stops scoped.
set -u
. "$(dirname "$0")/lib.sh"
repo=$(cd "$here/../.." && pwd)
build=$(dirname "$(dirname "$SCOPED")")
root=$tmp/root	# like the top of the repository: build/ and var/
mkdir -p "$root"
ln -s "$build" "$root/build"
free_port() { perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1:0")->sockport'; }
port=$(free_port)
pport=$(free_port)
quickstart() {
	SCOPE_VAR=$root/var BUILD_DIR=$build SCOPE_LISTEN=127.0.0.1:$port SCOPE_PORTAL=127.0.0.1:$pport bash "$repo/deploy/quickstart.sh" "$@"
}

ok "quickstart on a fresh instance" quickstart
cp "$tmp/out" "$tmp/first"
daemon_pid=$(cat "$root/var/scoped.pid" 2>/dev/null)	# killed by lib.sh's cleanup should a test fail
has "  init was given the port" "$root/var/scoped.conf" "listen = 127.0.0.1:$port"
has "  scoped serves on it" "$root/var/scoped.log" "ready on 127.0.0.1:$port"
has "  and its client portal on the portal's port" "$root/var/scoped.log" "portal listening on 127.0.0.1:$pport"
ok "  and is still running" kill -0 "$daemon_pid"
has "  the stored ledger was checked with scoped stopped" "$tmp/first" "\$ $build/daemon/scoped verify -c $root/var/scoped.conf"
has "  commands are shown with the profile they used" "$tmp/first" "\$ $build/client/scopectl status pr-site --config $root/var/clients/lead.conf"
has "  the last line says how to stop it" <(tail -n 1 "$tmp/first") "Stop it with: deploy/quickstart.sh stop"
sed -n '/^From the top of the repository/,/^Stop it with/p' "$tmp/first" | sed -n 's/^  //p' > "$tmp/next.sh"
is "  it prints commands to type next" "$(grep -c scopectl "$tmp/next.sh")" 3
ok "  which work as printed" bash -e "$tmp/next.sh"

ok "quickstart again" quickstart
has "  reuses the running scoped" "$tmp/out" "reusing scoped left running by an earlier run (pid $daemon_pid)"
n=$((n + 1))
if grep -q "recording the worked case" "$tmp/out"; then failed=$((failed + 1)); echo "not ok $n - records nothing twice"
else echo "ok $n - records nothing twice"; fi
daemon_pid=$(cat "$root/var/scoped.pid" 2>/dev/null)

# the walk-through, as the README has it: each marked sh block, indentation cut
awk '/<!-- walkthrough -->/ { mark = 1; next }
     mark && /^ *```sh$/ { block = 1; mark = 0; next }
     block && /^ *```$/ { block = 0; next }
     block { sub(/^   /, ""); print }' "$repo/README.md" > "$tmp/walkthrough.sh"
is "the README marks its walk-through blocks" "$(grep -c '<!-- walkthrough -->' "$repo/README.md")" 8
ok "the walk-through runs as typed, in order" bash -c 'cd "$1" && bash -e "$2"' - "$root" "$tmp/walkthrough.sh"
has "  recording as the lead" "$tmp/out" "recorded change CR-1 in my-site"
has "  signing a contract amendment" "$tmp/out" "recorded amendment AMD-1 in my-site"
has "  correcting the payment and the title by their entries" "$tmp/out" "recorded correction in my-site as entry 27"
has "  billing tax and the contract, part paid" "$tmp/out" "INV-1      2026-02-09      1980000       880000"
has "  the status shows the signed amendment" "$tmp/out" "AMD-1  signed                    330000  entry 22  CR-2"
has "  and the corrected title" "$tmp/out" "Sixth page: careers"
has "  a change's history shows the amendment that binds it" "$tmp/out" "amendment  lead"
has "  and the client's answer to the amendment" "$tmp/out" "amendment: AMD-1, channel: email"
has "  cancelling a placeholder project" "$tmp/out" "recorded closure in my-typo"
has "  confirming an agreement in writing" "$tmp/out" "recorded confirmation in my-site"
has "  a notice acknowledged by the client" "$tmp/out" "recorded response in my-site as entry 33"
has "  a delivery accepted" "$tmp/out" "recorded accept in my-site"
has "  a complaint closed after its four stages" "$tmp/out" "  my-site      CASE-1   closed"
has "  with the business at stake" "$tmp/out" "work done                      80% (the lead's estimate)"
has "  counting the part payment received" "$tmp/out" "received                   1100000 JPY   33% of the value"
has "  writing the complaint's dossier" "$root/var/case1-dossier/VERIFY.txt" "scopectl verify --dossier"
has "  which verifies alone" "$tmp/out" "dossier var/case1-dossier"
has "  and re-deriving the status" "$tmp/err" "re-derived from"
has "  and verifying the export offline" "$tmp/out" "verified; the first"
has "  a link for the client's notice, under the portal's URL" "$tmp/out" "https://127.0.0.1:$pport/l/"
has "  and the project's links" "$tmp/out" "LNK-1    notice"

ok "quickstart.sh stop" quickstart stop
n=$((n + 1))
if kill -0 "$daemon_pid" 2>/dev/null; then failed=$((failed + 1)); echo "not ok $n - scoped is stopped"
else echo "ok $n - scoped is stopped"; daemon_pid=; fi
finish
