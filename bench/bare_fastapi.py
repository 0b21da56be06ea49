"""The yardstick for bench/http_daemon.py: a bare FastAPI app answering GET /api/v1/health with the
daemon's answer, served by uvicorn with the daemon's settings (httptools, uvloop, no access
log). python bench/bare_fastapi.py URL_FILE"""

from __future__ import annotations

import socket
import sys
import time
from pathlib import Path

import uvicorn
from fastapi import FastAPI

STARTED = time.monotonic()
app = FastAPI()


@app.get("/api/v1/health")
async def health() -> dict[str, object]:
    return {"status": "ok", "version": "0.1.0", "uptime_seconds": time.monotonic() - STARTED}


class _Server(uvicorn.Server):
    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        host, port = self.servers[0].sockets[0].getsockname()[:2]
        Path(sys.argv[1]).write_text(f"http://{host}:{port}\n")  # noqa: ASYNC240


if __name__ == "__main__":
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        app, http="httptools", loop="uvloop", lifespan="off", access_log=False, log_level="warning"
    )
    _Server(config).run(sockets=[sock])
