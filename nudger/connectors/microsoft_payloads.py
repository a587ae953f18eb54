"""Graph payloads in and out: events, times, Windows time zones, working hours, hold bodies.

Graph's dicts stop here. Times are read as Graph sends them under
``Prefer: outlook.timezone="UTC"`` (a naive ``dateTime`` plus a ``timeZone`` name);
all-day events are floating dates, placed at midnight in the owner's zone. Windows
zone names ("Pacific Standard Time") are mapped with CLDR's windowsZones table as
shipped in ``tzlocal``; an unknown name is logged and read as UTC, never a crash.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tzlocal.windows_tz import tz_win, win_tz

from nudger.connectors.addresses import checked_mailbox, clip, plain_name, same_address
from nudger.connectors.base import (
    Attendee,
    BusyInterval,
    CalendarEvent,
    ContactSchedule,
    EventKind,
    HoldRequest,
    Invitation,
    Person,
    Response,
    WorkingHours,
)

log = logging.getLogger(__name__)

HOLD_PROPERTY_ID = "String {6a1c7f52-93d4-4b8e-a0f1-2c5e8d9b4f37} Name nudgerHold"
"""The single-value extended property that tags nudger's holds (value: the contact)."""
UTC_VIEW = 'outlook.timezone="UTC"'
"""The ``Prefer`` header that makes Graph answer every time in UTC."""
_TRANSACTION_NAMESPACE = uuid.UUID("0b7d3e4a-1f62-4c59-8a8e-5d2f6c9e1a03")
UTC_NAMES = frozenset({"utc", "z", "coordinated universal time", "etc/utc"})
RESPONSES = {
    "accepted": Response.ACCEPTED,
    "tentativelyAccepted": Response.TENTATIVE,
    "declined": Response.DECLINED,
    "organizer": Response.ORGANIZER,
    "none": Response.NEEDS_ACTION,
    "notResponded": Response.NEEDS_ACTION,
}
KINDS = {"oof": EventKind.OUT_OF_OFFICE, "workingElsewhere": EventKind.WORKING_LOCATION}
NOT_BUSY = frozenset({"free", "workingElsewhere"})
SCHEDULE_NOT_BUSY = frozenset(status.lower() for status in NOT_BUSY)
WEEKDAYS = {
    name: number
    for number, name in enumerate(
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"), 1
    )
}


@dataclass(frozen=True)
class Viewpoint:
    """Whose calendar a payload is read for: their addresses mark their own attendee
    entry, their zone places all-day dates. (Analysis has its own ``Owner``.)"""

    emails: frozenset[str]
    zone: ZoneInfo


# --- time zones and times ------------------------------------------------------------


def iana_zone(name: str | None) -> str:
    """An IANA zone for a Windows (or IANA) name; UTC, with a warning, for anything else."""
    known = known_zone(name)
    if known is None:
        log.warning("unknown time zone name %r from Graph; using UTC", (name or "").strip())
        return "UTC"
    return known


def known_zone(name: str | None) -> str | None:
    """The IANA zone for a Windows (or IANA) name; None when it names no known zone (a
    "Customized Time Zone", say): another person's zone is never guessed."""
    cleaned = (name or "").strip()
    if cleaned.lower() in UTC_NAMES:
        return "UTC"
    candidate = win_tz.get(cleaned, cleaned)
    try:
        ZoneInfo(candidate)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return candidate


def windows_zone(iana: str) -> str:
    """The Windows name Graph prefers for an IANA zone (UTC when CLDR has none)."""
    return tz_win.get(iana, "UTC")


def parse_graph_time(value: dict[str, Any]) -> datetime:
    """A ``dateTimeTimeZone`` as an aware UTC datetime."""
    naive = _parse_iso(str(value["dateTime"]))
    if naive.tzinfo is not None:
        return naive.astimezone(UTC)
    zone = ZoneInfo(iana_zone(value.get("timeZone") or "UTC"))
    return naive.replace(tzinfo=zone).astimezone(UTC)


def _parse_all_day(value: dict[str, Any], zone: ZoneInfo) -> datetime:
    day = _parse_iso(str(value["dateTime"])).date()
    return datetime.combine(day, time(0), zone).astimezone(UTC)


def _parse_iso(text: str) -> datetime:
    """Graph writes seven fractional digits; Python reads at most six."""
    text = text.strip().replace("Z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = f"{head}.{rest[: min(digits, 6)]}{rest[digits:]}"
    return datetime.fromisoformat(text)


def graph_time(moment: datetime, iana: str) -> dict[str, str]:
    """A ``dateTimeTimeZone`` in ``iana``'s local time, named as Windows names it."""
    name = windows_zone(iana)
    local = moment.astimezone(ZoneInfo(iana_zone(name)))
    return {"dateTime": local.replace(tzinfo=None).isoformat(timespec="seconds"), "timeZone": name}


def utc_query_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# --- mailbox settings --------------------------------------------------------------------


def working_hours(settings: dict[str, Any], fallback_zone: str) -> WorkingHours:
    """Graph's ``workingHours`` (Windows zone, day names) as nudger's ``WorkingHours``."""
    hours = settings.get("workingHours") or {}
    zone_name = (hours.get("timeZone") or {}).get("name")
    zone = iana_zone(zone_name) if zone_name else fallback_zone
    days = tuple(sorted(WEEKDAYS[d] for d in hours.get("daysOfWeek", []) if d in WEEKDAYS))
    default = WorkingHours(time_zone=zone)
    return WorkingHours(
        time_zone=zone,
        days=days or default.days,
        start=_clock(hours.get("startTime"), default.start),
        end=_clock(hours.get("endTime"), default.end),
    )


def _clock(value: Any, default: time) -> time:
    try:
        return time.fromisoformat(str(value).split(".")[0]) if value else default
    except ValueError:
        return default


def person(item: dict[str, Any]) -> Person | None:
    """A directory entry (user or org contact) as a ``Person``; None without a usable address."""
    address = checked_mailbox(item.get("mail") or item.get("userPrincipalName"), "Graph directory")
    return Person(address, plain_name(item.get("displayName"))) if address else None


# --- events ------------------------------------------------------------------------------------


def to_event(item: dict[str, Any], owner: Viewpoint, hold_contact: str | None) -> CalendarEvent:
    """A Graph event (one occurrence) as nudger's ``CalendarEvent``."""
    all_day = bool(item.get("isAllDay"))
    start, end = (
        (_parse_all_day(item["start"], owner.zone), _parse_all_day(item["end"], owner.zone))
        if all_day
        else (parse_graph_time(item["start"]), parse_graph_time(item["end"]))
    )
    show_as = str(item.get("showAs") or "busy")
    where = f"Graph event {clip(item['id'])}"
    organizer = _address(item.get("organizer"), where)
    original = item.get("originalStart")
    return CalendarEvent(
        event_id=str(item["id"]),
        start=start,
        end=end,
        attendees=_attendees(item, owner, organizer, where),
        all_day=all_day,
        cancelled=bool(item.get("isCancelled")),
        kind=KINDS.get(show_as, EventKind.MEETING),
        busy=show_as not in NOT_BUSY,
        organizer_email=organizer,
        series_id=item.get("seriesMasterId"),
        original_start=_parse_iso(original).astimezone(UTC) if original else None,
        ical_uid=item.get("iCalUId"),
        hold_contact=checked_mailbox(hold_contact, where),
    )


def _address(holder: Any, where: str) -> str | None:
    return checked_mailbox(((holder or {}).get("emailAddress") or {}).get("address"), where)


def _attendees(
    item: dict[str, Any], owner: Viewpoint, organizer: str | None, where: str
) -> tuple[Attendee, ...]:
    """Everyone invited with a usable address (``addresses``); the owner's entry carries
    the owner's own answer (responseStatus)."""
    own = _own_response(item)
    found = (_attendee(a, owner, organizer, own, where) for a in item.get("attendees") or [])
    people = [a for a in found if a is not None]
    if people and not any(a.is_self for a in people):
        email = sorted(owner.emails)[0] if organizer not in owner.emails else organizer
        people.append(Attendee(email, None, own, is_self=True, is_organizer=email == organizer))
    return tuple(people)


def _own_response(item: dict[str, Any]) -> Response:
    if item.get("isOrganizer"):
        return Response.ORGANIZER
    answer = (item.get("responseStatus") or {}).get("response", "none")
    return RESPONSES.get(str(answer), Response.NEEDS_ACTION)


def _attendee(
    item: dict[str, Any], owner: Viewpoint, organizer: str | None, own: Response, where: str
) -> Attendee | None:
    email = _address(item, where)
    if email is None:
        return None
    is_self = email in owner.emails
    answer = str((item.get("status") or {}).get("response", "none"))
    return Attendee(
        email=email,
        name=plain_name((item.get("emailAddress") or {}).get("name")),
        response=own if is_self else RESPONSES.get(answer, Response.NEEDS_ACTION),
        is_resource=item.get("type") == "resource",
        is_self=is_self,
        is_organizer=email == organizer,
        optional=item.get("type") == "optional",
    )


def removed_id(item: dict[str, Any]) -> str | None:
    return str(item["id"]) if "@removed" in item else None


def may_be_hold(item: dict[str, Any]) -> bool:
    """Holds are events nudger organized with a transactionId; only those are looked up."""
    return bool(item.get("transactionId")) and bool(item.get("isOrganizer"))


def hold_tag(item: dict[str, Any]) -> str | None:
    for prop in item.get("singleValueExtendedProperties") or []:
        if str(prop.get("id", "")).lower() == HOLD_PROPERTY_ID.lower():
            return str(prop.get("value") or "") or None
    return None


def contact_schedule(item: dict[str, Any]) -> ContactSchedule:
    """One ``scheduleInformation`` of ``getSchedule`` about another person. A per-schedule
    ``error`` (unknown user, no access) makes it unavailable; working hours count only
    when their zone is a known one."""
    address = str(item.get("scheduleId") or "").lower()
    if "error" in item:
        return ContactSchedule(address, available=False)
    busy = (busy_interval(entry) for entry in item.get("scheduleItems") or [])
    hours = item.get("workingHours") or None
    zone = known_zone(((hours or {}).get("timeZone") or {}).get("name"))
    return ContactSchedule(
        email=address,
        busy=tuple(b for b in busy if b is not None),
        working_hours=working_hours({"workingHours": hours}, zone) if hours and zone else None,
        time_zone=zone,
    )


def busy_interval(item: dict[str, Any]) -> BusyInterval | None:
    """A ``getSchedule`` schedule item; None when it does not block time."""
    # Graph's own examples spell statuses both "busy" and "Busy": compare without case.
    status = str(item.get("status") or "busy").lower()
    if status in SCHEDULE_NOT_BUSY:
        return None
    return BusyInterval(
        parse_graph_time(item["start"]), parse_graph_time(item["end"]), status == "oof"
    )


# --- holds ---------------------------------------------------------------------------------------


def transaction_id(key: str) -> str:
    """A GUID from the outbox key: the same hold retried gets the same transactionId."""
    return str(uuid.uuid5(_TRANSACTION_NAMESPACE, key))


def hold_body(hold: HoldRequest) -> dict[str, Any]:
    body: dict[str, Any] = {
        "subject": hold.title,
        "body": {"contentType": "text", "content": hold.description},
        "start": graph_time(hold.start, hold.time_zone),
        "end": graph_time(hold.end, hold.time_zone),
        "showAs": "busy",
        "sensitivity": "private",
        "transactionId": transaction_id(hold.key),
        "singleValueExtendedProperties": [{"id": HOLD_PROPERTY_ID, "value": hold.contact_email}],
    }
    if hold.invite_contact:
        guest = {"emailAddress": {"address": hold.contact_email}, "type": "required"}
        body.update(attendees=[guest], sensitivity="normal")
    return body


def invited(attendee: dict[str, Any], address: str) -> bool:
    """Whether a Graph attendee is ``address``."""
    return same_address((attendee.get("emailAddress") or {}).get("address"), address)


def invitation_body(attendees: list[dict[str, Any]], invitation: Invitation) -> dict[str, Any]:
    """The ``PATCH`` that turns a hold into a meeting with the contact: the hold's
    owner-only title, notes and private sensitivity give way to what the guest sees."""
    guest = {
        "emailAddress": {
            "address": invitation.contact_email,
            "name": invitation.contact_name or invitation.contact_email,
        },
        "type": "required",
    }
    return {
        "subject": invitation.title,
        "body": {"contentType": "text", "content": invitation.description},
        "sensitivity": "normal",
        "attendees": [*attendees, guest],
    }
