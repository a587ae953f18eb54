"""The emulator's Calendar v3 and Gmail front-end, driven by google-api-python-client."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from googleapiclient.errors import HttpError
from googleapiclient.http import MediaInMemoryUpload

from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import Mailbox, SandboxAttendee, SandboxEvent, World

from .google_client import (
    GOOGLE_USER,
    MONDAY,
    SEND,
    add_event,
    body,
    calendar,
    connect,
    error_of,
    list_all,
    service,
    tls,
)

# --- events.list --------------------------------------------------------------------------


def test_short_pages_only_end_without_next_page_token(sandbox: Sandbox, world: World) -> None:
    for n in range(10):
        add_event(world, f"event{n:03d}", MONDAY + timedelta(hours=n))
    items, pages = list_all(calendar(sandbox), maxResults=4)

    assert len(pages[0]["items"]) < 4
    assert "nextPageToken" in pages[0]
    assert any(not page["items"] for page in pages[:-1])
    assert sorted(i["id"] for i in items) == [f"event{n:03d}" for n in range(10)]
    assert [("nextSyncToken" in page) for page in pages] == [False] * (len(pages) - 1) + [True]


def test_page_token_is_bound_to_its_query(sandbox: Sandbox, world: World) -> None:
    for n in range(5):
        add_event(world, f"event{n:03d}", MONDAY + timedelta(hours=n))
    cal = calendar(sandbox)
    first = cal.events().list(calendarId="primary", singleEvents=True, maxResults=2).execute()
    with pytest.raises(HttpError) as exc:
        cal.events().list(
            calendarId="primary",
            singleEvents=True,
            showDeleted=True,
            pageToken=first["nextPageToken"],
        ).execute()
    assert exc.value.status_code == 400


@pytest.mark.parametrize(
    "params",
    [
        {"timeMin": "2025-01-01T00:00:00Z"},
        {"privateExtendedProperty": "nudgerHold=x"},
        {"orderBy": "startTime"},
    ],
)
def test_sync_token_refuses_filters(sandbox: Sandbox, params: dict[str, str]) -> None:
    cal = calendar(sandbox)
    token = list_all(cal)[1][-1]["nextSyncToken"]
    with pytest.raises(HttpError) as exc:
        list_all(cal, syncToken=token, **params)
    assert exc.value.status_code == 400


def test_incremental_sync_returns_only_changes_including_deletions(
    sandbox: Sandbox, world: World
) -> None:
    for n in range(4):
        add_event(world, f"event{n:03d}", MONDAY + timedelta(days=n))
    cal = calendar(sandbox)
    token = list_all(cal, timeMin="2025-03-01T00:00:00Z")[1][-1]["nextSyncToken"]
    cal.events().patch(
        calendarId="primary", eventId="event001", body={"summary": "moved"}
    ).execute()
    cal.events().delete(calendarId="primary", eventId="event002").execute()
    add_event(world, "outside", datetime(2025, 2, 1, tzinfo=UTC))

    changes, pages = list_all(cal, syncToken=token)
    by_id = {item["id"]: item for item in changes}
    assert set(by_id) == {"event001", "event002"}
    assert by_id["event001"]["summary"] == "moved"
    assert by_id["event002"] == {
        "kind": "calendar#event",
        "etag": by_id["event002"]["etag"],
        "id": "event002",
        "status": "cancelled",
    }
    assert list_all(cal, syncToken=pages[-1]["nextSyncToken"])[0] == []


def test_expired_cursor_answers_410_full_sync_required(sandbox: Sandbox, world: World) -> None:
    cal = calendar(sandbox)
    token = list_all(cal)[1][-1]["nextSyncToken"]
    url = f"{sandbox.base_url}/_sandbox/mailboxes/{GOOGLE_USER}/expire-cursors"
    httpx.post(url, verify=tls(sandbox)).raise_for_status()
    for stale in (token, "garbage"):
        with pytest.raises(HttpError) as exc:
            list_all(cal, syncToken=stale)
        assert exc.value.status_code == 410
        assert error_of(exc)["errors"][0]["reason"] == "fullSyncRequired"


def test_show_deleted_reveals_cancelled_occurrences_never_deleted_events(
    sandbox: Sandbox, world: World
) -> None:
    add_event(world, "weekly1", MONDAY, series_id="weekly")
    add_event(world, "weekly2", MONDAY + timedelta(days=7), series_id="weekly", cancelled=True)
    add_event(world, "gone1", MONDAY)
    world.delete_event(world.mailbox(GOOGLE_USER), "gone1")
    cal = calendar(sandbox)

    assert [i["id"] for i in list_all(cal)[0]] == ["weekly1"]
    shown = {i["id"]: i for i in list_all(cal, showDeleted=True)[0]}
    assert set(shown) == {"weekly1", "weekly2"}
    assert shown["weekly2"]["status"] == "cancelled"
    assert shown["weekly2"]["recurringEventId"] == "weekly"


def test_only_single_events_are_served(sandbox: Sandbox) -> None:
    cal = calendar(sandbox)
    for params in ({}, {"orderBy": "startTime"}):
        with pytest.raises(HttpError) as exc:
            cal.events().list(calendarId="primary", **params).execute()
        assert exc.value.status_code == 400


def test_window_and_private_property_filters(sandbox: Sandbox, world: World) -> None:
    add_event(world, "early", MONDAY - timedelta(days=2))
    add_event(world, "hold1", MONDAY, private_props={"nudgerHold": "bob@x.test"})
    add_event(world, "plain", MONDAY + timedelta(hours=2))
    cal = calendar(sandbox)
    in_window = list_all(cal, timeMin=MONDAY.isoformat(), orderBy="startTime")[0]
    holds = list_all(cal, privateExtendedProperty="nudgerHold=bob@x.test")[0]
    assert [i["id"] for i in in_window] == ["hold1", "plain"]
    assert [i["id"] for i in holds] == ["hold1"]
    assert holds[0]["extendedProperties"] == {"private": {"nudgerHold": "bob@x.test"}}


def test_event_resource_shape(sandbox: Sandbox, world: World) -> None:
    attendees = [
        SandboxAttendee(GOOGLE_USER, "Ada Lovelace"),
        SandboxAttendee("bob@x.test", "Bob", "declined", optional=True),
        SandboxAttendee("room@x.test", "Room 1", resource=True),
    ]
    add_event(world, "meeting", MONDAY, attendees=attendees, transparent=True)
    day = datetime(2025, 3, 4, tzinfo=UTC)
    add_event(
        world, "holiday", day, end=day + timedelta(days=1), all_day=True, event_type="outOfOffice"
    )
    items = {i["id"]: i for i in list_all(calendar(sandbox))[0]}

    meeting = items["meeting"]
    assert meeting["start"] == {"dateTime": "2025-03-03T09:00:00Z", "timeZone": "Europe/London"}
    assert meeting["transparency"] == "transparent"
    assert meeting["attendees"][0] == {
        "email": GOOGLE_USER,
        "displayName": "Ada Lovelace",
        "self": True,
        "organizer": True,
        "responseStatus": "accepted",
    }
    assert meeting["attendees"][1]["optional"] is True
    assert "self" not in meeting["attendees"][1]
    assert meeting["attendees"][2]["resource"] is True
    assert items["holiday"]["start"] == {"date": "2025-03-04"}
    assert items["holiday"]["end"] == {"date": "2025-03-05"}
    assert items["holiday"]["eventType"] == "outOfOffice"
    assert "transparency" not in items["holiday"]


# --- writes -------------------------------------------------------------------------------


def test_insert_with_client_id_then_duplicate_is_409(sandbox: Sandbox, world: World) -> None:
    cal = calendar(sandbox)
    hold = body("Hold", MONDAY, id="nudgerhold0001", extendedProperties={"private": {"k": "v"}})
    created = cal.events().insert(calendarId="primary", body=hold, sendUpdates="none").execute()
    assert created["id"] == "nudgerhold0001"
    assert world.mailbox(GOOGLE_USER).events["nudgerhold0001"].private_props == {"k": "v"}
    with pytest.raises(HttpError) as exc:
        cal.events().insert(calendarId="primary", body=hold).execute()
    assert exc.value.status_code == 409
    assert error_of(exc)["errors"][0]["reason"] == "duplicate"


@pytest.mark.parametrize("event_id", ["UPPER12345", "abc", "hold-with-dash", "wxyz12345"])
def test_insert_with_invalid_id_is_400(sandbox: Sandbox, event_id: str) -> None:
    with pytest.raises(HttpError) as exc:
        calendar(sandbox).events().insert(
            calendarId="primary", body=body("x", MONDAY, id=event_id)
        ).execute()
    assert exc.value.status_code == 400
    assert error_of(exc)["message"] == "Invalid resource id value."


def test_update_replaces_the_event_and_keeps_its_type(sandbox: Sandbox, world: World) -> None:
    add_event(world, "focus", MONDAY, event_type="focusTime", summary="Deep work", description="d")
    cal = calendar(sandbox)
    later = MONDAY + timedelta(hours=2)
    updated = (
        cal.events()
        .update(calendarId="primary", eventId="focus", body=body("Focus", later))
        .execute()
    )
    stored = world.mailbox(GOOGLE_USER).events["focus"]
    assert updated["summary"] == "Focus"
    assert "description" not in updated
    assert stored.start == later
    assert stored.event_type == "focusTime"
    change = cal.events().patch(
        calendarId="primary", eventId="focus", body={"eventType": "default"}
    )
    with pytest.raises(HttpError) as exc:
        change.execute()
    assert exc.value.status_code == 400


def test_delete_twice_is_410_and_unknown_is_404(sandbox: Sandbox, world: World) -> None:
    add_event(world, "doomed", MONDAY)
    cal = calendar(sandbox)
    cal.events().delete(calendarId="primary", eventId="doomed").execute()
    for event_id, status in (("doomed", 410), ("neverwas", 404)):
        with pytest.raises(HttpError) as exc:
            cal.events().delete(calendarId="primary", eventId=event_id).execute()
        assert exc.value.status_code == status
    assert (
        cal.events().get(calendarId="primary", eventId="doomed").execute()["status"] == "cancelled"
    )


def test_send_updates_all_records_invitations(sandbox: Sandbox, world: World) -> None:
    cal = calendar(sandbox)
    invite = body("1:1", MONDAY, attendees=[{"email": "bob@x.test"}])
    cal.events().insert(calendarId="primary", body=invite).execute()
    assert world.sent == []
    cal.events().insert(calendarId="primary", body=invite, sendUpdates="all").execute()
    assert len(world.sent) == 1
    assert b"To: bob@x.test" in world.sent[0].raw


# --- freeBusy -----------------------------------------------------------------------------


def test_free_busy_merges_and_skips_free_and_declined(sandbox: Sandbox, world: World) -> None:
    add_event(world, "one", MONDAY)
    add_event(world, "overlap", MONDAY + timedelta(minutes=30))
    add_event(world, "free", MONDAY + timedelta(hours=3), transparent=True)
    declined = [SandboxAttendee(GOOGLE_USER, "Ada", "declined")]
    add_event(world, "declined", MONDAY + timedelta(hours=4), attendees=declined)
    query = {
        "timeMin": MONDAY.isoformat(),
        "timeMax": (MONDAY + timedelta(days=1)).isoformat(),
        "items": [{"id": "primary"}, {"id": "stranger@elsewhere.test"}],
    }
    answer = calendar(sandbox).freebusy().query(body=query).execute()
    assert answer["calendars"]["primary"]["busy"] == [
        {"start": "2025-03-03T09:00:00Z", "end": "2025-03-03T10:30:00Z"}
    ]
    assert answer["calendars"]["stranger@elsewhere.test"]["errors"][0]["reason"] == "notFound"


def _day_query(*ids: str, **extra: Any) -> dict[str, Any]:
    return {
        "timeMin": MONDAY.isoformat(),
        "timeMax": (MONDAY + timedelta(days=1)).isoformat(),
        "items": [{"id": i} for i in ids],
        **extra,
    }


def test_free_busy_shows_colleagues_of_the_domain_only(sandbox: Sandbox, world: World) -> None:
    """Workspace shares free/busy inside the organisation; a user of another domain comes
    back with a per-calendar ``notFound`` (freebusy reference: calendars.(key).errors)."""
    cal = calendar(sandbox)  # signed in before other users exist: no account chooser
    colleague = world.add_mailbox(Mailbox("ben@sandbox-google.test", "Ben", "google"))
    outsider = world.add_mailbox(Mailbox("cy@other-google.test", "Cy", "google"))
    for mailbox in (colleague, outsider):
        world.put_event(mailbox, SandboxEvent("m", MONDAY, MONDAY + timedelta(hours=1), "x@y.z"))
    answer = cal.freebusy().query(body=_day_query(colleague.email, outsider.email))
    calendars = answer.execute()["calendars"]
    assert calendars[colleague.email]["busy"] == [
        {"start": "2025-03-03T09:00:00Z", "end": "2025-03-03T10:00:00Z"}
    ]
    assert calendars[outsider.email]["errors"][0]["reason"] == "notFound"


def test_free_busy_answers_at_most_fifty_calendars(sandbox: Sandbox, world: World) -> None:
    """calendarExpansionMax: "Maximum value is 50"; calendars past it are refused one by one
    with ``tooManyCalendarsRequested``, and a larger value is a bad request."""
    cal = calendar(sandbox)
    ids = [f"p{n:02d}@sandbox-google.test" for n in range(51)]
    for address in ids:
        world.add_mailbox(Mailbox(address, address, "google"))
    calendars = cal.freebusy().query(body=_day_query(*ids)).execute()["calendars"]
    assert [c.get("errors", [{}])[0].get("reason") for c in calendars.values()] == [None] * 50 + [
        "tooManyCalendarsRequested"
    ]
    with pytest.raises(HttpError) as exc:
        cal.freebusy().query(body=_day_query(*ids, calendarExpansionMax=51)).execute()
    assert exc.value.status_code == 400


# --- Gmail and faults ---------------------------------------------------------------------

MESSAGE = b"From: ada@sandbox-google.test\r\nTo: bob@x.test\r\nSubject: Hello\r\n\r\nHi Bob\r\n"


def test_gmail_send_stores_the_message(sandbox: Sandbox, world: World) -> None:
    gmail = service(sandbox, connect(sandbox, [SEND]), "gmail")
    raw = base64.urlsafe_b64encode(MESSAGE).decode()
    sent = gmail.users().messages().send(userId="me", body={"raw": raw}).execute()
    media = MediaInMemoryUpload(MESSAGE, mimetype="message/rfc822")
    gmail.users().messages().send(userId="me", media_body=media).execute()
    assert sent["labelIds"] == ["SENT"]
    assert sent["id"]
    assert [m.raw for m in world.sent] == [MESSAGE, MESSAGE]
    assert world.sent[0].mailbox == GOOGLE_USER
    assert world.sent[0].provider == "google"


@pytest.mark.parametrize(
    "raw", ["", "!!!not-base64", base64.urlsafe_b64encode(b"Subject: x\r\n\r\n").decode()]
)
def test_gmail_send_refuses_bad_messages(sandbox: Sandbox, world: World, raw: str) -> None:
    gmail = service(sandbox, connect(sandbox, [SEND]), "gmail")
    with pytest.raises(HttpError) as exc:
        gmail.users().messages().send(userId="me", body={"raw": raw}).execute()
    assert exc.value.status_code == 400
    assert world.sent == []


def test_injected_fault_answers_with_retry_after(sandbox: Sandbox) -> None:
    cal = calendar(sandbox)
    fault = {"path": "/calendar/v3/calendars", "status": 429, "retry_after": 7, "count": 1}
    url = sandbox.base_url + "/_sandbox/faults"
    httpx.post(url, json=fault, verify=tls(sandbox)).raise_for_status()
    with pytest.raises(HttpError) as exc:
        list_all(cal)
    assert exc.value.status_code == 429
    assert exc.value.resp["retry-after"] == "7"
    assert error_of(exc)["status"] == "RESOURCE_EXHAUSTED"
    assert list_all(cal)[0] == []
