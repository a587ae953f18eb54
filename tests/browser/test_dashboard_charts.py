"""The dashboard's charts as a phone draws them: styled under the Content Security
Policy, inside the screen, labels clear of each other; calm groups folded away."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from nudger import accounts, contacts
from nudger.cycle import run_cycle
from nudger.runtime import Runtime
from nudger.sandbox.orggen import GeneratedOrg
from nudger.sandbox.server import Sandbox
from tests.browser.conftest import NOW, require_browser

require_browser()

from playwright.sync_api import expect  # noqa: E402

from tests.browser.test_journey import sign_up_with_google  # noqa: E402

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
COLOURS = {"neglected": "rgb(194, 59, 34)", "healthy": "rgb(47, 158, 68)"}
"""As nudger.css gives them: seen computed, the stylesheet reached the SVG."""


@pytest.fixture
def phone(chromium: Browser, app_url: str) -> Iterator[Page]:
    context = chromium.new_context(base_url=app_url, ignore_https_errors=True, viewport=PHONE)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def board(phone: Page, sandbox: Sandbox, org: GeneratedOrg, runtime: Runtime) -> Page:
    sign_up_with_google(phone, sandbox, org)
    account_id = accounts.find_account(runtime, org.owner.email).id
    for person in org.expectations:
        if person.role in ("direct_report", "manager", "mentor"):
            contacts.set_role(runtime, account_id, person.email, person.role)
    run_cycle(runtime, now=NOW, dry_run=True)
    phone.goto("/dashboard")
    return phone


def box(locator: Locator) -> dict[str, float]:
    found = locator.bounding_box()
    assert found is not None, "not rendered"
    return dict(found)


def test_the_rhythm_chart_fits_the_phone_and_its_labels_do_not_collide(board: Page) -> None:
    chart = board.locator("#rhythm-chart")
    expect(chart).to_be_visible()
    outer = box(chart)
    assert outer["x"] >= 0
    assert outer["x"] + outer["width"] <= PHONE["width"]
    rows = chart.locator("g.mark")
    assert rows.count() > 5
    for index in range(rows.count()):
        row = rows.nth(index)
        name, value = box(row.locator("text.name")), box(row.locator("text.value"))
        assert name["x"] + name["width"] < value["x"], row.get_attribute("data-email")
        assert value["x"] + value["width"] <= outer["x"] + outer["width"] + 0.5
        bar = box(row.locator("rect.bar"))
        since = int(row.get_attribute("data-since") or 0)
        assert bar["width"] <= outer["width"] + 0.5
        assert (bar["width"] > 0) == (since > 0)
    for status, colour in COLOURS.items():
        bar = chart.locator(f"g.st-{status} rect.bar").first
        assert bar.evaluate("e => getComputedStyle(e).fill") == colour


def test_the_trend_chart_draws_every_point_inside_the_chart(board: Page) -> None:
    chart = board.locator("#trend-chart")
    expect(chart).to_be_visible()
    outer = box(chart)
    circles = chart.locator("circle")
    assert circles.count() == 4 * 13
    for index in range(circles.count()):
        point = box(circles.nth(index))
        assert outer["x"] <= point["x"]
        assert point["x"] + point["width"] <= outer["x"] + outer["width"]
        assert outer["y"] <= point["y"]
        assert point["y"] + point["height"] <= outer["y"] + outer["height"]
    line = chart.locator("g.series.st-healthy line").first
    assert line.evaluate("e => getComputedStyle(e).stroke") == COLOURS["healthy"]


def test_weak_ties_stay_folded_until_asked_for(board: Page) -> None:
    weak = board.locator('section.audit-group[data-status="weak_tie"]')
    summary = weak.locator("summary")
    expect(summary).to_contain_text("people you meet only in large meetings")
    rows = weak.locator("tbody tr")
    expect(rows.first).to_be_hidden()
    summary.click()
    expect(rows.first).to_be_visible()
    urgent = board.locator('section.audit-group[data-status="lapsed_one_on_one"] tbody tr')
    expect(urgent.first).to_be_visible()
