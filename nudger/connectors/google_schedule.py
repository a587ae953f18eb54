"""Free/busy of people in the owner's Google Workspace domain, through ``freebusy.query``.

One query names at most ``MAX_CALENDARS`` calendars (``calendarExpansionMax``: "Maximum
value is 50", Calendar v3 reference). A calendar Google will not show (unknown user, no
access) comes back with per-calendar ``errors`` (``notFound``, ``groupTooBig``,
``tooManyCalendarsRequested``...) and is unavailable. Google reveals neither working hours
nor the time zone of another user through free/busy, so both stay None; ``calendars.get``
on someone else's calendar needs more than the free/busy access a colleague has by
default, and nudger does not rely on it. ``calendar.readonly``, which nudger already asks
for, covers ``freebusy.query``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from nudger.connectors.base import BusyInterval, ContactSchedule, SyncWindow
from nudger.connectors.schedules import read_schedules

MAX_CALENDARS = 50
Call = Callable[[Callable[[Any], Any]], Any]
"""Runs one request built from the Calendar API resources (``GoogleCalendar._call``)."""


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_rfc3339(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def free_busy(call: Call, calendar_ids: Sequence[str], window: SyncWindow) -> dict[str, Any]:
    """``calendars`` of a ``freebusy.query`` answer: one entry per calendar id."""
    body = {
        "timeMin": rfc3339(window.start),
        "timeMax": rfc3339(window.end),
        "items": [{"id": calendar_id} for calendar_id in calendar_ids],
        "calendarExpansionMax": min(len(calendar_ids), MAX_CALENDARS),
    }
    result = call(lambda api: api.freebusy.query(body=body))
    return dict(result.get("calendars") or {})


def busy_intervals(calendar: dict[str, Any]) -> tuple[BusyInterval, ...]:
    return tuple(
        BusyInterval(parse_rfc3339(b["start"]), parse_rfc3339(b["end"]))
        for b in calendar.get("busy") or []
    )


class GoogleSchedules:
    """ScheduleReader for one Google account."""

    def __init__(self, call: Call, account: str) -> None:
        self._call = call
        self._account = account.lower()

    def schedules(self, emails: Sequence[str], window: SyncWindow) -> list[ContactSchedule]:
        return read_schedules(emails, window, self._account, MAX_CALENDARS, self._ask)

    def _ask(self, batch: Sequence[str], window: SyncWindow) -> dict[str, ContactSchedule]:
        calendars = {k.lower(): v for k, v in free_busy(self._call, batch, window).items()}
        return {address: _schedule(address, calendars.get(address)) for address in batch}


def _schedule(address: str, calendar: dict[str, Any] | None) -> ContactSchedule:
    if calendar is None or calendar.get("errors"):
        return ContactSchedule(address, available=False)
    return ContactSchedule(address, busy=busy_intervals(calendar))
