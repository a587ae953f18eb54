"""Rhythm in working days: weekends and the owner's days away are never neglect."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from nudger.analysis.judgement import Judgement
from nudger.analysis.model import ContactPrefs, Status
from nudger.analysis.workdays import WEEK, days_away, work_calendar
from nudger.connectors.base import CalendarEvent, EventKind
from tests.analysis.builders import CAL, ME, days_ago, meeting, run_audit

PARIS = ZoneInfo("Europe/Paris")
ANN = "ann@corp.example"
TEAM = "x@corp.example"
FRIDAY, MONDAY = date(2024, 6, 7), date(2024, 6, 10)  # NOW is Wednesday 12 June 2024


def away(first: datetime, days: int) -> CalendarEvent:
    return CalendarEvent(
        event_id=f"ooo-{first.date()}",
        start=first,
        end=first + timedelta(days=days),
        attendees=(),
        kind=EventKind.OUT_OF_OFFICE,
        organizer_email=ME,
    )


def test_friday_to_monday_is_one_working_day() -> None:
    assert CAL.days_between(FRIDAY, MONDAY) == 1
    assert CAL.days_between(MONDAY, FRIDAY) == -1


def test_days_out_of_office_do_not_count() -> None:
    off = days_away([away(datetime(2024, 6, 3, tzinfo=PARIS), 5)], PARIS)
    cal = work_calendar(PARIS, WEEK, off)
    assert cal.days_between(date(2024, 5, 31), date(2024, 6, 10)) == 1


def test_a_custom_working_week_counts_only_its_days() -> None:
    four_days = work_calendar(PARIS, {1, 2, 3, 4}, ())
    assert four_days.days_between(date(2024, 6, 6), MONDAY) == 1  # Thursday to Monday


def daily_until(last_days_ago: int) -> list[CalendarEvent]:
    """A three-person stand-up every working day for eight weeks, the last one as given."""
    starts = [days_ago(last_days_ago + n) for n in range(56)]
    return [meeting(s, ANN, TEAM) for s in starts if s.astimezone(PARIS).isoweekday() <= 5]


def test_someone_met_every_day_is_not_fading_after_a_weekend() -> None:
    ann = run_audit(daily_until(5))[ANN]  # last met on Friday; today is Wednesday
    assert ann.features.typical_gap_days == 1
    assert ann.status is Status.HEALTHY


def test_someone_met_every_day_is_not_fading_after_a_two_day_gap() -> None:
    assert run_audit(daily_until(3))[ANN].status is Status.HEALTHY


def test_no_nudge_before_the_minimum_gap_in_working_days() -> None:
    week_and_a_day = daily_until(9)  # last met 6 working days ago
    assert run_audit(week_and_a_day)[ANN].status is Status.FADING
    longer_minimum = Judgement(min_gap_working_days=10)
    assert run_audit(week_and_a_day, judgement=longer_minimum)[ANN].status is Status.HEALTHY


def test_a_week_out_of_office_is_not_neglect() -> None:
    weekly = [meeting(days_ago(14 + 7 * n), ANN, TEAM) for n in range(8)]
    assert run_audit(weekly)[ANN].status is Status.FADING  # ten working days apart
    holiday = away(datetime(2024, 6, 3, tzinfo=PARIS), 5)
    ann = run_audit([*weekly, holiday])[ANN]
    assert ann.features.working_days_since_last == 5
    assert ann.status is Status.HEALTHY


def test_cadence_is_reported_in_calendar_and_working_days() -> None:
    weekly = [meeting(days_ago(2 + 7 * n), ANN, TEAM) for n in range(8)]
    row = run_audit(weekly, [ContactPrefs(email=ANN, name="Ann")])[ANN].to_json()
    assert (row["cadence_days"], row["cadence_working_days"]) == (7.0, 5.0)
    assert row["reasons"] == ["usually weekly; last met 2 working days ago"]


def test_a_ten_day_rhythm_reads_in_working_days() -> None:
    every_ten = [meeting(days_ago(3 + 10 * n), ANN, TEAM) for n in range(8)]
    assert run_audit(every_ten)[ANN].reasons[0].startswith("usually every ~7 working days")
