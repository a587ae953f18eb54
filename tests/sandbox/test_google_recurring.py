"""Recurring events at the emulator's Calendar v3 front-end, checked against Google's
reference: the Calendar v3 discovery document (``Event.status``,
``Event.recurringEventId``, ``Event.originalStartTime``, ``events.list`` parameters
``showDeleted``, ``singleEvents`` and ``syncToken``), as shipped in
google-api-python-client and published at developers.google.com/calendar/api/v3/reference.

Each test names one fact nudger relies on."""

from __future__ import annotations

from datetime import timedelta

from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import SandboxAttendee, World

from .google_client import GOOGLE_USER, MONDAY, add_event, calendar, list_all

BARE_CANCELLED_INSTANCE = {"kind", "etag", "id", "status", "recurringEventId", "originalStartTime"}
COLLEAGUE = [SandboxAttendee(GOOGLE_USER, "Ada"), SandboxAttendee("bo@x.io", "Bo")]


def weekly(world: World, weeks: int = 3, **changes: dict[str, object]) -> None:
    """A weekly one-on-one stored expanded; ``changes`` by occurrence id."""
    for week in range(weeks):
        start = MONDAY + timedelta(weeks=week)
        event_id = f"weekly{week}"
        fields = {"series_id": "weekly", "original_start": start, "attendees": COLLEAGUE}
        fields.update(changes.get(event_id, {}))
        add_event(world, event_id, fields.pop("start", start), **fields)  # type: ignore[arg-type]


def test_instances_carry_recurring_event_id(sandbox: Sandbox, world: World) -> None:
    """``recurringEventId``: "For an instance of a recurring event, this is the id of the
    recurring event to which this instance belongs" (Event resource)."""
    weekly(world)
    items = list_all(calendar(sandbox))[0]
    assert [i["recurringEventId"] for i in items] == ["weekly"] * 3
    assert all(i["originalStartTime"] == i["start"] for i in items)


def test_moved_instance_keeps_original_start_time(sandbox: Sandbox, world: World) -> None:
    """``originalStartTime`` "uniquely identifies the instance within the recurring event
    series even if the instance was moved to a different time. Immutable." (Event)."""
    moved = MONDAY + timedelta(weeks=1, days=1, hours=3)
    weekly(world, weekly1={"start": moved, "end": moved + timedelta(hours=1)})
    by_id = {i["id"]: i for i in list_all(calendar(sandbox))[0]}
    original = by_id["weekly1"]["originalStartTime"]["dateTime"]
    assert original.startswith((MONDAY + timedelta(weeks=1)).strftime("%Y-%m-%dT"))
    assert by_id["weekly1"]["start"]["dateTime"] != original
    assert by_id["weekly1"]["start"]["dateTime"].startswith(moved.strftime("%Y-%m-%dT"))


def test_cancelled_instance_arrives_with_only_id_status_and_original_start(
    sandbox: Sandbox, world: World
) -> None:
    """``Event.status``: cancelled exceptions of a recurring event "are only guaranteed to
    have values for the id, recurringEventId and originalStartTime fields populated"; the
    emulator sends nothing more (no attendees, no start, no summary)."""
    weekly(world, weekly1={"cancelled": True, "summary": "1:1"})
    by_id = {i["id"]: i for i in list_all(calendar(sandbox), showDeleted=True)[0]}
    cancelled = by_id["weekly1"]
    assert set(cancelled) == BARE_CANCELLED_INSTANCE
    assert cancelled["status"] == "cancelled"
    assert cancelled["recurringEventId"] == "weekly"
    assert "attendees" in by_id["weekly0"]


def test_show_deleted_false_hides_cancelled_instances_in_a_full_list(
    sandbox: Sandbox, world: World
) -> None:
    """``showDeleted``: "Whether to include deleted events (with status equals
    "cancelled") in the result ... The default is False." With ``singleEvents`` true,
    only the cancelled instances (never a master) come back when it is set."""
    weekly(world, weekly1={"cancelled": True})
    cal = calendar(sandbox)
    assert [i["id"] for i in list_all(cal)[0]] == ["weekly0", "weekly2"]
    assert [i["id"] for i in list_all(cal, showDeleted=False)[0]] == ["weekly0", "weekly2"]
    assert [i["id"] for i in list_all(cal, showDeleted=True)[0]] == [
        "weekly0",
        "weekly1",
        "weekly2",
    ]


def test_a_deleted_instance_is_a_cancelled_exception_in_incremental_sync(
    sandbox: Sandbox, world: World
) -> None:
    """``syncToken``: "All events deleted since the previous list request will always be
    in the result set"; deleting one instance of a series leaves a cancelled exception
    (``Event.status``), which keeps ``recurringEventId`` and ``originalStartTime``."""
    weekly(world)
    cal = calendar(sandbox)
    token = list_all(cal)[1][-1]["nextSyncToken"]
    cal.events().delete(calendarId="primary", eventId="weekly2").execute()

    [change] = list_all(cal, syncToken=token)[0]
    assert set(change) == BARE_CANCELLED_INSTANCE
    assert (change["id"], change["recurringEventId"]) == ("weekly2", "weekly")
    expected = (MONDAY + timedelta(weeks=2)).strftime("%Y-%m-%dT")
    assert change["originalStartTime"]["dateTime"].startswith(expected)


def test_a_cancelled_one_off_has_no_details_in_incremental_sync_without_show_deleted(
    sandbox: Sandbox, world: World
) -> None:
    """``Event.status``: deleted events keep their details on the organizer's calendar,
    but "incremental sync requests with showDeleted set to false will not return these
    details"; only ``id`` is guaranteed."""
    add_event(world, "oneoff1", MONDAY, attendees=COLLEAGUE)
    cal = calendar(sandbox)
    plain = list_all(cal)[1][-1]["nextSyncToken"]
    shown = list_all(cal, showDeleted=True)[1][-1]["nextSyncToken"]
    cal.events().patch(
        calendarId="primary", eventId="oneoff1", body={"status": "cancelled"}
    ).execute()

    [bare] = list_all(cal, syncToken=plain)[0]
    assert set(bare) == {"kind", "etag", "id", "status"}
    [detailed] = list_all(cal, syncToken=shown, showDeleted=True)[0]
    assert detailed["status"] == "cancelled"
    assert "attendees" in detailed
