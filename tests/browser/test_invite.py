"""Inviting the person in a real browser: the hold nudger booked becomes an invitation
after one click on the confirmation page (and only after it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from nudger import accounts
from nudger.cycle import run_cycle
from nudger.delivery.links import ActionLink, action_url, signing_key
from nudger.runtime import Runtime
from nudger.sandbox.orggen import GeneratedOrg
from nudger.sandbox.server import Sandbox
from nudger.store.db import session_scope
from nudger.store.models import Nudge
from tests.browser.conftest import NOW, require_browser
from tests.browser.test_journey import sign_up_with_google

require_browser()

from playwright.sync_api import expect  # noqa: E402

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser


def a_booked_hold(runtime: Runtime) -> tuple[str, str]:
    """(contact, provider event id) of one hold the cycle booked."""
    with session_scope(runtime.db) as session:
        query = select(Nudge).where(Nudge.kind == "hold", Nudge.status == "sent")
        row = session.scalars(query.order_by(Nudge.id)).first()
        assert row is not None, "the cycle booked no hold"
        assert row.provider_ref
        return row.contact_email, row.provider_ref


def test_the_invite_button_turns_the_hold_into_an_invitation(
    page: Page, sandbox: Sandbox, org: GeneratedOrg, runtime: Runtime
) -> None:
    sign_up_with_google(page, sandbox, org)
    run_cycle(runtime, now=NOW)  # books holds (and sends nudge emails)
    run_cycle(runtime, now=NOW)  # syncs the holds back: their times are known
    contact, event_id = a_booked_hold(runtime)
    owner = accounts.find_account(runtime, org.owner.email).id
    key = signing_key(runtime.settings, runtime.cipher)
    url = action_url(runtime.settings.public_url, key, ActionLink("invite", owner, contact))

    page.goto(url)
    expect(page.get_by_role("heading")).to_contain_text("Invite")
    expect(page.locator("main, body")).to_contain_text("your hold on")
    calendar = sandbox.world.mailbox(org.owner.email).events
    assert calendar[event_id].attendees == [], "opening the page invites nobody"
    page.get_by_role("button", name="Yes, invite them").click()
    expect(page.get_by_role("heading", name="Done")).to_be_visible()
    run_cycle(runtime, now=NOW)

    assert [a.email for a in calendar[event_id].attendees] == [contact]
    page.goto(url)
    expect(page.get_by_role("heading", name="Invited")).to_be_visible()
