"""Ground truth over time for the synthetic organisation: one ``Relationship`` per contact.

``Expectation`` says what a planted contact's status should be at ``now``. A
``Relationship`` says, for every day of the history, whether that contact was in trouble:
its planted rhythm and its ``Trouble`` windows, each the span in which a nudge about it is
legitimate. Windows are read from the generated events themselves (the truth), never from
nudger's analysis:

- ``repair``: a one-on-one occurrence cancelled or declined by the contact, or missing
  because the series stopped, and not made up by another one-on-one within
  ``MAKE_UP_WORKING_DAYS``. From its scheduled start to the next one-on-one held.
- ``drift``: nobody met for more than ``DRIFT_FACTOR`` x the rhythm. From the last
  meeting + that much to the next meeting, or to the moment it was booked when that
  meeting is then within one rhythm.
- ``missing``: a direct report who never had a one-on-one, from the start of history.
- ``moment``: a year since the first meeting with a planted key person, from that day
  to ``MOMENT_WORKING_DAYS`` working days later (a moment, not a problem: a nudge in it
  is legitimate, and expected).
"""

from __future__ import annotations

import itertools
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from nudger.sandbox.world import SandboxEvent

DRIFT_FACTOR = 1.5
MAKE_UP_WORKING_DAYS = 3
"""A missed one-on-one made up by another within this many working days was no rupture."""
LARGE_MEETING = 8
"""More people than this (the owner included) never make a relationship on their own."""
MOMENT_WORKING_DAYS = 4
"""A moment like "a year since you first met" is timely this many working days on."""
MIN_FILLER_DAYS = 3
"""A filler colleague met on fewer distinct days than this is only a weak tie."""


@dataclass(frozen=True)
class Trouble:
    kind: str
    """``repair``, ``drift`` or ``missing``."""
    since: datetime
    """When a nudge first becomes legitimate."""
    until: datetime | None
    """When it stopped being a problem; None while still open at ``now``."""
    what: str

    def open_at(self, moment: datetime) -> bool:
        return self.since <= moment and (self.until is None or moment < self.until)


@dataclass(frozen=True)
class Relationship:
    email: str
    kind: str
    rhythm_days: float | None
    """The planted rhythm in calendar days; None for weak ties and new contacts."""
    troubles: tuple[Trouble, ...] = ()
    group: tuple[str, ...] = ()
    """For people met only as one group: every member's address, sorted."""

    def trouble_at(self, moment: datetime) -> Trouble | None:
        return next((t for t in self.troubles if t.open_at(moment)), None)


@dataclass(frozen=True)
class Timeline:
    """The owner's calendar as the labeller reads it: each attendee's events, in order."""

    by_person: Mapping[str, Sequence[SandboxEvent]]
    owner: str
    now: datetime
    zone: ZoneInfo

    @classmethod
    def of(
        cls, events: Iterable[SandboxEvent], owner: str, now: datetime, zone: ZoneInfo
    ) -> Timeline:
        by_person: dict[str, list[SandboxEvent]] = defaultdict(list)
        for event in sorted(events, key=lambda e: e.start):
            for attendee in event.attendees:
                by_person[attendee.email].append(event)
        return cls(dict(by_person), owner, now, zone)

    def with_person(self, email: str) -> Sequence[SandboxEvent]:
        return self.by_person.get(email, ())


def people(event: SandboxEvent) -> set[str]:
    return {a.email for a in event.attendees if not a.resource}


def held(event: SandboxEvent, email: str, owner: str) -> bool:
    """A real meeting that took place with both present (DESIGN.md's interaction)."""
    responses = {a.email: a.response for a in event.attendees}
    real = event.event_type == "default" and not event.all_day and not event.cancelled
    return real and "declined" not in (responses.get(email), responses.get(owner))


def meetings(timeline: Timeline, email: str, *, max_size: int = LARGE_MEETING) -> list[datetime]:
    """Starts of the past meetings held with ``email`` of at most ``max_size`` people."""
    return [
        e.start
        for e in timeline.with_person(email)
        if held(e, email, timeline.owner) and e.start < timeline.now and len(people(e)) <= max_size
    ]


# --- repair -----------------------------------------------------------------------------------


def repair_troubles(timeline: Timeline, email: str, step_days: int) -> tuple[Trouble, ...]:
    """Ruptures of the one-on-one series with ``email`` that were not made up."""
    mine = timeline.with_person(email)
    pairs = [e for e in mine if people(e) == {timeline.owner, email}]
    series = [e for e in pairs if e.series_id]
    held_pairs = [e.start for e in pairs if held(e, email, timeline.owner)]
    troubles: list[Trouble] = []
    for start, what in _misses(series, email, step_days, timeline.now):
        if troubles and (troubles[-1].until is None or start < troubles[-1].until):
            continue  # part of a rupture already open
        if _made_up(start, held_pairs, timeline.zone):
            continue
        until = next((h for h in held_pairs if h > start and h < timeline.now), None)
        troubles.append(Trouble("repair", start, until, what))
    return tuple(troubles)


def _misses(
    series: Sequence[SandboxEvent], email: str, step_days: int, now: datetime
) -> list[tuple[datetime, str]]:
    """Past occurrences that did not happen, and the first one after a series stopped."""
    misses = []
    for event in series:
        if event.start >= now:
            break
        if event.cancelled:
            misses.append((event.start, "one-on-one cancelled"))
        elif _response(event, email) == "declined":
            misses.append((event.start, "one-on-one declined by them"))
    if series:
        after_last = series[-1].start + timedelta(days=step_days)
        if after_last < now:
            misses.append((after_last, "one-on-one series stopped"))
    return misses


def _response(event: SandboxEvent, email: str) -> str:
    return next(a.response for a in event.attendees if a.email == email)


def _made_up(missed: datetime, held_pairs: Iterable[datetime], zone: ZoneInfo) -> bool:
    deadline = add_working_days(missed.astimezone(zone).date(), MAKE_UP_WORKING_DAYS)
    return any(missed < h and h.astimezone(zone).date() <= deadline for h in held_pairs)


def add_working_days(day: date, count: int) -> date:
    while count > 0:
        day += timedelta(days=1)
        count -= day.weekday() < 5
    return day


# --- moments ----------------------------------------------------------------------------------


def anniversary_troubles(timeline: Timeline, email: str) -> tuple[Trouble, ...]:
    """A year since the first meeting held with ``email``, once that day has come."""
    held_on = [m.astimezone(timeline.zone).date() for m in meetings(timeline, email)]
    if not held_on:
        return ()
    first = min(held_on)
    day = _same_date_next_year(first)
    since = datetime.combine(day, datetime.min.time(), timeline.zone)
    if since > timeline.now:
        return ()
    until = datetime.combine(
        add_working_days(day, MOMENT_WORKING_DAYS), datetime.min.time(), timeline.zone
    )
    return (Trouble("moment", since, until, f"a year since the first meeting on {first}"),)


def _same_date_next_year(day: date) -> date:
    if (day.month, day.day) == (2, 29):
        return date(day.year + 1, 2, 28)
    return day.replace(year=day.year + 1)


# --- drift and missing -------------------------------------------------------------------------


def drift_troubles(
    timeline: Timeline, email: str, rhythm_days: float, what: str
) -> tuple[Trouble, ...]:
    """Every gap between meetings longer than ``DRIFT_FACTOR`` x the rhythm."""
    mine = [e for e in timeline.with_person(email) if held(e, email, timeline.owner)]
    limit = timedelta(days=DRIFT_FACTOR * rhythm_days)
    troubles = []
    for earlier, later in itertools.pairwise([*mine, None]):
        assert earlier is not None
        if earlier.start >= timeline.now:
            break
        since = earlier.start + limit
        end = later.start if later else None
        if since >= timeline.now or (end is not None and end <= since):
            continue
        until = _resolved(since, later, rhythm_days, timeline.now)
        if until is None or until > since:
            troubles.append(Trouble("drift", since, until, what))
    return tuple(troubles)


def _resolved(
    since: datetime, later: SandboxEvent | None, rhythm_days: float, now: datetime
) -> datetime | None:
    """The next meeting, or its booking once it lies within one rhythm; None if still open."""
    if later is None:
        return None
    booked = max(since, later.created)
    if booked <= now and later.start - booked <= timedelta(days=rhythm_days):
        return booked
    return later.start if later.start < now else None


def missing_trouble(history_start: datetime) -> Trouble:
    return Trouble("missing", history_start, None, "direct report with no one-on-one")


# --- filler colleagues -------------------------------------------------------------------------


def measured_rhythm(timeline: Timeline, email: str) -> float | None:
    """Median gap in days between the distinct days the owner met ``email`` in small meetings."""
    days = sorted({m.astimezone(timeline.zone).date() for m in meetings(timeline, email)})
    if len(days) < MIN_FILLER_DAYS:
        return None
    return float(statistics.median((b - a).days for a, b in itertools.pairwise(days)))


def filler_relationship(timeline: Timeline, email: str) -> Relationship:
    rhythm = measured_rhythm(timeline, email)
    kind = "weak_tie" if rhythm is None else "frequent_colleague"
    return Relationship(email, kind, rhythm)
