"""Slots free for both people, with hand-built schedules (no provider, no database)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from nudger.connectors.base import BusyInterval, ContactSchedule, WorkingHours
from nudger.delivery.mutual_slots import slots_free_for_both
from nudger.delivery.slots import Slot, find_slot

NOW = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)  # a Monday morning in London, winter time
HALF_HOUR = timedelta(minutes=30)
LONDON = WorkingHours("Europe/London")
NEW_YORK = WorkingHours("America/New_York")
SINGAPORE = WorkingHours("Asia/Singapore", start=time(8, 30), end=time(17, 30))


def _contact(hours: WorkingHours | None, *busy: BusyInterval, **fields: object) -> ContactSchedule:
    zone = hours.time_zone if hours else None
    return ContactSchedule("ana@x.example", busy, hours, zone, **fields)  # type: ignore[arg-type]


def _slots(
    owner: WorkingHours, contact: ContactSchedule | None, *owner_busy: BusyInterval, count: int = 3
) -> list[Slot]:
    return slots_free_for_both(
        owner_busy=owner_busy,
        owner_hours=owner,
        contact=contact,
        now=NOW,
        duration=HALF_HOUR,
        horizon_days=14,
        count=count,
    )


def _inside(slot: Slot, hours: WorkingHours) -> bool:
    zone = ZoneInfo(hours.time_zone)
    start, end = slot.start.astimezone(zone), slot.end.astimezone(zone)
    return (
        start.isoweekday() in hours.days
        and start.date() == end.date()
        and hours.start <= start.time()
        and end.time() <= hours.end
    )


def test_singapore_and_new_york_share_no_working_hour_so_there_is_no_slot() -> None:
    """09:00-17:00 in New York is 22:00-06:00 in Singapore: no slot, not one at night."""
    assert _slots(NEW_YORK, _contact(SINGAPORE)) == []


def test_slots_sit_inside_both_peoples_working_hours_on_different_days() -> None:
    """London 09:00-17:00 and Singapore 08:30-17:30 (UTC+8) overlap 09:00-09:30 London."""
    slots = _slots(LONDON, _contact(SINGAPORE))
    assert len(slots) == 3
    assert all(_inside(slot, LONDON) and _inside(slot, SINGAPORE) for slot in slots)
    london = ZoneInfo("Europe/London")
    assert len({slot.start.astimezone(london).date() for slot in slots}) == 3
    assert {slot.start.astimezone(london).time() for slot in slots} == {time(9, 0)}


def test_no_slot_on_the_other_persons_day_away_in_their_zone() -> None:
    """An out-of-office on Tuesday in Singapore takes all of Singapore's Tuesday."""
    tuesday = datetime(2026, 1, 6, 3, 0, tzinfo=UTC)  # 11:00 in Singapore
    away = BusyInterval(tuesday, tuesday + timedelta(hours=1), out_of_office=True)
    days = {slot.start.date() for slot in _slots(LONDON, _contact(SINGAPORE), count=10)}
    days_away = {slot.start.date() for slot in _slots(LONDON, _contact(SINGAPORE, away), count=10)}
    assert tuesday.date() in days
    assert tuesday.date() not in days_away


def test_the_other_persons_busy_time_is_avoided() -> None:
    plain = _slots(LONDON, _contact(LONDON), count=1)[0]
    busy = BusyInterval(plain.start, plain.end)
    moved = _slots(LONDON, _contact(LONDON, busy), count=1)[0]
    assert moved.start >= plain.end or moved.end <= plain.start


def test_unknown_or_unavailable_people_leave_the_owners_own_slot() -> None:
    """Keep the current behaviour when nothing is known of the other person."""
    alone = find_slot(busy=(), working_hours=LONDON, now=NOW, duration=HALF_HOUR, horizon_days=14)
    refused = ContactSchedule("ana@x.example", working_hours=SINGAPORE, available=False)
    assert _slots(LONDON, None, count=1) == [alone]
    assert _slots(LONDON, refused, count=1) == [alone]


def test_the_owners_own_busy_time_and_days_away_still_count() -> None:
    monday_all_day = BusyInterval(NOW, NOW + timedelta(hours=18), out_of_office=True)
    slots = _slots(LONDON, _contact(SINGAPORE), monday_all_day, count=1)
    assert slots
    assert slots[0].start.date() != NOW.date()
