#!/usr/bin/env bash
# The include rules of the layout (tests/layout.sh) hold for the sources,
# and each of them fails when a forbidden include is planted in a copy.
set -u
. "$(dirname "$0")/lib.sh"
src=$(cd "$here/../.." && pwd)
ok "the sources keep the include rules" bash "$src/tests/layout.sh" "$src"

# plant FILE LINE: a copy of the sources with LINE added to FILE
plant() {
	rm -rf "$tmp/src"
	mkdir -p "$tmp/src"
	(cd "$src" && tar -cf - proto scope daemon client tests/layout.sh) | tar -xf - -C "$tmp/src"
	printf '%s\n' "$2" >> "$tmp/src/$1"
}
refused() {	# refused DESCRIPTION FILE LINE TEXT: the check fails, saying TEXT
	plant "$2" "$3"
	exits 1 "$1" bash "$tmp/src/tests/layout.sh" "$tmp/src"
	has "  saying why" "$tmp/out" "$4"
}
refused "the log including a scope/ header" daemon/log/ledger.c '#include "domain.h"' "a scope/ header"
refused "scope/ including lmdb.h" scope/state.c '#include <lmdb.h>' "scope/ reads storage only through kv.h"
refused "scope/ including libevent" scope/reports.c '#include <event2/event.h>' "<event2/event.h>"
refused "scope/ including libssl" scope/mem.c '#include <openssl/ssl.h>' "<openssl/ssl.h>"
refused "scope/ including a daemon header" scope/domain.c '#include "store.h"' "a daemon/ header"
refused "proto/ including a scope/ header" proto/entry.c '#include "kv.h"' "proto/ includes nothing"
refused "proto/ including a daemon header" proto/wire.c '#include "ledger.h"' "proto/ includes nothing"
refused "libevent outside daemon/net/" daemon/admin.c '#include <event2/event.h>' "only daemon/net/, daemon/portal/, daemon/tiles/ and daemon/witness/ include libevent"
refused "libevent in the client" client/net.c '#include <event2/buffer.h>' "only daemon/net/, daemon/portal/, daemon/tiles/ and daemon/witness/ include libevent"
refused "the log reaching scope/ by a relative path" daemon/log/ledger.c '#include "../../scope/domain.h"' "without a directory"
refused "an include continued on the next line" daemon/log/keys.c '#include \' "on one line"
refused "scope/ including libevent's old header" scope/mem.c '#include <event.h>' "<event.h>"
refused "scope/ including libssl's tls1.h" scope/mem.c '#include <openssl/tls1.h>' "<openssl/tls1.h>"
refused "a daemon/net/ header outside it" daemon/admin.c '#include "conn.h"' "a daemon/net/ header"
refused "commit knowing a connection" daemon/net/commit.c '#include "conn.h"' "commit knows no connection"
plant tests/layout.sh ''
sed -i 's/^EVENT_EXCEPTIONS=($/&\n\tdaemon\/gone.c/' "$tmp/src/tests/layout.sh"
exits 1 "an exception for a file that is gone" bash "$tmp/src/tests/layout.sh" "$tmp/src"
has "  saying so" "$tmp/out" "names no file"
finish
