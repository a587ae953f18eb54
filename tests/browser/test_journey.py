"""A user's first week in a real browser: sign up through the sandbox provider, read
the audit, tell nudger who someone is, then snooze a contact from a nudge email.

Headless Chromium (Debian's) talks to the real web app over HTTP and to the emulator
over HTTPS; the cycle runs in between as the scheduler would run it.
"""

from __future__ import annotations

import email.parser
import email.policy
import re
from email.message import EmailMessage
from typing import TYPE_CHECKING

import pytest

from nudger import accounts, contacts
from nudger.cycle import run_cycle
from nudger.delivery.links import read_token, signing_key
from nudger.runtime import Runtime
from nudger.sandbox.orggen import GeneratedOrg
from nudger.sandbox.server import Sandbox
from nudger.web.actions import SNOOZE
from tests.browser.conftest import NOW, require_browser

require_browser()

from playwright.sync_api import expect  # noqa: E402

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

_SNOOZE_LINE = re.compile(r"^Snooze 2 weeks: (\S+)", re.MULTILINE)


def pattern_email(org: GeneratedOrg, pattern: str) -> str:
    return next(e.email for e in org.expectations if e.pattern == pattern)


def sign_up_with_google(page: Page, sandbox: Sandbox, org: GeneratedOrg) -> None:
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))
    page.goto("/")
    expect(page.get_by_text(f"Google signs you in as {org.owner.email}")).to_be_visible()
    page.get_by_role("link", name="Connect Google").click()
    page.wait_for_url("**/start")  # the guided start, skipped here
    page.get_by_role("link", name="Skip to the dashboard").click()
    page.wait_for_url("**/dashboard")
    consent = f"{sandbox.base_url}/o/oauth2/v2/auth?"
    assert any(url.startswith(consent) for url in seen), "the browser never met the emulator"


def nudge_emails(sandbox: Sandbox) -> list[EmailMessage]:
    parser = email.parser.BytesParser(policy=email.policy.default)
    messages = [parser.parsebytes(sent.raw) for sent in sandbox.world.sent]
    assert all(isinstance(m, EmailMessage) for m in messages)
    return [m for m in messages if isinstance(m, EmailMessage)]


def snooze_link(message: EmailMessage, app_url: str) -> str:
    """The "Snooze 2 weeks" URL of the text part; the HTML part has the same one."""
    text, html = (message.get_body(preferencelist=(kind,)) for kind in ("plain", "html"))
    assert text is not None
    assert html is not None
    found = _SNOOZE_LINE.search(text.get_content())
    assert found, "no snooze link in the email"
    url = found.group(1)
    assert url.startswith(f"{app_url}/a/snooze/")
    assert f'href="{url}"' in html.get_content()
    return url


def link_contact(runtime: Runtime, url: str) -> str:
    """Whom the link is about, read from its signed token as the app reads it."""
    token = url.rsplit("/", 1)[1]
    key = signing_key(runtime.settings, runtime.cipher)
    return read_token(key, "snooze", token).contact_email


def test_sign_up_read_audit_change_a_role_and_snooze_from_an_email(
    page: Page, sandbox: Sandbox, org: GeneratedOrg, runtime: Runtime, app_url: str
) -> None:
    sign_up_with_google(page, sandbox, org)
    expect(page.get_by_role("heading", name="Your relationships")).to_be_visible()
    expect(page.get_by_text("nudger has not synced your calendar")).to_be_visible()
    account_id = accounts.find_account(runtime, org.owner.email).id

    run_cycle(runtime, now=NOW, dry_run=True)  # the first sync: analysis, nothing queued
    page.reload()
    audit_group = page.locator("section.audit-group")
    expect(audit_group.and_(page.locator('[data-status="lapsed_one_on_one"]'))).to_contain_text(
        pattern_email(org, "dr-series-ended")
    )

    peer = pattern_email(org, "peer-fading")
    set_role_in_settings(page, peer, "peer")
    stored = contacts.find_contact(runtime, account_id, peer)
    assert stored is not None
    assert stored.role == "peer"

    run_cycle(runtime, now=NOW)  # a weekday morning: nudge emails go out
    emails = nudge_emails(sandbox)
    assert emails, "the cycle sent no nudge email"
    url = snooze_link(emails[0], app_url)
    who = link_contact(runtime, url)

    page.goto(url)  # only asks: mail scanners fetch links too
    expect(page.get_by_role("heading", level=1)).to_have_text(
        re.compile(rf"^Snooze .*{re.escape(who)}.*\?$")
    )
    before = contacts.find_contact(runtime, account_id, who)
    assert before is None or before.snoozed_until is None
    page.get_by_role("button", name="Yes, snooze").click()
    expect(page.get_by_role("heading", name="Done")).to_be_visible()
    expect(page.get_by_text("No nudges about")).to_contain_text(who)
    after = contacts.find_contact(runtime, account_id, who)
    assert after is not None
    assert after.snoozed_until == NOW + SNOOZE

    page.goto("/settings")
    expect(page.get_by_label(f"Snooze {who} until")).to_have_value(
        (NOW + SNOOZE).date().isoformat()
    )


def set_role_in_settings(page: Page, contact: str, role: str) -> None:
    page.get_by_role("link", name="Settings").click()
    page.get_by_label(f"Role of {contact}").select_option(role)
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/settings?saved=all")
    expect(page.locator("#saved")).to_have_text("Saved.")
    expect(page.get_by_label(f"Role of {contact}")).to_have_value(role)
