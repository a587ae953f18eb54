"""Browser fixtures: the emulator, the real web app on a live port, headless Chromium.

Chromium is Debian's (``/usr/bin/chromium``), driven by Playwright; no browser is ever
downloaded. Playwright is imported only when a browser fixture runs: the test modules
decide first whether to skip (see ``require_browser``).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest
from cryptography.fernet import Fernet

from nudger.config import load_settings
from nudger.runtime import Runtime, open_runtime
from nudger.sandbox.orggen import GeneratedOrg
from nudger.sandbox.run import start_sandbox
from nudger.sandbox.server import Sandbox
from nudger.web.app import create_app
from tests.live_server import LiveServer

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


@pytest.fixture
def sandbox_app_url(
    runtime: Runtime, live_server: LiveServer, sandbox: Sandbox, org: GeneratedOrg
) -> str:
    """The web app as ``nudger serve --sandbox`` builds it: with the sandbox mail page."""
    app = create_app(
        runtime,
        login_hints={"google": org.owner.email},
        clock=lambda: NOW,
        sandbox_world=sandbox.world,
    )
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
