#!/usr/bin/env bash
# Complaint cases (CASE-N) in four recorded stages: intake, investigation,
# determination by an approver, reply; stages in order only, the role
# rules, a determination opening a change request in the same entry,
# case risk, report cases and history --case.  The worked case of
# ../shared/DOMAIN.md end to end.  A live daemon over TLS.
set -u
. "$(dirname "$0")/lib.sh"

inst=$tmp/inst
"$SCOPED" init "$inst" --origin test.example/case >/dev/null || { echo "Bail out! init"; exit 1; }
for r in lead approver finance auditor admin; do echo "cn:$r $r *"; done > "$inst/roles.conf"
echo "cn:client client pr-site" >> "$inst/roles.conf"
start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }
echo "requirement definition: reference site A" > "$tmp/reqdef.pdf"
echo "this definition fixes the order; changing it is an additional order with an additional fee" > "$tmp/fee-rule.eml"
echo "Facts not confirmed; the redesign is a second project; the minor revision is still offered." > "$tmp/reply.eml"
reqdef=$(sha256sum "$tmp/reqdef.pdf" | cut -d' ' -f1); feerule=$(sha256sum "$tmp/fee-rule.eml" | cut -d' ' -f1)
{
	ctl "$inst" lead project create pr-site --client "C Corp" --title "PR site" --currency JPY --amount 3000000
	ctl "$inst" lead baseline add -p pr-site --item design="Screen design along reference site A" --doc "$tmp/reqdef.pdf"
	ctl "$inst" finance invoice -p pr-site INV-1 --contract 900000 --issued 2026-01-10
	ctl "$inst" finance payment -p pr-site INV-1 --amount 900000 --date 2026-01-20
} >/dev/null 2>"$tmp/err" || { echo "Bail out! setup"; cat "$tmp/err"; exit 1; }

# ---- intake ----
exits 4 "a finance user cannot open a case" ctl "$inst" finance case open -p pr-site --title x --claimant x --via email --claim x --demand x
ok "client lead's complaint: intake (CASE-1)" ctl "$inst" lead case open -p pr-site --title "Redesign along site B" \
	--claimant "C manager" --claimant-title "Marketing manager" --via phone \
	--claim "somehow it's not what I imagined" --demand "another design like site B, free" --speaks-for-client unknown \
	--alleged-promise "V sales rep||verbal|revisions any time, free" --classification additional_order
has "  numbered CASE-1" "$tmp/out" "recorded complaint CASE-1"
ok "  the alleged promise: no date, no evidence" ctl "$inst" auditor history pr-site --case CASE-1 --json
has "  evidence_offered false" "$tmp/out" '"evidence_offered":false'
hasnt() { n=$((n + 1)); if grep -qF -- "$3" "$2"; then failed=$((failed + 1)); echo "not ok $n - $1"; else echo "ok $n - $1"; fi; }
hasnt "  and no when" "$tmp/out" '"when"'

# ---- stage order and roles ----
exits 4 "a determination before the investigation is refused" ctl "$inst" approver case determine -p pr-site CASE-1 --facts not_confirmed --liable no --outcome additional_order --rationale x
has "  naming the stage and what comes next" "$tmp/err" "CASE-1 is open (entry 4): it takes no determination now; the next stage is the investigation: scopectl case investigate -p pr-site CASE-1"
exits 4 "a reply before the determination is refused" ctl "$inst" lead case respond -p pr-site CASE-1 --text x --channel email --from a --to b --close
exits 4 "a client cannot investigate" ctl "$inst" client case investigate -p pr-site CASE-1 --responsible x --checked 2
exits 4 "an investigation names what it checked" ctl "$inst" lead append --project pr-site --kind investigation --body-json '{"case":"CASE-1","responsible":"PM"}'
has "  saying how" "$tmp/err" "an investigation names the records it checked"
exits 4 "a checked entry must exist" ctl "$inst" lead case investigate -p pr-site CASE-1 --responsible PM --checked 99
ok "investigation: requirement definition and fee-rule e-mail checked, no written promise" ctl "$inst" lead case investigate -p pr-site CASE-1 \
	--responsible "V project manager" --checked "2,sha256:$reqdef,sha256:$feerule" \
	--interview "V sales rep|sales|said only: we will make a site that conveys your product's appeal" \
	--finding "the requirement definition names reference site A" --finding "the e-mail with the fee rule exists" \
	--effort-hours 120.5 --no-record "a written promise of free revisions (e-mails, minutes, estimate)"
exits 4 "an investigation is not repeated" ctl "$inst" lead case investigate -p pr-site CASE-1 --responsible PM --checked 2
has "  naming the next stage" "$tmp/err" "CASE-1 is investigated (entry 5): it takes no investigation now; the next stage is the determination (by an approver): scopectl case determine -p pr-site CASE-1"
exits 4 "a lead cannot determine" ctl "$inst" lead case determine -p pr-site CASE-1 --facts not_confirmed --liable no --outcome additional_order --rationale x
exits 4 "--open-change only with additional_order" ctl "$inst" approver case determine -p pr-site CASE-1 --facts not_confirmed --liable no --outcome reject --rationale x --open-change "Redesign"
has "  saying so" "$tmp/err" "only a determination of additional_order opens a change request"

# ---- report cases: the waiting determination first ----
ok "second complaint (CASE-2)" ctl "$inst" client case open -p pr-site --title "Broken contact form" --claimant "C manager" --via email --claim "the form fails" --demand "fix it"
ok "report cases" ctl "$inst" auditor report cases --csv
is "  the case waiting for an approver comes first" "$(sed -n 2p "$tmp/out" | cut -d, -f2,3)" "CASE-1,investigated"
ok "report cases --verify agrees" ctl "$inst" auditor report cases --verify
has "  re-derived" "$tmp/err" "verified: re-derived"

# ---- determination, reply ----
ok "case risk before the reply" ctl "$inst" lead case risk -p pr-site CASE-1 --progress 80
has "  paid share of the contract value" "$tmp/out" "received                    900000 JPY   30% of the value"
has "  the lead's estimate" "$tmp/out" "80% (the lead's estimate)"
ok "approver's determination: facts not confirmed, not liable, additional order, opens a change" ctl "$inst" approver case determine -p pr-site CASE-1 \
	--facts not_confirmed --liable no --outcome additional_order --cites 2 \
	--rationale "no record of the promise; the redesign along site B is out of the requirement definition" --open-change "Redesign along site B"
has "  the change opened in the same entry" "$tmp/out" "recorded determination CR-1"
ok "status shows the change" ctl "$inst" auditor status pr-site --json
has "  raised" "$tmp/out" '"change":"CR-1","title":"Redesign along site B","status":"raised"'
exits 4 "a second determination is refused" ctl "$inst" approver case determine -p pr-site CASE-1 --facts confirmed --liable yes --outcome in_scope_fix --rationale x
has "  naming the next stage" "$tmp/err" "the next stage is the reply: scopectl case respond -p pr-site CASE-1"
exits 2 "a reply closes or escalates" ctl "$inst" lead case respond -p pr-site CASE-1 --text x --channel email --from a --to b
ok "project manager's reply with the minor-revision concession, closed" ctl "$inst" lead case respond -p pr-site CASE-1 --text-file "$tmp/reply.eml" \
	--channel email --from "V project manager" --to "C manager" --evidence "$tmp/reply.eml" \
	--concession "the contractual minor revision, although its deadline passed" --close
exits 4 "a closed case takes nothing more" ctl "$inst" lead case respond -p pr-site CASE-1 --text x --channel email --from a --to b --close
has "  saying so" "$tmp/err" "CASE-1 was closed by entry"

# ---- the second case: in_scope_fix, escalated, determined again ----
ok "CASE-2 investigated" ctl "$inst" approver case investigate -p pr-site CASE-2 --responsible "V dev" --checked 2
ok "CASE-2 determined in_scope_fix" ctl "$inst" approver case determine -p pr-site CASE-2 --facts confirmed --liable yes --outcome in_scope_fix --rationale "a defect"
ok "CASE-2 reply escalated" ctl "$inst" lead case respond -p pr-site CASE-2 --text "we fix it" --channel email --from PM --to "C manager" --escalate
exits 4 "an escalated case is not investigated again" ctl "$inst" lead case investigate -p pr-site CASE-2 --responsible x --checked 2
has "  the next stage is a new determination" "$tmp/err" "the next stage is a new determination (by an approver)"
ok "CASE-2 determined again after escalation" ctl "$inst" approver case determine -p pr-site CASE-2 --facts confirmed --liable yes --outcome in_scope_fix --rationale "confirmed by the director"

# ---- history, status, report ----
ok "history --case CASE-1" ctl "$inst" client history pr-site --case CASE-1 --csv
is "  its four stages" "$(cut -d, -f3 "$tmp/out" | grep -cE '^(complaint|investigation|determination|reply)$')" 4
ok "status --verify agrees" ctl "$inst" client status pr-site --verify
has "  counts the cases not closed" "$tmp/out" "complaint cases not closed: 1"
has "  lists them" "$tmp/out" "CASE-2   determined"
ok "report cases --open" ctl "$inst" auditor report cases --open
hasnt "  leaves the closed case out" "$tmp/out" "CASE-1"
has "  totals by stage" "$tmp/out" "totals: 0 open, 0 investigated, 1 determined, 0 escalated, 1 closed"

# ---- a complaint years later, about a closed project ----
ok "a project is closed" ctl "$inst" lead project create pr-old --client "C Corp" --title Old --currency JPY --amount 0
old=$(sed -n 's/.* as entry \([0-9]*\) .*/\1/p' "$tmp/out")
ok "  and closed" ctl "$inst" lead project close -p pr-old --reason "accepted"
ok "a complaint about it is still recorded" ctl "$inst" lead case open -p pr-old --title "Broken after years" --claimant "C manager" --via email --claim "it fails" --demand "fix it"
echo "the old specification" > "$tmp/oldspec.txt"
ok "  investigated, a document checked by its file" ctl "$inst" lead case investigate -p pr-old CASE-1 --responsible "V dev" --checked "$old,file:$tmp/oldspec.txt"
ok "  history --case --json" ctl "$inst" auditor history pr-old --case CASE-1 --json
has "  holds the document's SHA-256, made by scopectl" "$tmp/out" "\"checked_documents\":[\"$(sha256sum "$tmp/oldspec.txt" | cut -c1-64)\"]"
exits 4 "  a determination opening a change in it is refused" ctl "$inst" approver case determine -p pr-old CASE-1 --facts confirmed --liable no --outcome additional_order --rationale "new work" --open-change "Fix"
has "  naming the closure" "$tmp/err" "a determination opens no change request in it"
ok "  determined without opening one" ctl "$inst" approver case determine -p pr-old CASE-1 --facts confirmed --liable no --outcome additional_order --rationale "new work under a new contract"
ok "  and answered" ctl "$inst" lead case respond -p pr-old CASE-1 --text "a new contract" --channel email --from PM --to "C manager" --close
exits 4 "a change in it is still refused" ctl "$inst" lead change raise -p pr-old "x" --by a --via email --reason defect
has "  naming what is recorded after a closure" "$tmp/err" "only corrections, notes and complaint cases are recorded in it now"
ok "status --verify of the closed project" ctl "$inst" auditor status pr-old --verify

stop_daemon
ok "scoped verify on the store" "$SCOPED" verify -c "$inst/scoped.conf"
finish
