"""Addresses and names typed by other people stop at the connector boundary.

An attendee address that is not one plausible mailbox (here a header injection) is
left out of the event, the organizer and the directory, and so out of the store; a
display name loses its control characters. Both providers, through their real client
libraries against the emulator.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from nudger.config import Settings
from nudger.connectors.base import Connector
from nudger.runtime import Runtime
from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import Mailbox, SandboxAttendee, World
from nudger.store.db import session_scope
from nudger.store.models import Account, Event, EventAttendee
from nudger.sync import sync_account, sync_window
from tests.connectors import google_helpers, microsoft_helpers
from tests.connectors.conftest import GOOGLE_OWNER

NOW = datetime.now(UTC).replace(microsecond=0)
HOSTILE = "evil@example.com\r\nBcc: x@y"
KIM = "kim@example.com"


def plant(world: World, owner: Mailbox) -> None:
    """One meeting with a hostile attendee, one organized by the hostile address."""
    start = NOW - timedelta(days=2)
    google_helpers.add_meeting(world, owner, "hostile1", start, KIM, HOSTILE)
    event = google_helpers.add_meeting(world, owner, "hostile2", start + timedelta(hours=2), KIM)
    event.organizer = HOSTILE
    event.attendees.append(SandboxAttendee(HOSTILE, "Evil\r\nBcc: x@y"))
    event.attendees[1].name = "Kim\r\nBcc: x@y Lee"  # Google reads the invite's own name
    world.put_event(owner, event)
    with world.lock:
        world.people[KIM] = "Kim\r\nBcc: x@y Lee"  # Graph reads the directory's name


def stored_account(runtime: Runtime, provider: str, email: str) -> int:
    with session_scope(runtime.db) as session:
        account = Account(provider=provider, email=email, credentials="-", settings={})
        session.add(account)
        session.flush()
        return account.id


def stored(runtime: Runtime) -> tuple[set[str], set[str | None], set[str | None]]:
    """Every stored attendee address, organizer and attendee name."""
    with session_scope(runtime.db) as session:
        attendees = session.query(EventAttendee).all()
        organizers = {e.organizer_email for e in session.query(Event).all()}
        return {a.email for a in attendees}, organizers, {a.name for a in attendees}


def sync_and_check(runtime: Runtime, connector: Connector, account_id: int, owner: str) -> None:
    window = sync_window(NOW, 30, 7)
    [result] = sync_account(runtime.db, account_id, connector.calendar, NOW, window)
    assert result.events == 2
    emails, organizers, names = stored(runtime)
    assert emails == {owner, KIM}
    assert organizers <= {owner, None}
    assert "Kim Bcc: x@y Lee" in names
    assert not any("\r" in (n or "") or "\n" in (n or "") for n in names)


def test_google_sync_keeps_hostile_addresses_out(
    runtime: Runtime, provider_settings: Settings, sandbox: Sandbox, world: World
) -> None:
    plant(world, world.mailbox(GOOGLE_OWNER))
    connector = google_helpers.connected(provider_settings, sandbox, GOOGLE_OWNER, [])
    sync_and_check(
        runtime, connector, stored_account(runtime, "google", GOOGLE_OWNER), GOOGLE_OWNER
    )


def test_microsoft_sync_keeps_hostile_addresses_out(
    runtime: Runtime, provider_settings: Settings, sandbox: Sandbox, world: World
) -> None:
    owner = microsoft_helpers.add_owner(world)
    plant(world, owner)
    connector = microsoft_helpers.connected(provider_settings, sandbox, [])
    sync_and_check(
        runtime, connector, stored_account(runtime, "microsoft", owner.email), owner.email
    )


def test_microsoft_profile_and_directory_are_checked(
    provider_settings: Settings, sandbox: Sandbox, world: World
) -> None:
    owner = microsoft_helpers.add_owner(world, manager=HOSTILE, direct_reports=[KIM, "bad one@x"])
    with world.lock:
        world.people[owner.email] = "Grace\r\nBcc: x@y \u202eHopper"
        world.people[KIM] = "Kim\x07 Lee"
    connector = microsoft_helpers.connected(provider_settings, sandbox, [])

    profile = connector.calendar.profile()
    assert profile.email == owner.email
    assert profile.name == "Grace Bcc: x@y Hopper"
    assert connector.directory is not None
    assert connector.directory.manager() is None
    assert [(p.email, p.name) for p in connector.directory.direct_reports()] == [(KIM, "Kim Lee")]


@pytest.mark.parametrize("name", ["", "\r\n"])
def test_an_empty_display_name_is_none(
    name: str, provider_settings: Settings, sandbox: Sandbox, world: World
) -> None:
    owner = microsoft_helpers.add_owner(world)
    with world.lock:
        world.people[owner.email] = name
    profile = microsoft_helpers.connected(provider_settings, sandbox, []).calendar.profile()
    assert profile.name is None
