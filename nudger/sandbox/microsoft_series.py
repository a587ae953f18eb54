"""Recurring series as Graph has them: one master item per series, occurrences, exceptions.

The world stores a series expanded (one ``SandboxEvent`` per occurrence, linked by
``series_id``); Exchange keeps one *series master* whose details every plain occurrence
shares, plus *exceptions*. The master is derived here from the series' occurrences: its
details are the *typical* occurrence's (the most common among the live, uncancelled ones),
its id is ``series_graph_id(series_id)``, its start and end the first occurrence's, and its
version the newest of its occurrences' (tombstones included) and of any whole-series edit
(``World.change_series``).

An occurrence is an **exception** when it differs from its master: cancelled, moved (its
start is not its ``original_start``), another length, other attendees or answers, another
organizer, kind or title. A deleted occurrence is no longer part of the series: it is
not listed, and an incremental delta round names it ``@removed``. A *cancelled* one
(``cancelled`` in the world) stays listed as an exception with ``isCancelled``: that is
an attendee's calendar after the organizer cancels one occurrence; on the organizer's own
calendar Graph's ``event: cancel`` moves the occurrence to Deleted Items, which the world
expresses as a deletion.

How each endpoint shows them:

- ``calendarView/delta`` sends plain occurrences **bare** (``BARE_FIELDS`` only), exceptions
  and the master whole (microsoft-graph-docs issues #7632 "Missing properties in the
  occurrences of recurring events" and #22197 "Delta docs aren't full"). The master is in a
  round only when its own start and end (the first occurrence) fall in the window.
- ``GET /me/events/{id}``, ``/instances`` and plain ``calendarView`` send occurrences whole
  (#22197: "/calendarView and /events/{id} return full events").
- v1.0 has no ``cancelledOccurrences`` / ``exceptionOccurrences`` (beta only), so neither
  is rendered; ``recurrence`` is, from the spacing of the occurrences.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from nudger.sandbox.microsoft_common import as_utc, series_graph_id
from nudger.sandbox.microsoft_events import View, change_key, event_resource
from nudger.sandbox.world import Mailbox, SandboxEvent, World

BARE_FIELDS = ("@odata.type", "@odata.etag", "id", "seriesMasterId", "type", "start", "end")
"""All that ``calendarView/delta`` says about a plain occurrence of a series."""
_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Series:
    """One recurring series of a mailbox, seen through its stored occurrences."""

    series_id: str
    occurrences: tuple[SandboxEvent, ...]
    """Every occurrence, deleted ones included, by start."""
    typical: SandboxEvent | None
    """The occurrence the master is modelled on (None: every occurrence is gone)."""
    version: int

    @property
    def graph_id(self) -> str:
        return series_graph_id(self.series_id)

    @property
    def live(self) -> bool:
        return self.typical is not None

    @property
    def start(self) -> datetime:
        first = self.occurrences[0]
        return as_utc(first.original_start or first.start)

    @property
    def end(self) -> datetime:
        typical = self.typical or self.occurrences[0]
        return self.start + (typical.end - typical.start)


def series_index(mailbox: Mailbox) -> dict[str, Series]:
    """Every series of the mailbox by its world id (callers hold ``world.lock``)."""
    grouped: dict[str, list[SandboxEvent]] = defaultdict(list)
    for event in mailbox.events.values():
        if event.series_id:
            grouped[event.series_id].append(event)
    return {sid: _series(mailbox, sid, events) for sid, events in grouped.items()}


def _series(mailbox: Mailbox, series_id: str, events: list[SandboxEvent]) -> Series:
    ordered = tuple(sorted(events, key=lambda e: (as_utc(e.original_start or e.start), e.id)))
    versions = [e.version for e in ordered] + [mailbox.series_versions.get(series_id, 0)]
    return Series(series_id, ordered, _typical(ordered), max(versions))


def _typical(occurrences: tuple[SandboxEvent, ...]) -> SandboxEvent | None:
    plain = [e for e in occurrences if not e.deleted and not e.cancelled and not _moved(e)]
    candidates = plain or [e for e in occurrences if not e.deleted]
    if not candidates:
        return None
    common = Counter(_signature(e) for e in candidates).most_common(1)[0][0]
    return next(e for e in candidates if _signature(e) == common)


def _signature(event: SandboxEvent) -> tuple[Any, ...]:
    """What an occurrence shares with its master (times aside)."""
    people = tuple((a.email.lower(), a.response, a.resource, a.optional) for a in event.attendees)
    return (
        event.organizer.lower(),
        people,
        event.summary,
        event.description,
        event.all_day,
        event.event_type,
        event.transparent,
        event.end - event.start,
        tuple(sorted(event.private_props.items())),
    )


def _moved(event: SandboxEvent) -> bool:
    return event.original_start is not None and event.start != event.original_start


def is_exception(event: SandboxEvent, series: Series) -> bool:
    if series.typical is None or event.cancelled or _moved(event):
        return True
    return _signature(event) != _signature(series.typical)


# --- rendering ------------------------------------------------------------------------------


def occurrence_resource(
    event: SandboxEvent, series: Series, owner: Mailbox, world: World, view: View, *, bare: bool
) -> dict[str, Any]:
    """An occurrence whole (``type`` occurrence or exception), or bare as delta sends it."""
    body = event_resource(event, owner, world, view)
    body["@odata.type"] = "#microsoft.graph.event"
    if is_exception(event, series):
        body["type"] = "exception"
        return body
    return {key: body[key] for key in BARE_FIELDS} if bare else body


def master_resource(series: Series, owner: Mailbox, world: World, view: View) -> dict[str, Any]:
    """The series master: the typical occurrence's details, the series' own id and times."""
    if series.typical is None:
        raise ValueError(f"series {series.series_id} has no live occurrence")
    body = event_resource(series.typical, owner, world, view)
    stamp = change_key(f"series:{series.series_id}", series.version)
    body.update(
        {
            "@odata.type": "#microsoft.graph.event",
            "@odata.etag": f'W/"{stamp}"',
            "changeKey": stamp,
            "id": series.graph_id,
            "type": "seriesMaster",
            "seriesMasterId": None,
            "recurrence": recurrence(series, view),
            "webLink": f"https://outlook.office365.com/owa/?itemid={series.graph_id}",
        }
    )
    first = replace(series.typical, start=series.start, end=series.end)
    timed = event_resource(first, owner, world, view)
    body["start"], body["end"] = timed["start"], timed["end"]
    return body


def recurrence(series: Series, view: View) -> dict[str, Any]:
    """A ``patternedRecurrence`` read off the spacing of the occurrences."""
    starts = [as_utc(e.original_start or e.start) for e in series.occurrences]
    step = min((b - a for a, b in pairwise(starts)), default=timedelta(7))
    local = [s.astimezone(view.zone) for s in starts]
    weekly = step.days % 7 == 0 and step.days > 0
    pattern: dict[str, Any] = {
        "type": "weekly" if weekly else "daily",
        "interval": step.days // 7 if weekly else max(step.days, 1),
        "month": 0,
        "dayOfMonth": 0,
        "firstDayOfWeek": "sunday",
        "index": "first",
        "daysOfWeek": [_DAYS[local[0].weekday()]] if weekly else [],
    }
    last = max(e.start for e in series.occurrences if not e.deleted) if series.live else starts[-1]
    return {
        "pattern": pattern,
        "range": {
            "type": "endDate",
            "startDate": local[0].date().isoformat(),
            "endDate": as_utc(last).astimezone(view.zone).date().isoformat(),
            "recurrenceTimeZone": view.zone_name,
            "numberOfOccurrences": 0,
        },
    }


def removed_master(series: Series) -> dict[str, Any]:
    return {"@removed": {"reason": "deleted"}, "id": series.graph_id}
