#!/usr/bin/env python3
"""burst_flood.py PORT HELD BURST: HELD connections to 127.0.0.1:PORT, each
from an address of its own (127.0.1.1, 127.0.1.2, ...), each holding part of
a TLS record; then, once the listener has read their addresses, BURST
connections from 127.0.0.1 as fast as they can be made (libevent accepts
them in one callback, before any of their addresses is read).  Prints how
many of the HELD connections the server ended within a second of the
burst: a burst from one address must end its own oldest, not the others'."""
import select
import socket
import sys
import time

port, held, burst = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
record = bytes([0x16, 0x03, 0x01, 0x40, 0x00, 0x01])
socks = []
for i in range(held):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.1.%d" % (i % 250 + 1) if i < 250 else "127.0.2.%d" % (i - 249), 0))
    s.connect(("127.0.0.1", port))
    s.send(record)
    socks.append(s)
time.sleep(1.5)  # every held address read (on the loop's next turn)
flood = []
for _ in range(burst):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    s.bind(("127.0.0.1", 0))
    try:
        s.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    flood.append(s)
ended = set()
end = time.monotonic() + 1.0
while time.monotonic() < end:
    live = [s for s in socks if s not in ended]
    r, _, _ = select.select(live, [], [], 0.1)
    for s in r:
        try:
            if s.recv(4096) == b"":
                ended.add(s)
        except OSError:
            ended.add(s)
print(len(ended))
