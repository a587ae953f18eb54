"""Google errors, retries, unknown send outcomes and recurring series across DST,
through the real client against the emulator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from nudger.analysis.interactions import orphan_cancellation
from nudger.analysis.model import Owner
from nudger.config import Settings
from nudger.connectors.base import (
    CalendarEvent,
    CalendarInfo,
    Connector,
    OutgoingEmail,
    Response,
    SyncWindow,
)
from nudger.errors import ConnectorError, OutcomeUnknown, RateLimited, TransientError
from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import Fault, SandboxAttendee, SandboxEvent, World
from nudger.sync import choose_calendars

from .conftest import GOOGLE_OWNER
from .google_helpers import add_meeting, connected

NOW = datetime.now(UTC).replace(microsecond=0)
LONDON = ZoneInfo("Europe/London")
EVENTS_PATH = f"/calendar/v3/calendars/{GOOGLE_OWNER}/events"


@pytest.fixture
def connector(provider_settings: Settings, sandbox: Sandbox, world: World) -> Connector:
    add_meeting(world, world.mailbox(GOOGLE_OWNER), "one00001", NOW - timedelta(days=1), "a@x.io")
    return connected(provider_settings, sandbox, GOOGLE_OWNER, [])


def window() -> SyncWindow:
    return SyncWindow(NOW - timedelta(days=30), NOW + timedelta(days=7))


def list_requests(world: World) -> int:
    return sum(1 for r in world.requests if r.path == EVENTS_PATH and r.method == "GET")


def sync_all(connector: Connector, calendar: str = GOOGLE_OWNER) -> list[CalendarEvent]:
    return [e for page in connector.calendar.sync(calendar, None, window()) for e in page.events]


def test_rate_limit_reasons_on_403_are_retried(connector: Connector, world: World) -> None:
    world.faults.append(
        Fault(path=EVENTS_PATH, status=403, reason="userRateLimitExceeded", retry_after=0)
    )
    assert [e.event_id for e in sync_all(connector)] == ["one00001"]
    assert list_requests(world) == 2


@pytest.mark.parametrize(("status", "reason"), [(403, "forbidden"), (400, "badRequest")])
def test_permanent_errors_are_not_retried(
    connector: Connector, world: World, status: int, reason: str
) -> None:
    world.faults.append(Fault(path=EVENTS_PATH, status=status, reason=reason))
    with pytest.raises(ConnectorError) as raised:
        sync_all(connector)
    assert not isinstance(raised.value, TransientError)
    assert raised.value.status == status
    assert list_requests(world) == 1


def test_server_errors_are_retried_a_bounded_number_of_times(
    connector: Connector, world: World
) -> None:
    world.faults.append(Fault(path=EVENTS_PATH, status=503, count=50, retry_after=0))
    with pytest.raises(TransientError):
        sync_all(connector)
    assert list_requests(world) == 5


def test_the_list_asks_only_for_the_fields_nudger_stores(
    connector: Connector, world: World
) -> None:
    sync_all(connector)
    [request] = [r for r in world.requests if r.path == EVENTS_PATH]
    fields = request.query["fields"][0]
    assert "attendees(" in fields
    assert "summary" not in fields
    assert "description" not in fields
    assert request.query["maxResults"] == ["2500"]
    assert request.query["singleEvents"] == ["true"]


def message() -> OutgoingEmail:
    return OutgoingEmail(GOOGLE_OWNER, GOOGLE_OWNER, "Hi", "<k@x>", b"Subject: Hi\r\n\r\nbody\r\n")


def send_requests(world: World) -> int:
    return sum(1 for r in world.requests if r.path.endswith("/messages/send"))


def test_a_send_that_fails_on_the_server_is_in_doubt_and_not_retried(
    connector: Connector, world: World
) -> None:
    world.faults.append(Fault(path="/messages/send", status=500, count=5))
    with pytest.raises(OutcomeUnknown):
        connector.mail.send(message())
    assert send_requests(world) == 1
    assert world.sent == []


def test_a_rate_limited_send_was_not_accepted_and_may_be_retried_later(
    connector: Connector, world: World
) -> None:
    world.faults.append(Fault(path="/messages/send", status=429, retry_after=0))
    with pytest.raises(RateLimited):
        connector.mail.send(message())
    assert send_requests(world) == 1


def weekly_series(world: World, first: datetime, weeks: int) -> list[SandboxEvent]:
    """A weekly 10:00 London one-on-one, expanded the way Google expands it."""
    owner = world.mailbox(GOOGLE_OWNER)
    events = []
    for week in range(weeks):
        local = first + timedelta(weeks=week)  # wall-clock arithmetic in London
        start = local.astimezone(UTC)
        attendees = [
            SandboxAttendee(GOOGLE_OWNER, "Alex"),
            SandboxAttendee("bo@x.io", "Bo", response="declined" if week == 2 else "accepted"),
        ]
        occurrence = SandboxEvent(
            id=f"series1_{start:%Y%m%dT%H%M%SZ}".lower().replace("_", ""),
            start=start,
            end=start + timedelta(minutes=30),
            organizer=GOOGLE_OWNER,
            attendees=attendees,
            cancelled=week == 1,
            series_id="series1",
            original_start=start,
        )
        events.append(world.put_event(owner, occurrence))
    return events


def test_recurring_occurrences_keep_local_time_across_dst(
    connector: Connector, world: World
) -> None:
    # Weekly on Thursdays at 10:00 London, from three weeks before the clocks change.
    first = datetime(2026, 3, 12, 10, 0, tzinfo=LONDON)
    weekly_series(world, first, 6)
    events = [
        e
        for page in connector.calendar.sync(
            GOOGLE_OWNER, None, SyncWindow(datetime(2026, 3, 1, tzinfo=UTC), NOW)
        )
        for e in page.events
        if e.series_id == "series1"
    ]
    events.sort(key=lambda e: e.start)
    assert len(events) == 6
    assert [e.start.astimezone(LONDON).hour for e in events] == [10] * 6
    assert [e.start.hour for e in events] == [10, 10, 10, 9, 9, 9]  # BST from 29 March
    assert all(e.original_start == e.start for e in events)
    assert [e.cancelled for e in events] == [False, True, False, False, False, False]
    assert events[1].attendees == (), "a cancelled instance comes bare, as Google sends it"
    bo = [next(a for a in e.attendees if a.email == "bo@x.io") for e in events if not e.cancelled]
    assert bo[1].response is Response.DECLINED


def test_primary_calendar_by_default_others_by_setting() -> None:
    calendars = [
        CalendarInfo("alex@x.io", "Alex", True),
        CalendarInfo("team@group.x.io", "Team", False),
        CalendarInfo("holidays@x.io", "Holidays", False),
    ]
    assert [c.calendar_id for c in choose_calendars(calendars, None)] == ["alex@x.io"]
    chosen = choose_calendars(calendars, ["primary", "team@group.x.io"])
    assert [c.calendar_id for c in chosen] == ["alex@x.io", "team@group.x.io"]


def test_a_bare_cancelled_instance_becomes_a_cancelled_occurrence_of_its_series(
    connector: Connector, world: World
) -> None:
    """Google guarantees only id, recurringEventId and originalStartTime on a cancelled
    instance (Calendar v3 reference, ``Event.status``): the connector places it at its
    original start, and the analysis attaches it to the series' contact."""
    first = datetime(2026, 3, 12, 10, 0, tzinfo=LONDON)
    weekly_series(world, first, 3)
    events = {
        e.event_id: e
        for page in connector.calendar.sync(
            GOOGLE_OWNER, None, SyncWindow(datetime(2026, 3, 1, tzinfo=UTC), NOW)
        )
        for e in page.events
        if e.series_id == "series1"
    }
    [cancelled] = [e for e in events.values() if e.cancelled]
    assert cancelled.attendees == ()
    assert cancelled.start == (first + timedelta(weeks=1)).astimezone(UTC)
    assert cancelled.original_start == cancelled.start
    owner = Owner(frozenset({GOOGLE_OWNER}), "Europe/London")
    orphan = orphan_cancellation(cancelled, owner)
    assert orphan is not None
    assert (orphan.series_id, orphan.cancelled) == ("series1", True)
