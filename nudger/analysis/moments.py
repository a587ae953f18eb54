"""Moments: a year since the first meeting with someone, a work anniversary, a return
from a long absence.

The first meeting is the earliest held meeting with the person among all stored events,
not only those inside the analysis window (``lookback_days``). It counts only when the
stored history reaches at least ``anniversary_seen_before_days`` further back than it:
the oldest stored event (any meeting, with anyone) shows how far back the account's
history goes. Without that, a synced window of one year would make everyone first met
a year ago, at the window's edge, look like a new acquaintance of exactly a year. Even
so this is what the calendar shows: someone met before the history begins, and not in
the margin before it, can still be read as first met then (the margin is the guard).

The moment is due on the anniversary's local date (29 February falls on 28 February),
or the first working day after it, and stays due for ``anniversary_late_working_days``
working days more, so that quiet days and budgets can delay it a little but a
"year since" never arrives weeks late. A work anniversary (from the directory's hire
date) keeps the same days. A welcome back is due from the first working day after a long
absence ends, for ``welcome_back_within_working_days`` working days.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from nudger.analysis.judgement import Judgement
from nudger.analysis.model import Absence, Anniversary, WelcomeBack, WorkAnniversary
from nudger.analysis.workdays import WorkCalendar, covered_days
from nudger.connectors.base import BusyInterval


def find_anniversary(
    first_met: datetime | None,
    history_from: datetime | None,
    now: datetime,
    cal: WorkCalendar,
    judgement: Judgement,
) -> Anniversary | None:
    """The first meeting's first anniversary, if it is due at ``now``; else None."""
    if first_met is None or history_from is None or first_met > now:
        return None
    margin = timedelta(days=judgement.anniversary_seen_before_days)
    if history_from > first_met - margin:
        return None  # nothing before it could have been seen: maybe not the first
    day = a_year_after(cal.local_day(first_met))
    if not due(day, cal.local_day(now), cal, judgement.anniversary_late_working_days):
        return None
    return Anniversary(first_met, history_from)


def due(day: date, today: date, cal: WorkCalendar, late_working_days: int) -> bool:
    """A moment falling on ``day`` is marked today: on the day or the first working day
    after it, or at most ``late_working_days`` working days later (never on a day off)."""
    if today < day or not cal.is_working(today):
        return False
    late = cal.days_between(day, today) - (1 if not cal.is_working(day) else 0)
    return late <= late_working_days


def a_year_after(day: date) -> date:
    """The same date a year later; 29 February becomes 28 February."""
    return years_after(day, 1)


def years_after(day: date, years: int) -> date:
    """The same date ``years`` later; 29 February becomes 28 February in common years."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def find_work_anniversary(
    hired: date | None, now: datetime, cal: WorkCalendar, judgement: Judgement
) -> WorkAnniversary | None:
    """A whole number of years since ``hired``, due at ``now`` (see ``due``); else None.

    Both this year's and last year's anniversary are tried: one on 30 December can still
    be marked on the first working days of January."""
    if hired is None:
        return None
    today = cal.local_day(now)
    for years in (today.year - hired.year, today.year - hired.year - 1):
        if years >= 1 and due(
            years_after(hired, years), today, cal, judgement.anniversary_late_working_days
        ):
            return WorkAnniversary(hired, years)
    return None


def work_anniversary_label(anniversary: WorkAnniversary) -> str:
    """``work-2026``: the year it falls in, so the outbox takes one per person per year."""
    return f"work-{anniversary.hired.year + anniversary.years}"


def find_welcome_back(
    absence: Absence | None, now: datetime, cal: WorkCalendar, judgement: Judgement
) -> WelcomeBack | None:
    """A long absence that ended lately: due from the first working day after it ends
    (the owner's) for ``welcome_back_within_working_days`` working days more."""
    if absence is None or absence.end > now:
        return None
    if absence.working_days < judgement.welcome_back_min_working_days:
        return None
    back = return_day(absence.end, cal.tz)
    if not due(back, cal.local_day(now), cal, judgement.welcome_back_within_working_days):
        return None
    return WelcomeBack(absence.start, absence.end, absence.working_days)


def return_day(end: datetime, tz: tzinfo) -> date:
    """The first day after the absence: its end's day when it ends at midnight (an
    all-day out-of-office ends at the next midnight), else the day after."""
    local = end.astimezone(tz)
    return local.date() if local.time() == time(0) else local.date() + timedelta(days=1)


def absence_working_days(
    start: datetime, end: datetime, tz: tzinfo, weekdays: frozenset[int]
) -> int:
    """The person's working days an absence covers (most of the day, in their zone)."""
    return sum(1 for day in covered_days(start, end, tz) if day.isoweekday() in weekdays)


def latest_absence(
    busy: Sequence[BusyInterval], tz: tzinfo, weekdays: frozenset[int], min_days: int
) -> Absence | None:
    """The latest out-of-office of at least ``min_days`` of the person's working days:
    their out-of-office intervals (busy time alone is never taken for absence), joined
    across nights and days off; None without one."""
    spans = _joined(sorted((b.start, b.end) for b in busy if b.out_of_office), tz, weekdays)
    found = [
        Absence(start, end, absence_working_days(start, end, tz, weekdays)) for start, end in spans
    ]
    return next((a for a in reversed(found) if a.working_days >= min_days), None)


def _joined(
    spans: Sequence[tuple[datetime, datetime]], tz: tzinfo, weekdays: frozenset[int]
) -> list[tuple[datetime, datetime]]:
    """Sorted spans joined where nothing but nights and days off lies between them."""
    joined: list[tuple[datetime, datetime]] = []
    for start, end in spans:
        if joined and _only_days_off(joined[-1][1], start, tz, weekdays):
            joined[-1] = (joined[-1][0], max(end, joined[-1][1]))
        else:
            joined.append((start, end))
    return joined


def _only_days_off(end: datetime, start: datetime, tz: tzinfo, weekdays: frozenset[int]) -> bool:
    if start <= end:
        return True
    day, last = end.astimezone(tz).date() + timedelta(days=1), start.astimezone(tz).date()
    while day < last:
        if day.isoweekday() in weekdays:
            return False
        day += timedelta(days=1)
    return True


def welcome_back_label(welcome: WelcomeBack) -> str:
    """``back-2026-06-10``: the day the absence ended (UTC), one email per absence."""
    return f"back-{welcome.end.astimezone(UTC).date().isoformat()}"


def anniversary_label(anniversary: Anniversary) -> str:
    """``year-2026``: the anniversary's year (UTC), in place of the ISO week, so the
    outbox takes one such email per person per year."""
    return f"year-{anniversary.first_met.astimezone(UTC).year + 1}"
