"""One-click links from nudge emails: ``/a/{action}/{token}``, over HTTP.

Tokens are made the way emails make them (``links.action_url`` with the runtime's
signing key). GET only asks; POST with the confirmation page's proof acts, once,
however often it is sent. Anything forged, tampered, expired, mis-scoped or for an
account that is gone is a 400 and changes nothing. No session is needed.
"""

from __future__ import annotations

import email
import json
import re
import time
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from email.policy import default
from zoneinfo import ZoneInfo

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import select
from starlette.testclient import TestClient

from nudger import accounts, contacts
from nudger.analysis.model import ContactPrefs
from nudger.cycle import run_cycle
from nudger.delivery.links import ACTIONS, LINK_TTL, ActionLink, action_url, make_token, signing_key
from nudger.runtime import Runtime
from nudger.sandbox.server import Sandbox
from nudger.store.db import session_scope
from nudger.store.models import Account, Contact, Nudge
from nudger.web.pages import DATETIME
from tests.web.conftest import NOW, OTHER, OWNER, new_client, proof_of, sign_up, weekly_one_on_ones

CONTACT = "sam.ortiz@partner.example"
CONTACT_NAME = "Sam Ortiz"
SNOOZE = timedelta(days=14)
ASKING = tuple(a for a in ACTIONS if a != "invite")
"""Actions whose page always asks: ``invite`` asks only once there is a hold to invite
into (``test_invite_link.py``)."""
PEER_IDEAL = timedelta(days=30)
"""``roles.peer.ideal_days`` in the shipped rules: the cadence of a peer never met."""


# --- helpers ------------------------------------------------------------------------------


def link_url(runtime: Runtime, account_id: int, action: str, contact: str = CONTACT) -> str:
    """The URL a nudge email carries for this action (see ``delivery.service._links``)."""
    key = signing_key(runtime.settings, runtime.cipher)
    return action_url(runtime.settings.public_url, key, ActionLink(action, account_id, contact))


def token_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


def token_signed_ago(runtime: Runtime, link: ActionLink, age: timedelta) -> str:
    """nudger's own token for ``link`` as it would have been signed ``age`` ago.

    itsdangerous stamps a token with ``TimestampSigner.get_timestamp``; setting that
    clock back for the one call gives a genuinely old token, in nudger's exact format.
    """
    stamp = int(time.time() - age.total_seconds())  # links expire by the wall clock
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(TimestampSigner, "get_timestamp", lambda self: stamp)
        return make_token(signing_key(runtime.settings, runtime.cipher), link)


def other_token(url: str, changed_at: int) -> str:
    """The URL's token with one character replaced by another of the same alphabet
    (the first base64 character from ``changed_at`` on: the dots separate fields)."""
    token = token_of(url)
    while token[changed_at] == ".":
        changed_at += 1
    swap = "B" if token[changed_at] == "A" else "A"
    return token[:changed_at] + swap + token[changed_at + 1 :]


def confirm(client: TestClient, url: str) -> str:
    """GET the link as the user's browser (or a mail scanner) does; the page's proof."""
    page = client.get(url)
    assert page.status_code == 200, page.text
    return proof_of(page.text)


def act(client: TestClient, url: str) -> str:
    """Open the link and press the button: GET, then POST with the page's proof."""
    response = client.post(url, data={"confirm": confirm(client, url)})
    assert response.status_code == 200, response.text
    return response.text


def state(runtime: Runtime) -> tuple[object, ...]:
    """Everything a link could change: every contact row, every outbox row, and each
    account's settings (a crunch)."""
    with session_scope(runtime.db) as session:
        people = session.scalars(select(Contact).order_by(Contact.account_id, Contact.email))
        rows = session.scalars(select(Nudge).order_by(Nudge.id))
        owners = session.scalars(select(Account).order_by(Account.id))
        return (
            tuple((a.id, json.dumps(a.settings, sort_keys=True)) for a in owners),
            tuple(
                (c.account_id, c.email, c.snoozed_until, c.muted, c.cadence_override_days)
                for c in people
            ),
            tuple((n.account_id, n.key, n.kind, n.rule, n.status, n.contact_email) for n in rows),
        )


def holds(runtime: Runtime, account_id: int) -> list[Nudge]:
    with session_scope(runtime.db) as session:
        query = select(Nudge).where(Nudge.account_id == account_id, Nudge.kind == "hold")
        return list(session.scalars(query))


def contact(runtime: Runtime, account_id: int) -> ContactPrefs:
    found = contacts.find_contact(runtime, account_id, CONTACT)
    assert found is not None
    return found


@pytest.fixture
def account_id(client: TestClient, sandbox: Sandbox, runtime: Runtime) -> int:
    """OWNER connected through the web sign-up, with one named contact (a peer)."""
    sign_up(client, sandbox)
    owner = accounts.find_account(runtime, OWNER).id
    contacts.set_role(runtime, owner, CONTACT, "peer", name=CONTACT_NAME)
    return owner


@pytest.fixture
def stranger(runtime: Runtime) -> Iterator[TestClient]:
    """A browser that never signed in: no cookies at all."""
    with new_client(runtime) as browser:
        yield browser


# --- GET asks, POST acts --------------------------------------------------------------------


@pytest.mark.parametrize("action", ASKING)
def test_get_shows_a_confirmation_naming_the_contact_and_changes_nothing(
    client: TestClient, runtime: Runtime, account_id: int, action: str
) -> None:
    url = link_url(runtime, account_id, action)
    before = state(runtime)
    for _ in range(2):  # a mail scanner's pre-fetch, then the user's click
        page = client.get(url)
        assert page.status_code == 200
        assert CONTACT_NAME in page.text
        assert CONTACT in page.text
        assert '<form method="post">' in page.text
        assert proof_of(page.text)
    assert state(runtime) == before
    assert contact(runtime, account_id).snoozed_until is None
    assert not contact(runtime, account_id).muted
    assert holds(runtime, account_id) == []


def test_snooze_rests_the_contact_for_two_weeks(
    client: TestClient, runtime: Runtime, account_id: int
) -> None:
    done = act(client, link_url(runtime, account_id, "snooze"))
    assert CONTACT_NAME in done
    assert contact(runtime, account_id).snoozed_until == NOW + SNOOZE
    assert not contact(runtime, account_id).muted
    assert holds(runtime, account_id) == []


def test_mute_mutes_the_contact(client: TestClient, runtime: Runtime, account_id: int) -> None:
    act(client, link_url(runtime, account_id, "mute"))
    assert contact(runtime, account_id).muted
    assert contact(runtime, account_id).snoozed_until is None


def test_talked_snoozes_for_the_cadence_the_user_set(
    client: TestClient, runtime: Runtime, account_id: int
) -> None:
    contacts.update_contact(
        runtime,
        account_id,
        ContactPrefs(CONTACT, CONTACT_NAME, "peer", cadence_override_days=10),
    )
    act(client, link_url(runtime, account_id, "talked"))
    assert contact(runtime, account_id).snoozed_until == NOW + timedelta(days=10)
    assert not contact(runtime, account_id).muted


def test_talked_without_a_calendar_history_snoozes_for_the_roles_cadence(
    client: TestClient, runtime: Runtime, account_id: int
) -> None:
    act(client, link_url(runtime, account_id, "talked"))
    assert contact(runtime, account_id).snoozed_until == NOW + PEER_IDEAL


def test_book_queues_exactly_one_hold(
    client: TestClient, runtime: Runtime, account_id: int
) -> None:
    done = act(client, link_url(runtime, account_id, "book"))
    assert "queued" in done
    [hold] = holds(runtime, account_id)
    assert (hold.contact_email, hold.rule, hold.status) == (CONTACT, "link_book", "pending")
    assert hold.payload["contact_name"] == CONTACT_NAME
    assert contact(runtime, account_id).snoozed_until is None


def test_a_used_book_link_says_what_became_of_its_hold_instead_of_asking_again(
    client: TestClient, sandbox: Sandbox, runtime: Runtime, account_id: int
) -> None:
    url = link_url(runtime, account_id, "book")
    proof = confirm(client, url)
    assert "queued" in act(client, url)
    queued = client.get(url).text
    run_cycle(runtime, now=NOW)  # books the hold
    booked = client.get(url).text
    run_cycle(runtime, now=NOW)  # syncs it back: now nudger knows when it is
    synced = client.get(url).text
    posted_again = client.post(url, data={"confirm": proof}).text

    assert 'name="confirm"' not in queued + booked + synced, "no button to book it again"
    assert "Already asked" in queued
    assert "is queued" in queued
    assert "Already booked" in booked
    assert "once nudger has synced your calendar" in booked
    [hold] = [e for e in sandbox.world.mailbox(OWNER).events.values() if e.private_props]
    when = hold.start.astimezone(ZoneInfo("Europe/London")).strftime(DATETIME)
    assert f"is in your calendar on {when} (Europe/London)" in synced
    assert f"on {when}" in posted_again
    assert len(holds(runtime, account_id)) == 1


@pytest.mark.parametrize("action", ASKING)
def test_posting_twice_is_the_same_as_once(
    client: TestClient, runtime: Runtime, account_id: int, action: str
) -> None:
    url = link_url(runtime, account_id, action)
    proof = confirm(client, url)
    before = state(runtime)
    assert client.post(url, data={"confirm": proof}).status_code == 200
    once = state(runtime)
    assert once != before
    assert client.post(url, data={"confirm": proof}).status_code == 200
    assert client.get(url).status_code == 200
    assert state(runtime) == once
    assert len(holds(runtime, account_id)) == (1 if action == "book" else 0)


def test_a_later_snooze_never_shortens_a_longer_one(
    client: TestClient, runtime: Runtime, account_id: int
) -> None:
    contacts.snooze(runtime, account_id, CONTACT, NOW + timedelta(days=60))
    act(client, link_url(runtime, account_id, "snooze"))
    assert contact(runtime, account_id).snoozed_until == NOW + timedelta(days=60)


# --- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ASKING)
@pytest.mark.parametrize("proof", ["none", "empty", "wrong", "another links"])
def test_a_post_without_the_pages_proof_is_refused_and_changes_nothing(
    client: TestClient, runtime: Runtime, account_id: int, action: str, proof: str
) -> None:
    url = link_url(runtime, account_id, action)
    other_action = "mute" if action != "mute" else "snooze"
    sent = {
        "none": {},
        "empty": {"confirm": ""},
        "wrong": {"confirm": "0" * 64},
        "another links": {"confirm": confirm(client, link_url(runtime, account_id, other_action))},
    }[proof]
    before = state(runtime)
    response = client.post(url, data=sent)
    assert response.status_code == 403
    assert state(runtime) == before


TAMPERED = ["payload char", "middle char", "signature char", "snooze on mute", "unknown action"]
TAMPERED += ["another key", "garbage"]


def tampered_url(genuine: str, how: str, account_id: int) -> str:
    """The genuine snooze link, altered as ``how`` says."""
    base, token = genuine.split("/a/snooze/")
    if how == "payload char":
        return f"{base}/a/snooze/{other_token(genuine, 1)}"
    if how == "middle char":
        return f"{base}/a/snooze/{other_token(genuine, len(token) // 2)}"
    if how == "signature char":
        # Not the very last character: its low bits are base64 padding, which decoders
        # ignore, so changing only those would leave the same signature.
        return f"{base}/a/snooze/{other_token(genuine, len(token) - 3)}"
    if how == "snooze on mute":
        return f"{base}/a/mute/{token}"
    if how == "unknown action":
        return f"{base}/a/delete/{token}"
    if how == "another key":
        forged = make_token(b"not nudger's key", ActionLink("snooze", account_id, CONTACT))
        return f"{base}/a/snooze/{forged}"
    return f"{base}/a/snooze/not-a-token"


@pytest.mark.parametrize("how", TAMPERED)
def test_a_tampered_or_forged_link_is_a_400_and_changes_nothing(
    client: TestClient, runtime: Runtime, account_id: int, how: str
) -> None:
    genuine = link_url(runtime, account_id, "snooze")
    genuine_proof = confirm(client, genuine)  # the proof is for this token, whatever the action
    url = tampered_url(genuine, how, account_id)
    assert url != genuine
    before = state(runtime)
    page = client.get(url)
    assert page.status_code == 400
    assert "does not work" in page.text
    assert 'name="confirm"' not in page.text
    assert client.post(url, data={"confirm": genuine_proof}).status_code == 400
    assert state(runtime) == before


def test_a_link_older_than_its_lifetime_is_refused(
    client: TestClient, runtime: Runtime, account_id: int
) -> None:
    link = ActionLink("snooze", account_id, CONTACT)
    snooze = f"{runtime.settings.public_url}/a/snooze/"
    fresh_enough = snooze + token_signed_ago(runtime, link, LINK_TTL - timedelta(days=1))
    expired = snooze + token_signed_ago(runtime, link, LINK_TTL + timedelta(hours=1))
    before = state(runtime)

    page = client.get(expired)
    assert page.status_code == 400
    assert "expired" in page.text
    assert client.post(expired, data={"confirm": confirm(client, fresh_enough)}).status_code == 400
    assert state(runtime) == before

    act(client, fresh_enough)  # a day short of the lifetime: still good
    assert contact(runtime, account_id).snoozed_until == NOW + SNOOZE


@pytest.mark.parametrize("action", ASKING)
def test_a_link_of_a_removed_account_is_a_400(
    client: TestClient, runtime: Runtime, account_id: int, action: str
) -> None:
    url = link_url(runtime, account_id, action)
    proof = confirm(client, url)
    accounts.remove_account(runtime, OWNER)
    assert client.get(url).status_code == 400
    assert client.post(url, data={"confirm": proof}).status_code == 400
    assert state(runtime) == ((), (), ())


@pytest.mark.parametrize("action", ASKING)
def test_a_link_of_a_removed_account_never_reaches_the_next_account(
    client: TestClient,
    other_client: TestClient,
    sandbox: Sandbox,
    runtime: Runtime,
    account_id: int,
    action: str,
) -> None:
    """An account created after the removal (maybe under the same row id) is not the
    removed account: the old email's link must not act on it."""
    url = link_url(runtime, account_id, action)
    proof = confirm(client, url)
    accounts.remove_account(runtime, OWNER)
    sign_up(other_client, sandbox, OTHER)
    other_id = accounts.find_account(runtime, OTHER).id
    contacts.set_role(runtime, other_id, CONTACT, "peer", name=CONTACT_NAME)
    before = state(runtime)
    assert client.get(url).status_code == 400
    assert client.post(url, data={"confirm": proof}).status_code == 400
    assert state(runtime) == before


@pytest.mark.parametrize("action", ASKING)
def test_links_need_no_session(
    stranger: TestClient, runtime: Runtime, account_id: int, action: str
) -> None:
    assert not stranger.cookies
    url = link_url(runtime, account_id, action)
    before = state(runtime)
    act(stranger, url)
    assert state(runtime) != before
    assert stranger.get("/dashboard").status_code == 303  # and it signed nobody in


def test_a_link_acts_on_its_own_account_only(
    client: TestClient,
    other_client: TestClient,
    sandbox: Sandbox,
    runtime: Runtime,
    account_id: int,
) -> None:
    sign_up(other_client, sandbox, OTHER)
    other_id = accounts.find_account(runtime, OTHER).id
    contacts.set_role(runtime, other_id, CONTACT, "peer", name=CONTACT_NAME)
    act(other_client, link_url(runtime, account_id, "mute"))  # even from OTHER's browser
    assert contact(runtime, account_id).muted
    assert contact(runtime, other_id).muted is False


# --- end to end: a real nudge email ---------------------------------------------------------


def received(sandbox: Sandbox) -> list[EmailMessage]:
    return [email.message_from_bytes(sent.raw, policy=default) for sent in sandbox.world.sent]


def test_the_snooze_link_of_a_real_nudge_email_snoozes_the_contact(
    client: TestClient, sandbox: Sandbox, runtime: Runtime
) -> None:
    weekly_one_on_ones(
        sandbox, OWNER, CONTACT, stopped=timedelta(days=60), contact_name=CONTACT_NAME
    )
    sign_up(client, sandbox)
    [report] = run_cycle(runtime, now=NOW)
    assert report.error is None

    [nudge] = received(sandbox)
    assert [a.addr_spec for a in nudge["to"].addresses] == [OWNER]
    body = nudge.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert CONTACT_NAME in text
    found = re.search(r"http://testserver/a/snooze/\S+", text)
    assert found, text
    snooze = found.group(0)

    owner = accounts.find_account(runtime, OWNER).id
    before = contacts.find_contact(runtime, owner, CONTACT)
    assert before is None or before.snoozed_until is None
    page = client.get(snooze)
    assert page.status_code == 200
    assert f"{CONTACT_NAME} ({CONTACT})" in page.text, "the calendar's name for them"
    assert contacts.find_contact(runtime, owner, CONTACT) == before
    done = client.post(snooze, data={"confirm": proof_of(page.text)})
    assert done.status_code == 200
    assert contact(runtime, owner).snoozed_until == NOW + SNOOZE


def test_talked_after_a_real_sync_snoozes_for_the_calendars_rhythm(
    client: TestClient, sandbox: Sandbox, runtime: Runtime
) -> None:
    """No override, a weekly history in the calendar: one week, not the role's month."""
    weekly_one_on_ones(
        sandbox, OWNER, CONTACT, stopped=timedelta(days=60), contact_name=CONTACT_NAME
    )
    sign_up(client, sandbox)
    [report] = run_cycle(runtime, now=NOW)
    assert report.error is None
    owner = accounts.find_account(runtime, OWNER).id
    contacts.set_role(runtime, owner, CONTACT, "peer", name=CONTACT_NAME)
    act(client, link_url(runtime, owner, "talked"))
    assert contact(runtime, owner).snoozed_until == NOW + timedelta(days=7)
