#!/usr/bin/env bash
# scoped init gives the one client certificate no project until one is
# assigned: without --client-project its roles.conf line grants none and
# init prints the line to write; the client then reads and writes nothing in
# any project, until that line is written and scoped reloads.  With
# --client-project it has exactly the projects named, not another client's.
set -u
. "$(dirname "$0")/lib.sh"

inst=$tmp/inst
ok "init without --client-project" "$SCOPED" init "$inst" --origin test.example/clientproj
has "  says the client has no project yet" "$tmp/out" "the client certificate has no project yet"
has "  and shows the roles.conf line to write" "$tmp/out" "cn:client       client      PROJECT[,PROJECT...]"
has "  its roles.conf line grants none" "$inst/roles.conf" "cn:client       client      -"
start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }
ok "the lead creates pr-site" ctl "$inst" lead project create pr-site --client C --title T --currency JPY --amount 1
exits 4 "the client cannot read it" ctl "$inst" client status pr-site
exits 4 "nor record in it" ctl "$inst" client change raise -p pr-site T --by C --via email --reason defect
sed -i 's/^cn:client .*/cn:client       client      pr-site/' "$inst/roles.conf"
ok "reload with the line init showed" reload_daemon
ok "now the client reads pr-site" ctl "$inst" client status pr-site
stop_daemon

other=$tmp/other
ok "init --client-project pr-a --client-project pr-b" "$SCOPED" init "$other" --origin test.example/clientproj \
	--client-project pr-a --client-project pr-b
has "  grants exactly those" "$other/roles.conf" "cn:client       client      pr-a,pr-b"
exits 2 "a bad project id is refused, naming the rule" "$SCOPED" init "$tmp/bad" --client-project .x
has "  naming the rule" "$tmp/err" "must not start with '.' or '-'"
start_daemon "$other" || { echo "Bail out! no daemon"; exit 1; }
ok "the lead creates pr-a" ctl "$other" lead project create pr-a --client C --title T --currency JPY --amount 1
ok "and pr-c, another client's" ctl "$other" lead project create pr-c --client D --title T --currency JPY --amount 1
ok "the client reads pr-a" ctl "$other" client status pr-a
exits 4 "but not pr-c" ctl "$other" client status pr-c
stop_daemon
finish
