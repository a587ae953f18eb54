"""One bad address, one broken row or one failing account never stops the pass for
everyone: the bad value is kept out at the connector boundary, and what still fails
is recorded on its own row or report while the rest goes on."""

from __future__ import annotations

import email
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest
from sqlalchemy import select

from nudger.cycle import run_cycle
from nudger.runtime import Runtime
from nudger.sandbox.orggen import GeneratedOrg
from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import Mailbox
from nudger.store.db import session_scope
from nudger.store.models import Contact, Event, EventAttendee, Nudge
from tests.team import generated_team

MONDAY = datetime(2025, 3, 3, 9, 30, tzinfo=UTC)  # 09:30 in London: nudges may go out
HOSTILE = "evil@example.com\r\nBcc: x@y"


@dataclass
class Team:
    sandbox: Sandbox
    org: GeneratedOrg
    runtime: Runtime

    @property
    def mailbox(self) -> Mailbox:
        return self.sandbox.world.mailbox(self.org.owner.email)

    def mails(self) -> list[EmailMessage]:
        return [
            email.message_from_bytes(sent.raw, policy=default)  # type: ignore[misc]
            for sent in self.sandbox.world.sent
        ]

    def nudges(self) -> list[Nudge]:
        with session_scope(self.runtime.db) as session:
            return list(session.scalars(select(Nudge).order_by(Nudge.id)))


@pytest.fixture
def team(database_url: str, tmp_path: Path, encryption_key: str) -> Iterator[Team]:
    with generated_team(
        MONDAY, database_url=database_url, data_dir=tmp_path / "data", encryption_key=encryption_key
    ) as generated:
        generated.connect_owner()
        yield Team(generated.sandbox, generated.org, generated.runtime)


def planted(org: GeneratedOrg, status: str) -> str:
    return next(e.email for e in org.expectations if e.expected_status == status)


def rename_everywhere(team: Team, old: str, new: str) -> None:
    """Someone's calendar entry now carries ``new`` as this contact's address."""
    world, mailbox = team.sandbox.world, team.mailbox
    with world.lock:
        touched = [e for e in mailbox.events.values() if any(a.email == old for a in e.attendees)]
    for event in touched:
        for attendee in event.attendees:
            if attendee.email == old:
                attendee.email = new
        if event.organizer == old:
            event.organizer = new
        world.put_event(mailbox, event)


def stored_addresses(runtime: Runtime) -> set[str]:
    with session_scope(runtime.db) as session:
        found = set(session.scalars(select(EventAttendee.email)))
        found |= {e for e in session.scalars(select(Event.organizer_email)) if e}
        found |= set(session.scalars(select(Contact.email)))
        found |= set(session.scalars(select(Nudge.contact_email)))
    return found


def test_a_hostile_attendee_address_never_reaches_the_store_or_the_mail(team: Team) -> None:
    neglected = planted(team.org, "neglected")
    rename_everywhere(team, neglected, HOSTILE)

    [report] = run_cycle(team.runtime, now=MONDAY)

    assert report.error is None
    assert report.events_synced > 0
    addresses = stored_addresses(team.runtime)
    assert HOSTILE not in addresses
    assert not any(c in a for a in addresses for c in "\r\n")
    assert neglected not in addresses
    assert team.mails(), "the other contacts' nudges still go out"
    assert all("Bcc" not in m for m in team.mails())
    assert {n.status for n in team.nudges()} <= {"sent", "suppressed", "pending"}
