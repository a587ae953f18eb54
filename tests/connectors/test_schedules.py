"""Other people's schedules (free/busy, working hours, time zone) through the real client
libraries (httpx for Graph, google-api-python-client) against the emulator."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from nudger.config import Settings
from nudger.connectors.base import (
    BusyInterval,
    Connector,
    ContactSchedule,
    SyncWindow,
    WorkingHours,
)
from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import Mailbox, World

from . import google_helpers, microsoft_helpers
from .conftest import GOOGLE_OWNER
from .microsoft_helpers import MS_OWNER, graph_requests

NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
WINDOW = SyncWindow(NOW, NOW + timedelta(days=14))
ANA = "ana@contoso.example"


def _graph(settings: Settings, sandbox: Sandbox, world: World) -> Connector:
    microsoft_helpers.add_owner(world)
    return microsoft_helpers.connected(settings, sandbox, [])


def _schedules(connector: Connector, *emails: str, window: SyncWindow = WINDOW) -> list:
    assert connector.schedules is not None
    return connector.schedules.schedules(list(emails), window)


def _singapore(world: World) -> Mailbox:
    ana = Mailbox(ANA, "Ana", "microsoft", time_zone="Asia/Singapore")
    ana.windows_time_zone = "Singapore Standard Time"
    ana.work_start, ana.work_end = time(8, 30), time(17, 30)
    return world.add_mailbox(ana)


# --- Microsoft ------------------------------------------------------------------------------


def test_graph_schedule_gives_busy_time_working_hours_and_an_iana_zone(
    provider_settings: Settings, sandbox: Sandbox, world: World
) -> None:
    """getSchedule's workingHours.timeZone.name is a Windows name ("Singapore Standard
    Time"), mapped with CLDR's windowsZones table; scheduleItems with status oof are
    out-of-office."""
    connector = _graph(provider_settings, sandbox, world)
    ana = _singapore(world)
    start = NOW + timedelta(days=1)
    microsoft_helpers.add_meeting(world, ana, "busy", start)
    microsoft_helpers.add_meeting(
        world, ana, "away", start + timedelta(days=1), event_type="outOfOffice"
    )

    [schedule] = _schedules(connector, ANA.upper())

    assert schedule == ContactSchedule(
        email=ANA,
        busy=(
            BusyInterval(start, start + timedelta(minutes=30)),
            BusyInterval(start + timedelta(days=1), start + timedelta(days=1, minutes=30), True),
        ),
        working_hours=WorkingHours("Asia/Singapore", (1, 2, 3, 4, 5), time(8, 30), time(17, 30)),
        time_zone="Asia/Singapore",
    )


def test_graph_refusals_and_outsiders_are_unavailable_and_outsiders_are_never_asked(
    provider_settings: Settings, sandbox: Sandbox, world: World
) -> None:
    """A per-schedule ``error`` (unknown user, another tenant) means no schedule; an address
    outside the owner's domain is not sent at all."""
    connector = _graph(provider_settings, sandbox, world)
    world.add_mailbox(Mailbox("zed@contoso.example", "Zed", "microsoft", tenant="fabrikam"))

    assert [s.available for s in _schedules(connector, "ghost@contoso.example")] == [False]
    assert [s.available for s in _schedules(connector, "zed@contoso.example")] == [False]
    asked = graph_requests(world, "/getSchedule", "POST")
    outsider = _schedules(connector, "bo@elsewhere.example", MS_OWNER)
    assert outsider == [
        ContactSchedule("bo@elsewhere.example", available=False),
        ContactSchedule(MS_OWNER, available=False),
    ]
    assert graph_requests(world, "/getSchedule", "POST") == asked


def test_an_unknown_windows_zone_is_not_guessed(
    provider_settings: Settings, sandbox: Sandbox, world: World
) -> None:
    connector = _graph(provider_settings, sandbox, world)
    _singapore(world).windows_time_zone = "Customized Time Zone"
    [schedule] = _schedules(connector, ANA)
    assert schedule.available
    assert (schedule.time_zone, schedule.working_hours) == (None, None)


def test_graph_asks_twenty_people_at_a_time_and_62_days_at_a_time(
    provider_settings: Settings, sandbox: Sandbox, world: World
) -> None:
    connector = _graph(provider_settings, sandbox, world)
    people = [f"p{n:02d}@contoso.example" for n in range(25)]
    for address in people:
        world.add_mailbox(Mailbox(address, address, "microsoft"))
    long_window = SyncWindow(NOW, NOW + timedelta(days=70))

    found = _schedules(connector, *people, window=long_window)

    assert [s.email for s in found] == people
    assert all(s.available and s.time_zone == "Europe/London" for s in found)
    assert graph_requests(world, "/getSchedule", "POST") == 4  # 2 batches x 2 windows


# --- Google ---------------------------------------------------------------------------------


def _google(settings: Settings, sandbox: Sandbox) -> Connector:
    return google_helpers.connected(settings, sandbox, GOOGLE_OWNER, [])


def _google_requests(world: World) -> int:
    return sum(1 for r in world.requests if r.path.endswith("/freeBusy"))


def test_google_free_busy_gives_busy_time_but_no_hours_or_zone(
    provider_settings: Settings, sandbox: Sandbox, world: World
) -> None:
    """freeBusy reveals busy intervals only: Google has no working hours or zone for
    another user there, so both stay unknown."""
    connector = _google(provider_settings, sandbox)
    ben = world.add_mailbox(Mailbox("ben@sandbox.example", "Ben", "google", "Asia/Tokyo"))
    start = NOW + timedelta(days=2)
    google_helpers.add_meeting(world, ben, "m1", start)

    [schedule] = _schedules(connector, ben.email)

    assert schedule == ContactSchedule(
        ben.email, (BusyInterval(start, start + timedelta(minutes=30)),)
    )


def test_google_errors_are_unavailable_and_outsiders_are_never_asked(
    provider_settings: Settings, sandbox: Sandbox, world: World
) -> None:
    """A per-calendar ``errors`` entry (notFound) means no schedule."""
    connector = _google(provider_settings, sandbox)
    assert [s.available for s in _schedules(connector, "ghost@sandbox.example")] == [False]
    asked = _google_requests(world)
    assert [s.available for s in _schedules(connector, "cy@gmail.example")] == [False]
    assert _google_requests(world) == asked


def test_google_asks_fifty_calendars_at_a_time(
    provider_settings: Settings, sandbox: Sandbox, world: World
) -> None:
    connector = _google(provider_settings, sandbox)
    people = [f"p{n:02d}@sandbox.example" for n in range(55)]
    for address in people:
        world.add_mailbox(Mailbox(address, address, "google"))
    found = _schedules(connector, *people)
    assert [s.email for s in found] == people
    assert all(s.available for s in found)
    assert _google_requests(world) == 2
