"""Moments: a year since the first meeting with someone.

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
"year since" never arrives weeks late.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from nudger.analysis.judgement import Judgement
from nudger.analysis.model import Anniversary
from nudger.analysis.workdays import WorkCalendar


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
    today = cal.local_day(now)
    day = a_year_after(cal.local_day(first_met))
    if today < day or not cal.is_working(today):
        return None
    late = cal.days_between(day, today) - (1 if not cal.is_working(day) else 0)
    if late > judgement.anniversary_late_working_days:
        return None
    return Anniversary(first_met, history_from)


def a_year_after(day: date) -> date:
    """The same date a year later; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def anniversary_label(anniversary: Anniversary) -> str:
    """``year-2026``: the anniversary's year (UTC), in place of the ISO week, so the
    outbox takes one such email per person per year."""
    return f"year-{anniversary.first_met.astimezone(UTC).year + 1}"
