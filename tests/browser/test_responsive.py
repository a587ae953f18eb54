"""Every page on a phone (390 x 844 CSS pixels): nothing is wider than the screen, so
nothing needs sideways scrolling, and the navigation's "Sign out" is in view.

The pages are those of ``nudger serve --sandbox`` after a sign-up and a pass that sent
mail: sign-up, dashboard (every collapsed group opened too), settings, sandbox mail,
account deletion, a one-click link's confirmation and its result, and an error page.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from nudger.cycle import run_cycle
from nudger.runtime import Runtime
from nudger.sandbox.orggen import GeneratedOrg
from nudger.sandbox.server import Sandbox
from tests.browser.conftest import NOW, require_browser

require_browser()

from playwright.sync_api import expect  # noqa: E402

from tests.browser.test_journey import nudge_emails, sign_up_with_google, snooze_link  # noqa: E402

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(chromium: Browser, sandbox_app_url: str) -> Iterator[Page]:
    context = chromium.new_context(
        base_url=sandbox_app_url, ignore_https_errors=True, viewport=PHONE
    )
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def assert_fits(page: Page, what: str) -> None:
    wide, screen = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert screen == PHONE["width"]
    assert wide <= screen, f"{what} is {wide} px wide on a {screen} px screen"


def assert_navigation_in_view(page: Page, what: str) -> None:
    """Fits, and at the top of the page the whole navigation is on screen."""
    assert_fits(page, what)
    page.evaluate("window.scrollTo(0, 0)")
    expect(page.get_by_role("button", name="Sign out")).to_be_in_viewport(ratio=1)
    expect(page.get_by_role("link", name="Settings")).to_be_in_viewport(ratio=1)


def test_every_page_fits_a_phone(
    phone: Page, sandbox: Sandbox, org: GeneratedOrg, runtime: Runtime, sandbox_app_url: str
) -> None:
    phone.goto("/")
    assert_fits(phone, "the sign-up page")
    sign_up_with_google(phone, sandbox, org)
    run_cycle(runtime, now=NOW)

    for path in ("/dashboard", "/settings", "/sandbox", "/account/delete"):
        phone.goto(path)
        assert_navigation_in_view(phone, path)

    phone.goto("/dashboard")
    summaries = phone.locator("details > summary")
    assert summaries.count() >= 2
    for index in range(summaries.count()):
        summaries.nth(index).click()
    assert phone.locator("details[open]").count() == summaries.count()
    assert_navigation_in_view(phone, "the dashboard with every group open")

    phone.goto(snooze_link(nudge_emails(sandbox)[0], sandbox_app_url))
    assert_navigation_in_view(phone, "a one-click link's confirmation")
    phone.get_by_role("button", name="Yes, snooze").click()
    expect(phone.get_by_role("heading", name="Done")).to_be_visible()
    assert_navigation_in_view(phone, "a one-click link's result")

    phone.goto("/no-such-page")
    assert_navigation_in_view(phone, "the not-found page")
