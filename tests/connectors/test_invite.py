"""``HoldWriter.invite`` and invitations at creation, one contract for both providers,
through the real client libraries (google-api-python-client, httpx) against the emulator.

Facts relied on:
- Google ``events.patch``: "array fields, if specified, overwrite the existing arrays", and
  ``sendUpdates=all`` notifies all guests (Calendar v3 reference, events.patch). So the
  connector reads the attendees first and sends them back with the contact added.
- Graph ``PATCH /me/events/{id}``: "an event update that includes only the attendees
  property ... sends a meeting update to only the attendees that have changed"; on
  ``POST /me/events`` "the server sends invitations to all the attendees" (event-update,
  user-post-events). New attendees answer ``none`` until they reply.
- Inviting twice must mail once: the second call finds the contact already invited.
"""

from __future__ import annotations

import email
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.policy import default

import pytest

from nudger.config import Settings
from nudger.connectors.base import Connector, HoldRequest, Invitation
from nudger.errors import NotFound
from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import Mailbox, SandboxEvent, World
from tests.connectors import google_helpers, microsoft_helpers
from tests.connectors.conftest import GOOGLE_OWNER

CONTACT = "bo@x.test"
START = datetime(2026, 12, 1, 10, tzinfo=UTC)
INVITATION = Invitation(CONTACT, "Bo Berg", "Alex / Bo", "Hi Bo, time to catch up.\n")


def _hold(**fields: object) -> HoldRequest:
    values: dict[str, object] = {
        "key": "1:link_book:bo@x.test:abc",
        "contact_email": CONTACT,
        "title": "Relationship time: Bo",
        "description": "Private notes with the owner's links: https://nudger.test/a/mute/x",
        "start": START,
        "end": START + timedelta(minutes=30),
        "time_zone": "Europe/London",
    }
    values.update(fields)
    return HoldRequest(**values)  # type: ignore[arg-type]


Connect = Callable[[], tuple[Connector, Mailbox]]


@pytest.fixture(params=["google", "microsoft"])
def connect(
    request: pytest.FixtureRequest, provider_settings: Settings, sandbox: Sandbox, world: World
) -> Connect:
    def google() -> tuple[Connector, Mailbox]:
        connector = google_helpers.connected(provider_settings, sandbox, GOOGLE_OWNER, [])
        return connector, world.mailbox(GOOGLE_OWNER)

    def microsoft() -> tuple[Connector, Mailbox]:
        owner = microsoft_helpers.add_owner(world)
        return microsoft_helpers.connected(provider_settings, sandbox, []), owner

    return google if request.param == "google" else microsoft


def _the_hold(owner: Mailbox) -> SandboxEvent:
    [hold] = [e for e in owner.events.values() if e.private_props]
    return hold


def _invitations(world: World, to: str) -> list[str]:
    """Subjects of the meeting mails the provider sent ``to``."""
    parsed = (email.message_from_bytes(m.raw, policy=default) for m in world.sent)
    return [str(m["Subject"]) for m in parsed if to in str(m["To"])]


def test_inviting_into_a_hold_adds_the_contact_and_mails_them_once(
    connect: Connect, world: World
) -> None:
    connector, owner = connect()
    created = connector.holds.create_hold(_hold())
    assert _invitations(world, CONTACT) == [], "a hold alone invites nobody"

    first = connector.holds.invite(created.event_id, INVITATION)
    again = connector.holds.invite(created.event_id, INVITATION)  # a retry

    assert (first.already, again.already) == (False, True)
    assert _invitations(world, CONTACT) == ["Invitation: Alex / Bo"]
    hold = _the_hold(owner)
    assert [(a.email, a.response) for a in hold.attendees] == [(CONTACT, "needsAction")]
    assert hold.organizer == owner.email
    assert (hold.summary, hold.description) == (INVITATION.title, INVITATION.description)
    assert hold.private_props, "still tagged: nudger knows it, and counts it once accepted"


def test_a_deleted_hold_is_not_found_and_nobody_is_mailed(connect: Connect, world: World) -> None:
    connector, _ = connect()
    created = connector.holds.create_hold(_hold())
    connector.holds.delete_hold(created.event_id)
    with pytest.raises(NotFound):
        connector.holds.invite(created.event_id, INVITATION)
    assert _invitations(world, CONTACT) == []


def test_a_new_invitation_event_is_created_and_mailed_once_however_often_retried(
    connect: Connect, world: World
) -> None:
    connector, owner = connect()
    invitation = _hold(key="1:link_invite:bo@x.test:2026-12-01T10:00", invite_contact=True)
    first = connector.holds.create_hold(invitation)
    second = connector.holds.create_hold(invitation)
    assert first.event_id == second.event_id
    assert _invitations(world, CONTACT) == [f"Invitation: {invitation.title}"]
    assert [a.email for a in _the_hold(owner).attendees] == [CONTACT]
