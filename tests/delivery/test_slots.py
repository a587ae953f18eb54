"""The slot finder: holds land in free working time, spread out, in the owner's zone."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from nudger.connectors.base import BusyInterval, WorkingHours
from nudger.delivery.slots import LEAD_TIME, Slot, default_working_hours, find_slot

HALF_HOUR = timedelta(minutes=30)
MONDAY = datetime(2026, 3, 2, tzinfo=UTC)  # a plain week in UTC: Mon 2 - Sun 8 March 2026


def at(day: datetime, hour: int, minute: int = 0) -> datetime:
    return day.replace(hour=hour, minute=minute)


def in_zone(zone: str, year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A local wall-clock time in ``zone``, as an aware datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone))


def busy(start: datetime, end: datetime, *, out_of_office: bool = False) -> BusyInterval:
    return BusyInterval(start=start, end=end, out_of_office=out_of_office)


def day_of(offset: int) -> datetime:
    return MONDAY + timedelta(days=offset)


def find(
    *,
    now: datetime,
    busy: Sequence[BusyInterval] = (),
    working_hours: WorkingHours | None = None,
    duration: timedelta = HALF_HOUR,
    horizon_days: int = 14,
    existing_holds: Sequence[datetime] = (),
    max_meetings_per_day: int = 6,
) -> Slot | None:
    return find_slot(
        busy=busy,
        working_hours=working_hours or default_working_hours("UTC"),
        now=now,
        duration=duration,
        horizon_days=horizon_days,
        existing_holds=existing_holds,
        max_meetings_per_day=max_meetings_per_day,
    )


def slot_at(start: datetime, duration: timedelta = HALF_HOUR) -> Slot:
    return Slot(start=start.astimezone(UTC), end=(start + duration).astimezone(UTC))


# --- basics -----------------------------------------------------------------------


def test_empty_calendar_gives_the_first_working_morning_mid_morning() -> None:
    assert find(now=at(day_of(0), 6)) == slot_at(at(day_of(0), 10, 30))


def test_evening_now_moves_to_the_next_working_morning() -> None:
    assert find(now=at(day_of(0), 20)) == slot_at(at(day_of(1), 10, 30))


def test_night_now_is_not_used() -> None:
    assert find(now=at(day_of(1), 2)) == slot_at(at(day_of(1), 10, 30))


def test_weekend_is_skipped() -> None:
    friday_evening = at(day_of(4), 18)

    assert find(now=friday_evening) == slot_at(at(day_of(7), 10, 30))


def test_never_sooner_than_the_lead_time() -> None:
    now = at(day_of(0), 9, 7)

    slot = find(now=now)

    assert slot is not None
    assert slot.start >= now + LEAD_TIME
    assert slot.start.date() == now.date()
    assert slot.start.minute % 15 == 0


def test_early_afternoon_is_preferred_when_mid_morning_has_passed() -> None:
    assert find(now=at(day_of(0), 9)) == slot_at(at(day_of(0), 14))


def test_result_is_in_utc_and_lasts_the_duration() -> None:
    slot = find(now=at(day_of(0), 20), duration=timedelta(minutes=45))

    assert slot is not None
    assert slot.start.tzinfo == UTC
    assert slot.end - slot.start == timedelta(minutes=45)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        find(now=datetime(2026, 3, 2, 8))


def test_zero_horizon_finds_nothing() -> None:
    assert find(now=at(day_of(0), 6), horizon_days=0) is None


def test_slot_ends_within_the_horizon() -> None:
    friday_evening = at(day_of(4), 18)

    assert find(now=friday_evening, horizon_days=2) is None


# --- busy time ----------------------------------------------------------------------


def test_overlapping_unsorted_busy_intervals_are_all_respected() -> None:
    tuesday = day_of(1)
    meetings = [
        busy(at(tuesday, 13), at(tuesday, 17)),
        busy(at(tuesday, 10), at(tuesday, 11)),
        busy(at(tuesday, 9), at(tuesday, 10, 15)),
        busy(at(tuesday, 10, 30), at(tuesday, 12)),
    ]

    slot = find(now=at(day_of(0), 20), busy=meetings)

    assert slot == slot_at(at(tuesday, 12))


def test_busy_time_crossing_midnight_blocks_the_next_morning() -> None:
    overnight = busy(at(day_of(0), 22), at(day_of(1), 11))

    slot = find(now=at(day_of(0), 20), busy=[overnight])

    assert slot == slot_at(at(day_of(1), 14))


def test_an_all_day_busy_event_moves_to_the_next_day() -> None:
    all_tuesday = busy(day_of(1), day_of(2))

    assert find(now=at(day_of(0), 20), busy=[all_tuesday]) == slot_at(at(day_of(2), 10, 30))


def test_a_meeting_ending_off_the_grid_pushes_to_the_next_step() -> None:
    tuesday = day_of(1)
    meetings = [busy(at(tuesday, 9), at(tuesday, 16, 7))]

    assert find(now=at(day_of(0), 20), busy=meetings) == slot_at(at(tuesday, 16, 15))


def test_out_of_office_day_is_skipped_entirely() -> None:
    short_absence = busy(at(day_of(1), 15), at(day_of(1), 16), out_of_office=True)

    assert find(now=at(day_of(0), 20), busy=[short_absence]) == slot_at(at(day_of(2), 10, 30))


def test_out_of_office_across_days_skips_each_day_touched() -> None:
    trip = busy(at(day_of(1), 18), at(day_of(3), 8), out_of_office=True)

    assert find(now=at(day_of(0), 20), busy=[trip]) == slot_at(at(day_of(4), 10, 30))


def test_a_full_week_gives_none() -> None:
    workdays = [busy(at(day_of(d), 9), at(day_of(d), 17)) for d in range(5)]

    assert find(now=at(day_of(0), 6), busy=workdays, horizon_days=7) is None


def test_duration_longer_than_any_gap_gives_none() -> None:
    hourly = [busy(at(day_of(d), h), at(day_of(d), h, 15)) for d in range(7) for h in range(9, 17)]

    assert find(now=at(day_of(0), 6), busy=hourly, horizon_days=7, duration=HALF_HOUR) is not None
    assert (
        find(now=at(day_of(0), 6), busy=hourly, horizon_days=7, duration=timedelta(hours=1)) is None
    )


# --- spreading -------------------------------------------------------------------------


def test_a_day_with_an_existing_hold_is_passed_over() -> None:
    slot = find(now=at(day_of(0), 20), existing_holds=[at(day_of(1), 15)])

    assert slot == slot_at(at(day_of(2), 10, 30))


def test_held_days_are_still_used_when_every_day_is_held() -> None:
    holds = [at(day_of(d), 15) for d in range(16)]

    assert find(now=at(day_of(0), 20), existing_holds=holds) == slot_at(at(day_of(1), 10, 30))


def test_a_day_heavy_with_meetings_is_avoided() -> None:
    tuesday = day_of(1)
    seven_short_meetings = [
        busy(at(tuesday, 9, 15 * i), at(tuesday, 9, 15 * i + 10)) for i in range(3)
    ]
    seven_short_meetings += [
        busy(at(tuesday, 15, 10 * i), at(tuesday, 15, 10 * i + 5)) for i in range(4)
    ]

    slot = find(now=at(day_of(0), 20), busy=seven_short_meetings)

    assert slot == slot_at(at(day_of(2), 10, 30))


def test_a_day_at_the_meeting_limit_is_still_acceptable() -> None:
    tuesday = day_of(1)
    six_meetings = [busy(at(tuesday, 15, 10 * i), at(tuesday, 15, 10 * i + 5)) for i in range(6)]

    assert find(now=at(day_of(0), 20), busy=six_meetings) == slot_at(at(tuesday, 10, 30))


def test_a_heavy_day_is_used_when_nothing_else_is_left() -> None:
    tuesday = day_of(1)
    meetings = [busy(at(tuesday, 15, 5 * i), at(tuesday, 15, 5 * i + 4)) for i in range(8)]
    wednesday_off = busy(day_of(2), day_of(3), out_of_office=True)

    slot = find(now=at(day_of(0), 20), busy=[*meetings, wednesday_off], horizon_days=2)

    assert slot == slot_at(at(tuesday, 10, 30))


def test_an_unheld_light_day_beats_a_held_one_and_a_heavy_one() -> None:
    tuesday, wednesday = day_of(1), day_of(2)
    heavy_tuesday = [busy(at(tuesday, 16, 5 * i), at(tuesday, 16, 5 * i + 4)) for i in range(7)]

    slot = find(now=at(day_of(0), 20), busy=heavy_tuesday, existing_holds=[at(wednesday, 11)])

    assert slot == slot_at(at(day_of(3), 10, 30))


# --- time zones and daylight saving ---------------------------------------------------------


def test_london_spring_forward_sunday_keeps_local_working_hours() -> None:
    every_day = WorkingHours(time_zone="Europe/London", days=(1, 2, 3, 4, 5, 6, 7))
    saturday = datetime(2026, 3, 28, 12, tzinfo=UTC)

    slot = find(now=saturday, working_hours=every_day, duration=timedelta(hours=8), horizon_days=3)

    # Sunday 29 March is a 23-hour day: 09:00-17:00 BST is 08:00-16:00 UTC.
    assert slot == Slot(datetime(2026, 3, 29, 8, tzinfo=UTC), datetime(2026, 3, 29, 16, tzinfo=UTC))


def test_london_fall_back_sunday_keeps_local_working_hours() -> None:
    every_day = WorkingHours(time_zone="Europe/London", days=(1, 2, 3, 4, 5, 6, 7))
    saturday = datetime(2026, 10, 24, 12, tzinfo=UTC)

    slot = find(now=saturday, working_hours=every_day, duration=timedelta(hours=8), horizon_days=3)

    # Sunday 25 October is a 25-hour day: 09:00-17:00 GMT is 09:00-17:00 UTC.
    assert slot == Slot(
        datetime(2026, 10, 25, 9, tzinfo=UTC), datetime(2026, 10, 25, 17, tzinfo=UTC)
    )


def test_london_monday_after_spring_forward_is_in_summer_time() -> None:
    friday_evening = datetime(2026, 3, 27, 18, tzinfo=UTC)

    slot = find(now=friday_evening, working_hours=default_working_hours("Europe/London"))

    assert slot == slot_at(in_zone("Europe/London", 2026, 3, 30, 10, 30))
    assert slot is not None
    assert slot.start == datetime(2026, 3, 30, 9, 30, tzinfo=UTC)


def test_london_friday_before_fall_back_is_still_summer_time() -> None:
    thursday_evening = datetime(2026, 10, 22, 18, tzinfo=UTC)

    slot = find(now=thursday_evening, working_hours=default_working_hours("Europe/London"))

    assert slot == Slot(
        datetime(2026, 10, 23, 9, 30, tzinfo=UTC), datetime(2026, 10, 23, 10, tzinfo=UTC)
    )


def test_tokyo_morning_is_the_previous_evening_in_utc() -> None:
    sunday_evening_in_tokyo = datetime(2026, 3, 1, 12, tzinfo=UTC)

    slot = find(now=sunday_evening_in_tokyo, working_hours=default_working_hours("Asia/Tokyo"))

    assert slot == Slot(
        datetime(2026, 3, 2, 1, 30, tzinfo=UTC), datetime(2026, 3, 2, 2, tzinfo=UTC)
    )


def test_tokyo_out_of_office_is_judged_by_the_local_day() -> None:
    tokyo = default_working_hours("Asia/Tokyo")
    # 15:00-16:00 UTC on Sunday is Monday 00:00-01:00 in Tokyo: Monday is off.
    absence = busy(
        datetime(2026, 3, 1, 15, tzinfo=UTC),
        datetime(2026, 3, 1, 16, tzinfo=UTC),
        out_of_office=True,
    )

    slot = find(now=datetime(2026, 3, 1, 12, tzinfo=UTC), working_hours=tokyo, busy=[absence])

    assert slot == slot_at(in_zone("Asia/Tokyo", 2026, 3, 3, 10, 30))


def test_los_angeles_afternoon_is_the_next_utc_day_boundary() -> None:
    friday_noon_in_la = datetime(2026, 3, 6, 20, tzinfo=UTC)

    slot = find(now=friday_noon_in_la, working_hours=default_working_hours("America/Los_Angeles"))

    # 14:00 PST, the first preferred time after the lead.
    assert slot == Slot(
        datetime(2026, 3, 6, 22, tzinfo=UTC), datetime(2026, 3, 6, 22, 30, tzinfo=UTC)
    )


def test_los_angeles_after_its_own_dst_change() -> None:
    saturday = datetime(2026, 3, 7, 20, tzinfo=UTC)

    slot = find(now=saturday, working_hours=default_working_hours("America/Los_Angeles"))

    # Monday 9 March, 10:30 PDT (UTC-7).
    assert slot == Slot(
        datetime(2026, 3, 9, 17, 30, tzinfo=UTC), datetime(2026, 3, 9, 18, tzinfo=UTC)
    )


def test_existing_holds_are_placed_on_the_owners_local_day() -> None:
    monday_evening_in_la = datetime(2026, 3, 3, 4, tzinfo=UTC)
    tuesday_afternoon_hold = datetime(2026, 3, 4, 0, tzinfo=UTC)  # 16:00 PST, Tuesday

    slot = find(
        now=monday_evening_in_la,
        working_hours=default_working_hours("America/Los_Angeles"),
        existing_holds=[tuesday_afternoon_hold],
    )

    assert slot == slot_at(in_zone("America/Los_Angeles", 2026, 3, 4, 10, 30))


def test_custom_working_days_sunday_to_thursday() -> None:
    sun_to_thu = WorkingHours(time_zone="UTC", days=(7, 1, 2, 3, 4))
    thursday_evening = at(day_of(3), 20)

    slot = find(now=thursday_evening, working_hours=sun_to_thu)

    assert slot == slot_at(at(day_of(6), 10, 30))


def test_custom_working_hours_are_honoured() -> None:
    early = WorkingHours(time_zone="UTC", start=time(7), end=time(11))

    slot = find(now=at(day_of(0), 20), working_hours=early, duration=timedelta(hours=4))

    assert slot == slot_at(at(day_of(1), 7), timedelta(hours=4))


# --- invariants over many calendars ---------------------------------------------------------


ZONES = ("UTC", "Europe/London", "Asia/Tokyo", "America/Los_Angeles", "Asia/Kolkata")


def random_calendar(rng: random.Random, start: datetime) -> list[BusyInterval]:
    intervals = []
    for _ in range(rng.randint(0, 40)):
        begin = start + timedelta(minutes=rng.randrange(0, 14 * 24 * 60, 5))
        length = timedelta(minutes=rng.choice((15, 30, 45, 60, 90, 240, 24 * 60)))
        intervals.append(busy(begin, begin + length, out_of_office=rng.random() < 0.05))
    return intervals


@pytest.mark.parametrize("seed", range(60))
def test_any_slot_found_obeys_every_rule(seed: int) -> None:
    rng = random.Random(seed)
    zone_name = rng.choice(ZONES)
    zone = ZoneInfo(zone_name)
    now = datetime(2026, 3, 20, tzinfo=UTC) + timedelta(minutes=rng.randrange(0, 14 * 24 * 60))
    calendar = random_calendar(rng, now - timedelta(days=1))
    hours = default_working_hours(zone_name)

    slot = find(now=now, busy=calendar, working_hours=hours, horizon_days=10)

    if slot is None:
        return
    local_start, local_end = slot.start.astimezone(zone), slot.end.astimezone(zone)
    assert slot.start >= now + LEAD_TIME
    assert slot.end <= now + timedelta(days=10)
    assert local_start.isoweekday() in hours.days
    assert hours.start <= local_start.time()
    assert local_end.time() <= hours.end
    assert local_start.date() == local_end.date()
    assert not any(b.start < slot.end and b.end > slot.start for b in calendar)
    away = {b.start.astimezone(zone).date() for b in calendar if b.out_of_office} | {
        (b.end - timedelta(microseconds=1)).astimezone(zone).date()
        for b in calendar
        if b.out_of_office
    }
    assert local_start.date() not in away
