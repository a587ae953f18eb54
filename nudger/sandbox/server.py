"""The emulator's HTTPS server: both providers' front-ends plus control endpoints.

``Sandbox`` runs it in a background thread (tests, the demo, ``nudger serve
--sandbox``); ``nudger sandbox`` runs it in the foreground. ``Sandbox.settings()``
gives the ``NUDGER_*`` endpoint settings that point nudger at it.
"""

from __future__ import annotations

import asyncio
import logging
import math
import socket
import tempfile
import threading
import time
from email.utils import formatdate
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qs

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from nudger.sandbox import certs, control, google_api, microsoft_api
from nudger.sandbox.world import Fault, World

log = logging.getLogger(__name__)

GOOGLE_CLIENT = ("sandbox-google-client.apps.googleusercontent.com", "sandbox-google-secret")
MICROSOFT_CLIENT = ("00000000-0000-4000-8000-00000000abcd", "sandbox-microsoft-secret")
MICROSOFT_TENANT = "sandbox-tenant"


class _RecordAndFault:
    """ASGI middleware: logs every request into the world and serves injected faults."""

    def __init__(self, app: ASGIApp, world: World) -> None:
        self.app = app
        self.world = world

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_sandbox"):
            await self.app(scope, receive, send)
            return
        query = parse_qs(scope.get("query_string", b"").decode(), keep_blank_values=True)
        record = self.world.record(scope["method"], scope["path"], query)
        fault = self.world.take_fault(scope["method"], scope["path"])
        if fault is None:
            await self.app(scope, receive, send)
            return
        record.fault = fault.status
        response = _fault_response(scope["path"], fault)
        await response(scope, receive, send)


def _fault_response(path: str, fault: Fault) -> Response:
    headers = _retry_after_header(fault)
    if path.startswith(microsoft_api.GRAPH_PREFIX):
        return microsoft_api.graph_error(
            fault.status, fault.reason or "TooManyRequests", "Injected fault", headers
        )
    return google_api.google_error(
        fault.status, fault.reason or "backendError", "Injected fault", headers
    )


def _retry_after_header(fault: Fault) -> dict[str, str]:
    """Seconds, or an HTTP-date at least ``retry_after`` seconds ahead (whole seconds,
    rounded up, so the date never asks for less than the fault says)."""
    if fault.retry_after is None:
        return {}
    if not fault.retry_after_date:
        return {"Retry-After": str(fault.retry_after)}
    when = math.ceil(time.time()) + fault.retry_after
    return {"Retry-After": formatdate(when, usegmt=True)}


def build_app(world: World) -> ASGIApp:
    routes: list[BaseRoute] = [
        *google_api.routes(world),
        *microsoft_api.routes(world),
        *control.routes(world),
    ]
    app = Starlette(routes=routes)
    app.add_route("/_sandbox/health", _health)
    return _RecordAndFault(app, world)


async def _health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


class Sandbox:
    """The emulator running on 127.0.0.1 in a background thread."""

    def __init__(self, world: World, *, port: int = 0, cert_dir: Path | None = None) -> None:
        self.world = world
        self._tmp = None if cert_dir else tempfile.TemporaryDirectory(prefix="nudger-sandbox-")
        self.certs = certs.generate(cert_dir or Path(self._tmp.name))  # type: ignore[union-attr]
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", port))
        self.port = self._socket.getsockname()[1]
        self.base_url = f"https://127.0.0.1:{self.port}"
        world.add_client(*GOOGLE_CLIENT)
        world.add_client(*MICROSOFT_CLIENT)
        config = uvicorn.Config(
            build_app(world),
            log_level="warning",
            ssl_certfile=str(self.certs.server_cert),
            ssl_keyfile=str(self.certs.server_key),
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    def settings(self) -> dict[str, str]:
        """``Settings`` keyword arguments that point every provider at this emulator."""
        return {
            "ca_bundle": str(self.certs.ca_cert),
            "google_client_id": GOOGLE_CLIENT[0],
            "google_client_secret": GOOGLE_CLIENT[1],
            "google_auth_uri": f"{self.base_url}/o/oauth2/v2/auth",
            "google_token_uri": f"{self.base_url}/token",
            "google_revoke_uri": f"{self.base_url}/revoke",
            "google_api_endpoint": f"{self.base_url}/",
            "microsoft_client_id": MICROSOFT_CLIENT[0],
            "microsoft_client_secret": MICROSOFT_CLIENT[1],
            "microsoft_authority": f"{self.base_url}/{MICROSOFT_TENANT}",
            "graph_endpoint": f"{self.base_url}{microsoft_api.GRAPH_PREFIX}",
        }

    def start(self) -> Sandbox:
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._server.serve(sockets=[self._socket])),
            name="nudger-sandbox",
            daemon=True,
        )
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the sandbox server failed to start")
            threading.Event().wait(0.01)
        log.info("sandbox listening on %s", self.base_url)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._server.force_exit = True  # clients keep connections alive; do not wait for them
        if self._thread:
            self._thread.join(timeout=10)
        self._socket.close()
        if self._tmp:
            self._tmp.cleanup()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
