"""/account/delete over HTTP: typed confirmation, revoke at the provider, every row gone.

Two accounts share the database and the emulator; each has synced a calendar,
has contacts and an outbox. Deleting one takes all of its rows and its grant at
Google, and nothing of the other's. A revoke the provider refuses deletes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from nudger import accounts
from nudger.cycle import run_cycle
from nudger.runtime import Runtime
from nudger.sandbox import google_tokens
from nudger.sandbox.server import GOOGLE_CLIENT, Sandbox
from nudger.sandbox.world import Fault, Mailbox
from nudger.store.db import session_scope
from nudger.store.models import Account, Base, EventAttendee, OAuthPending
from tests.web.conftest import NOW, OTHER, OWNER, csrf_of, new_client, sign_up, weekly_one_on_ones

NEWCOMER = "casey@sandbox.example"
CONTACTS = {OWNER: "sam.ortiz@partner.example", OTHER: "riley.chen@vendor.example"}
COLLEAGUES = {OWNER: "dana.fox@sandbox.example", OTHER: "eli.park@sandbox.example"}
"""Colleagues in the owners' own domain, whose free/busy nudger reads (contact_schedules)."""
ACCOUNT_TABLES = {"calendars", "events", "contacts", "nudges"}
"""The tables with an ``account_id`` column (checked against the models below)."""


# --- helpers ------------------------------------------------------------------------------


def rows_of(runtime: Runtime, account_id: int) -> dict[str, int]:
    """How many rows of each table belong to the account."""
    counts: dict[str, int] = {}
    with session_scope(runtime.db) as session:
        counts["accounts"] = session.execute(
            select(func.count()).select_from(Account).where(Account.id == account_id)
        ).scalar_one()
        for table in Base.metadata.sorted_tables:
            if "account_id" in table.c:
                query = select(func.count()).select_from(table)
                mine = query.where(table.c.account_id == account_id)
                counts[table.name] = session.execute(mine).scalar_one()
        events = Base.metadata.tables["events"]
        its_events = select(events.c.id).where(events.c.account_id == account_id)
        counts["event_attendees"] = session.execute(
            select(func.count())
            .select_from(EventAttendee)
            .where(EventAttendee.event_id.in_(its_events))
        ).scalar_one()
    return counts


def pending_sign_ins(runtime: Runtime) -> int:
    with session_scope(runtime.db) as session:
        return session.scalar(select(func.count()).select_from(OAuthPending)) or 0


def live_grants(sandbox: Sandbox, user: str) -> list[str]:
    """The tokens Google (the emulator) would still honour for ``user``."""
    with sandbox.world.lock:
        tokens = google_tokens.tokens(sandbox.world)
        return [key for key, token in tokens.items() if token.user == user]


def consented(sandbox: Sandbox, user: str) -> bool:
    with sandbox.world.lock:
        return (GOOGLE_CLIENT[0], user) in google_tokens.consents(sandbox.world)


def revocations(sandbox: Sandbox) -> int:
    with sandbox.world.lock:
        return sum(1 for r in sandbox.world.requests if r.method == "POST" and r.path == "/revoke")


def delete(client: TestClient, typed: str) -> tuple[int, str]:
    token = csrf_of(client, "/account/delete")
    response = client.post("/account/delete", data={"csrf_token": token, "email": typed})
    return response.status_code, response.text


def set_a_role(client: TestClient, contact: str) -> None:
    """Through the settings form, so each account has a contact row of its own."""
    form = {"section": "contact", "email": contact, "role": "mentor"}
    response = client.post("/settings", data={**form, "csrf_token": csrf_of(client)})
    assert response.status_code == 303


@pytest.fixture
def ids(
    client: TestClient, other_client: TestClient, sandbox: Sandbox, runtime: Runtime
) -> dict[str, int]:
    """OTHER, then OWNER (so OWNER has the highest id), both synced with an outbox."""
    for email, browser in ((OTHER, other_client), (OWNER, client)):
        weekly_one_on_ones(sandbox, email, CONTACTS[email], stopped=timedelta(days=60))
        weekly_one_on_ones(sandbox, email, COLLEAGUES[email], stopped=timedelta(days=7))
        sign_up(browser, sandbox, email)
        set_a_role(browser, CONTACTS[email])
    assert [r.error for r in run_cycle(runtime, now=NOW)] == [None, None]
    found = {email: accounts.find_account(runtime, email).id for email in (OWNER, OTHER)}
    for email, account_id in found.items():
        counts = rows_of(runtime, account_id)
        assert set(counts) >= ACCOUNT_TABLES
        assert all(counts.values()), f"{email} has an empty table: {counts}"
        assert live_grants(sandbox, email)
    assert pending_sign_ins(runtime) == 0
    return found


@pytest.fixture
def second_browser(runtime: Runtime, sandbox: Sandbox) -> Iterator[TestClient]:
    with new_client(runtime) as browser:
        yield browser


# --- the page ---------------------------------------------------------------------------------


def test_the_page_asks_the_signed_in_account_to_type_its_address(
    client: TestClient, ids: dict[str, int]
) -> None:
    page = client.get("/account/delete")
    assert page.status_code == 200
    assert OWNER in page.text
    assert OTHER not in page.text
    assert 'action="/account/delete"' in page.text
    assert 'name="email"' in page.text
    assert 'name="csrf_token"' in page.text


# --- refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["", "alex@sandbox.exampl", "alex", OTHER])
def test_the_wrong_address_deletes_nothing(
    client: TestClient, sandbox: Sandbox, runtime: Runtime, ids: dict[str, int], typed: str
) -> None:
    before = {email: rows_of(runtime, account_id) for email, account_id in ids.items()}
    status, text = delete(client, typed)
    assert status == 400
    assert "type your address exactly" in text
    assert {email: rows_of(runtime, account_id) for email, account_id in ids.items()} == before
    assert revocations(sandbox) == 0
    assert live_grants(sandbox, OWNER)
    assert client.get("/dashboard").status_code == 200  # still signed in


def test_a_revoke_the_provider_refuses_deletes_nothing_and_says_so(
    client: TestClient, sandbox: Sandbox, runtime: Runtime, ids: dict[str, int]
) -> None:
    before = {email: rows_of(runtime, account_id) for email, account_id in ids.items()}
    sandbox.world.faults.append(Fault("/revoke", 503, count=5))
    status, text = delete(client, OWNER)
    assert status == 502
    assert "Nothing was deleted" in text
    assert {email: rows_of(runtime, account_id) for email, account_id in ids.items()} == before
    assert live_grants(sandbox, OWNER)
    assert consented(sandbox, OWNER)
    assert client.get("/dashboard").status_code == 200  # still signed in: try again later

    sandbox.world.faults.clear()
    assert delete(client, OWNER)[0] == 200  # later, the same form works
    assert rows_of(runtime, ids[OWNER])["accounts"] == 0
    assert live_grants(sandbox, OWNER) == []


# --- deletion ------------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", [OWNER, "  Alex@Sandbox.Example "])
def test_the_right_address_deletes_every_row_and_the_grant(
    client: TestClient, sandbox: Sandbox, runtime: Runtime, ids: dict[str, int], typed: str
) -> None:
    others_before = rows_of(runtime, ids[OTHER])
    status, text = delete(client, typed)
    assert status == 200
    assert "Goodbye" in text
    assert OWNER in text

    gone = rows_of(runtime, ids[OWNER])
    assert set(gone) >= ACCOUNT_TABLES | {"accounts", "event_attendees"}
    assert gone == dict.fromkeys(gone, 0)
    assert pending_sign_ins(runtime) == 0
    assert [a.email for a in accounts.list_accounts(runtime)] == [OTHER]

    # Revoked at Google: one revoke call, no token left for OWNER, the consent withdrawn.
    assert revocations(sandbox) == 1
    assert live_grants(sandbox, OWNER) == []
    assert not consented(sandbox, OWNER)

    # Signed out: signed-in pages send the browser back to the sign-up page.
    dashboard = client.get("/dashboard")
    assert dashboard.status_code == 303
    assert dashboard.headers["location"] == "/"

    # The other account keeps everything, at nudger and at Google.
    assert rows_of(runtime, ids[OTHER]) == others_before
    assert live_grants(sandbox, OTHER)
    assert consented(sandbox, OTHER)
    assert other_client_sees_dashboard(runtime, sandbox)


def other_client_sees_dashboard(runtime: Runtime, sandbox: Sandbox) -> bool:
    """OTHER can still sign in and use nudger after OWNER left."""
    with new_client(runtime) as browser:
        sign_up(browser, sandbox, OTHER)
        page = browser.get("/dashboard")
        return page.status_code == 200 and OTHER in page.text


def test_a_grant_already_revoked_at_google_still_deletes(
    client: TestClient, sandbox: Sandbox, runtime: Runtime, ids: dict[str, int]
) -> None:
    """The user removed nudger at myaccount.google.com first: Google answers 400 to the
    revoke, which means the grant is gone already, so the rows go too."""
    for token in live_grants(sandbox, OWNER):
        google_tokens.revoke_token(sandbox.world, token)
    assert live_grants(sandbox, OWNER) == []
    status, _ = delete(client, OWNER)
    assert status == 200
    assert rows_of(runtime, ids[OWNER])["accounts"] == 0
    assert live_grants(sandbox, OTHER)


def test_another_browser_of_the_deleted_account_is_signed_out_for_good(
    client: TestClient,
    second_browser: TestClient,
    sandbox: Sandbox,
    runtime: Runtime,
    ids: dict[str, int],
) -> None:
    """The phone still holds a session cookie for the deleted account. It must not open
    anyone's dashboard, even once a newcomer's account is created after the deletion."""
    sign_up(second_browser, sandbox, OWNER)
    assert second_browser.get("/dashboard").status_code == 200
    assert delete(client, OWNER)[0] == 200
    assert second_browser.get("/dashboard").status_code == 303

    sandbox.world.add_mailbox(Mailbox(NEWCOMER, "Casey Lee", "google"))
    with new_client(runtime) as newcomer:
        sign_up(newcomer, sandbox, NEWCOMER)
    assert accounts.find_account(runtime, NEWCOMER).id != ids[OWNER]
    for page in ("/dashboard", "/settings", "/account/delete"):
        response = second_browser.get(page)
        assert response.status_code == 303, f"{page} opened for a deleted account's cookie"
        assert NEWCOMER not in response.text
