#!/usr/bin/env bash
# The include rules of the source layout (README.md, "Architecture"):
#   daemon/log/  never includes a scope/ header (the log knows no domain)
#   scope/       never includes lmdb.h, libevent (event2/*) or openssl/ssl.h,
#                nor a daemon/ header (it is a library daemon and client share)
#   proto/       includes nothing from daemon/ or scope/
#   libevent     (event2/*) is included only under daemon/net/,
#                daemon/portal/ (the portal's listener on the same loop),
#                daemon/tiles/ (the tiles listener, likewise),
#                daemon/witness/ (scoped witness: its own loop and listener), and
#                by the exceptions listed below
#   daemon/net/  its headers are included only inside it and by daemon/portal/,
#                daemon/tiles/ and daemon/witness/ (tls.h, conn.h)
#                (and server.h by daemon/main.c); commit knows no connection: commit.[ch]
#                include none of conn.h, server.h, dispatch.h, backup.h, tls.h,
#                wire.h
# Usage: tests/layout.sh [SOURCE-DIR]; prints each violation, exits 1 if any.
# The CMake targets enforce most of this too (each part sees only the headers
# of the parts it may use); this catches what a system include path lets by.
set -u
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root" || exit 2

# Files outside daemon/net/ that may include libevent, each with its reason.
# An exception for a file that no longer exists is itself a failure, so the
# list cannot go stale.
EVENT_EXCEPTIONS=(
)

bad=0
violation() { echo "layout: $*"; bad=1; }

# "file:line:header" for each quoted or angled include under the given dirs
includes() {
	find "$@" -name '*.[ch]' -print0 2>/dev/null | sort -z |
		xargs -0 -r grep -HnoE '^[[:space:]]*#[[:space:]]*include[[:space:]]*["<][^">]+[">]' |
		sed -E 's/#[[:space:]]*include[[:space:]]*["<]([^">]+)[">]$/\1/; s/:[[:space:]]*/:/2'
}
headers_of() { find "$@" -name '*.h' -printf '%f\n' 2>/dev/null | sort -u; }
is_event() { case $1 in event2/* | event.h | evhttp.h | evdns.h | evutil.h | evrpc.h) return 0 ;; esac; return 1; }
is_libssl() {
	case $1 in openssl/ssl.h | openssl/ssl2.h | openssl/ssl3.h | openssl/tls1.h | openssl/dtls1.h | openssl/sslerr.h) return 0 ;; esac
	return 1
}

# Every include is "name.h" (no directory: a relative path would reach past
# the include path that CMake gives each part) or <path>, on one line.
while IFS=: read -r file line text; do
	[ -n "$file" ] || continue
	violation "$file:$line: $text: an include names \"file.h\" without a directory, or <path>, on one line"
done < <(find daemon scope proto client -name '*.[ch]' -print0 | sort -z |
	 xargs -0 -r grep -HnE '^[[:space:]]*#[[:space:]]*include' |
	 grep -vE '^[^:]+:[0-9]+:[[:space:]]*#[[:space:]]*include[[:space:]]*("[^"/]+"|<[^>]+>)')

declare -A in_scope in_daemon in_net
for h in $(headers_of scope); do in_scope[$h]=1; done
for h in $(headers_of daemon); do in_daemon[$h]=1; done
for h in $(headers_of daemon/net); do in_net[$h]=1; done

while IFS=: read -r file line h; do
	[ -n "$file" ] || continue
	[ -n "${in_scope[$h]:-}" ] && violation "$file:$line includes $h, a scope/ header: the log knows no domain (plug rules in through struct ledger_rules)"
done < <(includes daemon/log)

while IFS=: read -r file line h; do
	[ -n "$file" ] || continue
	case $h in
	lmdb.h) violation "$file:$line includes <$h>: scope/ reads storage only through kv.h and has no sockets or TLS" ;;
	esac
	if is_event "$h" || is_libssl "$h"; then
		violation "$file:$line includes <$h>: scope/ reads storage only through kv.h and has no sockets or TLS"
	fi
	[ -n "${in_daemon[$h]:-}" ] && violation "$file:$line includes $h, a daemon/ header: scope/ is a library the client shares"
done < <(includes scope)

while IFS=: read -r file line h; do
	[ -n "$file" ] || continue
	if [ -n "${in_daemon[$h]:-}${in_scope[$h]:-}" ]; then
		violation "$file:$line includes $h: proto/ includes nothing from daemon/ or scope/"
	fi
done < <(includes proto)

while IFS=: read -r file line h; do
	[ -n "$file" ] || continue
	is_event "$h" || continue
	case $file in daemon/net/* | daemon/portal/* | daemon/tiles/* | daemon/witness/*) continue ;; esac
	excepted=0
	for x in "${EVENT_EXCEPTIONS[@]}"; do [ "$file" = "$x" ] && excepted=1; done
	[ $excepted -eq 1 ] || violation "$file:$line includes <$h>: only daemon/net/, daemon/portal/, daemon/tiles/ and daemon/witness/ include libevent"
done < <(includes daemon proto scope client)

while IFS=: read -r file line h; do
	[ -n "$file" ] || continue
	case $file in daemon/net/* | daemon/portal/* | daemon/tiles/* | daemon/witness/*) continue ;; esac
	[ "$file:$h" = daemon/main.c:server.h ] && continue
	[ -n "${in_net[$h]:-}" ] && violation "$file:$line includes $h, a daemon/net/ header: the event loop's files are used only inside daemon/net/"
done < <(includes daemon scope proto)

while IFS=: read -r file line h; do
	[ -n "$file" ] || continue
	case $h in
	conn.h | server.h | dispatch.h | backup.h | tls.h | wire.h) violation "$file:$line includes $h: commit knows no connection (results go back through the sink)" ;;
	esac
done < <(includes daemon/net/commit.c daemon/net/commit.h)

for x in "${EVENT_EXCEPTIONS[@]}"; do
	[ -e "$x" ] || violation "the libevent exception $x names no file: remove it from tests/layout.sh"
done
exit $bad
