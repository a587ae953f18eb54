"""The slot finder: where a "relationship time" hold can go without getting in the way.

Pure: free/busy, working hours and ``now`` in, one slot (or None) out.

How a slot is chosen:

1. Days: local dates (owner's zone) from ``now`` + ``LEAD_TIME`` to ``now`` + ``horizon_days``,
   working days only, minus every day touched by an out-of-office interval.
2. Days are tried in order of (heavy with meetings?, already has a nudger hold?, date):
   holds are spread out and busy days spared, but used when nothing else is left.
3. Within a day, candidate starts are on ``step`` boundaries counted from the start of
   working hours, inside working hours, clear of every busy interval. The candidate
   closest to mid-morning or early afternoon (``PREFERRED_OFFSETS`` after the start of
   the working day) wins; ties go to the earlier start.

Working hours are computed in local wall time and converted to UTC per day, so a 23- or
25-hour DST day still gets its local 09:00-17:00. All-day busy time must arrive as the
owner's local day (the connectors convert it so); it is then treated like any interval.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from nudger.connectors.base import BusyInterval, WorkingHours

LEAD_TIME = timedelta(hours=2)
"""A hold never starts sooner than this after ``now``: no surprise blocks in the next hour."""

PREFERRED_OFFSETS = (timedelta(hours=1, minutes=30), timedelta(hours=5))
"""After the start of the working day: mid-morning and early afternoon (10:30, 14:00)."""


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime
    """UTC, aware."""


def default_working_hours(time_zone: str) -> WorkingHours:
    """Mon-Fri 09:00-17:00 in ``time_zone``: the product's default when the provider has none."""
    return WorkingHours(time_zone=time_zone)


def find_slot(
    *,
    busy: Sequence[BusyInterval],
    working_hours: WorkingHours,
    now: datetime,
    duration: timedelta,
    horizon_days: int,
    existing_holds: Sequence[datetime] = (),
    max_meetings_per_day: int = 6,
    step: timedelta = timedelta(minutes=15),
    blocked: Sequence[BusyInterval] = (),
) -> Slot | None:
    """The best free slot of ``duration`` within the horizon, or None when nothing fits.

    Callers without provider working hours pass ``default_working_hours(owner_zone)``.
    ``existing_holds`` are the starts of nudger holds already booked. ``blocked``: time
    that is off limits without being the owner's meetings (outside the other person's
    working hours, say): it neither makes a day heavy nor takes a day away.
    """
    _check_arguments(now, duration, step)
    zone = ZoneInfo(working_hours.time_zone)
    earliest = now.astimezone(UTC) + LEAD_TIME
    latest_end = now.astimezone(UTC) + timedelta(days=horizon_days)
    meetings = _meetings_per_day(busy, zone)
    held = {hold.astimezone(zone).date() for hold in existing_holds}

    def preference(day: date) -> tuple[bool, bool, date]:
        return (meetings[day] > max_meetings_per_day, day in held, day)

    for day in sorted(_open_days(busy, working_hours, zone, earliest, latest_end), key=preference):
        window = working_window(day, working_hours, zone)
        starts = _free_starts(window, [*busy, *blocked], earliest, latest_end, duration, step)
        if starts:
            best = min(
                starts, key=lambda start: (_distance_from_preferred(start, window[0]), start)
            )
            return Slot(start=best, end=best + duration)
    return None


def _check_arguments(now: datetime, duration: timedelta, step: timedelta) -> None:
    if now.tzinfo is None:
        raise ValueError("find_slot needs an aware 'now'")
    if duration <= timedelta(0) or step <= timedelta(0):
        raise ValueError("find_slot needs a positive duration and step")


def local_dates(start: datetime, end: datetime, zone: ZoneInfo) -> Iterable[date]:
    """Every local date from ``start`` up to, but not including, the instant ``end``."""
    first = start.astimezone(zone).date()
    last = (end - timedelta(microseconds=1)).astimezone(zone).date()
    return (first + timedelta(days=offset) for offset in range((last - first).days + 1))


def _days_away(busy: Iterable[BusyInterval], zone: ZoneInfo) -> set[date]:
    """Local dates touched by any out-of-office interval: the whole day is off limits."""
    away: set[date] = set()
    for interval in busy:
        if interval.out_of_office and interval.end > interval.start:
            away.update(local_dates(interval.start, interval.end, zone))
    return away


def _meetings_per_day(busy: Iterable[BusyInterval], zone: ZoneInfo) -> Counter[date]:
    """Busy intervals starting on each local date (out-of-office days are skipped anyway)."""
    return Counter(interval.start.astimezone(zone).date() for interval in busy)


def _open_days(
    busy: Sequence[BusyInterval],
    working_hours: WorkingHours,
    zone: ZoneInfo,
    earliest: datetime,
    latest_end: datetime,
) -> list[date]:
    """Working days in the horizon that no out-of-office touches."""
    if latest_end <= earliest:
        return []
    away = _days_away(busy, zone)
    candidates = local_dates(earliest, latest_end, zone)
    return [day for day in candidates if day.isoweekday() in working_hours.days and day not in away]


def working_window(
    day: date, working_hours: WorkingHours, zone: ZoneInfo
) -> tuple[datetime, datetime]:
    """The day's working hours as UTC instants; an end at or before the start is next day."""
    start = datetime.combine(day, working_hours.start, tzinfo=zone)
    end_day = day if working_hours.end > working_hours.start else day + timedelta(days=1)
    end = datetime.combine(end_day, working_hours.end, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def _first_boundary_at_or_after(moment: datetime, origin: datetime, step: timedelta) -> datetime:
    """The first ``origin + n * step`` (n >= 0) not before ``moment``."""
    if moment <= origin:
        return origin
    steps = -((origin - moment) // step)  # ceiling division on timedeltas
    return origin + steps * step


def _overlaps_busy(start: datetime, end: datetime, busy: Iterable[BusyInterval]) -> bool:
    return any(interval.start < end and interval.end > start for interval in busy)


def _free_starts(
    window: tuple[datetime, datetime],
    busy: Sequence[BusyInterval],
    earliest: datetime,
    latest_end: datetime,
    duration: timedelta,
    step: timedelta,
) -> list[datetime]:
    """Step-aligned starts inside the window and the search range, clear of busy time."""
    window_start, window_end = window
    end_limit = min(window_end, latest_end)
    nearby = [b for b in busy if b.start < window_end and b.end > window_start]
    start = _first_boundary_at_or_after(max(earliest, window_start), window_start, step)
    starts: list[datetime] = []
    while start + duration <= end_limit:
        if not _overlaps_busy(start, start + duration, nearby):
            starts.append(start)
        start += step
    return starts


def _distance_from_preferred(start: datetime, day_start: datetime) -> timedelta:
    return min(abs(start - (day_start + offset)) for offset in PREFERRED_OFFSETS)
