"""SSE readers for bench/http_daemon.py's fan-out measure: COUNT connections to one stream,
read with plain non-blocking sockets and epoll (no asyncio, no HTTP library: the readers must
not be what is measured). Started several times, one process per core's share.

python bench/sse_readers.py HOST PORT PATH COUNT OUT

Prints "ready" once every stream has sent `open`, reads until every stream has sent `done`,
then writes to OUT, as JSON, per stream the list of [seq, monotonic time] of its
`result/delta` events: the time epoll said the bytes were there. CLOCK_MONOTONIC is shared
by every process on the machine, so the times compare with the provider's stamps
(bench/timed_serve.py).
"""

from __future__ import annotations

import json
import re
import resource
import selectors
import socket
import sys
import time

# Small reads: Python allocates the whole size asked for on every recv, and 256 KiB (asked for
# before) is past malloc's mmap threshold, so each read mapped and unmapped memory; the
# TLB shootdowns that cost slowed the daemon being measured by a third (9 -> 6.5 us a write).
RECV_BYTES = 1 << 13
DELTA = re.compile(rb"id: (\d+)\nevent: result/delta\n")


def main() -> None:
    host, port, path, count, out = (
        sys.argv[1],
        int(sys.argv[2]),
        sys.argv[3],
        int(sys.argv[4]),
        sys.argv[5],
    )
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    selector = selectors.EpollSelector()
    streams: dict[int, list[list[float]]] = {}
    opened: set[int] = set()
    for i in range(int(count)):
        sock = socket.create_connection((host, int(port)))
        sock.sendall(request)
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ, i)
        streams[i] = []
    announced = False
    live = int(count)
    monotonic = time.monotonic
    received: dict[int, list[tuple[float, bytes]]] = {i: [] for i in streams}
    while live:
        ready = selector.select()
        # Every socket in `ready` had its bytes in its buffer by now: this is when they were
        # delivered at the latest, however long this loop then takes to get to each. Parsing
        # waits until the end, so that this loop costs the machine as little as it can.
        now = monotonic()
        for key, _ in ready:
            sock, i = key.fileobj, key.data
            data = sock.recv(RECV_BYTES)  # type: ignore[union-attr]
            if not data:
                selector.unregister(sock)
                live -= 1
                continue
            received[i].append((now, data))
            if not announced and i not in opened and b"event: open" in data:
                opened.add(i)
                if len(opened) == int(count):
                    announced = True
                    print("ready", flush=True)
            if b"event: done" in data:
                selector.unregister(sock)
                sock.close()  # type: ignore[union-attr]
                live -= 1
    for i, chunks in received.items():
        buffer = b""
        for at, data in chunks:
            # An event counts as delivered when its last byte was: the chunk that ends it.
            buffer += data
            end = buffer.rfind(b"\n\n")
            if end < 0:
                continue
            complete, buffer = buffer[: end + 2], buffer[end + 2 :]
            streams[i].extend([int(seq), at] for seq in DELTA.findall(complete))
    with open(out, "w") as f:
        json.dump(list(streams.values()), f)


if __name__ == "__main__":
    main()
