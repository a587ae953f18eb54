"""Small builders for hand-made calendars: one owner, meetings and series in a few lines."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from itertools import count
from zoneinfo import ZoneInfo

from nudger.analysis.audit import ContactHealth, audit
from nudger.analysis.judgement import DEFAULT_ROLES, Judgement
from nudger.analysis.model import ContactPrefs, Owner
from nudger.analysis.workdays import WEEK, work_calendar
from nudger.connectors.base import Attendee, CalendarEvent, EventKind, Response

NOW = datetime(2024, 6, 12, 12, 0, tzinfo=UTC)  # a Wednesday
ME = "me@corp.example"
MY_ALIAS = "boss@corp.example"
OWNER = Owner(emails=frozenset({ME, MY_ALIAS}), time_zone="Europe/Paris")
JUDGEMENT = Judgement()

_ids = count(1)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def days_ahead(days: float) -> datetime:
    return NOW + timedelta(days=days)


def person(
    email: str,
    response: Response = Response.ACCEPTED,
    *,
    name: str | None = None,
    is_resource: bool = False,
) -> Attendee:
    return Attendee(email=email, name=name, response=response, is_resource=is_resource)


def meeting(
    start: datetime,
    *others: str | Attendee,
    minutes: int = 30,
    my_response: Response = Response.ORGANIZER,
    cancelled: bool = False,
    kind: EventKind = EventKind.MEETING,
    series_id: str | None = None,
    original_start: datetime | None = None,
    ical_uid: str | None = None,
    hold_contact: str | None = None,
) -> CalendarEvent:
    """A meeting of the owner with ``others`` (emails or attendees)."""
    me = Attendee(email=ME, response=my_response, is_self=True)
    people = tuple(person(o) if isinstance(o, str) else o for o in others)
    return CalendarEvent(
        event_id=f"ev{next(_ids)}",
        start=start,
        end=start + timedelta(minutes=minutes),
        attendees=(me, *people),
        cancelled=cancelled,
        kind=kind,
        series_id=series_id,
        original_start=original_start,
        ical_uid=ical_uid,
        hold_contact=hold_contact,
    )


def crowd(size: int, prefix: str = "x") -> list[str]:
    """``size`` other attendees' addresses."""
    return [f"{prefix}{i}@corp.example" for i in range(size)]


def series(
    contact: str,
    first: datetime,
    every_days: float,
    occurrences: int,
    *,
    series_id: str = "s1",
    cancelled: Iterable[int] = (),
    declined: Iterable[int] = (),
) -> list[CalendarEvent]:
    """A recurring one-on-one with ``contact``; indexes pick cancelled/declined occurrences."""
    cancelled, declined = set(cancelled), set(declined)
    events = []
    for index in range(occurrences):
        start = first + timedelta(days=every_days * index)
        response = Response.DECLINED if index in declined else Response.ACCEPTED
        events.append(
            meeting(
                start,
                person(contact, response),
                series_id=series_id,
                original_start=start,
                ical_uid=f"{series_id}@uid",
                cancelled=index in cancelled,
            )
        )
    return events


def every(days: float, last: float, times: int, *others: str) -> list[CalendarEvent]:
    """``times`` meetings ``days`` apart, the latest ``last`` days ago."""
    return [meeting(days_ago(last + days * i), *others) for i in range(times)]


def run_audit(
    events: Iterable[CalendarEvent],
    prefs: Iterable[ContactPrefs] = (),
    judgement: Judgement = JUDGEMENT,
) -> dict[str, ContactHealth]:
    rows = audit(OWNER, events, {p.email: p for p in prefs}, NOW, judgement, DEFAULT_ROLES)
    return {row.email: row for row in rows}


CAL = work_calendar(ZoneInfo(OWNER.time_zone), WEEK, ())
"""The owner's working days in the hand-built calendars: Monday to Friday, never away."""
