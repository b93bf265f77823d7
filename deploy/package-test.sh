#!/usr/bin/env bash
# The Debian package end to end, as root on a machine without Scope Ledger:
# build it with CPack, install it with dpkg -i, check what it installed, run
# the installed daemon the way its systemd unit does (as the scoped user, on
# /etc/scoped and /var/lib/scoped), record and verify an entry and take a
# backup with the installed scopectl, then remove and purge the package and
# undo everything it and this script created.  tests/check.sh runs it when
# SCOPE_PACKAGE_TEST=1 (as .ci/run does).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
[ "$(id -u)" -eq 0 ] || { echo "package test: needs root (dpkg -i)"; exit 1; }
if dpkg-query -W -f='${Status}' scope-ledger 2>/dev/null | grep -q 'install ok'; then
	echo "package test: scope-ledger is installed on this machine; not touching it"; exit 1
fi
for d in /etc/scoped /var/lib/scoped; do
	[ -e "$d" ] && { echo "package test: $d exists; not touching it"; exit 1; }
done
existing_user=$(getent passwd scoped || true)
tmp=$(mktemp -d)
pid=
cleanup() {
	set +e
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	dpkg --purge scope-ledger >/dev/null 2>&1
	rm -rf /etc/scoped /var/lib/scoped "$tmp"
	[ -z "$existing_user" ] && getent passwd scoped >/dev/null && userdel scoped 2>/dev/null
	true
}
trap cleanup EXIT
fail() { echo "package test: FAILED: $*"; exit 1; }

(cd "$build" && cpack -G DEB >/dev/null)
deb=$(ls -t "$build"/scope-ledger_*.deb | head -n 1)
echo "package: $deb ($(stat -c %s "$deb") bytes)"
dpkg-deb -c "$deb" > "$tmp/contents"
for f in ./usr/sbin/scoped ./usr/bin/scopectl ./usr/lib/systemd/system/scoped.service \
	./usr/share/man/man8/scoped.8.gz ./usr/share/man/man1/scopectl.1.gz \
	./usr/share/man/man5/scoped.conf.5.gz ./usr/share/doc/scope-ledger/examples/scoped.conf \
	./usr/share/doc/scope-ledger/examples/roles.conf; do
	grep -q " $f\$" "$tmp/contents" || fail "the package lacks $f"
done
dpkg-deb -f "$deb" Depends | grep -q adduser || fail "the package does not depend on adduser"

dpkg -i "$deb" >/dev/null
/usr/sbin/scoped --version
/usr/bin/scopectl --version
getent passwd scoped >/dev/null || fail "no scoped user"
[ "$(stat -c '%a %U %G' /var/lib/scoped)" = "700 scoped scoped" ] || fail "/var/lib/scoped: $(stat -c '%a %U %G' /var/lib/scoped)"
[ "$(stat -c '%a %U %G' /etc/scoped)" = "750 root scoped" ] || fail "/etc/scoped: $(stat -c '%a %U %G' /etc/scoped)"
if command -v systemd-analyze >/dev/null; then
	systemd-analyze verify --man=no /usr/lib/systemd/system/scoped.service || fail "systemd-analyze verify"
	echo "systemd-analyze verify: clean"
fi

# configure it as deploy/README.md does (certificates from a throwaway CA here)
/usr/sbin/scoped init "$tmp/trial" --origin ci.example/package >/dev/null
install -d -o root -g scoped -m 0750 /etc/scoped/tls
install -o root -g scoped -m 0640 "$tmp/trial/tls/ca.crt" "$tmp/trial/tls/server.crt" /etc/scoped/tls/
install -o scoped -g scoped -m 0600 "$tmp/trial/tls/server.key" /etc/scoped/tls/
/usr/sbin/scoped keygen /etc/scoped/signing.key --origin ci.example/package > "$tmp/verifier.txt"
chown scoped:scoped /etc/scoped/signing.key
sed -e 's|^origin = .*|origin = ci.example/package|' -e 's|^listen = .*|listen = 127.0.0.1:0|' \
	/usr/share/doc/scope-ledger/examples/scoped.conf > /etc/scoped/scoped.conf
printf '%s\n' "cn:admin admin" "cn:auditor auditor" "cn:lead lead" > /etc/scoped/roles.conf
chgrp scoped /etc/scoped/scoped.conf /etc/scoped/roles.conf
chmod 0640 /etc/scoped/scoped.conf /etc/scoped/roles.conf

# the unit's command, as its user, with the unit's umask (setpriv execs: $! is scoped)
setpriv --reuid=scoped --regid=scoped --init-groups \
	sh -c 'umask 0077; exec /usr/sbin/scoped -c /etc/scoped/scoped.conf' 2> "$tmp/log" &
pid=$!
port=
for _ in $(seq 1 100); do
	port=$(sed -n 's/.*ready on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/log")
	[ -n "$port" ] && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.05
done
[ -n "$port" ] || { cat "$tmp/log"; fail "the installed daemon did not start"; }
export XDG_STATE_HOME=$tmp/state
ctl() { local role=$1; shift; /usr/bin/scopectl "$@" --config "$tmp/trial/clients/$role.conf" \
	--server "127.0.0.1:$port" --trust "$(cat "$tmp/verifier.txt")"; }
ctl admin info >/dev/null || fail "scopectl info"
ctl lead append --project pr --kind project --body-json \
	'{"client":"C","title":"T","contract_type":"fixed","currency":"JPY","amount_minor":1000}' >/dev/null ||
	fail "the first entry"
ctl auditor verify || fail "scopectl verify"
ctl auditor backup -o "$tmp/backup.mdb" >/dev/null || fail "scopectl backup"
[ "$(stat -c '%U %a' /var/lib/scoped/data.mdb)" = "scoped 600" ] || fail "data.mdb: $(stat -c '%U %a' /var/lib/scoped/data.mdb)"
kill -TERM "$pid"
wait "$pid" || fail "scoped did not stop cleanly"
pid=

dpkg -r scope-ledger >/dev/null
[ ! -e /usr/sbin/scoped ] && [ ! -e /usr/bin/scopectl ] || fail "binaries left after removal"
dpkg --purge scope-ledger >/dev/null
[ -e /var/lib/scoped/data.mdb ] || fail "purge deleted the ledger"
echo "package test: built, installed, served, verified, removed (the ledger survives a purge)"
