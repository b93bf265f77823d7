#!/usr/bin/env bash
# The systemd side: the unit file passes systemd-analyze verify, and scoped
# speaks the notification protocol of Type=notify (READY=1 once listening,
# RELOADING=1/READY=1 around SIGHUP, STOPPING=1 on SIGTERM).
set -u
. "$(dirname "$0")/lib.sh"
unit=$here/../../deploy/scoped.service

if command -v systemd-analyze >/dev/null; then
	# the installed paths do not exist here: point the unit at this build
	sed -e "s|/usr/sbin/scoped|$SCOPED|g" "$unit" > "$tmp/scoped.service"
	ok "systemd-analyze verify is clean on deploy/scoped.service" \
		systemd-analyze verify --man=no "$tmp/scoped.service"
	is "  without a single remark" "$(cat "$tmp/err" "$tmp/out")" ""
else
	echo "ok 1 # SKIP no systemd-analyze"; n=$((n + 1))
fi
for key in NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
	ReadWritePaths=/var/lib/scoped CapabilityBoundingSet= RestrictAddressFamilies= \
	SystemCallFilter=@system-service UMask=0077 Type=notify User=scoped \
	'ExecReload=/bin/kill -HUP $MAINPID'; do
	has "the unit sets $key" "$unit" "$key"
done

# a datagram socket standing in for systemd's $NOTIFY_SOCKET
sock=$tmp/notify.sock
perl -MIO::Socket::UNIX -e '
	my ($path, $out) = @ARGV;
	my $s = IO::Socket::UNIX->new(Type => SOCK_DGRAM, Local => $path) or die "socket: $!";
	open(my $o, ">>", $out) or die; $o->autoflush(1);
	$SIG{ALRM} = sub { exit 0 }; alarm 20;
	while (defined $s->recv(my $m, 4096)) { $m =~ s/\n/|/g; print $o "$m\n"; exit 0 if $m =~ /STOPPING=1/ }
' "$sock" "$tmp/notes" &
listener=$!
for _ in $(seq 1 50); do [ -S "$sock" ] && break; sleep 0.05; done

inst=$tmp/inst
"$SCOPED" init "$inst" --origin test.example/systemd >/dev/null || { echo "Bail out! init failed"; exit 1; }
export NOTIFY_SOCKET=$sock
start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }
sleep 0.3
has "scoped tells systemd it is ready once it listens" "$tmp/notes" "READY=1|STATUS=serving test.example/systemd on 127.0.0.1:$PORT"
kill -HUP "$daemon_pid"; sleep 0.3
has "a reload is announced" "$tmp/notes" "RELOADING=1|MONOTONIC_USEC="
has "  and its end" "$tmp/notes" "READY=1|STATUS=serving (reloaded)"
stop_daemon
wait "$listener"
has "SIGTERM is announced as stopping" "$tmp/notes" "STOPPING=1"
unset NOTIFY_SOCKET
start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }
ok "without NOTIFY_SOCKET scoped runs as before" "$SCOPECTL" info --config "$inst/clients/admin.conf" --server "127.0.0.1:$PORT"
stop_daemon
finish
