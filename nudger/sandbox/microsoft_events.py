"""Graph ``event`` resources: the world's events rendered for Graph, and request bodies read.

The world speaks Google's vocabulary (``event_type``, ``transparent``, attendee
``needsAction``); this module maps it to Graph's ``showAs``, ``responseStatus`` and
attendee ``status``. The world stores occurrences; this module renders each one as
``singleInstance`` or ``occurrence`` (with ``seriesMasterId``). Series masters, exceptions
and the bare occurrences of delta are built on top of it in ``microsoft_series``.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from nudger.sandbox.microsoft_common import (
    calendar_id,
    date_time_time_zone,
    event_graph_id,
    invalid_request,
    parse_date_time_time_zone,
    series_graph_id,
    stamp,
)
from nudger.sandbox.world import Mailbox, SandboxAttendee, SandboxEvent, World

NEVER = "0001-01-01T00:00:00Z"
"""Graph's ``status.time`` for a response never given."""
_ATTENDEE_STATUS = {
    "accepted": "accepted",
    "declined": "declined",
    "tentative": "tentativelyAccepted",
    "needsAction": "none",
}
_FROM_GRAPH_STATUS = {"accepted": "accepted", "declined": "declined"}
_FROM_GRAPH_STATUS["tentativelyAccepted"] = "tentative"


@dataclass(frozen=True)
class View:
    """How events are rendered for one request."""

    zone: ZoneInfo
    zone_name: str
    expand_properties: frozenset[str] | None = None
    """Extended property ids asked for with ``$expand`` (None: not expanded)."""


# --- world → Graph -------------------------------------------------------------------------


def event_resource(event: SandboxEvent, owner: Mailbox, world: World, view: View) -> dict[str, Any]:
    body: dict[str, Any] = {
        "@odata.etag": f'W/"{change_key(event.id, event.version)}"',
        "id": event_graph_id(event.id),
        "createdDateTime": stamp(event.created),
        "lastModifiedDateTime": stamp(event.updated),
        "changeKey": change_key(event.id, event.version),
        "categories": [],
        "transactionId": event.transaction_id,
        "originalStartTimeZone": view.zone_name,
        "originalEndTimeZone": view.zone_name,
        "iCalUId": event.ical_uid,
        "subject": event.summary,
        "bodyPreview": event.description[:255],
        "body": {"contentType": "text", "content": event.description},
        "importance": "normal",
        "sensitivity": "normal",
        "isAllDay": event.all_day,
        "isCancelled": event.cancelled,
        "isOrganizer": _is_self(owner, event.organizer),
        "responseRequested": True,
        "seriesMasterId": series_graph_id(event.series_id) if event.series_id else None,
        "showAs": show_as(event, owner),
        "type": "occurrence" if event.series_id else "singleInstance",
        "start": _when(event.start, event.all_day, view),
        "end": _when(event.end, event.all_day, view),
        "location": {"displayName": "", "locationType": "default"},
        "locations": [],
        "recurrence": None,
        "responseStatus": response_status(event, owner),
        "attendees": [_attendee(a, event) for a in event.attendees],
        "organizer": {"emailAddress": _address(world, event.organizer)},
        "webLink": f"https://outlook.office365.com/owa/?itemid={event_graph_id(event.id)}",
        "calendar@odata.associationLink": f"calendars('{calendar_id(owner.email)}')",
    }
    if view.expand_properties is not None:
        body["singleValueExtendedProperties"] = _properties(event, view.expand_properties)
    return body


def removed_resource(event: SandboxEvent) -> dict[str, Any]:
    return {"@removed": {"reason": "deleted"}, "id": event_graph_id(event.id)}


def show_as(event: SandboxEvent, owner: Mailbox) -> str:
    """Graph's free/busy status of the event in the owner's calendar."""
    if event.event_type == "outOfOffice":
        return "oof"
    if event.event_type == "workingLocation":
        return "free" if event.transparent else "workingElsewhere"
    own = _own_response(event, owner)
    if event.transparent or own == "declined":
        return "free"
    return "tentative" if own == "tentative" else "busy"


def response_status(event: SandboxEvent, owner: Mailbox) -> dict[str, str]:
    if _is_self(owner, event.organizer):
        return {"response": "organizer", "time": NEVER}
    own = _own_response(event, owner)
    if own is None:
        return {"response": "none", "time": NEVER}
    if own == "needsAction":
        return {"response": "notResponded", "time": NEVER}
    return {"response": _ATTENDEE_STATUS.get(own, "none"), "time": stamp(event.updated)}


def _own_response(event: SandboxEvent, owner: Mailbox) -> str | None:
    for attendee in event.attendees:
        if _is_self(owner, attendee.email):
            return attendee.response
    return None


def _is_self(owner: Mailbox, address: str) -> bool:
    return address.lower() in {owner.email.lower(), *(a.lower() for a in owner.aliases)}


def _attendee(attendee: SandboxAttendee, event: SandboxEvent) -> dict[str, Any]:
    kind = "resource" if attendee.resource else "optional" if attendee.optional else "required"
    response = _ATTENDEE_STATUS.get(attendee.response, "none")
    when = NEVER if response == "none" else stamp(event.updated)
    return {
        "type": kind,
        "status": {"response": response, "time": when},
        "emailAddress": {"name": attendee.name, "address": attendee.email},
    }


def _address(world: World, email: str) -> dict[str, str]:
    with world.lock:
        name = world.people.get(email.lower(), email)
    return {"name": name, "address": email}


def _when(value: datetime, all_day: bool, view: View) -> dict[str, str]:
    if all_day:
        midnight = value.replace(tzinfo=None).isoformat(timespec="seconds")
        return {"dateTime": midnight + ".0000000", "timeZone": view.zone_name}
    return date_time_time_zone(value, view.zone, view.zone_name)


def _properties(event: SandboxEvent, wanted: frozenset[str]) -> list[dict[str, str]]:
    return [
        {"id": key, "value": value}
        for key, value in event.private_props.items()
        if not wanted or key.lower() in wanted
    ]


def change_key(key: str, version: int) -> str:
    """Graph's ``changeKey`` (and weak etag) of an item at one version."""
    digest = hashlib.sha256(f"{key}:{version}".encode()).hexdigest()
    return digest[:28]


# --- Graph → world -------------------------------------------------------------------------


def new_event(owner: Mailbox, body: dict[str, Any]) -> SandboxEvent:
    """A world event from a ``POST /me/events`` body (the owner organizes it)."""
    if "start" not in body or "end" not in body:
        raise invalid_request("Your request can't be completed. An event needs a start and end.")
    event = SandboxEvent(
        id=uuid.uuid4().hex,
        start=parse_date_time_time_zone(body["start"], "start"),
        end=parse_date_time_time_zone(body["end"], "end"),
        organizer=owner.email,
        transaction_id=_optional_text(body, "transactionId"),
    )
    apply_changes(event, body)
    return event


def apply_changes(event: SandboxEvent, body: dict[str, Any]) -> None:
    """Apply the writable properties present in a create or ``PATCH`` body."""
    if "subject" in body:
        event.summary = _optional_text(body, "subject") or ""
    if isinstance(body.get("body"), dict):
        event.description = str(body["body"].get("content") or "")
    if "start" in body:
        event.start = parse_date_time_time_zone(body["start"], "start")
    if "end" in body:
        event.end = parse_date_time_time_zone(body["end"], "end")
    if "isAllDay" in body:
        event.all_day = bool(body["isAllDay"])
    if "showAs" in body:
        _apply_show_as(event, str(body["showAs"]))
    if "attendees" in body:
        event.attendees = [_parse_attendee(a) for a in _list(body, "attendees")]
    for item in _list(body, "singleValueExtendedProperties"):
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            event.private_props[item["id"]] = str(item.get("value", ""))
    if event.end <= event.start:
        raise invalid_request("The end time of the event must be after its start time.")


def _apply_show_as(event: SandboxEvent, value: str) -> None:
    if value not in ("free", "tentative", "busy", "oof", "workingElsewhere", "unknown"):
        raise invalid_request(f"Cannot convert the literal '{value}' to the expected type.")
    event.transparent = value == "free"
    event.event_type = {"oof": "outOfOffice", "workingElsewhere": "workingLocation"}.get(
        value, "default"
    )


def _parse_attendee(item: Any) -> SandboxAttendee:
    address = item.get("emailAddress") if isinstance(item, dict) else None
    if not isinstance(address, dict) or not isinstance(address.get("address"), str):
        raise invalid_request("An attendee needs an emailAddress with an address.")
    status = item.get("status") if isinstance(item.get("status"), dict) else {}
    return SandboxAttendee(
        email=address["address"],
        name=str(address.get("name") or address["address"]),
        response=_FROM_GRAPH_STATUS.get(str(status.get("response")), "needsAction"),
        resource=item.get("type") == "resource",
        optional=item.get("type") == "optional",
    )


def _list(body: dict[str, Any], key: str) -> list[Any]:
    value = body.get(key) or []
    if not isinstance(value, list):
        raise invalid_request(f"The property '{key}' must be a collection.")
    return value


def _optional_text(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise invalid_request(f"The property '{key}' must be a string.")
    return value
