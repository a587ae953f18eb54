"""Settings in a real browser: one form, one Save for two roles and a preference, a
server-side filter, statuses and roles in words, weak ties collapsed, and a phone's
width without sideways scrolling.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from nudger import accounts, contacts
from nudger.cycle import run_cycle
from nudger.runtime import Runtime
from nudger.sandbox.orggen import GeneratedOrg
from nudger.sandbox.server import Sandbox
from nudger.store.db import session_scope
from nudger.store.models import Account
from tests.browser.conftest import NOW, require_browser
from tests.browser.test_journey import pattern_email, sign_up_with_google

require_browser()

from playwright.sync_api import expect  # noqa: E402

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

RAW_NAMES = ("lapsed_one_on_one", "missing_one_on_one", "weak_tie", "direct_report")
PHONE_WIDTH = 390


def person(org: GeneratedOrg, pattern: str) -> tuple[str, str]:
    found = next(e for e in org.expectations if e.pattern == pattern)
    return found.email, found.name


@pytest.fixture
def settings_page(page: Page, sandbox: Sandbox, org: GeneratedOrg, runtime: Runtime) -> Page:
    """Signed up, synced once (statuses known, nothing sent), on /settings."""
    sign_up_with_google(page, sandbox, org)
    run_cycle(runtime, now=NOW, dry_run=True)
    page.get_by_role("link", name="Settings").click()
    return page


def test_two_roles_and_a_preference_in_one_save(
    settings_page: Page, org: GeneratedOrg, runtime: Runtime
) -> None:
    page = settings_page
    peer, mentor = pattern_email(org, "peer-fading"), pattern_email(org, "mentor-lapsed")
    expect(page.get_by_role("button", name=re.compile("^Save"))).to_have_count(1)

    page.get_by_label(f"Role of {peer}").select_option("peer")
    page.get_by_label(f"Role of {mentor}").select_option("mentor")
    page.get_by_label("Weekly nudge budget").fill("3")
    page.get_by_role("button", name="Save").click()

    page.wait_for_url("**/settings?saved=all")
    expect(page.locator("#saved")).to_have_text("Saved.")
    account_id = accounts.find_account(runtime, org.owner.email).id
    saved = {c.email: c.role for c in contacts.list_contacts(runtime, account_id)}
    assert saved == {peer: "peer", mentor: "mentor"}
    with session_scope(runtime.db) as session:
        assert (session.get_one(Account, account_id).settings or {})["weekly_budget"] == 3
    peers = page.locator('details[data-group="role:peer"]')
    expect(peers.get_by_label(f"Role of {peer}")).to_have_value("peer")
    mentors = page.locator('details[data-group="role:mentor"]')
    expect(mentors.get_by_label(f"Role of {mentor}")).to_have_value("mentor")


def test_the_filter_finds_one_contact_by_name(settings_page: Page, org: GeneratedOrg) -> None:
    page = settings_page
    email, name = person(org, "mentor-lapsed")

    page.get_by_label("Find").fill(name)
    page.get_by_role("button", name="Filter").click()

    page.wait_for_url(re.compile(r"/settings\?q="))
    rows = page.locator("tr[data-email]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-email", email)
    expect(page.locator("#listed")).to_contain_text("Showing 1 of")
    page.get_by_role("link", name="Show everyone").first.click()
    expect(page.locator("#q")).to_have_value("")


def test_statuses_and_roles_read_in_words_and_weak_ties_wait_folded(
    settings_page: Page, org: GeneratedOrg
) -> None:
    page = settings_page
    lapsed = pattern_email(org, "dr-series-ended")

    lapsed_group = page.locator('details[data-group="status:lapsed_one_on_one"]')
    expect(lapsed_group.locator("summary")).to_contain_text("One-on-one paused")
    expect(lapsed_group.locator(f'tr[data-email="{lapsed}"]')).to_be_visible()
    page.get_by_label(f"Role of {lapsed}").select_option("direct_report")
    page.get_by_role("button", name="Save").click()
    row = page.locator(f'details[data-group="role:direct_report"] tr[data-email="{lapsed}"]')
    expect(row.locator(".status")).to_have_text("one-on-one paused")
    expect(row.locator("option:checked")).to_have_text("direct report")
    text = page.locator("body").inner_text()
    assert [raw for raw in RAW_NAMES if raw in text] == []
    weak = page.locator('details[data-group="weak_tie"]')
    expect(weak).not_to_have_attribute("open", "")
    expect(weak.locator("tr[data-email]").first).to_be_hidden()
    weak.locator("summary").click()
    expect(weak.locator("tr[data-email]").first).to_be_visible()


def test_the_form_fits_a_phone(settings_page: Page) -> None:
    page = settings_page
    page.set_viewport_size({"width": PHONE_WIDTH, "height": 844})
    page.reload()

    width = page.evaluate("document.getElementById('settings-form').scrollWidth")
    assert width <= PHONE_WIDTH
