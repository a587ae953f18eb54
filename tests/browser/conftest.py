"""Browser fixtures: the emulator, the real web app on a live port, headless Chromium.

Chromium is Debian's (``/usr/bin/chromium``), driven by Playwright; no browser is ever
downloaded. Playwright is imported only when a browser fixture runs: the test modules
decide first whether to skip (see ``require_browser``).
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import socket
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest
import uvicorn
from cryptography.fernet import Fernet
from starlette.types import ASGIApp

from nudger.config import load_settings
from nudger.runtime import Runtime, open_runtime
from nudger.sandbox.orggen import GeneratedOrg
from nudger.sandbox.run import start_sandbox
from nudger.sandbox.server import Sandbox
from nudger.web.app import create_app

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright

CHROMIUM = Path("/usr/bin/chromium")
REQUIRE_ENV = "NUDGER_REQUIRE_BROWSER"
NOW = datetime(2026, 3, 4, 10, tzinfo=ZoneInfo("Europe/London"))
"""A Wednesday morning in the sandbox owner's zone: the clock of the emulator's world,
the web app and the cycle, so nudge emails may go out."""


def require_browser() -> None:
    """Skip the calling test module when Chromium or Playwright is missing; fail instead
    when ``NUDGER_REQUIRE_BROWSER`` is set (CI), so a broken install is never a green run."""
    missing = _missing()
    if missing and os.environ.get(REQUIRE_ENV):
        pytest.fail(f"{REQUIRE_ENV} is set but {missing}", pytrace=False)
    if missing:
        pytest.skip(f"browser test needs Debian's Chromium: {missing}", allow_module_level=True)


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is missing (pip install -e '.[dev]')"
    return None


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


@pytest.fixture
def org_sandbox() -> Iterator[tuple[Sandbox, GeneratedOrg]]:
    """The emulator with one generated team; its owner is the only Google user."""
    sandbox, org = start_sandbox(now=NOW)
    yield sandbox, org
    sandbox.stop()


@pytest.fixture
def sandbox(org_sandbox: tuple[Sandbox, GeneratedOrg]) -> Sandbox:
    return org_sandbox[0]


@pytest.fixture
def org(org_sandbox: tuple[Sandbox, GeneratedOrg]) -> GeneratedOrg:
    return org_sandbox[1]


@pytest.fixture
def live_server() -> Iterator[LiveServer]:
    server = LiveServer()
    yield server
    server.stop()


@pytest.fixture
def runtime(
    sandbox: Sandbox, live_server: LiveServer, database_url: str, tmp_path: Path
) -> Iterator[Runtime]:
    """nudger on a real database, providers at the emulator, links to the live server."""
    settings = load_settings(
        **sandbox.settings(),
        database_url=database_url,
        data_dir=tmp_path / "data",
        encryption_keys=Fernet.generate_key().decode(),
        base_url=live_server.base_url,
    )
    opened = open_runtime(settings)
    yield opened
    opened.db.dispose()


@pytest.fixture
def app_url(runtime: Runtime, live_server: LiveServer, org: GeneratedOrg) -> str:
    """The real web app, live, with the sandbox owner preselected at Google sign-in."""
    app = create_app(runtime, login_hints={"google": org.owner.email}, clock=lambda: NOW)
    live_server.start(app)
    return live_server.base_url


@pytest.fixture(scope="module")
def playwright_driver() -> Iterator[Playwright]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="module")
def chromium(playwright_driver: Playwright) -> Iterator[Browser]:
    browser = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), headless=True)
    yield browser
    browser.close()


@pytest.fixture
def page(chromium: Browser, app_url: str) -> Iterator[Page]:
    """A fresh browser profile; it accepts the emulator's self-signed certificate."""
    context = chromium.new_context(base_url=app_url, ignore_https_errors=True)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()
