"""Recurring series through the Microsoft connector: bare delta occurrences made whole.

Graph's ``calendarView/delta`` sends each plain occurrence of a series with only
@odata.type, @odata.etag, id, seriesMasterId, type, start and end; the rest is on the
series master (microsoft-graph-docs issues #7632 "Missing properties in the occurrences
of recurring events" and #22197 "Delta docs aren't full"). The emulator does the same,
so these tests go through msal, httpx, the sync engine and a real database.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from nudger import accounts
from nudger.config import Settings
from nudger.connectors.base import CalendarEvent, Connector, Response
from nudger.cycle import account_audit, run_cycle
from nudger.runtime import Runtime
from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import Mailbox, SandboxAttendee, SandboxEvent, World
from nudger.store import events as store
from nudger.store.db import session_scope
from nudger.sync import sync_account, sync_window

from .microsoft_helpers import MS_OWNER, add_meeting, add_owner, connected, consent, stored_account

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
WINDOW = sync_window(NOW, 365, 28)
REPORT = "ada@contoso.example"
OTHER_REPORT = "lin@contoso.example"
BOSS = "boss@contoso.example"


@pytest.fixture
def owner(world: World) -> Mailbox:
    return add_owner(world)


@pytest.fixture
def account_id(runtime: Runtime, owner: Mailbox) -> int:
    return stored_account(runtime)


@pytest.fixture
def connector(provider_settings: Settings, sandbox: Sandbox, owner: Mailbox) -> Connector:
    return connected(provider_settings, sandbox, [])


def series(
    world: World, owner: Mailbox, key: str, first: datetime, count: int, step: int = 7
) -> list[SandboxEvent]:
    """A one-on-one series with REPORT the owner organizes, every ``step`` days."""
    events = []
    for n in range(count):
        start = first + timedelta(days=step * n)
        event_id = f"{key}{start:%Y%m%d}"
        events.append(
            add_meeting(world, owner, event_id, start, REPORT, series_id=key, original_start=start)
        )
    return events


def sync(runtime: Runtime, account_id: int, connector: Connector) -> None:
    sync_account(runtime.db, account_id, connector.calendar, NOW, WINDOW)


def stored(runtime: Runtime, account_id: int) -> list[CalendarEvent]:
    with session_scope(runtime.db) as session:
        return sorted(store.iter_events(session, account_id), key=lambda e: e.start)


def people(event: CalendarEvent) -> list[str]:
    return [a.email for a in event.attendees]


def master_reads(world: World) -> int:
    return sum(1 for r in world.requests if r.method == "GET" and "/me/events/" in r.path)


def test_bare_occurrences_are_filled_from_the_master_in_the_round(
    runtime: Runtime, account_id: int, connector: Connector, world: World, owner: Mailbox
) -> None:
    series(world, owner, "weekly", NOW - timedelta(weeks=10), 12)
    sync(runtime, account_id, connector)

    events = stored(runtime, account_id)
    assert len(events) == 12
    assert all(people(e) == [MS_OWNER, REPORT] for e in events)
    assert all(e.follows_series and e.series_id for e in events)
    assert master_reads(world) == 0


def test_bare_occurrences_are_filled_when_the_master_comes_on_a_later_page(
    connector: Connector, world: World, owner: Mailbox
) -> None:
    """Not assumed: that a master shares a page with its occurrences (pages of 100 here)."""
    series(world, owner, "daily", NOW - timedelta(days=140), 150, step=1)

    [calendar] = connector.calendar.list_calendars()
    pages = list(connector.calendar.sync(calendar.calendar_id, None, WINDOW))

    assert len(pages) == 2
    assert [len(p.series) for p in pages] == [0, 1]
    events = [e for p in pages for e in p.events]
    assert len(events) == 150
    assert all(people(e) == [MS_OWNER, REPORT] for e in events)
    assert master_reads(world) == 0


def test_bare_occurrences_are_fetched_once_when_the_master_is_not_in_the_round(
    runtime: Runtime, account_id: int, connector: Connector, world: World, owner: Mailbox
) -> None:
    """A series that began before the window has its master outside the round."""
    series(world, owner, "old", NOW - timedelta(days=400), 60)
    sync(runtime, account_id, connector)

    events = stored(runtime, account_id)
    assert len(events) > 50
    assert all(people(e) == [MS_OWNER, REPORT] for e in events)
    assert master_reads(world) == 1


def test_exceptions_come_whole_and_keep_their_own_answers(
    runtime: Runtime, account_id: int, connector: Connector, world: World, owner: Mailbox
) -> None:
    events = series(world, owner, "weekly", NOW - timedelta(weeks=4), 4)
    events[1].attendees[1].response = "declined"
    world.put_event(owner, events[1])
    sync(runtime, account_id, connector)

    answers = [e.attendees[1].response for e in stored(runtime, account_id)]
    assert answers == [Response.ACCEPTED, Response.DECLINED, Response.ACCEPTED, Response.ACCEPTED]


def _edit_series(world: World, owner: Mailbox, change: Callable[[SandboxEvent], None]) -> None:
    world.change_series(owner, "weekly", change)


def test_a_master_change_updates_stored_occurrences(
    runtime: Runtime, account_id: int, connector: Connector, world: World, owner: Mailbox
) -> None:
    events = series(world, owner, "weekly", NOW - timedelta(weeks=6), 8)
    events[2].attendees[1].response = "declined"  # an exception: it keeps its own answer
    world.put_event(owner, events[2])
    sync(runtime, account_id, connector)

    def invite_boss_and_report_tentative(event: SandboxEvent) -> None:
        event.attendees.append(SandboxAttendee(BOSS, "The Boss"))
        if event.attendees[1].response == "accepted":
            event.attendees[1].response = "tentative"

    _edit_series(world, owner, invite_boss_and_report_tentative)
    sync(runtime, account_id, connector)

    after = stored(runtime, account_id)
    plain = [e for e in after if e.follows_series]
    assert len(plain) == 7
    assert all(people(e) == [MS_OWNER, REPORT, BOSS] for e in plain)
    assert all(e.attendees[1].response == Response.TENTATIVE for e in plain)
    [exception] = [e for e in after if not e.follows_series]
    assert exception.attendees[1].response == Response.DECLINED


def test_ending_a_series_removes_its_later_occurrences(
    runtime: Runtime, account_id: int, connector: Connector, world: World, owner: Mailbox
) -> None:
    events = series(world, owner, "weekly", NOW - timedelta(weeks=6), 10)
    sync(runtime, account_id, connector)
    for event in events[3:]:
        world.delete_event(owner, event.id)
    sync(runtime, account_id, connector)

    assert len(stored(runtime, account_id)) == 3


# --- end to end: the audit of a direct report ------------------------------------------------


def test_a_healthy_weekly_one_on_one_on_microsoft_audits_healthy(
    runtime: Runtime, sandbox: Sandbox, world: World, owner: Mailbox
) -> None:
    """On a real tenant, bare occurrences read as empty meetings made this "missing"."""
    owner.direct_reports = [REPORT, OTHER_REPORT]
    world.people.update({REPORT: "Ada Report", OTHER_REPORT: "Lin Report"})
    series(world, owner, "healthy", NOW - timedelta(weeks=30, days=1), 34)
    ended = NOW - timedelta(weeks=30, hours=2)
    for n in range(24):  # weekly with Lin until six weeks ago, then nothing
        start = ended + timedelta(weeks=n)
        add_meeting(
            world, owner, f"ended{n:02d}", start, OTHER_REPORT, series_id="ended",
            original_start=start,
        )  # fmt: skip
    start = accounts.begin_connect(runtime, "microsoft", login_hint=MS_OWNER)
    accounts.complete_connect(runtime, "microsoft", consent(sandbox, start.url))

    [report] = run_cycle(runtime, account=MS_OWNER, now=NOW, dry_run=True)

    assert report.error is None
    statuses = {h.email: str(h.status) for h in account_audit(runtime, MS_OWNER, now=NOW)}
    assert statuses[REPORT] == "healthy"
    assert statuses[OTHER_REPORT] == "lapsed_one_on_one"
