#!/usr/bin/env python3
"""slow_flood.py PORT COUNT STATUS: COUNT connections from 127.0.0.1 to
127.0.0.1:PORT, each trickling a TLS handshake record one byte every 4 s
(never a whole ClientHello: a record header announcing 16 KiB, then body
bytes), so that evhttp's timeout, which restarts at every byte, never ends
one.  STATUS is rewritten every second: "connected N" once all are
connected, then "closed K" (how many the server has ended).  Runs until
killed or all are closed."""
import os
import select
import socket
import sys
import time

port, count, status = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
record = bytes([0x16, 0x03, 0x01, 0x40, 0x00]) + b"\x01" * 4096


def write(line):
    with open(status + ".new", "w") as f:
        f.write(line + "\n")
    os.replace(status + ".new", status)


socks = []
for _ in range(count):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.connect(("127.0.0.1", port))  # the kernel's backlog completes it
    s.setblocking(False)
    socks.append([s, 0, False])
write("connected %d" % count)
last = 0.0
while True:
    now = time.monotonic()
    if now - last >= 4:
        last = now
        for c in socks:
            if c[2]:
                continue
            try:
                c[0].send(record[c[1] : c[1] + 1])
                c[1] = (c[1] + 1) % len(record)
            except OSError:
                c[2] = True
    live = [c for c in socks if not c[2]]
    r, _, _ = select.select([c[0] for c in live], [], [], 1.0)
    for c in live:
        if c[0] in r:
            try:
                if c[0].recv(4096) == b"":
                    c[2] = True
            except OSError:
                c[2] = True
    closed = sum(1 for c in socks if c[2])
    write("connected %d closed %d" % (count, closed))
    if closed == count:
        break
