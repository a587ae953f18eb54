"""The Content Security Policy in a real browser: every page works and nothing on them
is blocked, in sandbox mode as ``nudger serve --sandbox`` runs it.

Chromium reports each blocked resource twice: as a console error ("Refused to ...
because it violates the following Content Security Policy directive") and as a
``securitypolicyviolation`` event on the document (CSP Level 3, section 5.3). Both are
collected. At the end a style element is added on purpose: seeing it reported proves
the policy is in force and the collectors hear it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from nudger.sandbox.orggen import GeneratedOrg
from nudger.sandbox.server import Sandbox
from tests.browser.conftest import require_browser
from tests.browser.test_journey import pattern_email, set_role_in_settings, sign_up_with_google

require_browser()

from playwright.sync_api import expect  # noqa: E402

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page

pytestmark = pytest.mark.browser

REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolation(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}`);
});
"""
"""Runs in every document before its own content (Playwright's init scripts are not
subject to the page's policy)."""


@pytest.fixture
def watched(chromium: Browser, sandbox_app_url: str) -> Iterator[tuple[Page, list[str]]]:
    """A fresh browser profile and every CSP violation any of its documents reports."""
    violations: list[str] = []
    context: BrowserContext = chromium.new_context(
        base_url=sandbox_app_url, ignore_https_errors=True
    )
    context.set_default_timeout(15_000)
    context.expose_binding("cspViolation", lambda source, text: violations.append(text))
    context.add_init_script(REPORT_VIOLATIONS)
    page = context.new_page()

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            violations.append(message.text)

    page.on("console", on_console)
    yield page, violations
    context.close()


def test_every_page_works_under_the_policy_and_nothing_is_blocked(
    watched: tuple[Page, list[str]], sandbox: Sandbox, org: GeneratedOrg
) -> None:
    page, violations = watched
    sign_up_with_google(page, sandbox, org)
    expect(page.get_by_role("heading", name="Your relationships")).to_be_visible()
    styled = page.locator("button", has_text="Sign out")
    expect(styled).to_have_css("text-decoration-line", "underline")  # the stylesheet applies

    page.get_by_role("link", name="Sandbox mail").click()
    page.get_by_role("button", name="Sync, analyse and nudge now").click()
    expect(page.locator("#ran")).to_be_visible()
    page.get_by_role("link", name="Dashboard").click()
    expect(page.locator("section.audit-group").first).to_be_visible()

    set_role_in_settings(page, pattern_email(org, "peer-fading"), "peer")
    page.get_by_label("Find").fill("a")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/settings?q=a*")

    snooze_from_the_sandbox_mailbox(page)
    assert violations == [], f"the policy blocked something: {violations}"

    page.evaluate("document.head.appendChild(document.createElement('style')).textContent = 'p{}'")
    for _ in range(50):  # the reports arrive asynchronously
        if any("style-src" in v for v in violations):
            break
        page.wait_for_timeout(100)
    assert any("style-src" in v for v in violations), "the canary style was not reported"


def snooze_from_the_sandbox_mailbox(page: Page) -> None:
    """Click the newest mail's snooze button, as in a mail client: GET asks, the
    button acts."""
    page.get_by_role("link", name="Sandbox mail").click()
    mail = page.locator("section.mail").first
    mail.get_by_role("link", name="Snooze 2 weeks").click()
    page.wait_for_url("**/a/snooze/**")
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Snooze .*\?$"))
    page.get_by_role("button", name="Yes, snooze").click()
    expect(page.get_by_role("heading", name="Done")).to_be_visible()
