"""Ruptures: a regular one-on-one that did not take place and was not made up.

A rupture starts at the first occurrence, after the last real meeting with the
contact, that was cancelled, declined, or never came. "Never came" covers two shapes
of the same thing: a gap in a series where an occurrence was due (an organiser who
cancels one occurrence in Outlook removes it rather than marking it), and a series
with nothing after its last occurrence. A small meeting with the contact since the
miss makes it up (a team meeting of ten does not replace a one-on-one), and so does a
meeting already rebooked outside the series. Only once ``repair_after_working_days``
have passed without either is it a rupture worth a repair nudge. Days the owner is away
do not count, but a one-on-one missed before a week away is named on the first working day
back: nobody could make it up meanwhile, and waiting three more days would let it go cold.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from itertools import pairwise

from nudger.analysis.judgement import Judgement
from nudger.analysis.model import Occurrence, Rupture
from nudger.analysis.workdays import WorkCalendar

GAP_FACTOR = 1.5
"""A series gap longer than this many intervals lost an occurrence in between."""

Miss = tuple[datetime, str]


def find_rupture(
    habit: Sequence[Occurrence],
    series_id: str | None,
    interval_days: float,
    last_met: datetime | None,
    rebooked: bool,
    cal: WorkCalendar,
    now: datetime,
    judgement: Judgement,
) -> Rupture | None:
    """The open rupture of a regular one-on-one, or None when it is kept or made up."""
    if rebooked:
        return None
    interval = timedelta(days=interval_days)
    misses = [*_not_held(habit, now)]
    if series_id is not None:
        misses += [*_gaps(habit, interval, now), *_stopped(habit, interval, now)]
    after = sorted(m for m in misses if last_met is None or m[0] > last_met)
    if not after:
        return None
    missed, what = after[0]
    open_days = cal.between(missed, now)
    if not _due(missed, now, open_days, cal, judgement.repair_after_working_days):
        return None
    return Rupture(missed, what, interval_days, open_days)


def _due(missed: datetime, now: datetime, open_days: int, cal: WorkCalendar, needed: int) -> bool:
    """Due after ``needed`` working days; sooner, on a working day back from an absence
    that began after the miss, once ``needed`` days of the working week have gone by."""
    if open_days >= needed:
        return True
    missed_day, today = cal.local_day(missed), cal.local_day(now)
    return (
        open_days >= 1
        and cal.is_working(missed_day)
        and cal.is_working(today)
        and cal.week_days_between(missed_day, today) >= needed
    )


def _not_held(habit: Sequence[Occurrence], now: datetime) -> list[Miss]:
    return [(o.start, _what(o)) for o in habit if o.start <= now and not o.held]


def _what(occurrence: Occurrence) -> str:
    if occurrence.cancelled:
        return "cancelled"
    return "you declined" if occurrence.owner_declined else "declined"


def _gaps(habit: Sequence[Occurrence], interval: timedelta, now: datetime) -> list[Miss]:
    """An occurrence due between two others that is not on the calendar at all."""
    return [
        (earlier.start + interval, "missing")
        for earlier, later in pairwise(habit)
        if later.start - earlier.start > GAP_FACTOR * interval and earlier.start + interval <= now
    ]


def _stopped(habit: Sequence[Occurrence], interval: timedelta, now: datetime) -> list[Miss]:
    """The series has nothing after its last occurrence, and the next one was due."""
    if not habit:
        return []
    last = habit[-1].start
    if last > now or now - last <= GAP_FACTOR * interval:
        return []
    return [(last + interval, "stopped")]
