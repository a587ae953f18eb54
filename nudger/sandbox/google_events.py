"""Calendar v3 ``Event`` resources: world events to Google's JSON and request bodies back.

Output follows Google's habits: cancelled instances of a recurring series come bare
(``cancelled_instance_json``), boolean flags (``self``, ``organizer``, ``resource``,
``optional``) only when true, ``transparency`` only when transparent, all-day events
as ``date`` with an exclusive end, times in the calendar's zone. Input is validated
the way Google does for the fields the world stores; other fields are ignored.
"""

from __future__ import annotations

import base64
import dataclasses
import re
import secrets
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from nudger.sandbox.google_common import (
    GoogleError,
    bad_request,
    format_datetime,
    format_stamp,
    parse_rfc3339,
    parse_zone,
)
from nudger.sandbox.world import Mailbox, SandboxAttendee, SandboxEvent

EVENT_ID = re.compile(r"^[a-v0-9]{5,1024}$")
EVENT_TYPES = ("default", "outOfOffice", "focusTime", "workingLocation")
RESPONSES = ("needsAction", "declined", "tentative", "accepted")


def new_event_id() -> str:
    """A fresh id in Google's alphabet (base32hex, lowercase)."""
    raw = base64.b32hexencode(secrets.token_bytes(15)).decode()
    return raw.lower().rstrip("=")


def etag(event: SandboxEvent) -> str:
    return f'"{3_000_000_000_000_000 + event.version}"'


# --- to JSON ------------------------------------------------------------------------------


def deleted_json(event: SandboxEvent) -> dict[str, Any]:
    """What incremental syncs return for an event that no longer exists."""
    return {"kind": "calendar#event", "etag": etag(event), "id": event.id, "status": "cancelled"}


def cancelled_instance_json(event: SandboxEvent, zone: ZoneInfo) -> dict[str, Any]:
    """A cancelled (or deleted) instance of a recurring event: a cancelled exception.

    The Calendar v3 reference (``Event.status``) guarantees only ``id``,
    ``recurringEventId`` and ``originalStartTime`` on these; the emulator sends no more,
    so clients cannot come to rely on attendees, times or a summary being there.
    """
    return {
        **deleted_json(event),
        "recurringEventId": event.series_id,
        "originalStartTime": _when(event.original_start or event.start, event.all_day, zone),
    }


def event_json(event: SandboxEvent, owner: Mailbox, zone: ZoneInfo) -> dict[str, Any]:
    """The full ``calendar#event`` resource for ``event`` on ``owner``'s calendar."""
    body: dict[str, Any] = {
        "kind": "calendar#event",
        "etag": etag(event),
        "id": event.id,
        "status": "cancelled" if event.cancelled else "confirmed",
        "htmlLink": _html_link(event, owner),
        "created": format_stamp(event.created),
        "updated": format_stamp(event.updated),
        "summary": event.summary,
        "creator": _person(event.organizer, None, owner),
        "organizer": _person(event.organizer, _organizer_name(event, owner), owner),
        "start": _when(event.start, event.all_day, zone),
        "end": _when(event.end, event.all_day, zone),
        "iCalUID": event.ical_uid,
        "sequence": 0,
        "eventType": event.event_type,
        "reminders": {"useDefault": True},
    }
    _optional_fields(body, event, owner, zone)
    return body


def _optional_fields(
    body: dict[str, Any], event: SandboxEvent, owner: Mailbox, zone: ZoneInfo
) -> None:
    if event.description:
        body["description"] = event.description
    if event.attendees:
        body["attendees"] = [_attendee(a, event, owner) for a in event.attendees]
    if event.series_id:
        body["recurringEventId"] = event.series_id
        body["originalStartTime"] = _when(event.original_start or event.start, event.all_day, zone)
    if event.transparent or event.event_type == "workingLocation":
        body["transparency"] = "transparent"
    if event.private_props:
        body["extendedProperties"] = {"private": dict(event.private_props)}


def _html_link(event: SandboxEvent, owner: Mailbox) -> str:
    eid = base64.urlsafe_b64encode(f"{event.id} {owner.email}".encode()).decode().rstrip("=")
    return f"https://www.google.com/calendar/event?eid={eid}"


def _organizer_name(event: SandboxEvent, owner: Mailbox) -> str | None:
    if event.organizer.lower() == owner.email:
        return owner.name
    return next(
        (a.name for a in event.attendees if a.email.lower() == event.organizer.lower()), None
    )


def _person(email: str, name: str | None, owner: Mailbox) -> dict[str, Any]:
    person: dict[str, Any] = {"email": email}
    if name:
        person["displayName"] = name
    if email.lower() == owner.email:
        person["self"] = True
    return person


def _attendee(attendee: SandboxAttendee, event: SandboxEvent, owner: Mailbox) -> dict[str, Any]:
    body = _person(attendee.email, attendee.name, owner)
    body["responseStatus"] = attendee.response
    flags = {
        "organizer": attendee.email.lower() == event.organizer.lower(),
        "resource": attendee.resource,
        "optional": attendee.optional,
    }
    body.update({key: True for key, value in flags.items() if value})
    return body


def _when(value: datetime, all_day: bool, zone: ZoneInfo) -> dict[str, str]:
    if all_day:
        return {"date": event_date(value, zone).isoformat()}
    return {"dateTime": format_datetime(value, zone), "timeZone": zone.key}


def event_date(value: datetime, zone: ZoneInfo) -> date:
    """The calendar date of an all-day boundary (stored as a midnight)."""
    return value.date() if value.time() == time(0) else value.astimezone(zone).date()


# --- from request bodies ------------------------------------------------------------------


def event_from_body(
    body: dict[str, Any], owner: Mailbox, base: SandboxEvent, *, patch: bool = False
) -> SandboxEvent:
    """``base`` with the fields ``body`` sets (insert/update: a blank base; patch: the event)."""
    if body.get("recurrence"):
        raise bad_request("The sandbox stores occurrences only: recurrence is not supported.")
    if not patch:
        require_times(body)
    changes: dict[str, Any] = {}
    if "start" in body or "end" in body:
        changes.update(_times(body, owner, base))
    for key, attr in (
        ("summary", "summary"),
        ("description", "description"),
        ("iCalUID", "ical_uid"),
    ):
        if key in body:
            changes[attr] = str(body[key] or "")
    if "status" in body:
        changes["cancelled"] = _status(body["status"])
    if "transparency" in body:
        changes["transparent"] = _transparency(body["transparency"])
    if "attendees" in body:
        changes["attendees"] = [_parse_attendee(a, owner) for a in body["attendees"] or []]
    if "extendedProperties" in body:
        current = base.private_props if patch else {}
        changes["private_props"] = _private(body["extendedProperties"], current)
    if "eventType" in body:
        changes["event_type"] = _event_type(body["eventType"], base)
    return dataclasses.replace(base, **changes)


def blank_event(event_id: str, owner: Mailbox) -> SandboxEvent:
    """The starting point of an insert or full update: required times still missing."""
    epoch = datetime.fromtimestamp(0, UTC)
    return SandboxEvent(id=event_id, start=epoch, end=epoch, organizer=owner.email)


def require_times(body: dict[str, Any]) -> None:
    for name in ("start", "end"):
        if not isinstance(body.get(name), dict):
            raise GoogleError(400, "required", f"Missing {name} time.", location=name)


def _times(body: dict[str, Any], owner: Mailbox, base: SandboxEvent) -> dict[str, Any]:
    start, start_all_day = base.start, base.all_day
    end, end_all_day = base.end, base.all_day
    if body.get("start") is not None:
        start, start_all_day = _parse_when(_object(body["start"], "start"), "start", owner)
    if body.get("end") is not None:
        end, end_all_day = _parse_when(_object(body["end"], "end"), "end", owner)
    if start_all_day != end_all_day:
        raise bad_request("Start and end times must either both be date or both be dateTime.")
    if end < start:
        raise GoogleError(
            400, "timeRangeEmpty", "The specified time range is empty.", domain="calendar"
        )
    return {"start": start, "end": end, "all_day": start_all_day}


def _parse_when(value: dict[str, Any], name: str, owner: Mailbox) -> tuple[datetime, bool]:
    zone_name = value.get("timeZone")
    zone = parse_zone(zone_name, name) if zone_name else ZoneInfo(owner.time_zone)
    if value.get("date"):
        try:
            day = date.fromisoformat(str(value["date"]))
        except ValueError as exc:
            raise bad_request(f"Invalid {name} date.", location=name) from exc
        return datetime.combine(day, time(0), ZoneInfo(owner.time_zone)), True
    if not value.get("dateTime"):
        raise GoogleError(400, "required", f"Missing {name} time.", location=name)
    text = str(value["dateTime"])
    naive = _naive(text)
    if naive is not None:
        if not zone_name:
            raise bad_request(f"Missing time zone definition for {name} time.", location=name)
        return naive.replace(tzinfo=zone).astimezone(UTC), False
    return parse_rfc3339(text, f"{name}.dateTime").astimezone(UTC), False


def _object(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise bad_request(f"Invalid {name} time.", location=name)
    return value


def _naive(text: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is None else None


def _status(value: Any) -> bool:
    if value not in ("confirmed", "tentative", "cancelled"):
        raise bad_request(f"Invalid value for status: {value!r}", location="status")
    return value == "cancelled"


def _transparency(value: Any) -> bool:
    if value not in ("opaque", "transparent"):
        raise bad_request(f"Invalid value for transparency: {value!r}", location="transparency")
    return value == "transparent"


def _event_type(value: Any, base: SandboxEvent) -> str:
    if value not in EVENT_TYPES:
        raise bad_request(f"Invalid value for eventType: {value!r}", location="eventType")
    if base.version and value != base.event_type:
        raise bad_request("The event type cannot be changed.", "eventTypeRestriction")
    return str(value)


def _parse_attendee(value: Any, owner: Mailbox) -> SandboxAttendee:
    if not isinstance(value, dict) or not value.get("email"):
        raise GoogleError(400, "required", "Missing attendee email.", location="attendees")
    response = value.get("responseStatus", "needsAction")
    if response not in RESPONSES:
        raise bad_request(f"Invalid attendee responseStatus: {response!r}")
    email = str(value["email"])
    name = str(value.get("displayName") or (owner.name if email.lower() == owner.email else ""))
    flags = (bool(value.get("resource")), bool(value.get("optional")))
    return SandboxAttendee(email, name, response, resource=flags[0], optional=flags[1])


def _private(value: Any, current: dict[str, str]) -> dict[str, str]:
    """New private properties: ``current`` overlaid with ``value`` (null deletes a key)."""
    if not isinstance(value, dict) or not isinstance(value.get("private") or {}, dict):
        raise bad_request("Invalid extendedProperties.", location="extendedProperties")
    merged = dict(current)
    for key, item in (value.get("private") or {}).items():
        if item is None:
            merged.pop(key, None)
        elif isinstance(item, str):
            merged[key] = item
        else:
            raise bad_request("Extended property values must be strings.")
    return merged


def check_client_id(event_id: Any) -> str:
    if not isinstance(event_id, str) or not EVENT_ID.match(event_id):
        raise bad_request("Invalid resource id value.")
    return event_id
