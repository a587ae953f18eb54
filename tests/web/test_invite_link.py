"""The ``invite`` link end to end: a booked hold becomes an invitation to the contact, only
after the owner's POST, once, and the accepted invitation counts as a meeting.

Everything goes through real HTTP: the web app's pages, nudger's cycle against the Google
emulator (google-api-python-client), and the emulator's control API standing in for the
contact's answer (at Google the guest's reply updates the organizer's copy of the event).
"""

from __future__ import annotations

import email
import re
import ssl
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from email.policy import default
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import select, update
from starlette.testclient import TestClient

from nudger import contacts
from nudger.cycle import run_cycle
from nudger.delivery.links import LINK_TTL, ActionLink
from nudger.passes.analyse import analyse, rules_in_force
from nudger.rules.model import Rule
from nudger.runtime import Runtime
from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import SandboxEvent
from nudger.store.db import session_scope
from nudger.store.models import Nudge
from nudger.web.pages import DATETIME
from tests.web.conftest import NOW, OTHER, OWNER, proof_of, sign_up, weekly_one_on_ones
from tests.web.test_links import (
    CONTACT,
    CONTACT_NAME,
    account_id,
    act,
    link_url,
    other_token,
    received,
    token_signed_ago,
)

__all__ = ["account_id"]  # the fixture, shared with test_links
AT_PROOF = re.compile(
    r'name="at" value="([^"]+)">\s*<input type="hidden" name="confirm" value="([^"]+)"'
)


def booked(client: TestClient, runtime: Runtime, owner: int) -> str:
    """The owner pressed "Book time" (its link is returned); one run booked the hold, the
    next synced it back."""
    url = link_url(runtime, owner, "book")
    act(client, url)
    run_cycle(runtime, now=NOW)
    run_cycle(runtime, now=NOW)
    return url


def the_hold(sandbox: Sandbox) -> SandboxEvent:
    [hold] = [e for e in sandbox.world.mailbox(OWNER).events.values() if e.private_props]
    return hold


def invitations(sandbox: Sandbox) -> list[str]:
    """Subjects of the meeting mails the provider sent the contact."""
    parsed = (email.message_from_bytes(m.raw, policy=default) for m in sandbox.world.sent)
    return [str(m["Subject"]) for m in parsed if CONTACT in str(m["To"])]


def invite_rows(runtime: Runtime) -> list[Nudge]:
    with session_scope(runtime.db) as session:
        return list(session.scalars(select(Nudge).where(Nudge.kind == "invite")))


@pytest.fixture
def control(sandbox: Sandbox) -> Iterator[httpx.Client]:
    tls = ssl.create_default_context(cafile=str(sandbox.certs.ca_cert))
    with httpx.Client(base_url=sandbox.base_url + "/_sandbox", verify=tls) as client:
        yield client


def answer(control: httpx.Client, event: SandboxEvent, response: str) -> None:
    """The contact answers the invitation."""
    path = f"/mailboxes/{OWNER}/events/{event.id}/respond"
    reply = control.post(path, json={"attendee": CONTACT, "response": response})
    assert reply.status_code == 200, reply.text


def test_get_names_the_person_and_the_time_and_sends_nothing(
    client: TestClient, sandbox: Sandbox, runtime: Runtime, account_id: int
) -> None:
    booked(client, runtime, account_id)
    url = link_url(runtime, account_id, "invite")
    for _ in range(2):  # a mail scanner's pre-fetch, then the user's click
        page = client.get(url)
        assert page.status_code == 200
        assert proof_of(page.text)
    when = the_hold(sandbox).start.astimezone(ZoneInfo("Europe/London")).strftime(DATETIME)
    assert f"Invite {CONTACT_NAME} ({CONTACT})?" in page.text
    assert f"your hold on {when} (Europe/London)" in page.text
    assert invite_rows(runtime) == []
    assert the_hold(sandbox).attendees == []


def test_confirming_twice_and_retrying_sends_one_invitation(
    client: TestClient, sandbox: Sandbox, runtime: Runtime, account_id: int
) -> None:
    booked(client, runtime, account_id)
    url = link_url(runtime, account_id, "invite")
    proof = proof_of(client.get(url).text)
    first = client.post(url, data={"confirm": proof})
    second = client.post(url, data={"confirm": proof})
    assert "will be invited" in first.text
    assert "goes out shortly" in second.text
    run_cycle(runtime, now=NOW)
    # A worker that died after the provider call: the sweeper hands the row back.
    with session_scope(runtime.db) as session:
        session.execute(update(Nudge).where(Nudge.kind == "invite").values(status="pending"))
    run_cycle(runtime, now=NOW)

    [row] = invite_rows(runtime)
    assert row.status == "sent"
    assert invitations(sandbox) == [f"Invitation: Alex / {CONTACT_NAME.split()[0]}"]
    hold = the_hold(sandbox)
    assert [(a.email, a.response) for a in hold.attendees] == [(CONTACT, "needsAction")]
    assert "/a/" not in hold.description, "the owner's links never reach the contact"
    assert "is invited to your hold on" in client.get(url).text


def test_the_booked_hold_page_offers_the_invite_link(
    client: TestClient, runtime: Runtime, account_id: int
) -> None:
    page = client.get(booked(client, runtime, account_id)).text
    assert "Already booked" in page
    assert f'href="{runtime.settings.public_url}/a/invite/' in page


def test_a_hold_deleted_meanwhile_is_said_and_nothing_is_sent(
    client: TestClient, sandbox: Sandbox, runtime: Runtime, account_id: int
) -> None:
    booked(client, runtime, account_id)
    url = link_url(runtime, account_id, "invite")
    proof = proof_of(client.get(url).text)
    sandbox.world.delete_event(sandbox.world.mailbox(OWNER), the_hold(sandbox).id)
    client.post(url, data={"confirm": proof})  # nudger has not synced the deletion yet
    run_cycle(runtime, now=NOW)

    assert invitations(sandbox) == []
    assert "was deleted: nothing was sent" in client.get(url).text
    [row] = invite_rows(runtime)
    assert row.status == "failed"


def offered(client: TestClient, url: str) -> list[tuple[str, str]]:
    """(time, proof) of each time the page offers, as its forms carry them."""
    page = client.get(url)
    assert page.status_code == 200, page.text
    return AT_PROOF.findall(page.text)


def test_without_a_hold_the_page_offers_times_free_for_both(
    client: TestClient, sandbox: Sandbox, runtime: Runtime, account_id: int
) -> None:
    contacts.set_role(runtime, account_id, OTHER, "peer", name="Blake Jones")
    owner_alone = offered(client, link_url(runtime, account_id, "invite"))  # external: owner only
    assert len(owner_alone) == 3
    first = datetime.fromisoformat(owner_alone[0][0].replace("Z", "+00:00"))
    busy = SandboxEvent("blakebusy", first, first + timedelta(hours=1), organizer=OTHER)
    sandbox.world.put_event(sandbox.world.mailbox(OTHER), busy)  # Blake's freeBusy shows it

    for_blake = offered(client, link_url(runtime, account_id, "invite", OTHER))

    assert len(for_blake) == 3
    assert owner_alone[0][0] not in [at for at, _ in for_blake]
    assert invite_rows(runtime) == []


def test_choosing_a_time_sends_one_invitation_to_a_new_event(
    client: TestClient, sandbox: Sandbox, runtime: Runtime, account_id: int
) -> None:
    url = link_url(runtime, account_id, "invite")
    [(at, proof), (other_at, _), *_] = offered(client, url)
    chosen = {"at": at, "confirm": proof}
    assert "will be invited for" in client.post(url, data=chosen).text
    assert "goes out shortly" in client.post(url, data=chosen).text
    forged = client.post(url, data={"at": other_at, "confirm": proof})
    assert forged.status_code == 403, "a proof covers its own time only"
    run_cycle(runtime, now=NOW)
    run_cycle(runtime, now=NOW)

    [row] = invite_rows(runtime)
    assert row.status == "sent"
    event = the_hold(sandbox)  # tagged like a hold, so it counts once accepted
    assert event.start == datetime.fromisoformat(at.replace("Z", "+00:00"))
    assert [(a.email, a.response) for a in event.attendees] == [(CONTACT, "needsAction")]
    assert invitations(sandbox) == [f"Invitation: Alex / {CONTACT_NAME.split()[0]}"]
    assert "is invited" in client.get(url, params={"at": at}).text


@pytest.mark.parametrize(("response", "counts"), [("accepted", True), ("declined", False)])
def test_an_accepted_invitation_counts_as_a_meeting_and_a_declined_one_does_not(
    client: TestClient,
    sandbox: Sandbox,
    runtime: Runtime,
    account_id: int,
    control: httpx.Client,
    response: str,
    counts: bool,
) -> None:
    booked(client, runtime, account_id)
    url = link_url(runtime, account_id, "invite")
    client.post(url, data={"confirm": proof_of(client.get(url).text)})
    run_cycle(runtime, now=NOW)
    hold = the_hold(sandbox)
    answer(control, hold, response)
    later = hold.end + timedelta(days=1)
    run_cycle(runtime, now=later)  # syncs the answer

    [health] = [
        h
        for h in analyse(runtime, account_id, rules_in_force(runtime), later)
        if h.email == CONTACT
    ]
    assert health.last_interaction == (hold.start if counts else None)


@pytest.mark.parametrize("how", ["tampered", "a snooze token", "expired", "wrong proof"])
def test_a_forged_expired_or_unconfirmed_invite_is_refused_and_sends_nothing(
    client: TestClient, sandbox: Sandbox, runtime: Runtime, account_id: int, how: str
) -> None:
    booked(client, runtime, account_id)
    genuine = link_url(runtime, account_id, "invite")
    proof = proof_of(client.get(genuine).text)
    base = f"{runtime.settings.public_url}/a/invite/"
    url = {
        "tampered": base + other_token(genuine, 1),
        "a snooze token": base + link_url(runtime, account_id, "snooze").rsplit("/", 1)[1],
        "expired": base
        + token_signed_ago(
            runtime, ActionLink("invite", account_id, CONTACT), LINK_TTL + timedelta(hours=1)
        ),
        "wrong proof": genuine,
    }[how]
    sent = {"confirm": "0" * 64 if how == "wrong proof" else proof}
    status = client.post(url, data=sent).status_code
    assert status == (403 if how == "wrong proof" else 400)
    if how != "wrong proof":
        page = client.get(url)
        assert page.status_code == 400
        assert ("expired" if how == "expired" else "not valid") in page.text
    run_cycle(runtime, now=NOW)
    assert invite_rows(runtime) == []
    assert invitations(sandbox) == []


PROPOSING = """
rules:
  - name: neglected_close
    when: {status: [neglected], tier: [core, network]}
    action: {kind: email, template: neglected, invite: propose}
    priority: 70
  - name: neglected
    when: {status: [neglected]}
    action: {kind: email, template: neglected, invite: propose}
    priority: 60
"""


def test_a_propose_rule_lists_times_in_the_email_each_one_click_to_an_invitation(
    client: TestClient, sandbox: Sandbox, runtime: Runtime, tmp_path: Path
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(PROPOSING)
    runtime = replace(runtime, settings=runtime.settings.model_copy(update={"rules_file": rules}))
    weekly_one_on_ones(
        sandbox, OWNER, CONTACT, stopped=timedelta(days=60), contact_name=CONTACT_NAME
    )
    sign_up(client, sandbox)
    run_cycle(runtime, now=NOW)

    [nudge] = received(sandbox)
    body = nudge.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    times = re.findall(r"^- (.+?): (http://testserver/a/invite/\S+\?at=\S+)", text, re.M)
    assert len(times) == 3, text
    words, url = times[0]
    page = client.get(url)
    assert words in page.text
    [(at, proof)] = AT_PROOF.findall(page.text)
    assert url.endswith(f"?at={at}")
    assert invitations(sandbox) == [], "an email link alone sends nothing"
    client.post(url.split("?")[0], data={"at": at, "confirm": proof})
    run_cycle(runtime, now=NOW)
    assert invitations(sandbox) == [f"Invitation: Alex / {CONTACT_NAME.split()[0]}"]


def test_a_propose_rule_that_books_holds_is_refused_naming_the_rule() -> None:
    with pytest.raises(ValidationError, match=r'rule "lapsed" → action.invite'):
        Rule.model_validate(
            {
                "name": "lapsed",
                "when": {"status": ["lapsed_one_on_one"]},
                "action": {"kind": "hold", "template": "lapsed_one_on_one", "invite": "propose"},
                "priority": 1,
            }
        )


def test_a_snoozed_or_muted_person_is_still_invited_when_the_owner_confirms(
    client: TestClient, sandbox: Sandbox, runtime: Runtime, account_id: int
) -> None:
    booked(client, runtime, account_id)
    contacts.mute(runtime, account_id, CONTACT)  # no nudges about them; the owner still may
    url = link_url(runtime, account_id, "invite")
    client.post(url, data={"confirm": proof_of(client.get(url).text)})
    run_cycle(runtime, now=NOW)
    assert len(invitations(sandbox)) == 1
