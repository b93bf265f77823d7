/*
 * notify: the systemd service notification protocol (sd_notify(3)) without
 * libsystemd.  With Type=notify, systemd passes a datagram socket in
 * $NOTIFY_SOCKET; scoped sends READY=1 once it listens, RELOADING=1 and
 * READY=1 around a SIGHUP reload, and STOPPING=1 on SIGTERM, each with a
 * STATUS= line.  Without $NOTIFY_SOCKET nothing is sent.
 */
#ifndef SCOPE_NOTIFY_H
#define SCOPE_NOTIFY_H

/* Sends state (newline-separated VAR=VALUE assignments); errors are
 * ignored, as sd_notify's are by most daemons: notification is advisory. */
void notify_send(const char *state);

#endif
