#!/usr/bin/env bash
# Entry listings with several pages in flight on the one connection
# (SCOPECTL_PAGES_IN_FLIGHT): online verify and export of 20,000 entries
# (20 pages) give the same report and the same entries with 1, 4 and 8 pages
# in flight; a bad window is a usage error.  Behind a lying server
# (tests/liar.c) that answers two pages in the other order, cuts every page
# short, or closes the connection mid-window, verify still succeeds with
# the same report; one that answers a page with the page before, answers a
# page twice, or ends the listing early is named, with the same message on
# 1 and 4 pages in flight; and an entry altered on page 2 is reported as the
# first bad entry, not the connection lost at page 4 after it.
set -u
. "$(dirname "$0")/lib.sh"
BENCH=${SCOPE_BENCH:-$(dirname "$SCOPED")/../tests/bench/scope-bench}
LIAR=${LIAR:-$here/../../build/tests/liar}
liar_pid=
trap '[ -n "$liar_pid" ] && kill "$liar_pid" 2>/dev/null; cleanup' EXIT

inst=$tmp/inst
"$SCOPED" init "$inst" --origin test.example/window >/dev/null || { echo "Bail out! init"; exit 1; }
"$BENCH" generate -c "$inst/scoped.conf" --count 20000 --batch 5000 --size 100 >/dev/null ||
	{ echo "Bail out! scope-bench generate"; exit 1; }
"$SCOPED" export -c "$inst/scoped.conf" -o "$tmp/all.hex" || { echo "Bail out! export"; exit 1; }
for r in admin auditor; do echo "cn:$r $r *"; done > "$inst/roles.conf"
start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }

# w N ARGS...: scopectl as the auditor with N pages in flight, through the
# server on LPORT (the daemon unless a liar is started)
LPORT=$PORT
w() {
	local win=$1; shift
	SCOPECTL_PAGES_IN_FLIGHT=$win "$SCOPECTL" "$@" --config "$inst/clients/auditor.conf" \
		--server "127.0.0.1:$LPORT"
}
# liar LIE: a fresh lying relay in front of the daemon (its page count
# starts again); sets LPORT
liar() {
	[ -n "$liar_pid" ] && kill "$liar_pid" 2>/dev/null
	local out=$tmp/liar.$RANDOM
	"$LIAR" relay "$PORT" "$inst" auditor "$1" > "$out" &
	liar_pid=$!
	for _ in $(seq 1 100); do
		LPORT=$(sed -n 's/^ready on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$out")
		[ -n "$LPORT" ] && return 0
		sleep 0.05
	done
	echo "Bail out! no liar for $1"; exit 1
}
same_err() {	# same_err DESCRIPTION: $tmp/err as it was in $tmp/err1
	n=$((n + 1))
	if cmp -s "$tmp/err1" "$tmp/err"; then echo "ok $n - $1"; else
		failed=$((failed + 1)); echo "not ok $n - $1"; diff "$tmp/err1" "$tmp/err" | sed 's/^/# /'; fi
}

ok "verify with 1 page in flight" w 1 verify --json
cp "$tmp/out" "$tmp/report"
has "  all 20,000 entries" "$tmp/report" '"ok":true,"entries":20000'
for win in 4 8; do
	ok "verify with $win pages in flight" w "$win" verify --json
	is "  the same report" "$(cat "$tmp/out")" "$(cat "$tmp/report")"
done
for win in 1 4; do
	ok "export, verified, with $win page(s) in flight" w "$win" export -o "$tmp/e$win.hex"
	ok "  the entries scoped exports" cmp "$tmp/e$win.hex" "$tmp/all.hex"
	ok "export from entry 5 (not verified), $win page(s) in flight" w "$win" export --from 5 -o "$tmp/f$win.hex"
	ok "  the same entries" cmp "$tmp/f$win.hex" <(tail -n +6 "$tmp/all.hex")
done
for bad in 0 9 x; do
	exits 2 "SCOPECTL_PAGES_IN_FLIGHT=$bad is refused" w "$bad" verify
	has "  saying what to give" "$tmp/err" "SCOPECTL_PAGES_IN_FLIGHT=$bad: give a number of pages from 1 to 8"
done

# lies a server may tell: verify succeeds, with the same report
liar pages-swap
ok "pages 2 and 3 answered in the other order: verify succeeds" w 4 verify --json
is "  the same report" "$(cat "$tmp/out")" "$(cat "$tmp/report")"
for win in 1 4; do
	liar pages-short
	ok "every page cut to its first half: verify succeeds, $win page(s) in flight" w "$win" verify --json
	is "  the same report" "$(cat "$tmp/out")" "$(cat "$tmp/report")"
	liar pages-cut
	ok "the connection closed at page 4: verify succeeds, $win page(s) in flight" w "$win" verify --json
	is "  the same report" "$(cat "$tmp/out")" "$(cat "$tmp/report")"
	has "  after reconnecting" "$tmp/err" "receiving: server closed the connection; reconnecting (attempt 2 of 3)"
done
liar pages-short
ok "export through it, 4 pages in flight" w 4 export -o "$tmp/short.hex"
ok "  the entries scoped exports" cmp "$tmp/short.hex" "$tmp/all.hex"

# lies that are caught, named the same way on 1 and on 4 pages in flight
caught() {	# caught LIE DESCRIPTION TEXT
	liar "$1"
	exits 1 "$2: exit 1 with 1 page in flight" w 1 verify
	has "  naming it" "$tmp/err" "$3"
	cp "$tmp/err" "$tmp/err1"
	liar "$1"
	exits 1 "$2: exit 1 with 4 pages in flight" w 4 verify
	same_err "  the same message"
	liar "$1"
	exits 1 "$2: export fails too" w 4 export -o "$tmp/lie.hex"
	has "  naming it" "$tmp/err" "$3"
	ok "  and writes no file" test ! -e "$tmp/lie.hex"
}
caught pages-repeat "page 3 answered with page 2's entries" \
	"the server is misbehaving: an entry out of order or outside the range asked for (entry, expected) (1000, 2000)"
caught pages-twice "page 2 answered twice" \
	"the server is misbehaving: it answered request"
has "  as not in flight" "$tmp/err1" "which is not one in flight (answered already, or never asked)"
caught pages-end "page 3 cut short and said to be the last" \
	"the server is misbehaving: the listing ended before the entries asked for (end, expected) (2500, 3000)"

# a bad entry comes before the connection lost after it
for win in 1 4; do
	liar pages-bad-cut
	exits 1 "entry 1010 altered, then every connection closed: exit 1, $win page(s) in flight" w "$win" verify
	has "  first bad entry 1010" "$tmp/err" "first bad entry: 1010"
	has "  the connection was lost meanwhile" "$tmp/err" "reconnecting (attempt 3 of 3)"
	[ "$win" = 1 ] && { grep -v reconnecting "$tmp/err" > "$tmp/err1"; continue; }
	grep -v reconnecting "$tmp/err" > "$tmp/err4"
	mv "$tmp/err4" "$tmp/err"
	same_err "  the same message"
done
stop_daemon
finish
