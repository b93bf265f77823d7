#!/usr/bin/env bash
# The authorization matrix of proto/PROTOCOL.md section 6, table-driven:
# every role x every operation x (own project / other project) -> allowed
# or refused.  "Allowed" means the server did not answer "forbidden" (the
# ledger may still refuse on a domain rule); "refused" means it did.  Also:
# no request field changes the recorded author.
set -u
. "$(dirname "$0")/lib.sh"

inst=$tmp/inst
"$SCOPED" init "$inst" --origin test.example/authz >/dev/null || { echo "Bail out! init"; exit 1; }
start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }
echo "evidence" > "$tmp/ev.txt"
# both projects get the same history while every role may touch both
for p in own other; do
	ctl "$inst" lead project create $p --client C --title T --currency JPY --amount 100 >/dev/null
	ctl "$inst" lead baseline add -p $p --item A=x >/dev/null
	ctl "$inst" lead change raise -p $p "t" --by x --via email --reason defect >/dev/null
done 2>"$tmp/err" || { echo "Bail out! setup"; cat "$tmp/err"; exit 1; }
other_seq=3	# entry 3 is the project entry of "other"
# now every role is limited to "own"
: > "$inst/roles.conf"
for r in lead approver finance auditor client admin; do echo "cn:$r $r own" >> "$inst/roles.conf"; done
reload_daemon

# op name -> the command, with P for the project and S for an entry of it
declare -A CMD=(
	[info]="info"
	[checkpoint]="checkpoint"
	[consistency]="consistency 1"
	[get]="get @S@"
	[prove]="prove @S@"
	[status]="status @P@"
	[report]="report unbilled --project @P@"
	[history]="history @P@"
	[log-all]="log"
	[project]="project create @P@ --client C --title T --currency JPY --amount 1"
	[baseline]="baseline add -p @P@ --item B=y"
	[change]="change raise -p @P@ t2 --by x --via email --reason defect"
	[assessment]="change assess -p @P@ CR-1 --class in_scope --rationale x"
	[quote]="change quote -p @P@ CR-1 --fee 1 --effort-hours 1"
	[response]="respond -p @P@ --baseline 1 --decision revise --by x --via email"
	[evidence]="evidence -p @P@ @S@ $tmp/ev.txt"
	[invoice]="invoice -p @P@ INV-1 --change CR-1=1"
	[payment]="payment -p @P@ INV-1 --amount 1 --date 2026-01-01"
	[void]="void -p @P@ @S@ --reason x"
	[note]="append --project @P@ --kind note --body-json '{\"text\":\"x\"}'"
)
# who may, on their own project (every refusal elsewhere is expected)
declare -A MAY=(
	[info]="lead approver finance auditor client admin"
	[checkpoint]="lead approver finance auditor client admin"
	[consistency]="lead approver finance auditor client admin"
	[get]="lead approver finance auditor client admin"
	[prove]="lead approver finance auditor client admin"
	[status]="lead approver finance auditor client admin"
	[report]="lead approver finance auditor client admin"
	[history]="lead approver finance auditor client admin"
	[log-all]=""
	[project]="lead admin"
	[baseline]="lead"
	[change]="lead client"
	[assessment]="approver"
	[quote]="lead"
	[response]="lead client"
	[evidence]="lead client"
	[invoice]="finance"
	[payment]="finance"
	[void]="lead"
	[note]="lead approver finance client admin"
)
# operations that do not name a project are the same for both columns
global="info checkpoint consistency log-all"

for op in info checkpoint consistency get prove status report history log-all project baseline change assessment quote response evidence invoice payment void note; do
	for role in lead approver finance auditor client admin; do
		for where in own other; do
			case " $global " in *" $op "*) [ $where = other ] && continue;; esac
			seq=0; [ $where = other ] && seq=$other_seq
			cmd=${CMD[$op]//@P@/$where}
			cmd=${cmd//@S@/$seq}
			want=refused
			if [ $where = own ] || case " $global " in *" $op "*) true;; *) false;; esac; then
				case " ${MAY[$op]} " in *" $role "*) want=allowed;; esac
			fi
			# shellcheck disable=SC2086
			eval ctl "$inst" "$role" $cmd >"$tmp/out" 2>"$tmp/err"
			rc=$?
			# allowed: it worked, or the ledger refused on a rule other than access;
			# anything else (usage, connection) is neither and fails the test
			if [ $rc -eq 4 ] && grep -q "(forbidden)" "$tmp/err"; then got=refused
			elif [ $rc -eq 0 ] || [ $rc -eq 4 ]; then got=allowed
			else got="error (exit $rc)"; fi
			# a refusal must name what is missing
			if [ $got = refused ] && ! grep -qE "needs|not among yours|all projects" "$tmp/err"; then got="refused without saying why"; fi
			n=$((n + 1))
			if [ "$got" = "$want" ]; then echo "ok $n - $role $op on $where project: $want"
			else failed=$((failed + 1)); echo "not ok $n - $role $op on $where project: got $got, want $want"; sed 's/^/#   /' "$tmp/err" | head -3; fi
		done
	done
done

# a refusal names nothing outside the grant
for op in get prove; do
	exits 4 "$op of another project's entry is forbidden" ctl "$inst" lead $op $other_seq
	has "  as not among the caller's projects" "$tmp/err" "entry $other_seq belongs to a project that is not among yours"
	is "  without naming that project" "$(grep -c '"other"' "$tmp/err")" 0
done
exits 4 "status of an existing project outside the grant" ctl "$inst" lead status other
sed 's/"other"/"P"/' "$tmp/err" > "$tmp/err.existing"
exits 4 "status of a project that does not exist" ctl "$inst" lead status nosuch
sed 's/"nosuch"/"P"/' "$tmp/err" > "$tmp/err.missing"
is "  are told the same: existence is not revealed" "$(cat "$tmp/err.missing")" "$(cat "$tmp/err.existing")"

# the author is the certificate's name, whatever the request says
ok "lead records a note" ctl "$inst" lead append --project own --kind note --body-json '{"text":"who am I"}' --json
seq=$(sed -n 's/^{"seq":\([0-9]*\),.*/\1/p' "$tmp/out")
ok "  read it back" ctl "$inst" auditor get "$seq" --json
has "  recorded author is the certificate's CN" "$tmp/out" '"author":"lead"'

# who may correct depends on the target's kind: the target must already be
# in the log when the request is checked (else an entry committed in the
# same batch could be corrected by any role), and an entry of another
# project is refused without saying what it is
exits 4 "a correction of an entry not yet recorded is refused" \
	ctl "$inst" client append --project own --kind correction --body-json '{"target":999,"reason":"r","set":{"text":"x"}}'
has "  before the rules run" "$tmp/err" "target: entry 999 is not in the log"
exits 4 "a correction of another project's entry is refused" \
	ctl "$inst" client append --project own --kind correction --body-json "{\"target\":$other_seq,\"reason\":\"r\",\"set\":{\"title\":\"x\"}}"
has "  as another project's" "$tmp/err" "target: entry $other_seq belongs to another project"
n=$((n + 1))
if grep -q "project" <(sed 's/another project//; s/project own//' "$tmp/err"); then failed=$((failed + 1)); echo "not ok $n - without naming its kind"
else echo "ok $n - without naming its kind"; fi
stop_daemon
finish
