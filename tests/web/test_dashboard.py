"""The dashboard after a real pass, and tenant isolation: each account sees only its own.

Both accounts live in one database and one emulator; each has a contact the other
must never see, on the dashboard, on the settings page or through a form.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from starlette.testclient import TestClient

from nudger import accounts, contacts
from nudger.cycle import run_cycle
from nudger.runtime import Runtime
from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import SandboxAttendee, SandboxEvent
from nudger.web.app import create_app
from nudger.web.pages import local_time
from tests.web.conftest import NOW, OTHER, OWNER, csrf_of, sign_up, weekly_one_on_ones
from tests.web.test_links import act, link_url

OWNERS_CONTACT = "sam.ortiz@partner.example"
OTHERS_CONTACT = "riley.chen@vendor.example"


@pytest.fixture
def two_accounts(
    client: TestClient, other_client: TestClient, sandbox: Sandbox, runtime: Runtime
) -> None:
    weekly_one_on_ones(sandbox, OWNER, OWNERS_CONTACT, stopped=timedelta(days=45), weeks=40)
    weekly_one_on_ones(sandbox, OTHER, OTHERS_CONTACT, stopped=timedelta(days=45), weeks=40)
    sign_up(client, sandbox, OWNER)
    sign_up(other_client, sandbox, OTHER)
    reports = run_cycle(runtime, now=NOW)
    assert [r.error for r in reports] == [None, None]


@pytest.mark.usefixtures("two_accounts")
def test_dashboard_shows_the_audit_and_what_was_sent(client: TestClient) -> None:
    page = client.get("/dashboard")
    assert page.status_code == 200
    html = page.text
    assert 'data-status="neglected"' in html
    assert OWNERS_CONTACT in html
    assert "usually weekly; last met 33 working days ago" in html
    history = html[html.index('id="history"') :]
    assert OWNERS_CONTACT in history
    assert '<td data-label="What">nudge email</td>' in history
    assert "Wed 04 Mar 2026 10:00" in history, "times are shown on the owner's clock"


@pytest.mark.usefixtures("two_accounts")
def test_each_account_sees_only_its_own_contacts(
    client: TestClient, other_client: TestClient
) -> None:
    for page in ("/dashboard", "/settings"):
        mine, theirs = client.get(page).text, other_client.get(page).text
        assert OWNERS_CONTACT in mine
        assert OTHERS_CONTACT not in mine
        assert OTHERS_CONTACT in theirs
        assert OWNERS_CONTACT not in theirs


@pytest.mark.usefixtures("two_accounts")
def test_a_contact_form_changes_only_the_senders_account(
    other_client: TestClient, runtime: Runtime
) -> None:
    token = csrf_of(other_client)
    form = {"csrf_token": token, "section": "contact", "email": OWNERS_CONTACT, "muted": "on"}
    response = other_client.post("/settings", data=form)
    assert response.status_code == 303
    owner_id = accounts.find_account(runtime, OWNER).id
    other_id = accounts.find_account(runtime, OTHER).id
    mine = contacts.find_contact(runtime, owner_id, OWNERS_CONTACT)
    theirs = contacts.find_contact(runtime, other_id, OWNERS_CONTACT)
    assert mine is None or not mine.muted
    assert theirs is not None
    assert theirs.muted


def test_a_new_account_sees_an_empty_dashboard(client: TestClient, sandbox: Sandbox) -> None:
    sign_up(client, sandbox)
    html = client.get("/dashboard").text
    assert "has not synced your calendar" in html
    assert "Nothing queued." in html
    assert "Nothing sent yet." in html


def meet_sam(sandbox: Sandbox, start: datetime) -> None:
    """A half-hour one-on-one of the owner with their contact, in the emulator."""
    sandbox.world.put_event(
        sandbox.world.mailbox(OWNER),
        SandboxEvent(
            id=f"met{start:%Y%m%d%H%M}",
            start=start,
            end=start + timedelta(minutes=30),
            organizer=OWNER,
            attendees=[SandboxAttendee(OWNER, "Owner"), SandboxAttendee(OWNERS_CONTACT, "Sam")],
        ),
    )


def test_history_shows_which_nudges_got_no_reaction(sandbox: Sandbox, runtime: Runtime) -> None:
    weekly_one_on_ones(sandbox, OWNER, OWNERS_CONTACT, stopped=timedelta(days=45), weeks=40)
    a_week_on = NOW + timedelta(days=8)
    with TestClient(create_app(runtime, clock=lambda: a_week_on), follow_redirects=False) as web:
        sign_up(web, sandbox, OWNER)
        run_cycle(runtime, now=NOW)
        history = web.get("/dashboard").text.split('id="history"')[1]
        assert '<td data-label="Reaction" class="reaction ignored">no reaction</td>' in history
        meet_sam(sandbox, NOW + timedelta(days=2))
        run_cycle(runtime, now=a_week_on, dry_run=True)
        history = web.get("/dashboard").text.split('id="history"')[1]
        assert '<td data-label="Reaction" class="reaction">you met since</td>' in history


def test_a_booked_hold_says_booked_and_when_it_is(
    client: TestClient, sandbox: Sandbox, runtime: Runtime
) -> None:
    """Before the sync has seen the hold, the page says what is known: its length,
    its window and when it was booked; after, the time it was booked for."""
    weekly_one_on_ones(sandbox, OWNER, OWNERS_CONTACT, stopped=timedelta(days=45), weeks=40)
    sign_up(client, sandbox, OWNER)
    account_id = accounts.find_account(runtime, OWNER).id
    act(client, link_url(runtime, account_id, "book", OWNERS_CONTACT))
    run_cycle(runtime, now=NOW)
    html = client.get("/dashboard").text
    holds = html.split('id="holds"')[1].split("</table>")[0]
    assert OWNERS_CONTACT in holds
    assert "30 minutes within 10 days of Wed 04 Mar; the time shows after the next sync" in holds
    assert '<td data-label="State">booked</td>' in holds
    assert "after the next sync</span>" in holds
    history = html.split('id="history"')[1]
    assert '<td data-label="What">calendar hold</td>' in history
    assert '<td data-label="Outcome">booked</td>' in history

    run_cycle(runtime, now=NOW, dry_run=True)  # the sync sees the hold in the calendar
    holds = client.get("/dashboard").text.split('id="holds"')[1].split("</table>")[0]
    [start] = [e.start for e in sandbox.world.mailbox(OWNER).events.values() if e.private_props]
    assert f'<td data-label="When">{local_time(start, "Europe/London")}</td>' in holds
    assert "after the next sync" not in holds


def test_the_trend_follows_the_calendar_when_it_changes(
    client: TestClient, sandbox: Sandbox, runtime: Runtime
) -> None:
    """The trend is kept between page views, and computed again once the sync brings a
    change: a meeting found three weeks ago mends the weeks since."""
    weekly_one_on_ones(sandbox, OWNER, OWNERS_CONTACT, stopped=timedelta(days=45), weeks=40)
    sign_up(client, sandbox, OWNER)
    run_cycle(runtime, now=NOW, dry_run=True)
    before = trend_counts(client.get("/dashboard").text)
    assert before == trend_counts(client.get("/dashboard").text)
    assert before["healthy"][-4:] == [0, 0, 0, 0]
    meet_sam(sandbox, NOW - timedelta(days=21))
    run_cycle(runtime, now=NOW, dry_run=True)
    after = trend_counts(client.get("/dashboard").text)
    assert after["healthy"][-4:-1] != before["healthy"][-4:-1]
    assert after["healthy"][:-4] == before["healthy"][:-4], "weeks before it are as they were"


def trend_counts(html: str) -> dict[str, list[int]]:
    """Each line of the trend chart: its status and its counts, oldest first."""
    chart = html.split('id="trend-chart"')[1].split("</svg>")[0]
    series = re.findall(r'data-status="([a-z_]+)">(.*?)</g>', chart, re.DOTALL)
    return {
        status: [int(n) for n in re.findall(r'data-count="(\d+)"', marks)]
        for status, marks in series
    }
