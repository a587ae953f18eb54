"""Recurring series on the emulator's Graph front-end: masters, bare occurrences, exceptions.

Provider facts modelled (microsoft-graph-docs issue tracker):
- #7632 / docs-contrib #5602 "Missing properties in the occurrences of recurring events" and
  #22197 / docs-contrib #34 "Delta docs aren't full": in ``calendarView/delta`` an
  occurrence carries only @odata.type, @odata.etag, id, seriesMasterId, type, start, end;
  ``/calendarView`` and ``/events/{id}`` return full events.
- #2963 "Deleted appointments/occurrencies of a series were not listed": instances of a
  master leave deleted occurrences out.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from nudger.sandbox.microsoft_series import BARE_FIELDS
from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import SandboxAttendee, SandboxEvent, World

from .microsoft_client import (
    DELTA,
    MICROSOFT_USER,
    MONDAY,
    WINDOW,
    access_token,
    add_event,
    delta_round,
    graph,
)

BOSS = "boss@sandbox-microsoft.test"
REPORT = "ada@sandbox-microsoft.test"


@pytest.fixture
def client(sandbox: Sandbox) -> Any:
    with graph(sandbox, access_token(sandbox)) as client:
        yield client


def _weekly(world: World, count: int = 4, first: int = 0) -> list[SandboxEvent]:
    """A weekly one-on-one with REPORT, the owner organizing, ``count`` weeks from ``first``."""
    events = []
    for week in range(first, first + count):
        start = MONDAY + timedelta(weeks=week)
        people = [
            SandboxAttendee(MICROSOFT_USER, "Grace Hopper"),
            SandboxAttendee(REPORT, "Ada"),
        ]
        events.append(
            add_event(
                world,
                f"weekly-{week}",
                start,
                series_id="weekly",
                original_start=start,
                attendees=people,
                summary="Grace / Ada 1:1",
            )
        )
    return events


def _by_type(items: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        found.setdefault(item.get("type", "@removed"), []).append(item)
    return found


def _emails(item: dict[str, Any]) -> list[str]:
    return [a["emailAddress"]["address"] for a in item["attendees"]]


def test_delta_serves_series_occurrences_bare_as_graph_does(
    client: httpx.Client, world: World
) -> None:
    """#7632 / #22197: occurrences come with seven fields only; the master comes whole."""
    _weekly(world)
    items, _ = delta_round(client, DELTA)

    kinds = _by_type(items)
    assert len(kinds["occurrence"]) == 4
    assert all(set(o) == set(BARE_FIELDS) for o in kinds["occurrence"])
    [master] = kinds["seriesMaster"]
    assert {o["seriesMasterId"] for o in kinds["occurrence"]} == {master["id"]}
    assert _emails(master) == [MICROSOFT_USER, REPORT]
    assert master["start"]["dateTime"].startswith("2025-03-03T09:00:00")
    assert master["recurrence"]["pattern"]["type"] == "weekly"
    assert master["showAs"] == "busy"


def test_delta_serves_exceptions_whole(client: httpx.Client, world: World) -> None:
    """An occurrence that differs from its master (declined, moved, cancelled) is whole."""
    events = _weekly(world, 5)
    mailbox = world.mailbox(MICROSOFT_USER)
    events[1].attendees[1].response = "declined"
    events[2].start, events[2].end = (events[2].start + timedelta(hours=2),) * 2
    events[2].end += timedelta(hours=1)
    events[3].cancelled = True
    for event in events[1:4]:
        world.put_event(mailbox, event)

    items, _ = delta_round(client, DELTA)

    exceptions = _by_type(items)["exception"]
    assert len(exceptions) == 3
    assert all("attendees" in e and e["seriesMasterId"] for e in exceptions)
    assert sorted(e["isCancelled"] for e in exceptions) == [False, False, True]
    assert len(_by_type(items)["occurrence"]) == 2


def test_delta_sends_a_master_on_a_later_page_than_its_occurrences(
    client: httpx.Client, world: World
) -> None:
    _weekly(world, 4)
    _, pages = delta_round(client, DELTA, Prefer="odata.maxpagesize=2")

    types = [[item["type"] for item in page["value"]] for page in pages]
    assert types[-1] == ["seriesMaster"]
    assert all(t == "occurrence" for page in types[:-1] for t in page)


def test_delta_leaves_out_a_master_whose_series_began_before_the_window(
    client: httpx.Client, world: World
) -> None:
    """calendarView places a master at its first occurrence, outside this window."""
    _weekly(world, 6, first=-3)
    items, _ = delta_round(client, DELTA)

    kinds = _by_type(items)
    assert "seriesMaster" not in kinds
    assert len(kinds["occurrence"]) == 3


def test_events_by_id_serves_the_series_master(client: httpx.Client, world: World) -> None:
    _weekly(world, 3, first=-2)
    [occurrence, *_], _ = delta_round(client, DELTA)

    master = client.get(f"/me/events/{occurrence['seriesMasterId']}").json()

    assert master["type"] == "seriesMaster"
    assert master["id"] == occurrence["seriesMasterId"]
    assert _emails(master) == [MICROSOFT_USER, REPORT]
    assert master["start"]["dateTime"].startswith("2025-02-17T09:00:00")


def test_events_by_id_serves_an_occurrence_whole(client: httpx.Client, world: World) -> None:
    _weekly(world, 2)
    occurrence = next(i for i in delta_round(client, DELTA)[0] if i["type"] == "occurrence")

    whole = client.get(f"/me/events/{occurrence['id']}").json()

    assert whole["type"] == "occurrence"
    assert _emails(whole) == [MICROSOFT_USER, REPORT]


def test_events_by_id_answers_404_for_unknown_ids(client: httpx.Client) -> None:
    for unknown in ("AAMkAGSandboxSeriesbm9wZQ==", "nope"):
        response = client.get(f"/me/events/{unknown}")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "ErrorItemNotFound"


def test_instances_lists_a_masters_occurrences(client: httpx.Client, world: World) -> None:
    """Occurrences and exceptions, whole and paged; deleted occurrences are not listed (#2963)."""
    events = _weekly(world, 4)
    mailbox = world.mailbox(MICROSOFT_USER)
    events[1].cancelled = True
    world.put_event(mailbox, events[1])
    world.delete_event(mailbox, events[2].id)
    add_event(world, "single", MONDAY + timedelta(hours=3))
    master = _by_type(delta_round(client, DELTA)[0])["seriesMaster"][0]

    listed, pages = delta_round(
        client, f"/me/events/{master['id']}/instances?{WINDOW}", Prefer="odata.maxpagesize=2"
    )

    assert len(pages) == 2
    assert [i["type"] for i in listed] == ["occurrence", "exception", "occurrence"]
    assert all(_emails(i) == [MICROSOFT_USER, REPORT] for i in listed)


def test_instances_needs_a_window(client: httpx.Client, world: World) -> None:
    _weekly(world, 1)
    master = _by_type(delta_round(client, DELTA)[0])["seriesMaster"][0]
    response = client.get(f"/me/events/{master['id']}/instances")
    assert response.status_code == 400


def test_calendar_view_serves_occurrences_whole(client: httpx.Client, world: World) -> None:
    """#22197: plain calendarView (no delta) returns full occurrences and no masters."""
    _weekly(world, 3)
    listed, _ = delta_round(client, f"/me/calendarView?{WINDOW}")

    assert [i["type"] for i in listed] == ["occurrence"] * 3
    assert all(_emails(i) == [MICROSOFT_USER, REPORT] for i in listed)


def test_master_change_comes_back_through_delta_as_the_master(
    client: httpx.Client, world: World
) -> None:
    _weekly(world, 3)
    _, pages = delta_round(client, DELTA)
    world.change_series(
        world.mailbox(MICROSOFT_USER),
        "weekly",
        lambda e: e.attendees.append(SandboxAttendee(BOSS, "The Boss")),
    )

    items, _ = delta_round(client, pages[-1]["@odata.deltaLink"])

    [master] = items
    assert master["type"] == "seriesMaster"
    assert _emails(master) == [MICROSOFT_USER, REPORT, BOSS]


def test_ending_a_series_removes_its_later_occurrences_and_resends_the_master(
    client: httpx.Client, world: World
) -> None:
    events = _weekly(world, 4)
    _, pages = delta_round(client, DELTA)
    mailbox = world.mailbox(MICROSOFT_USER)
    for event in events[2:]:
        world.delete_event(mailbox, event.id)

    items, _ = delta_round(client, pages[-1]["@odata.deltaLink"])

    kinds = _by_type(items)
    assert len(kinds["@removed"]) == 2
    [master] = kinds["seriesMaster"]
    assert master["recurrence"]["range"]["endDate"] == "2025-03-10"
