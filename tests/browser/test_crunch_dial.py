"""The crunch dial in a real browser: turned on in settings, the dashboard says so, and
one button ends it early."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from nudger.cycle import run_cycle
from nudger.runtime import Runtime
from nudger.sandbox.orggen import GeneratedOrg
from nudger.sandbox.server import Sandbox
from tests.browser.conftest import NOW, require_browser
from tests.browser.test_journey import sign_up_with_google

require_browser()

from playwright.sync_api import expect  # noqa: E402

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser


def test_a_crunch_turned_on_in_settings_shows_on_the_dashboard_until_ended(
    page: Page, sandbox: Sandbox, org: GeneratedOrg, runtime: Runtime
) -> None:
    sign_up_with_google(page, sandbox, org)
    run_cycle(runtime, now=NOW, dry_run=True)
    page.get_by_role("link", name="Settings").click()

    page.get_by_label("Busy until").fill("2026-03-15")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/settings?saved=all")
    page.goto("/dashboard")

    banner = page.locator("#crunch-banner")
    expect(banner).to_contain_text("Crunch until Sun 15 Mar")
    expect(banner).to_contain_text("only repairs and your direct reports' one-on-ones go out")
    expect(banner).to_contain_text(
        "stretched 2\u00d7: the statuses below are read with the stretched rhythms"
    )
    banner.get_by_role("button", name="end it now").click()
    page.wait_for_url("**/settings?saved=crunch")
    expect(page.get_by_label("Busy until")).to_have_value("")
    page.goto("/dashboard")
    expect(page.locator("#crunch-banner")).to_have_count(0)
