"""The emulator's Graph v1.0 front-end over plain httpx, with tokens from the real msal."""

from __future__ import annotations

import base64
import email
import email.policy
from datetime import time, timedelta
from typing import Any

import httpx
import pytest

from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import Fault, Mailbox, SandboxAttendee, World

from .microsoft_client import (
    DELTA,
    MICROSOFT_USER,
    MONDAY,
    READ,
    access_token,
    add_event,
    delta_round,
    graph,
)

PROPERTY = "String {66f5a359-4659-4830-9070-00047ec6ac6e} Name nudger"


@pytest.fixture
def client(sandbox: Sandbox) -> Any:
    with graph(sandbox, access_token(sandbox)) as client:
        yield client


def _event_body(subject: str, **extra: Any) -> dict[str, Any]:
    start = MONDAY + timedelta(days=1)
    return {
        "subject": subject,
        "start": {"dateTime": start.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
        "end": {"dateTime": (start + timedelta(minutes=30)).isoformat(), "timeZone": "UTC"},
        **extra,
    }


# --- user, settings, directory -------------------------------------------------------------


def test_me_describes_the_signed_in_user(client: httpx.Client) -> None:
    me = client.get("/me").json()
    assert me["mail"] == MICROSOFT_USER
    assert me["userPrincipalName"] == MICROSOFT_USER
    assert me["displayName"] == "Grace Hopper"
    assert me["id"]


def test_mailbox_settings_use_windows_zone_names(client: httpx.Client, world: World) -> None:
    mailbox = world.mailbox(MICROSOFT_USER)
    mailbox.windows_time_zone = "Pacific Standard Time"
    mailbox.working_days = (1, 2, 3, 4)
    mailbox.work_start, mailbox.work_end = time(8, 30), time(16, 0)

    settings = client.get("/me/mailboxSettings").json()

    assert settings["timeZone"] == "Pacific Standard Time"
    assert settings["workingHours"] == {
        "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday"],
        "startTime": "08:30:00.0000000",
        "endTime": "16:00:00.0000000",
        "timeZone": {"name": "Pacific Standard Time"},
    }


def test_calendars_list_the_default_calendar(client: httpx.Client) -> None:
    [calendar] = client.get("/me/calendars").json()["value"]
    assert calendar["isDefaultCalendar"] is True


def test_org_chart_lists_manager_and_reports(client: httpx.Client, world: World) -> None:
    mailbox = world.mailbox(MICROSOFT_USER)
    world.people["boss@sandbox-microsoft.test"] = "The Boss"
    mailbox.manager = "boss@sandbox-microsoft.test"
    mailbox.direct_reports = ["ada@sandbox-google.test"]

    assert client.get("/me/manager").json()["displayName"] == "The Boss"
    reports = client.get("/me/directReports").json()["value"]
    assert [r["mail"] for r in reports] == ["ada@sandbox-google.test"]


def test_missing_manager_is_404(client: httpx.Client) -> None:
    response = client.get("/me/manager")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "Request_ResourceNotFound"


def test_directory_forbidden_tenant_gives_403(client: httpx.Client, world: World) -> None:
    world.mailbox(MICROSOFT_USER).directory_forbidden = True
    for path in ("/me/directReports", "/me/manager"):
        response = client.get(path)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "Authorization_RequestDenied"


def test_no_token_is_401_with_graph_error_body(sandbox: Sandbox) -> None:
    with graph(sandbox) as anonymous:
        response = anonymous.get("/me")
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "InvalidAuthenticationToken"
    assert set(error["innerError"]) == {"date", "request-id", "client-request-id"}


def test_missing_permission_is_403(sandbox: Sandbox) -> None:
    with graph(sandbox, access_token(sandbox, [READ])) as client:
        response = client.post("/me/events", json=_event_body("No"))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "ErrorAccessDenied"


# --- calendarView/delta --------------------------------------------------------------------


def _add_events(world: World, count: int) -> None:
    for n in range(count):
        add_event(world, f"event{n:03d}", MONDAY + timedelta(hours=n), summary=f"Meeting {n}")


def test_delta_pages_by_ten_by_default(client: httpx.Client, world: World) -> None:
    _add_events(world, 25)
    items, pages = delta_round(client, DELTA)

    assert [len(p["value"]) for p in pages] == [10, 10, 5]
    assert len({i["id"] for i in items}) == 25
    assert ["@odata.deltaLink" in p for p in pages] == [False, False, True]
    assert pages[0]["@odata.nextLink"].startswith(str(client.base_url))
    assert "$skiptoken=" in pages[0]["@odata.nextLink"]


def test_delta_honours_maxpagesize(client: httpx.Client, world: World) -> None:
    _add_events(world, 7)
    _, pages = delta_round(client, DELTA, Prefer="odata.maxpagesize=3")
    assert [len(p["value"]) for p in pages] == [3, 3, 1]


def test_delta_event_shape_in_utc(client: httpx.Client, world: World) -> None:
    add_event(
        world,
        "single-1",
        MONDAY,
        organizer="boss@sandbox-microsoft.test",
        attendees=[
            SandboxAttendee(MICROSOFT_USER, "Grace Hopper", "tentative"),
            SandboxAttendee("room@sandbox-microsoft.test", "Room", resource=True),
        ],
        private_props={PROPERTY: "hold"},
    )
    expand = f"&$expand=singleValueExtendedProperties($filter=id eq '{PROPERTY}')"
    [event], _ = delta_round(client, DELTA + expand)

    assert event["type"] == "singleInstance"
    assert event["seriesMasterId"] is None
    assert event["start"] == {"dateTime": "2025-03-03T09:00:00.0000000", "timeZone": "UTC"}
    assert event["showAs"] == "tentative"
    assert event["responseStatus"]["response"] == "tentativelyAccepted"
    assert [a["type"] for a in event["attendees"]] == ["required", "resource"]
    assert event["organizer"]["emailAddress"]["address"] == "boss@sandbox-microsoft.test"
    assert event["singleValueExtendedProperties"] == [{"id": PROPERTY, "value": "hold"}]


def test_delta_honours_outlook_timezone(client: httpx.Client, world: World) -> None:
    add_event(world, "one", MONDAY)
    [event], _ = delta_round(client, DELTA, Prefer='outlook.timezone="Pacific Standard Time"')
    assert event["start"] == {
        "dateTime": "2025-03-03T01:00:00.0000000",
        "timeZone": "Pacific Standard Time",
    }


@pytest.mark.parametrize(
    ("event_type", "transparent", "show_as"),
    [("outOfOffice", False, "oof"), ("focusTime", False, "busy"), ("default", True, "free")],
)
def test_show_as_follows_the_event_kind(
    client: httpx.Client, world: World, event_type: str, transparent: bool, show_as: str
) -> None:
    add_event(world, "kind", MONDAY, event_type=event_type, transparent=transparent)
    [event], _ = delta_round(client, DELTA)
    assert event["showAs"] == show_as


def test_incremental_round_has_added_changed_and_removed(
    client: httpx.Client, world: World
) -> None:
    _add_events(world, 3)
    _, pages = delta_round(client, DELTA)
    mailbox = world.mailbox(MICROSOFT_USER)
    changed = mailbox.events["event001"]
    changed.summary = "Moved"
    world.put_event(mailbox, changed)
    world.delete_event(mailbox, "event002")
    add_event(world, "event999", MONDAY + timedelta(days=2))

    items, _ = delta_round(client, pages[-1]["@odata.deltaLink"])

    by_subject = {i.get("subject"): i for i in items if "@removed" not in i}
    assert set(by_subject) == {"Moved", ""}
    [removed] = [i for i in items if "@removed" in i]
    assert removed["@removed"] == {"reason": "deleted"}
    assert removed["id"] not in {i["id"] for i in by_subject.values()}


def test_unchanged_mailbox_gives_an_empty_incremental_round(
    client: httpx.Client, world: World
) -> None:
    _add_events(world, 2)
    _, pages = delta_round(client, DELTA)
    items, _ = delta_round(client, pages[-1]["@odata.deltaLink"])
    assert items == []


def test_expired_cursors_answer_410(client: httpx.Client, world: World) -> None:
    _add_events(world, 2)
    _, pages = delta_round(client, DELTA)
    world.expire_cursors(world.mailbox(MICROSOFT_USER))

    response = client.get(pages[-1]["@odata.deltaLink"])

    assert response.status_code == 410
    assert response.json()["error"]["code"] == "syncStateNotFound"


def test_delta_needs_a_window(client: httpx.Client) -> None:
    response = client.get("/me/calendarView/delta")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "ErrorInvalidParameter"


def test_window_cannot_change_within_a_round(client: httpx.Client, world: World) -> None:
    _add_events(world, 12)
    first = client.get(DELTA).json()
    moved = first["@odata.nextLink"] + "&startDateTime=2025-02-01T00:00:00Z"
    moved += "&endDateTime=2025-04-01T00:00:00Z"
    assert client.get(moved).status_code == 400


def test_events_outside_the_window_are_not_listed(client: httpx.Client, world: World) -> None:
    add_event(world, "inside", MONDAY)
    add_event(world, "outside", MONDAY + timedelta(days=60))
    items, _ = delta_round(client, DELTA)
    assert len(items) == 1


# --- getSchedule -----------------------------------------------------------------------------


def test_get_schedule_gives_availability_and_items(client: httpx.Client, world: World) -> None:
    add_event(world, "busy", MONDAY, end=MONDAY + timedelta(minutes=30))
    add_event(world, "ooo", MONDAY + timedelta(hours=1), event_type="outOfOffice")
    body = {
        "schedules": [MICROSOFT_USER, "stranger@elsewhere.test"],
        "startTime": {"dateTime": "2025-03-03T09:00:00", "timeZone": "UTC"},
        "endTime": {"dateTime": "2025-03-03T11:00:00", "timeZone": "UTC"},
        "availabilityViewInterval": 30,
    }

    mine, stranger = client.post("/me/calendar/getSchedule", json=body).json()["value"]

    assert mine["availabilityView"] == "2033"
    assert [i["status"] for i in mine["scheduleItems"]] == ["busy", "oof"]
    assert mine["workingHours"]["timeZone"] == {"name": "GMT Standard Time"}
    assert stranger["error"]["responseCode"] == "ErrorInvalidUser"


def _schedule_body(*schedules: str) -> dict[str, Any]:
    return {
        "schedules": list(schedules),
        "startTime": {"dateTime": "2025-03-03T09:00:00", "timeZone": "UTC"},
        "endTime": {"dateTime": "2025-03-03T11:00:00", "timeZone": "UTC"},
    }


def test_get_schedule_refuses_more_than_twenty_schedules(client: httpx.Client) -> None:
    """One getSchedule request reads at most 20 mailboxes."""
    people = [f"p{n}@sandbox-microsoft.test" for n in range(21)]
    assert client.post("/me/calendar/getSchedule", json=_schedule_body(*people[:20])).is_success
    refused = client.post("/me/calendar/getSchedule", json=_schedule_body(*people))
    assert refused.status_code == 400


def test_get_schedule_does_not_cross_tenants(client: httpx.Client, world: World) -> None:
    """Free/busy stays inside the tenant: another tenant's user is an error per schedule."""
    world.add_mailbox(Mailbox("ana@sandbox-microsoft.test", "Ana", "microsoft"))
    world.add_mailbox(Mailbox("zed@fabrikam.test", "Zed", "microsoft", tenant="fabrikam"))
    body = _schedule_body("ana@sandbox-microsoft.test", "zed@fabrikam.test")
    ana, zed = client.post("/me/calendar/getSchedule", json=body).json()["value"]
    assert "error" not in ana
    assert zed["error"]["responseCode"] == "ErrorInvalidUser"


# --- events ----------------------------------------------------------------------------------


def test_transaction_id_makes_create_idempotent(client: httpx.Client, world: World) -> None:
    body = _event_body(
        "Catch up",
        transactionId="nudger-hold-1",
        singleValueExtendedProperties=[{"id": PROPERTY, "value": "hold-1"}],
    )
    first = client.post("/me/events", json=body)
    second = client.post("/me/events", json=body)

    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    [stored] = world.live_events(world.mailbox(MICROSOFT_USER))
    assert stored.private_props == {PROPERTY: "hold-1"}
    assert stored.transaction_id == "nudger-hold-1"
    assert first.json()["responseStatus"]["response"] == "organizer"


def test_event_get_patch_delete_then_404(client: httpx.Client) -> None:
    created = client.post("/me/events", json=_event_body("Draft", showAs="free")).json()
    path = f"/me/events/{created['id']}"

    assert client.get(path).json()["showAs"] == "free"
    assert client.patch(path, json={"subject": "Final"}).json()["subject"] == "Final"
    assert client.delete(path).status_code == 204
    missing = client.get(path)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "ErrorItemNotFound"
    assert client.delete(path).status_code == 404


def test_events_made_elsewhere_have_stable_graph_ids(client: httpx.Client, world: World) -> None:
    add_event(world, "simple-id", MONDAY, summary="From the org generator")
    [listed], _ = delta_round(client, DELTA)
    assert client.get(f"/me/events/{listed['id']}").json()["subject"] == "From the org generator"


# --- sendMail ----------------------------------------------------------------------------------


def test_send_mail_as_mime(client: httpx.Client, world: World) -> None:
    raw = (
        f"From: Grace <{MICROSOFT_USER}>\r\nTo: ada@sandbox-google.test\r\n"
        "Subject: Coffee?\r\n\r\nShall we?\r\n"
    ).encode()

    response = client.post(
        "/me/sendMail", content=base64.b64encode(raw), headers={"Content-Type": "text/plain"}
    )

    assert response.status_code == 202
    assert response.content == b""
    [sent] = world.sent
    assert (sent.mailbox, sent.provider, sent.raw) == (MICROSOFT_USER, "microsoft", raw)


def test_send_mail_as_json_is_rendered_to_mime(client: httpx.Client, world: World) -> None:
    message = {
        "subject": "Lunch",
        "body": {"contentType": "text", "content": "Thursday?"},
        "toRecipients": [{"emailAddress": {"address": "ada@sandbox-google.test"}}],
    }

    response = client.post("/me/sendMail", json={"message": message, "saveToSentItems": False})

    assert response.status_code == 202
    parsed = email.message_from_bytes(world.sent[0].raw, policy=email.policy.default)
    assert parsed["Subject"] == "Lunch"
    assert parsed["To"] == "ada@sandbox-google.test"
    assert MICROSOFT_USER in parsed["From"]


def test_send_mail_with_bad_base64_is_400(client: httpx.Client, world: World) -> None:
    response = client.post(
        "/me/sendMail", content=b"not base64!", headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "ErrorMimeContentInvalidBase64String"
    assert world.sent == []


# --- faults ------------------------------------------------------------------------------------


def test_injected_throttling_uses_graph_error_and_retry_after(
    client: httpx.Client, world: World
) -> None:
    world.faults.append(Fault("/graph/v1.0/me", 429, retry_after=7))

    throttled = client.get("/me")

    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "7"
    assert throttled.json()["error"]["code"] == "TooManyRequests"
    assert "innerError" in throttled.json()["error"]
    assert client.get("/me").status_code == 200
