#!/usr/bin/env python3
"""delay.py UPSTREAM-PORT DELAY-MS: a network with a round trip on loopback.

A TCP relay on 127.0.0.1 (a free port, printed as "ready on 127.0.0.1:PORT")
to 127.0.0.1:UPSTREAM-PORT that holds every byte DELAY-MS milliseconds in
each direction before passing it on, in order: a round trip of twice that,
as between a client and a server some way apart, with requests sent without
waiting (pipelining) still overlapping.  TLS passes through untouched.  For
the benchmarks only (tests/bench/README.md): it costs CPU of its own on the
same machine, and its queues are unbounded.
"""
import asyncio
import sys


async def pipe(reader, writer, delay):
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def send():
        while True:
            at, data = await queue.get()
            wait = at + delay - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                break
            writer.write(data)
            await writer.drain()
        writer.close()

    sender = asyncio.create_task(send())
    try:
        while True:
            data = await reader.read(1 << 18)
            queue.put_nowait((loop.time(), data))
            if not data:
                break
    except ConnectionError:
        queue.put_nowait((loop.time(), b""))
    await sender


async def main():
    upstream, delay = int(sys.argv[1]), float(sys.argv[2]) / 1000

    async def relay(cr, cw):
        try:
            ur, uw = await asyncio.open_connection("127.0.0.1", upstream)
        except OSError:
            cw.close()
            return
        await asyncio.gather(pipe(cr, uw, delay), pipe(ur, cw, delay), return_exceptions=True)

    server = await asyncio.start_server(relay, "127.0.0.1", 0)
    print("ready on 127.0.0.1:%d" % server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: delay.py UPSTREAM-PORT DELAY-MS")
    asyncio.run(main())
