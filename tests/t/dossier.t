#!/usr/bin/env bash
# The dispute dossier of the worked case: written by scopectl dossier from a
# live daemon (--change and --case), checked offline by scopectl verify
# --dossier; then on fresh copies one changed byte in a file, an entry and a
# proof, a removed and an added file, an edited story and a wrong key each
# fail, naming what is wrong.  The tlog-proof files are parsed back against
# the C2SP format here, independently of scopectl.
set -u
. "$(dirname "$0")/lib.sh"

inst=$tmp/inst
"$SCOPED" init "$inst" --origin test.example/dossier --client-project pr-site >/dev/null || { echo "Bail out! init"; exit 1; }
cp -a "$inst" "$tmp/fork"	# the same signing key, for a second history below
start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }
key=$inst/keys/verifier.txt
echo "requirement definition v1: reference site A" > "$tmp/requirements.txt"
echo "From: C manager -- OK by phone, confirmed" > "$tmp/confirm.eml"

# the worked case: baseline and confirmation, a rejected quote, a minor
# revision approved by phone with its e-mail, and a complaint's four stages
ok "project (Japanese title)" ctl "$inst" lead project create pr-site --client "C株式会社" --title "PRサイト制作 <web>" \
	--currency JPY --amount 3000000 --type fixed --acceptance-days 14
ok "baseline" ctl "$inst" lead baseline add -p pr-site --item R1="参考サイトAに沿ったデザイン" --doc "$tmp/requirements.txt"
ok "the client confirms it" ctl "$inst" client respond -p pr-site --baseline 1 --decision approved --by "C manager" --via email
ok "CR-1 raised" ctl "$inst" client change raise -p pr-site "サイトBに沿った再デザイン" --by "C manager" --via meeting --reason client_request --items R1
ok "CR-1 out of scope" ctl "$inst" approver change assess -p pr-site CR-1 --class out_of_scope --rationale "site A is on record" --cites 1
ok "CR-1 quoted" ctl "$inst" lead change quote -p pr-site CR-1 --fee 1500000 --effort-hours 120
ok "CR-1 rejected" ctl "$inst" client respond -p pr-site --change CR-1 --quote 1 --decision rejected --reason "expected it free" --by "C manager" --via email
ok "CR-2 raised" ctl "$inst" lead change raise -p pr-site "Minor revision" --by "V PM" --via email --reason vendor_proposal
ok "CR-2 minor" ctl "$inst" approver change assess -p pr-site CR-2 --class minor_revision --rationale "in the contract"
ok "CR-2 approved by phone" ctl "$inst" lead respond -p pr-site --change CR-2 --decision approved --by "C manager" --via phone --json
resp=$(sed -n 's/^{"seq":\([0-9]*\),.*/\1/p' "$tmp/out")
ok "its e-mail as evidence, stored on the server" ctl "$inst" lead evidence -p pr-site "$resp" "$tmp/confirm.eml" --upload
ok "complaint intake" ctl "$inst" lead case open -p pr-site --title "Redesign free" --claimant "C manager" --via phone \
	--claim "not what I imagined" --demand "site B, free"
ok "investigation" ctl "$inst" lead case investigate -p pr-site CASE-1 --responsible "V PM" --checked 2 --finding "site A on record"
ok "determination" ctl "$inst" approver case determine -p pr-site CASE-1 --facts not_confirmed --liable no \
	--outcome reject --rationale "no promise on record" --cites 2
ok "reply" ctl "$inst" lead case respond -p pr-site CASE-1 --text "お断りします" --channel email --from "V PM" --to "C manager" --close

# --change
exits 2 "dossier needs exactly one subject" ctl "$inst" auditor dossier pr-site -o "$tmp/x"
exits 4 "a change the project lacks is named" ctl "$inst" auditor dossier pr-site --change CR-9 -o "$tmp/x"
has "  naming it" "$tmp/err" "has no change CR-9"
[ ! -e "$tmp/x" ] && ! ls -d "$tmp"/x.tmp-* >/dev/null 2>&1; is "  and leaves nothing behind" $? 0
ok "dossier of CR-2" ctl "$inst" auditor dossier pr-site --change CR-2 -o "$tmp/cr2"
d=$tmp/cr2
for f in index.html dossier.md VERIFY.txt FORMAT.md MANIFEST checkpoint.txt latest.txt consistency.json; do
	[ -f "$d/$f" ]; is "  has $f" $? 0
done
cmp -s "$d/FORMAT.md" "$here/../../proto/FORMAT.md"; is "  FORMAT.md is the format document it was built with" $? 0
is "  entries: project, baseline and its confirmation, CR-2's change, assessment, response, evidence" \
	"$(cd "$d/entries" && ls *.json | tr '\n' ' ')" "000000.json 000001.json 000002.json 000007.json 000008.json 000009.json 000010.json "
has "  the entry file is get --json plus its raw bytes" "$d/entries/000001.json" '"kind":"baseline"'
has "  with raw" "$d/entries/000001.json" '"raw":"89a6617574686f72'
has "  the story names the change" "$d/dossier.md" "CR\-2"
has "  documents not stored are held elsewhere" "$d/index.html" "held elsewhere"
eml=$(sha256sum "$tmp/confirm.eml" | cut -c1-64)
cmp -s "$d/files/$eml" "$tmp/confirm.eml"; is "  the stored e-mail is in files/, byte for byte" $? 0
has "  and the story links it" "$d/index.html" "files/$eml"
has "  Japanese text is kept" "$d/index.html" "参考サイトAに沿ったデザイン"
has "  entry text is escaped for HTML" "$d/index.html" "PRサイト制作 &lt;web&gt;"
has "  and for Markdown" "$d/dossier.md" "PRサイト制作 \<web\>"
ok "verify --dossier passes" "$SCOPECTL" verify --dossier "$d" --trust "$key"
has "  saying what it verified" "$tmp/out" "7 entries: bytes, leaf hashes and inclusion proofs verified in the checkpoint of size 15"
exits 2 "verify --dossier needs --trust" "$SCOPECTL" verify --dossier "$d"
exits 2 "the output directory must be new or empty" ctl "$inst" auditor dossier pr-site --change CR-2 -o "$d"

# the tlog-proof files, parsed back against c2sp.org/tlog-proof@v1
cp_text=$(cat "$d/checkpoint.txt")
bad=0
for p in "$d"/entries/*.tlog-proof; do
	seq=$(basename "$p" .tlog-proof); seq=$((10#$seq))
	[ "$(sed -n 1p "$p")" = "c2sp.org/tlog-proof@v1" ] || bad=1
	[ "$(sed -n 2p "$p")" = "index $seq" ] || bad=1
	# hash lines until the empty line, each base64 of 32 bytes
	hashes=$(sed -n '3,/^$/p' "$p" | sed '$d')
	for h in $hashes; do [ "$(printf %s "$h" | base64 -d 2>/dev/null | wc -c)" -eq 32 ] || bad=1; done
	[ "$(sed -n '/^$/,$p' "$p" | sed 1d)" = "$cp_text" ] || bad=1
done
is "  every proof: header, index, base64 hashes, empty line, the checkpoint verbatim" $bad 0
# the leaf hash of an entry, by hand, as VERIFY.txt says, against its JSON
leaf=$( (printf '\0'; sed 's/.*"raw":"\([0-9a-f]*\)".*/\1/' "$d/entries/000001.json" | xxd -r -p) | sha256sum | cut -c1-64)
has "  the leaf hash by hand is the entry's" "$d/entries/000001.json" "\"leaf_hash\":\"$leaf\""
(cd "$d" && awk '!/^#/ {print $1 "  " $3}' MANIFEST | sha256sum -c --quiet); is "  MANIFEST checks with sha256sum" $? 0

# each tampering on a fresh copy fails, naming it
fresh() { rm -rf "$tmp/t"; cp -a "$d" "$tmp/t"; }
fresh; flip "$tmp/t/VERIFY.txt" 10
exits 1 "one changed byte in a file" "$SCOPECTL" verify --dossier "$tmp/t" --trust "$key"
has "  names it" "$tmp/err" "VERIFY.txt: changed"
fresh; flip "$tmp/t/entries/000002.json" $(( $(grep -bo '"raw":"' "$tmp/t/entries/000002.json" | cut -d: -f1) + 100 ))
exits 1 "one changed byte in an entry" "$SCOPECTL" verify --dossier "$tmp/t" --trust "$key"
has "  names the file" "$tmp/err" "entries/000002.json: changed"
has "  and what is wrong with the entry" "$tmp/err" "entry: entries/000002.json"
fresh; sed -i '3s/^./X/; 3s/^X\(.\)/\1A/' "$tmp/t/entries/000008.tlog-proof"; sed -i '3s/^\(.\)A/\1B/' "$tmp/t/entries/000008.tlog-proof"
exits 1 "one changed byte in a proof" "$SCOPECTL" verify --dossier "$tmp/t" --trust "$key"
has "  names it" "$tmp/err" "proof: entries/000008.tlog-proof"
fresh; rm "$tmp/t/entries/000007.json"
exits 1 "a removed file" "$SCOPECTL" verify --dossier "$tmp/t" --trust "$key"
has "  names it" "$tmp/err" "entries/000007.json: removed"
fresh; echo extra > "$tmp/t/files/notes.txt"
exits 1 "an added file" "$SCOPECTL" verify --dossier "$tmp/t" --trust "$key"
has "  names it" "$tmp/err" "files/notes.txt: added"
remanifest() {	# remanifest DIR: a MANIFEST made to match DIR's files
	(cd "$1" && { grep '^#' MANIFEST; find . -type f ! -name MANIFEST | sed 's|^\./||' | LC_ALL=C sort | while read -r f; do
		echo "$(sha256sum "$f" | cut -c1-64) $(stat -c %s "$f") $f"; done; } > "$tmp/MANIFEST.new" && mv "$tmp/MANIFEST.new" MANIFEST)
}
fresh; sed -i 's/C manager/D manager/' "$tmp/t/dossier.md"
remanifest "$tmp/t"
exits 1 "an edited story with a MANIFEST made to match" "$SCOPECTL" verify --dossier "$tmp/t" --trust "$key"
has "  is found" "$tmp/err" "dossier.md: is not what the entries say"
"$SCOPED" init "$tmp/other" --origin test.example/dossier >/dev/null
exits 1 "another key with the same name" "$SCOPECTL" verify --dossier "$d" --trust "$tmp/other/keys/verifier.txt"
has "  the checkpoint is refused" "$tmp/err" "checkpoint: checkpoint.txt"


# what verify says it cannot check, and the reader's own checkpoint
size=$(sed -n 2p "$d/checkpoint.txt") root=$(sed -n 3p "$d/checkpoint.txt")
"$SCOPECTL" verify --dossier "$d" --trust "$key" > "$tmp/out" 2>&1
has "verify prints the checkpoint it verified and what it cannot check" "$tmp/out" \
	"checked against the key only: compare checkpoint size $size, root $root with a checkpoint you obtained yourself, e.g. scopectl consistency $size or a receipt"
has "  it does not claim to detect entries left out" "$tmp/out" "an entry left out when it was written cannot be detected from the dossier alone"
has "  and names the subject as the dossier does" "$tmp/out" "subject change CR-2 (as the dossier names it)"
has "  VERIFY.txt says so too" "$d/VERIFY.txt" "An entry left out when it was"
ctl "$inst" auditor checkpoint > "$tmp/mine.txt"
ok "verify --dossier --checkpoint with the reader's checkpoint of the same size" "$SCOPECTL" verify --dossier "$d" --trust "$key" --checkpoint "$tmp/mine.txt"
has "  says it is the same log" "$tmp/out" "the checkpoint you hold ($tmp/mine.txt, size $size) is the dossier's checkpoint.txt"

# the subject and the entries it needs
fresh; sed -i 's/^# subject change CR-2$/# subject change CR-1/' "$tmp/t/MANIFEST"
exits 1 "a subject whose own entry the dossier lacks" "$SCOPECTL" verify --dossier "$tmp/t" --trust "$key"
has "  is named" "$tmp/err" "MANIFEST names the subject change CR-1, but the dossier lacks its change entry"
fresh; sed -i 's/^# subject change CR-2$/# subject everything/' "$tmp/t/MANIFEST"
exits 1 "a subject a dossier cannot have" "$SCOPECTL" verify --dossier "$tmp/t" --trust "$key"
has "  is named" "$tmp/err" 'subject everything is none of "change CR-N", "case CASE-N" and "all"'
fresh; rm "$tmp/t/entries/000009.json" "$tmp/t/entries/000009.tlog-proof"; remanifest "$tmp/t"
exits 1 "an entry left out that a held one cites (the evidence's response)" "$SCOPECTL" verify --dossier "$tmp/t" --trust "$key"
has "  is named" "$tmp/err" "cited entry: entries/000009.json: missing (entry 10 cites it"

# files a dossier does not have, and its fixed texts
fresh; echo "notes" > "$tmp/t/notes.txt"; remanifest "$tmp/t"
exits 1 "an extra file at the top, listed in MANIFEST" "$SCOPECTL" verify --dossier "$tmp/t" --trust "$key"
has "  is named" "$tmp/err" "notes.txt: added (not a name a dossier has"
fresh; echo "also run rm -rf ~" >> "$tmp/t/VERIFY.txt"; remanifest "$tmp/t"
exits 1 "an edited VERIFY.txt with a MANIFEST made to match" "$SCOPECTL" verify --dossier "$tmp/t" --trust "$key"
has "  is named" "$tmp/err" "VERIFY.txt: differs from the text this scopectl writes"
fresh; echo "format" >> "$tmp/t/FORMAT.md"; remanifest "$tmp/t"
exits 1 "an edited FORMAT.md with a MANIFEST made to match" "$SCOPECTL" verify --dossier "$tmp/t" --trust "$key"
has "  is named" "$tmp/err" "FORMAT.md: differs from the text this scopectl writes"
fresh; echo "unrelated" > "$tmp/u"; h=$(sha256sum "$tmp/u" | cut -c1-64); cp "$tmp/u" "$tmp/t/files/$h"; remanifest "$tmp/t"
exits 1 "a file in files/ that no entry names" "$SCOPECTL" verify --dossier "$tmp/t" --trust "$key"
has "  is named as added" "$tmp/err" "files/$h: added (no entry in the dossier names it)"

# no symbolic link is followed, no FIFO waited on
fresh; mv "$tmp/t/MANIFEST" "$tmp/outside"; ln -s "$tmp/outside" "$tmp/t/MANIFEST"
exits 1 "a symbolic link as MANIFEST" "$SCOPECTL" verify --dossier "$tmp/t" --trust "$key"
has "  is refused by name" "$tmp/err" "MANIFEST: a symbolic link (refused"
fresh; rm "$tmp/t/MANIFEST"; mkfifo "$tmp/t/MANIFEST"
exits 1 "a FIFO as MANIFEST" timeout 20 "$SCOPECTL" verify --dossier "$tmp/t" --trust "$key"
has "  is refused by name" "$tmp/err" "MANIFEST: not a regular file (refused"
fresh; rm "$tmp/t/entries/000007.json"; mkfifo "$tmp/t/entries/000007.json"
exits 1 "a FIFO as an entry" timeout 20 "$SCOPECTL" verify --dossier "$tmp/t" --trust "$key"
has "  is refused by name" "$tmp/err" "entries/000007.json: not a regular file (refused"

# each proof carries checkpoint.txt byte for byte; other signers are named
other_sig="— other.example/witness $(head -c 68 /dev/zero | base64 -w0)"
fresh; echo "$other_sig" >> "$tmp/t/entries/000008.tlog-proof"; remanifest "$tmp/t"
exits 1 "a proof whose checkpoint carries another signature" "$SCOPECTL" verify --dossier "$tmp/t" --trust "$key"
has "  is named" "$tmp/err" "entries/000008.tlog-proof: its checkpoint is not checkpoint.txt, byte for byte"
fresh; for f in "$tmp/t/checkpoint.txt" "$tmp/t"/entries/*.tlog-proof; do echo "$other_sig" >> "$f"; done; remanifest "$tmp/t"
ok "a checkpoint cosigned by another key verifies" "$SCOPECTL" verify --dossier "$tmp/t" --trust "$key"
has "  naming the signature it did not verify" "$tmp/out" "not verified: the signatures on checkpoint.txt by other.example/witness"

# the directory is readable by others as any folder one hands on; -o is no symbolic link
is "the dossier's directory is 0755" "$(stat -c %a "$d")" 755
is "  its files 0644" "$(stat -c %a "$d/MANIFEST")" 644
mkdir "$tmp/empty"; ln -s "$tmp/empty" "$tmp/link"
exits 2 "-o naming a symbolic link" ctl "$inst" auditor dossier pr-site --change CR-2 -o "$tmp/link"
has "  is refused saying so" "$tmp/err" "the output directory is a symbolic link"

# --case: the four stages and what they cite
ok "dossier of CASE-1" ctl "$inst" auditor dossier pr-site --case CASE-1 -o "$tmp/case1"
is "  the stages, the cited baseline, the project" "$(cd "$tmp/case1/entries" && ls *.json | tr '\n' ' ')" \
	"000000.json 000001.json 000002.json 000011.json 000012.json 000013.json 000014.json "
for s in "The project" "The baseline" "Complaint cases" "Every entry in time order"; do has "  story: $s" "$tmp/case1/index.html" "$s"; done
ok "verify --dossier passes" "$SCOPECTL" verify --dossier "$tmp/case1" --trust "$key"
ok "a dossier of everything" ctl "$inst" auditor dossier pr-site --all -o "$tmp/all"
is "  every entry" "$(ls "$tmp/all/entries" | grep -c json)" 15
ok "  verifies" "$SCOPECTL" verify --dossier "$tmp/all" --trust "$key"

# invisible characters are shown; code spans hold any backticks
ok "a change with invisible characters" ctl "$inst" lead change raise -p pr-site $'a\u200eb\u200bc\u2028d\ufeffe\u061cf\u2062g' \
	--by "V PM" --via email --reason vendor_proposal --items 'R1'
ok "a case with backticks in an alleged promise" ctl "$inst" lead case open -p pr-site --title "ticks" --claimant "C" --via phone \
	--claim "x" --demand "y" --alleged-promise 'C|2026-01-01|phone|said ``free`` twice'
ok "dossier of CR-3" ctl "$inst" auditor dossier pr-site --change CR-3 -o "$tmp/cr3"
for u in 200E 200B 2028 FEFF 061C 2062; do has "  U+$u is shown as an escape" "$tmp/cr3/dossier.md" "\\u{$u}"; done
has "  and in HTML" "$tmp/cr3/index.html" 'a\u{200E}b\u{200B}c\u{2028}d\u{FEFF}e\u{061C}f\u{2062}g'
ok "dossier of CASE-2" ctl "$inst" auditor dossier pr-site --case CASE-2 -o "$tmp/case2"
has "  a non-string value is a code span fenced past its backticks, unescaped" "$tmp/case2/dossier.md" 'alleged\_promises: ```[{"channel":"phone","evidence_offered":false,"text":"said ``free`` twice"'
stop_daemon

# a second history signed by the same key: the dossier alone cannot tell;
# the reader's own checkpoint of the same size can (the fork's scopectl
# keeps its own state, or it would refuse the rollback itself)
start_daemon "$tmp/fork" || { echo "Bail out! no fork daemon"; exit 1; }
mkdir "$tmp/forkstate"
fctl() { XDG_STATE_HOME=$tmp/forkstate ctl "$tmp/fork" "$@"; }
fctl lead project create pr-site --client "C" --title "made up" --currency JPY --amount 1 --type fixed --acceptance-days 14 >/dev/null
tries=0
while fctl auditor checkpoint > "$tmp/forkcp.txt" && [ "$(sed -n 2p "$tmp/forkcp.txt")" -lt "$size" ] && [ $tries -lt 40 ]; do
	fctl lead change raise -p pr-site "filler $tries" --by "V PM" --via email --reason vendor_proposal >/dev/null; tries=$((tries + 1))
done
is "the fork has the dossier's size" "$(sed -n 2p "$tmp/forkcp.txt")" "$size"
exits 1 "verify --dossier --checkpoint with a checkpoint of another history" "$SCOPECTL" verify --dossier "$d" --trust "$key" --checkpoint "$tmp/forkcp.txt"
has "  is a fork" "$tmp/err" "the dossier's log differs from the checkpoint you hold: a fork"
stop_daemon
finish
