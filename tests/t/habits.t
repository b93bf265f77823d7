#!/usr/bin/env bash
# A CLI that fits people's habits (issue 13, part 5), end to end against a
# live daemon: shared options before or after the command.
set -u
. "$(dirname "$0")/lib.sh"

inst=$tmp/inst
"$SCOPED" init "$inst" --origin test.example/habits >/dev/null || { echo "Bail out! init"; exit 1; }
start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }
lead=$inst/clients/lead.conf
srv=127.0.0.1:$PORT

ok "lead: project P" ctl "$inst" lead project create P --client "C Corp" --title "Site" --currency JPY --amount 3000000
ok "options before the command" "$SCOPECTL" --config "$lead" --server "$srv" status P
has "  prints the status" "$tmp/out" "3000000"
ok "options after the command" "$SCOPECTL" status P --config "$lead" --server "$srv"
ok "--json and --opt=value before the command" "$SCOPECTL" --json --config="$lead" --server "$srv" status P
has "  prints JSON" "$tmp/out" '"project":"P"'
ok "-c before a recording command" "$SCOPECTL" -c "$lead" --server="$srv" change raise -p P "Redesign" \
	--by "C manager" --via meeting --reason client_request
has "  records it" "$tmp/out" "change CR-1"
exits 2 "an unknown option before the command is refused" "$SCOPECTL" --frob status P
has "  naming it" "$tmp/err" '"--frob" before the command'
exits 2 "a connection option without its value is refused" "$SCOPECTL" --config
has "  naming it" "$tmp/err" "--config needs a value"
exits 2 "options and no command are refused" "$SCOPECTL" --config "$lead"
has "  saying so" "$tmp/err" "no command after the options"

finish
