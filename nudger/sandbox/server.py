"""The emulator's HTTPS server: both providers' front-ends plus control endpoints.

``Sandbox`` runs it in a background thread (tests, the demo, ``nudger serve
--sandbox``); ``nudger sandbox`` runs it in the foreground. ``Sandbox.settings()``
gives the ``NUDGER_*`` endpoint settings that point nudger at it.

``Sandbox(sign_in_page=True)`` is the emulator for people with a browser: every
authorize shows the sign-in page (``sign_in_page``), served by a second listener on
plain-HTTP loopback (``sign_in_url``), so a stock browser meets no certificate warning.
Only the authorize pages live there; the API and the token endpoints stay HTTPS, where
the client libraries trust the generated CA.
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
from typing import Any
from urllib.parse import parse_qs

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from nudger.sandbox import certs, control, google_api, google_oauth, microsoft_api
from nudger.sandbox import microsoft_identity as identity
from nudger.sandbox.google_oauth import AUTH_PATH
from nudger.sandbox.sign_in_page import SignInPages
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


def build_app(world: World, pages: SignInPages | None = None) -> ASGIApp:
    routes: list[BaseRoute] = [
        *google_api.routes(world, pages),
        *microsoft_api.routes(world, pages),
        *control.routes(world),
    ]
    app = Starlette(routes=routes)
    app.add_route("/_sandbox/health", _health)
    return _RecordAndFault(app, world)


def build_sign_in_app(world: World, pages: SignInPages) -> ASGIApp:
    """The browser-facing sign-in step alone, for the plain-HTTP loopback listener."""
    routes = [*google_oauth.sign_in_routes(world, pages), *identity.sign_in_routes(world, pages)]
    return _RecordAndFault(Starlette(routes=routes), world)


async def _health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


class Sandbox:
    """The emulator running on 127.0.0.1 in background threads."""

    def __init__(
        self,
        world: World,
        *,
        port: int = 0,
        cert_dir: Path | None = None,
        sign_in_page: bool = False,
    ) -> None:
        self.world = world
        self._tmp = None if cert_dir else tempfile.TemporaryDirectory(prefix="nudger-sandbox-")
        self.certs = certs.generate(cert_dir or Path(self._tmp.name))  # type: ignore[union-attr]
        self._socket = _loopback_socket(port)
        self.port = self._socket.getsockname()[1]
        self.base_url = f"https://127.0.0.1:{self.port}"
        world.add_client(*GOOGLE_CLIENT)
        world.add_client(*MICROSOFT_CLIENT)
        sign_in_socket = _loopback_socket(0) if sign_in_page else None
        self.sign_in_url = (
            f"http://127.0.0.1:{sign_in_socket.getsockname()[1]}" if sign_in_socket else None
        )
        """Where browsers sign in (``sign_in_page=True`` only)."""
        pages = SignInPages(self.sign_in_url) if self.sign_in_url else None
        api = uvicorn.Config(
            build_app(world, pages),
            ssl_certfile=str(self.certs.server_cert),
            ssl_keyfile=str(self.certs.server_key),
            **_QUIET,
        )
        self._servers = [(uvicorn.Server(api), self._socket)]
        if pages and sign_in_socket:
            sign_in = uvicorn.Config(build_sign_in_app(world, pages), **_QUIET)
            self._servers.append((uvicorn.Server(sign_in), sign_in_socket))
        self._threads: list[threading.Thread] = []

    def settings(self) -> dict[str, str]:
        """``Settings`` keyword arguments that point every provider at this emulator."""
        return {
            "ca_bundle": str(self.certs.ca_cert),
            "google_client_id": GOOGLE_CLIENT[0],
            "google_client_secret": GOOGLE_CLIENT[1],
            "google_auth_uri": f"{self.sign_in_url or self.base_url}{AUTH_PATH}",
            "google_token_uri": f"{self.base_url}/token",
            "google_revoke_uri": f"{self.base_url}/revoke",
            "google_api_endpoint": f"{self.base_url}/",
            "google_people_endpoint": f"{self.base_url}/",
            "microsoft_client_id": MICROSOFT_CLIENT[0],
            "microsoft_client_secret": MICROSOFT_CLIENT[1],
            "microsoft_authority": f"{self.base_url}/{MICROSOFT_TENANT}",
            "graph_endpoint": f"{self.base_url}{microsoft_api.GRAPH_PREFIX}",
        }

    def start(self) -> Sandbox:
        for server, listening in self._servers:
            self._threads.append(_serve_in_thread(server, listening))
        log.info("sandbox listening on %s", self.base_url)
        if self.sign_in_url:
            log.info("sandbox sign-in pages on %s", self.sign_in_url)
        return self

    def stop(self) -> None:
        for server, _ in self._servers:
            server.should_exit = True
            server.force_exit = True  # clients keep connections alive; do not wait for them
        for thread in self._threads:
            thread.join(timeout=10)
        for _, listening in self._servers:
            listening.close()
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


_QUIET: dict[str, Any] = {"log_level": "warning", "lifespan": "off", "timeout_graceful_shutdown": 1}


def _loopback_socket(port: int) -> socket.socket:
    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listening.bind(("127.0.0.1", port))
    return listening


def _serve_in_thread(server: uvicorn.Server, listening: socket.socket) -> threading.Thread:
    thread = threading.Thread(
        target=lambda: asyncio.run(server.serve(sockets=[listening])),
        name="nudger-sandbox",
        daemon=True,
    )
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the sandbox server failed to start")
        threading.Event().wait(0.01)
    return thread
