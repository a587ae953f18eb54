"""The emulator's ``/_sandbox/`` control endpoints."""

from __future__ import annotations

import base64
import email.utils
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import SandboxEvent, SentMessage, World

GOOGLE_USER = "ada@sandbox-google.test"
"""The Google mailbox of the ``world`` fixture (conftest)."""
MICROSOFT_USER = "grace@sandbox-microsoft.test"
START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def control(sandbox: Sandbox) -> Iterator[httpx.Client]:
    tls = ssl.create_default_context(cafile=str(sandbox.certs.ca_cert))
    with httpx.Client(base_url=sandbox.base_url + "/_sandbox", verify=tls) as client:
        yield client


def add_event(world: World, event_id: str, **fields: Any) -> None:
    event = SandboxEvent(event_id, START, START + timedelta(hours=1), GOOGLE_USER, **fields)
    world.put_event(world.mailbox(GOOGLE_USER), event)


def test_lists_mailboxes(control: httpx.Client) -> None:
    mailboxes = {m["email"]: m for m in control.get("/mailboxes").json()}
    assert mailboxes[GOOGLE_USER]["provider"] == "google"
    assert {m["provider"] for m in mailboxes.values()} == {"google", "microsoft"}


def test_renames_a_mailbox_keeping_the_old_address_as_an_alias(
    control: httpx.Client, world: World
) -> None:
    renamed = control.post(f"/mailboxes/{GOOGLE_USER}/rename", json={"email": "ada.k@x.test"})
    taken = control.post("/mailboxes/ada.k@x.test/rename", json={"email": MICROSOFT_USER})

    assert renamed.json()["email"] == "ada.k@x.test"
    assert renamed.json()["aliases"] == [GOOGLE_USER]
    assert world.mailbox("ada.k@x.test").identity == GOOGLE_USER
    assert taken.status_code == 409
    assert (
        control.post(f"/mailboxes/{GOOGLE_USER}/rename", json={"email": "a@x"}).status_code == 404
    )
    assert control.post("/mailboxes/ada.k@x.test/rename", json={}).status_code == 400


def test_lists_events_and_filters_to_nudgers_own(control: httpx.Client, world: World) -> None:
    add_event(world, "meeting")
    add_event(world, "hold", private_props={"nudgerHold": "bob@x.test"})
    add_event(world, "gone")
    world.delete_event(world.mailbox(GOOGLE_USER), "gone")

    everything = control.get(f"/mailboxes/{GOOGLE_USER}/events").json()
    tagged = control.get(f"/mailboxes/{GOOGLE_USER}/events", params={"tagged": "true"}).json()
    with_deleted = control.get(f"/mailboxes/{GOOGLE_USER}/events?include_deleted=1").json()
    assert [e["id"] for e in everything] == ["hold", "meeting"]
    assert [e["id"] for e in tagged] == ["hold"]
    assert tagged[0]["private_props"] == {"nudgerHold": "bob@x.test"}
    assert len(with_deleted) == 3
    assert control.get("/mailboxes/nobody@x.test/events").status_code == 404


def test_lists_sent_messages_parsed(control: httpx.Client, world: World) -> None:
    raw = b"From: ada@sandbox-google.test\r\nTo: bob@x.test, eve@x.test\r\nSubject: Hi\r\n\r\nBody"
    world.sent.append(SentMessage(GOOGLE_USER, "google", raw))
    world.sent.append(SentMessage("grace@sandbox-microsoft.test", "microsoft", raw))

    sent = control.get("/sent", params={"provider": "google"}).json()
    assert len(sent) == 1
    assert sent[0]["mailbox"] == GOOGLE_USER
    assert sent[0]["subject"] == "Hi"
    assert sent[0]["to"] == ["bob@x.test", "eve@x.test"]
    assert base64.b64decode(sent[0]["raw"]) == raw
    assert len(control.get("/sent").json()) == 2


def test_adds_lists_and_clears_faults(control: httpx.Client, world: World) -> None:
    fault = {"path": "/calendar/v3", "status": 503, "count": 2, "retry_after": 3, "method": "get"}
    created = control.post("/faults", json=fault)
    assert created.status_code == 201
    assert world.faults[0].method == "GET"
    assert world.faults[0].count == 2
    assert control.get("/faults").json()[0]["retry_after"] == 3
    assert control.delete("/faults").json() == []
    assert world.faults == []


def test_a_fault_can_let_the_first_requests_through(control: httpx.Client, world: World) -> None:
    created = control.post("/faults", json={"path": "/calendar/v3", "status": 503, "skip": 2})
    assert created.json()["skip"] == 2
    taken = [world.take_fault("GET", "/calendar/v3/x") for _ in range(4)]
    assert [f.status if f else None for f in taken] == [None, None, 503, None]


@pytest.mark.parametrize(
    "fault",
    [
        {},
        {"path": "/x"},
        {"path": "/x", "status": 42},
        {"path": "/x", "status": 500, "count": 0},
        {"path": "/x", "status": 500, "skip": -1},
        {"path": "/x", "status": 429, "retry_after": 1, "retry_after_date": "yes"},
    ],
)
def test_refuses_malformed_faults(control: httpx.Client, fault: dict[str, object]) -> None:
    assert control.post("/faults", json=fault).status_code == 400


def test_expires_cursors(control: httpx.Client, world: World) -> None:
    before = world.mailbox(GOOGLE_USER).sync_epoch
    answer = control.post(f"/mailboxes/{GOOGLE_USER}/expire-cursors").json()
    assert answer["sync_epoch"] > before
    assert world.mailbox(GOOGLE_USER).sync_epoch == answer["sync_epoch"]
    assert control.post("/mailboxes/nobody@x.test/expire-cursors").status_code == 404


def test_lists_and_clears_recorded_requests(
    control: httpx.Client, sandbox: Sandbox, world: World
) -> None:
    tls = ssl.create_default_context(cafile=str(sandbox.certs.ca_cert))
    httpx.get(sandbox.base_url + "/calendar/v3/users/me/calendarList?maxResults=5", verify=tls)

    recorded = control.get("/requests", params={"path_contains": "calendarList"}).json()
    assert [{k: r[k] for k in ("method", "path", "query", "fault")} for r in recorded] == [
        {
            "method": "GET",
            "path": "/calendar/v3/users/me/calendarList",
            "query": {"maxResults": ["5"]},
            "fault": None,
        }
    ]
    assert isinstance(recorded[0]["at"], float)
    assert all(not r["path"].startswith("/_sandbox") for r in control.get("/requests").json())
    control.delete("/requests")
    assert world.requests == []


def test_retry_after_can_be_sent_as_an_http_date_never_earlier_than_asked(
    control: httpx.Client, sandbox: Sandbox, world: World
) -> None:
    fault = {"path": "/calendarList", "status": 429, "retry_after": 5, "retry_after_date": True}
    assert control.post("/faults", json=fault).status_code == 201
    tls = ssl.create_default_context(cafile=str(sandbox.certs.ca_cert))
    asked = datetime.now(UTC)
    answer = httpx.get(sandbox.base_url + "/calendar/v3/users/me/calendarList", verify=tls)

    assert answer.status_code == 429
    when = email.utils.parsedate_to_datetime(answer.headers["retry-after"])
    assert when >= asked + timedelta(seconds=5)
    assert when <= asked + timedelta(seconds=7)
    assert world.requests[-1].fault == 429
