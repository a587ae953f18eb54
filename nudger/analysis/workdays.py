"""The owner's working days: their working week minus the days they were out of office.

Rhythms are counted in these days, so a weekend or a week of holiday never reads as
neglect: someone met every working day is "every day", not "every 1.4 days", and a
Monday after a Friday meeting is one working day later.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo

from nudger.connectors.base import CalendarEvent, EventKind

WEEK = frozenset({1, 2, 3, 4, 5})
"""ISO weekdays of the default working week (Monday to Friday)."""
AWAY_MIN_HOURS = 4.0
"""An out-of-office event takes a day off the count when it covers this much of it."""


@dataclass(frozen=True)
class WorkCalendar:
    """Counts the owner's working days; every date is in the owner's zone."""

    tz: tzinfo
    weekdays: frozenset[int] = WEEK
    days_off: tuple[date, ...] = ()
    """Sorted working days the owner was out of office."""
    _per_week: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.weekdays or not self.weekdays <= set(range(1, 8)):
            raise ValueError("weekdays must be ISO weekdays (1-7), at least one")
        object.__setattr__(self, "_per_week", len(self.weekdays))

    def is_working(self, day: date) -> bool:
        return day.isoweekday() in self.weekdays and not self._off(day)

    def local_day(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def days_between(self, earlier: date, later: date) -> int:
        """Working days in ``(earlier, later]``; negative when ``later`` comes first."""
        if later < earlier:
            return -self.days_between(later, earlier)
        weeks, rest = divmod((later - earlier).days, 7)
        count = weeks * self._per_week
        count += sum(
            1 for n in range(1, rest + 1) if (earlier + timedelta(n)).isoweekday() in self.weekdays
        )
        return count - self._off_between(earlier, later)

    def week_days_between(self, earlier: date, later: date) -> int:
        """Days of the working week in ``(earlier, later]``, days away included."""
        return self.days_between(earlier, later) + self._off_between(earlier, later)

    def between(self, earlier: datetime, later: datetime) -> int:
        """Working days from one moment's local day to another's."""
        return self.days_between(self.local_day(earlier), self.local_day(later))

    def add(self, start: date, working_days: int) -> date:
        """The day ``working_days`` working days after ``start``."""
        day, left = start, working_days
        while left > 0:
            day += timedelta(days=1)
            left -= self.is_working(day)
        return day

    def to_calendar_days(self, working_days: float) -> float:
        """A rhythm in working days as calendar days (5 working days = 7 days)."""
        return working_days * 7 / self._per_week

    def to_working_days(self, calendar_days: float) -> float:
        return calendar_days * self._per_week / 7

    def _off(self, day: date) -> bool:
        index = bisect_right(self.days_off, day)
        return index > 0 and self.days_off[index - 1] == day

    def _off_between(self, earlier: date, later: date) -> int:
        return bisect_right(self.days_off, later) - bisect_right(self.days_off, earlier)


def days_away(events: Iterable[CalendarEvent], tz: tzinfo) -> set[date]:
    """Local days an out-of-office event covers (at least ``AWAY_MIN_HOURS`` of the day)."""
    return days_off(
        ((e.start, e.end) for e in events if e.kind is EventKind.OUT_OF_OFFICE and not e.cancelled),
        tz,
    )


def days_off(spans: Iterable[tuple[datetime, datetime]], tz: tzinfo) -> set[date]:
    """Local days these out-of-office spans cover (at least ``AWAY_MIN_HOURS`` of the day)."""
    away: set[date] = set()
    for start, end in spans:
        away.update(covered_days(start, end, tz))
    return away


def covered_days(start: datetime, end: datetime, tz: tzinfo) -> Iterable[date]:
    """Local days the span covers for at least ``AWAY_MIN_HOURS``."""
    day = start.astimezone(tz).date()
    while day <= end.astimezone(tz).date():
        midnight = datetime.combine(day, time(0), tz)
        overlap = min(end, midnight + timedelta(days=1)) - max(start, midnight)
        if overlap >= timedelta(hours=AWAY_MIN_HOURS):
            yield day
        day += timedelta(days=1)


def work_calendar(tz: tzinfo, weekdays: Iterable[int], away: Iterable[date]) -> WorkCalendar:
    """The owner's calendar of working days; only away days in the working week count."""
    week = frozenset(weekdays) or WEEK
    off = sorted({day for day in away if day.isoweekday() in week})
    return WorkCalendar(tz, week, tuple(off))
