"""Screenshots of nudger's pages for the docs (issue 13's before and after), not a check.

Skipped unless ``NUDGER_SCREENSHOTS`` names where to write and how to start each name:
``NUDGER_SCREENSHOTS=docs/screenshots/after`` writes ``docs/screenshots/after-*.png``.
The pages are those of the sandbox team after one sign-up and one pass, as
``nudger serve --sandbox`` shows them; each shot is one viewport (a laptop, 1280 x 800,
or a phone, 390 x 844), so the files stay small.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from nudger import accounts, contacts
from nudger.cycle import run_cycle
from nudger.runtime import Runtime
from nudger.sandbox.orggen import GeneratedOrg
from nudger.sandbox.server import Sandbox
from tests.browser.conftest import NOW, require_browser

TARGET = os.environ.get("NUDGER_SCREENSHOTS", "")
"""Read at import: the suite's fixtures clear every NUDGER_ variable for the tests."""
if not TARGET:
    pytest.skip("NUDGER_SCREENSHOTS is not set", allow_module_level=True)
require_browser()

from tests.browser.test_journey import sign_up_with_google  # noqa: E402

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
ROLES = ("direct_report", "manager", "mentor")
"""The roles a Google user enters in settings, as ``nudger demo`` enters them."""


def test_take_screenshots(
    chromium: Browser,
    sandbox_app_url: str,
    sandbox: Sandbox,
    org: GeneratedOrg,
    runtime: Runtime,
) -> None:
    context = chromium.new_context(
        base_url=sandbox_app_url, ignore_https_errors=True, viewport=LAPTOP
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/")
    shoot(page, "signup")
    sign_up_with_google(page, sandbox, org)
    account_id = accounts.find_account(runtime, org.owner.email).id
    for person in org.expectations:
        if person.role in ROLES:
            contacts.set_role(runtime, account_id, person.email, person.role, name=person.name)
    run_cycle(runtime, now=NOW)
    for path, name in (
        ("/dashboard", "dashboard"),
        ("/settings", "settings"),
        ("/settings#contacts", "settings-contacts"),
        ("/sandbox", "sandbox-mail"),
        ("/account/delete", "delete-account"),
    ):
        page.goto(path)
        shoot(page, name)
    context.close()


def shoot(page: Page, name: str) -> None:
    """The page as a laptop and as a phone show it first, before any scrolling."""
    for viewport, device in ((LAPTOP, "laptop"), (PHONE, "phone")):
        page.set_viewport_size(viewport)
        page.reload()
        path = Path(f"{TARGET}-{name}-{device}.png")
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path))
    page.set_viewport_size(LAPTOP)
