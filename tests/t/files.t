#!/usr/bin/env bash
# Evidence files in the ledger: a file larger than max_frame uploaded in
# chunks and read back byte for byte, stored once however often it is
# sent, readable only by roles with the project; a hash the ledger does not
# hold refused unless marked held elsewhere; --upload on --doc and
# --evidence; scoped verify naming an altered and a missing file (and
# --no-files); backup and restore carrying the files; a full disk and a
# file that fails its hash leave no entry and no partial file.
set -u
. "$(dirname "$0")/lib.sh"
# the test build's scoped: its upload writes fail past SCOPED_TEST_FILES_FAIL_AT bytes
SCOPED=$(readlink -f "${SCOPED_TESTCLOCK:-$SCOPED}")

inst=$tmp/inst
"$SCOPED" init "$inst" --origin test.example/files >/dev/null || { echo "Bail out! init failed"; exit 1; }
printf 'max_frame = 300000\nmax_evidence_mib = 1\n' >> "$inst/scoped.conf"
: > "$inst/roles.conf"
for r in lead approver finance auditor admin; do echo "cn:$r $r *" >> "$inst/roles.conf"; done
echo "cn:client client pr-b" >> "$inst/roles.conf"
start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }
for p in pr-a pr-b; do
	ctl "$inst" lead project create $p --client C --title T --currency JPY --amount 100 >/dev/null || exit 1
done 2>"$tmp/err" || { echo "Bail out! setup"; cat "$tmp/err"; exit 1; }
size_now() { ctl "$inst" auditor info --json | sed -n 's/.*"tree_size":\([0-9]*\).*/\1/p'; }
stored() { find "$inst/data/files" -path '*/projects' -prune -o -type f -name '[0-9a-f]*' -print 2>/dev/null | wc -l; }
partial() { find "$inst/data/files" -name '.upload-*' 2>/dev/null | wc -l; }

head -c 700001 /dev/urandom > "$tmp/site-photos.bin"	# more than two frames of max_frame
big=$(sha256sum "$tmp/site-photos.bin" | cut -c1-64)

# ---- the round trip ----
ok "evidence add uploads a file larger than max_frame" ctl "$inst" lead evidence add -p pr-a "$tmp/site-photos.bin" \
	--description "photos of the site" --media-type application/octet-stream
has "  and records an evidence entry" "$tmp/out" "recorded evidence"
ok "evidence get returns it" ctl "$inst" lead evidence get -p pr-a "$big" -o "$tmp/back.bin"
has "  with its hash checked" "$tmp/out" "700001 bytes, sha256 $big checked"
ok "  byte for byte" cmp "$tmp/site-photos.bin" "$tmp/back.bin"
is "  through a temporary file that is gone" "$(ls "$tmp"/back.bin.part 2>/dev/null | wc -l)" 0
ctl "$inst" lead history pr-a --json > "$tmp/hist.json" 2>&1
has "  the entry names the file" "$tmp/hist.json" "\"name\":\"site-photos.bin\""
has "  its size" "$tmp/hist.json" "\"size\":700001"
has "  and its media type" "$tmp/hist.json" "\"media_type\":\"application/octet-stream\""
ok "the same file again" ctl "$inst" lead evidence add -p pr-a "$tmp/site-photos.bin"
is "  is stored once" "$(stored)" 1
ok "  the bytes sit under data/files by hash" test -f "$inst/data/files/${big:0:2}/$big"

# ---- access ----
exits 4 "a role without the project cannot read its file" ctl "$inst" client evidence get -p pr-a "$big" -o "$tmp/no.bin"
has "  told why" "$tmp/err" "project \"pr-a\" is not among yours"
exits 4 "nor through a project of its own that does not hold it" ctl "$inst" client evidence get -p pr-b "$big" -o "$tmp/no.bin"
has "  told so" "$tmp/err" "project pr-b holds no file with that SHA-256"
exits 4 "nor upload into a project not its own" ctl "$inst" client evidence add -p pr-a "$tmp/site-photos.bin"
is "  nothing written on the client's side" "$(ls "$tmp"/no.bin* 2>/dev/null | wc -l)" 0

# ---- cited hashes the ledger does not hold ----
other=$(printf 'held by the client' | sha256sum | cut -c1-64)
exits 4 "an evidence entry citing a hash not held is refused" ctl "$inst" lead append --project pr-a --kind evidence \
	--body-json "{\"sha256\":\"$other\"}"
has "  naming the hash and the ways out" "$tmp/err" "holds no file with sha256 $other in project pr-a; upload it"
ok "  unless marked held elsewhere" ctl "$inst" lead append --project pr-a --kind evidence \
	--body-json "{\"sha256\":\"$other\",\"held_elsewhere\":true}"
exits 4 "a document not held is refused" ctl "$inst" lead append --project pr-a --kind baseline \
	--body-json "{\"items\":[{\"id\":\"A\",\"text\":\"x\"}],\"documents\":[{\"name\":\"spec.pdf\",\"sha256\":\"$other\",\"size\":1}]}"
has "  naming it" "$tmp/err" "documents[0]: this ledger holds no file with sha256 $other"
echo "the specification" > "$tmp/spec.txt"
spec=$(sha256sum "$tmp/spec.txt" | cut -c1-64)
ok "--doc without --upload is hashed and marked held elsewhere" ctl "$inst" lead baseline add -p pr-a --item A=x --doc "$tmp/spec.txt"
exits 4 "  so the ledger has no copy" ctl "$inst" lead evidence get -p pr-a "$spec" -o "$tmp/spec.back"
ok "--doc FILE --upload stores it as well" ctl "$inst" lead baseline add -p pr-a --item A=y --doc "$tmp/spec.txt" --upload
ok "  and it reads back" ctl "$inst" lead evidence get -p pr-a "$spec" -o "$tmp/spec.back"
ok "  byte for byte" cmp "$tmp/spec.txt" "$tmp/spec.back"
resp=$(ctl "$inst" lead respond -p pr-a --baseline 2 --decision approved --by Tanaka --via email --json |
	sed -n 's/.*"seq":\([0-9]*\).*/\1/p' | head -n 1)
exits 4 "a correction setting evidence_sha256 to a hash not held is refused" ctl "$inst" lead correct -p pr-a "$resp" \
	--reason "the mail" --set evidence_sha256="$other"
has "  naming it" "$tmp/err" "set: evidence_sha256: this ledger holds no file with sha256 $other"
ok "  unless it says the file is held elsewhere" ctl "$inst" lead correct -p pr-a "$resp" --reason "the mail" \
	--set evidence_sha256="$other" --set evidence_held_elsewhere=true
echo "minutes, signed" > "$tmp/minutes.txt"
minutes=$(sha256sum "$tmp/minutes.txt" | cut -c1-64)
ctl "$inst" lead agreement add -p pr-a --date 2026-01-05 --kind meeting --participants "Sato|vendor,Tanaka|client" \
	--summary "Top page" >/dev/null 2>&1
cp "$inst/clients/lead.conf" "$inst/clients/upload.conf" && echo "upload = yes" >> "$inst/clients/upload.conf"
ok "--evidence FILE with the profile's upload = yes stores it" "$SCOPECTL" agreement confirm -p pr-a AGR-1 \
	--evidence "$tmp/minutes.txt" --config "$inst/clients/upload.conf" --server "127.0.0.1:$PORT"
ok "  and it reads back" ctl "$inst" lead evidence get -p pr-a "$minutes" -o "$tmp/minutes.back"

# ---- faults: no entry, no partial file ----
stop_daemon
SCOPED_TEST_FILES_FAIL_AT=400000 start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }
before=$(size_now)
head -c 600000 /dev/urandom > "$tmp/video.bin"
exits 4 "the disk fills mid-upload" ctl "$inst" lead evidence add -p pr-a "$tmp/video.bin"
has "  the client is told" "$tmp/err" "No space left on device"
is "  no entry" "$(size_now)" "$before"
is "  no partial file" "$(partial)" 0
is "  nothing stored" "$(stored)" 3
head -c 2000000 /dev/urandom > "$tmp/huge.bin"
exits 4 "a file over max_evidence_mib is refused before a byte is sent" ctl "$inst" lead evidence add -p pr-a "$tmp/huge.bin"
has "  naming the limit" "$tmp/err" "up to 1 MiB (max_evidence_mib)"
is "  no entry" "$(size_now)" "$before"
ok "an online backup over TLS carries the files" ctl "$inst" auditor backup -o "$tmp/online.mdb"
has "  beside the ledger" "$tmp/out" "evidence files: 3 in $tmp/online.mdb.files"
ok "  each under its hash" cmp "$tmp/online.mdb.files/${big:0:2}/$big" "$tmp/site-photos.bin"
ok "  with the projects that hold it" test -f "$tmp/online.mdb.files/projects/pr-a/$spec"
exits 4 "a lead cannot list the files for a backup" ctl "$inst" lead backup -o "$tmp/no.mdb"
stop_daemon

# ---- integrity ----
ok "scoped verify rehashes the stored files" "$SCOPED" verify -c "$inst/scoped.conf"
has "  and says how many" "$tmp/out" "3 stored evidence files rehashed"
ok "backup carries the files" "$SCOPED" backup -c "$inst/scoped.conf" -o "$tmp/b.mdb"
has "  beside the ledger" "$tmp/out" "evidence files: 3 in $tmp/b.mdb.files"
cp "$inst/data/files/${big:0:2}/$big" "$tmp/keep"
flip "$inst/data/files/${big:0:2}/$big" 1000	# a fixed byte would match the random one in 1 of 256 runs
exits 1 "  one byte of it changed" cmp -s "$tmp/keep" "$inst/data/files/${big:0:2}/$big"
exits 1 "an altered file fails verify" "$SCOPED" verify -c "$inst/scoped.conf"
has "  by name" "$tmp/err" "$big: ALTERED"
ok "  --no-files skips the files" "$SCOPED" verify -c "$inst/scoped.conf" --no-files
has "  and says so" "$tmp/out" "evidence files not checked (--no-files)"
rm "$inst/data/files/${spec:0:2}/$spec"
cp "$tmp/keep" "$inst/data/files/${big:0:2}/$big"
exits 1 "a missing file fails verify" "$SCOPED" verify -c "$inst/scoped.conf"
has "  by name" "$tmp/err" "MISSING: project pr-a holds file $spec but its bytes are gone"
r=$tmp/r
cp -a "$inst" "$r" && rm -rf "$r/data" && mkdir "$r/data"
ok "restore brings the files back" "$SCOPED" restore -c "$r/scoped.conf" "$tmp/b.mdb"
has "  rehashed" "$tmp/out" "evidence files: 3 restored and rehashed"
start_daemon "$r" || { echo "Bail out! no daemon"; exit 1; }
ok "  and they read back from the restored ledger" ctl "$r" lead evidence get -p pr-a "$spec" -o "$tmp/spec.restored"
ok "  byte for byte" cmp "$tmp/spec.txt" "$tmp/spec.restored"
stop_daemon
r2=$tmp/r2
cp -a "$inst" "$r2" && rm -rf "$r2/data" && mkdir "$r2/data"
ok "the online backup restores with its files" "$SCOPED" restore -c "$r2/scoped.conf" "$tmp/online.mdb"
has "  rehashed" "$tmp/out" "evidence files: 3 restored and rehashed"
finish
