"""``nudger serve --sandbox`` in a stock browser: no dead ends from sign-up to the mail.

Chromium runs here WITHOUT ``ignore_https_errors``: a navigation to the emulator's
self-signed HTTPS would fail with ``net::ERR_CERT_AUTHORITY_INVALID``, so reaching the
dashboard proves the browser only met plain-HTTP loopback pages (which browsers treat as
a secure context) while the client libraries talked HTTPS behind it.

Facts from the providers the sandbox copies: Google shows its consent screen on every
request with ``prompt=consent`` (nudger always sends it); Microsoft's sign-in page
pre-fills ``login_hint``'s account, and ``prompt=select_account`` "lists all the
accounts ... or an option to choose to use a different account altogether" (Microsoft
identity platform, OAuth 2.0 authorization code flow): the sandbox's page does both.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from cryptography.fernet import Fernet

from nudger.config import load_settings
from nudger.runtime import Runtime, open_runtime
from nudger.sandbox.orggen import GeneratedOrg
from nudger.sandbox.run import first_users, start_people_sandbox
from nudger.sandbox.server import Sandbox
from nudger.web.app import create_app
from tests.browser.conftest import NOW, require_browser
from tests.live_server import LiveServer

require_browser()

from playwright.sync_api import expect  # noqa: E402

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, ViewportSize

pytestmark = pytest.mark.browser

PHONE: ViewportSize = {"width": 390, "height": 844}


@pytest.fixture
def people() -> Iterator[tuple[Sandbox, list[GeneratedOrg]]]:
    """The emulator as ``serve --sandbox`` starts it: four users, the sign-in page on."""
    sandbox, orgs = start_people_sandbox(now=NOW)
    yield sandbox, orgs
    sandbox.stop()


def open_nudger(database_url: str, tmp_path: Path, base_url: str, **settings: str) -> Runtime:
    return open_runtime(
        load_settings(
            **settings,
            database_url=database_url,
            data_dir=tmp_path / "data",
            encryption_keys=Fernet.generate_key().decode(),
            base_url=base_url,
        )
    )


@pytest.fixture
def sandbox_app(
    people: tuple[Sandbox, list[GeneratedOrg]],
    live_server: LiveServer,
    database_url: str,
    tmp_path: Path,
) -> Iterator[str]:
    """The web app as ``serve --sandbox`` builds it, live."""
    sandbox, orgs = people
    runtime = open_nudger(database_url, tmp_path, live_server.base_url, **sandbox.settings())
    hints = first_users(orgs)
    live_server.start(
        create_app(runtime, login_hints=hints, clock=lambda: NOW, sandbox_world=sandbox.world)
    )
    yield live_server.base_url
    runtime.db.dispose()


@pytest.fixture
def stock(chromium: Browser, sandbox_app: str) -> Iterator[tuple[Page, list[str]]]:
    """A browser profile that trusts no self-signed certificate, and every URL it asked for."""
    context = chromium.new_context(base_url=sandbox_app)
    context.set_default_timeout(15_000)
    page = context.new_page()
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    yield page, asked
    context.close()


def connect(page: Page, provider_label: str, as_name: str, choose: str | None = None) -> None:
    """Sign up from the home page through the sandbox's sign-in page."""
    page.goto("/")
    page.get_by_role("link", name=f"Connect {provider_label}").click()
    expect(page.locator("#signing-in-as")).to_contain_text(as_name)
    if choose:
        page.get_by_role("link", name=re.compile(rf"^{choose} \(")).click()
        expect(page.locator("#signing-in-as")).to_contain_text(choose)
    page.get_by_role("button", name=re.compile(r"^Continue as ")).click()
    page.wait_for_url("**/start")  # the guided start, skipped here
    page.get_by_role("link", name="Skip to the dashboard").click()
    page.wait_for_url("**/dashboard")


def test_connect_google_reaches_the_dashboard_with_no_certificate_warning(
    stock: tuple[Page, list[str]], people: tuple[Sandbox, list[GeneratedOrg]]
) -> None:
    page, asked = stock
    sandbox = people[0]
    connect(page, "Google", "Alex Morgan (alex.morgan@northwind.example)")
    expect(page.get_by_role("heading", name="Your relationships")).to_be_visible()
    expect(page.locator("body")).to_contain_text("alex.morgan@northwind.example")
    assert sandbox.sign_in_url
    assert any(url.startswith(sandbox.sign_in_url) for url in asked), "no sign-in page met"
    assert not [url for url in asked if url.startswith("https:")], "the browser went to https"


def test_google_signs_in_another_sandbox_user_chosen_on_the_page(
    stock: tuple[Page, list[str]],
) -> None:
    page, _ = stock
    connect(page, "Google", "Alex Morgan", choose="Priya Shah")
    expect(page.locator("body")).to_contain_text("priya.shah@northwind.example")


def test_connect_microsoft_works_end_to_end_as_the_hinted_or_another_user(
    stock: tuple[Page, list[str]], people: tuple[Sandbox, list[GeneratedOrg]]
) -> None:
    page, asked = stock
    connect(page, "Microsoft 365", "Sam Rivera (sam.rivera@northwind.example)")
    expect(page.locator("body")).to_contain_text("sam.rivera@northwind.example")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/$"))

    connect(page, "Microsoft 365", "Sam Rivera", choose="Jonas Berg")
    expect(page.locator("body")).to_contain_text("jonas.berg@northwind.example")
    assert not [url for url in asked if url.startswith("https:")]
    assert "AADSTS" not in page.content()


def test_every_mail_is_whole_and_a_used_book_link_says_it_is_booked(
    stock: tuple[Page, list[str]],
) -> None:
    page, _ = stock
    connect(page, "Google", "Alex Morgan")
    page.get_by_role("link", name="Sandbox mail").click()
    page.get_by_role("button", name="Sync, analyse and nudge now").click()
    expect(page.locator("#ran")).to_contain_text(re.compile(r"\d+ emails? sent"))
    for viewport in (None, PHONE):
        if viewport:
            page.set_viewport_size(viewport)
        assert_every_mail_whole(page)

    book = page.locator("section.mail").get_by_role("link", name="Book time").first
    link = book.get_attribute("href")
    assert link
    book.click()
    page.get_by_role("button", name="Yes, book the time").click()
    expect(page.get_by_role("heading", name="Done")).to_be_visible()
    for _ in range(2):  # the first pass books the hold, the second syncs it back
        page.goto("/sandbox")
        page.get_by_role("button", name="Sync, analyse and nudge now").click()
        expect(page.locator("#ran")).to_be_visible()
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Already booked")
    expect(page.locator("body")).to_contain_text(re.compile(r"is in your calendar on \w{3} "))
    expect(page.get_by_role("button", name="Yes, book the time")).to_have_count(0)


def assert_every_mail_whole(page: Page) -> None:
    """Each mail's last line (its footer) lies inside the mail, nothing scrolls inside."""
    clipped = page.evaluate(
        """() => [...document.querySelectorAll("section.mail .sandbox-mail")].filter(mail => {
            const last = [...mail.querySelectorAll("p")].pop();
            const box = mail.getBoundingClientRect(), end = last.getBoundingClientRect();
            return end.bottom > box.bottom + 1 || mail.scrollHeight > mail.clientHeight + 1
                || end.height === 0;
        }).length"""
    )
    footers = page.locator("section.mail").get_by_text("Sent by nudger from your own mailbox")
    expect(footers.first).to_be_visible()
    assert footers.count() == page.locator("section.mail").count()
    assert clipped == 0, "a mail is cut off"


def test_a_provider_without_its_client_cannot_be_followed_by_keyboard(
    chromium: Browser, live_server: LiveServer, database_url: str, tmp_path: Path
) -> None:
    runtime = open_nudger(database_url, tmp_path, live_server.base_url)  # no client ids
    live_server.start(create_app(runtime, clock=lambda: NOW))
    context = chromium.new_context(base_url=live_server.base_url)
    page = context.new_page()
    try:
        page.goto("/")
        expect(page.locator("#setup-google")).to_contain_text("NUDGER_GOOGLE_CLIENT_ID")
        expect(page.locator("#setup-microsoft")).to_contain_text("NUDGER_MICROSOFT_CLIENT_ID")
        focused = []
        for _ in range(8):  # every stop of the Tab order, round to the address bar
            page.keyboard.press("Tab")
            focused.append(page.evaluate("document.activeElement.textContent.trim()"))
            page.keyboard.press("Enter")
            assert page.url == f"{live_server.base_url}/", f"Enter on {focused[-1]!r} navigated"
        assert not [text for text in focused if text.startswith("Connect")]
    finally:
        context.close()
        runtime.db.dispose()
