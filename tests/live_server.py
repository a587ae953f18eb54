"""The web app on a live port: uvicorn in a background thread on 127.0.0.1.

For tests that need real HTTP to the app (a browser, uvicorn's own access log).
"""

from __future__ import annotations

import asyncio
import socket
import threading

import uvicorn
from starlette.types import ASGIApp


class LiveServer:
    """The web app served by uvicorn on 127.0.0.1 in a background thread.

    The port is taken at construction, so the app's ``base_url`` (OAuth redirect URI,
    links in emails) can name it before the app exists.
    """

    def __init__(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self.base_url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self, app: ASGIApp, config: uvicorn.Config | None = None) -> None:
        """``config``: uvicorn's settings for ``app`` (default: quiet, no lifespan)."""
        config = config or uvicorn.Config(app, log_level="warning", lifespan="off")
        server = self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=lambda: asyncio.run(server.serve(sockets=[self._socket])),
            name="nudger-web",
            daemon=True,
        )
        self._thread.start()
        while not server.started:
            assert self._thread.is_alive(), "the web app failed to start"
            threading.Event().wait(0.01)

    def stop(self) -> None:
        if self._server:
            self._server.should_exit = self._server.force_exit = True
        if self._thread:
            self._thread.join(timeout=10)
        self._socket.close()
