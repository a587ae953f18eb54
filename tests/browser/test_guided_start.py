"""The guided start in a real browser: sign up, wait for the first sync on /start,
confirm the proposed key people in one form, land on the dashboard.

Headless Chromium (Debian's) against the real web app; the cycle runs in between as
the scheduler would run the first pass.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from nudger import accounts, contacts
from nudger.cycle import run_cycle
from nudger.runtime import Runtime
from nudger.sandbox.orggen import GeneratedOrg
from tests.browser.conftest import NOW, require_browser

require_browser()

from playwright.sync_api import expect  # noqa: E402

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser


def pattern_email(org: GeneratedOrg, pattern: str) -> str:
    return next(e.email for e in org.expectations if e.pattern == pattern)


def test_sign_up_confirm_the_key_people_and_land_on_the_dashboard(
    page: Page, org: GeneratedOrg, runtime: Runtime
) -> None:
    page.goto("/")
    page.get_by_role("link", name="Connect Google").click()
    page.wait_for_url("**/start")
    expect(page.locator("#syncing")).to_contain_text("reading your calendar for the first time")

    run_cycle(runtime, now=NOW, dry_run=True)  # the first pass, as the scheduler runs it
    page.get_by_role("link", name="reload now").click()
    report, external = pattern_email(org, "dr-healthy"), pattern_email(org, "quarterly-external")
    report_row = page.locator(f'tr[id="person-{report}"]')
    expect(report_row).to_contain_text("weekly one-on-one series")
    expect(report_row.get_by_role("combobox")).to_have_value("direct_report")
    expect(page.locator(f'tr[id="person-{external}"]')).to_contain_text("outside")

    page.get_by_label(f"Role of {external}").select_option("mentor")
    page.get_by_role("button", name="Confirm roles").click()
    page.wait_for_url("**/dashboard")
    expect(page.get_by_role("heading", name="Your relationships")).to_be_visible()

    account_id = accounts.find_account(runtime, org.owner.email).id
    stored = {e: contacts.find_contact(runtime, account_id, e) for e in (report, external)}
    assert {e: c.role if c else None for e, c in stored.items()} == {
        report: "direct_report",
        external: "mentor",
    }
    assert not accounts.guided_start_pending(runtime, account_id)
