"""Slots free for both: the owner and one other person.

Pure: both people's busy time, both working hours and ``now`` in, up to ``count`` slots
out, each on a different day of the owner's. The owner's side is ``slots.find_slot``
as it is (their working days and hours, their out-of-office days, the day preferences);
the other person's side is turned into ``blocked`` time for it:

- outside their working hours, in their own zone, when the provider revealed them;
- their busy time;
- every day of theirs (in their zone) touched by an out-of-office interval.

When nothing is known of the other person (``contact`` None or unavailable), the slots
are the owner's alone, exactly as for a private hold. Two people whose working hours do
not overlap (Singapore and New York) get no slot, never one in somebody's night.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from nudger.connectors.base import BusyInterval, ContactSchedule, WorkingHours
from nudger.delivery.slots import LEAD_TIME, Slot, find_slot, local_dates, working_window

MARGIN = timedelta(days=2)
"""Blocked time reaches this far past the horizon on both sides, across zone offsets."""


def slots_free_for_both(
    *,
    owner_busy: Sequence[BusyInterval],
    owner_hours: WorkingHours,
    contact: ContactSchedule | None,
    now: datetime,
    duration: timedelta,
    horizon_days: int,
    count: int = 3,
    existing_holds: Sequence[datetime] = (),
) -> list[Slot]:
    """Up to ``count`` slots, best first, no two on the same day of the owner's."""
    blocked = contact_blocks(contact, now, horizon_days)
    owner_zone = ZoneInfo(owner_hours.time_zone)
    found: list[Slot] = []
    while len(found) < count:
        taken = [whole_day(slot.start, owner_zone) for slot in found]
        slot = find_slot(
            busy=owner_busy,
            working_hours=owner_hours,
            now=now,
            duration=duration,
            horizon_days=horizon_days,
            existing_holds=[*existing_holds, *(s.start for s in found)],
            blocked=[*blocked, *taken],
        )
        if slot is None:
            break
        found.append(slot)
    return found


def contact_blocks(
    contact: ContactSchedule | None, now: datetime, horizon_days: int
) -> list[BusyInterval]:
    """The other person's time that is off limits, as far as it is known."""
    if contact is None or not contact.available:
        return []
    start = now.astimezone(UTC) + LEAD_TIME - MARGIN
    end = now.astimezone(UTC) + timedelta(days=horizon_days) + MARGIN
    hours = contact.working_hours
    zone = ZoneInfo(contact.time_zone or (hours.time_zone if hours else "UTC"))
    zone_known = bool(contact.time_zone or hours)
    # Their days away are whole days in their own zone; without it, just the interval.
    blocks = [b for b in contact.busy if not (b.out_of_office and zone_known)]
    away = (b for b in contact.busy if b.out_of_office and zone_known)
    blocks += [whole_day(moment, zone) for b in away for moment in _days_of(b, zone)]
    if hours is not None:
        blocks += off_hours(hours, start, end)
    return blocks


def off_hours(hours: WorkingHours, start: datetime, end: datetime) -> list[BusyInterval]:
    """Everything between ``start`` and ``end`` outside ``hours`` (in their zone)."""
    zone = ZoneInfo(hours.time_zone)
    days = (day for day in local_dates(start, end, zone) if day.isoweekday() in hours.days)
    windows = [working_window(day, hours, zone) for day in days]
    edges = [(start, start), *windows, (end, end)]
    return [
        BusyInterval(before[1], after[0])
        for before, after in pairwise(edges)
        if after[0] > before[1]
    ]


def whole_day(moment: datetime, zone: ZoneInfo) -> BusyInterval:
    """The local day (in ``zone``) holding ``moment``, as UTC instants."""
    day = moment.astimezone(zone).date()
    begin = datetime.combine(day, datetime.min.time(), zone)
    finish = datetime.combine(day + timedelta(days=1), datetime.min.time(), zone)
    return BusyInterval(begin.astimezone(UTC), finish.astimezone(UTC))


def _days_of(interval: BusyInterval, zone: ZoneInfo) -> Iterable[datetime]:
    """A moment on each local day the interval touches (midday, clear of DST shifts)."""
    return (
        datetime.combine(day, datetime.min.time(), zone) + timedelta(hours=12)
        for day in local_dates(interval.start, interval.end, zone)
    )
