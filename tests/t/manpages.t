#!/usr/bin/env bash
# The manuals agree with the programs: every scopectl command's synopsis as
# `scopectl help COMMAND` prints it is in scopectl(1), every scoped command
# is in scoped(8), every configuration option is in scoped.conf(5).
set -u
. "$(dirname "$0")/lib.sh"
man=$(dirname "$(dirname "$SCOPED")")/deploy/man
for page in scopectl.1 scoped.8 scoped.conf.5; do
	ok "$page is built" test -s "$man/$page.gz"
done
plain() { zcat "$1" | sed -e 's/\\-/-/g' -e 's/\\f[BIR]//g' -e 's/\\e/\\/g' -e 's/\\&//g'; }
plain "$man/scopectl.1.gz" > "$tmp/scopectl.1"
plain "$man/scoped.8.gz" > "$tmp/scoped.8"
plain "$man/scoped.conf.5.gz" > "$tmp/scoped.conf.5"

"$SCOPECTL" help no-such-command 2>"$tmp/list"
cmds=$(sed -n 's/.*the commands are: //p' "$tmp/list")
ok "scopectl help lists its commands" test -n "$cmds"
for c in $cmds; do
	"$SCOPECTL" help "$c" > "$tmp/help" || { ok "scopectl help $c" false; continue; }
	missing=0
	while IFS= read -r line; do
		syn=${line#usage: scopectl }
		[ "$syn" = "$line" ] && continue
		grep -qF -- "scopectl $syn" "$tmp/scopectl.1" || { missing=1; echo "# not in scopectl.1: $syn"; }
	done < "$tmp/help"
	desc=$(sed -n '/^$/,$p' "$tmp/help" | tr '\n' ' ' | sed 's/  */ /g; s/^ //; s/ $//')
	tr '\n' ' ' < "$tmp/scopectl.1" | sed 's/  */ /g' | grep -qF -- "$desc" || { missing=1; echo "# description of $c not in scopectl.1"; }
	is "scopectl help $c matches scopectl(1)" "$missing" 0
done

for c in $("$SCOPED" --help | sed -n 's/^  \([a-z]*\) .*/\1/p; s/^  \([a-z]*\)$/\1/p'); do
	grep -qE "^\.(B|BI) \"?$c( |\"|$)" "$tmp/scoped.8"
	is "scoped $c has an entry in scoped(8)" "$?" 0
done
for o in $("$SCOPED" config | sed -n 's/^\([a-z_]*\) = .*/\1/p'); do
	grep -qx "\.B $o" "$tmp/scoped.conf.5"
	is "option $o has an entry in scoped.conf(5)" "$?" 0
done
finish
