"""Moments read from the provider: a work anniversary (the directory's hire date) and a
welcome back after a long absence (free/busy). NOW is Wednesday 12 June 2024, 14:00 in
the owner's Paris."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from nudger.analysis.audit import full_audit
from nudger.analysis.judgement import DEFAULT_ROLES as ROLES
from nudger.analysis.judgement import Judgement
from nudger.analysis.model import Absence, ContactPrefs, WelcomeBack, WorkAnniversary
from nudger.analysis.moments import (
    absence_working_days,
    find_work_anniversary,
    latest_absence,
    welcome_back_label,
    work_anniversary_label,
)
from nudger.connectors.base import BusyInterval
from nudger.passes.analyse import audit_from_json, audit_to_json
from tests.analysis.builders import CAL, JUDGEMENT, NOW, OWNER, days_ago, meeting, run_audit

ANA = "ana@corp.example"
WEEKDAYS = frozenset({1, 2, 3, 4, 5})


def ana(hire_date: date | None = None, absence: Absence | None = None) -> ContactPrefs:
    return ContactPrefs(ANA, "Ana Lima", "peer", hire_date=hire_date, absence=absence)


def work_anniversary(hired: date) -> WorkAnniversary | None:
    return run_audit([meeting(days_ago(10), ANA)], [ana(hire_date=hired)])[ANA].work_anniversary


def welcome_back(start: datetime, end: datetime, days: int) -> WelcomeBack | None:
    absence = Absence(start, end, days)
    return run_audit([meeting(days_ago(30), ANA)], [ana(absence=absence)])[ANA].welcome_back


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(hours=2)  # Paris


# --- work anniversaries ----------------------------------------------------------------


def test_whole_years_since_the_hire_date_on_the_day() -> None:
    assert work_anniversary(date(2021, 6, 12)) == WorkAnniversary(date(2021, 6, 12), 3)


def test_the_day_before_it_is_not_yet_and_the_first_year_is_not_over() -> None:
    assert work_anniversary(date(2021, 6, 13)) is None
    assert work_anniversary(date(2024, 6, 12)) is None  # hired today: no anniversary


def test_on_a_weekend_it_is_marked_on_the_next_working_days() -> None:
    """Saturday 8 June: Monday is the first working day after, Wednesday the 2nd late."""
    assert work_anniversary(date(2019, 6, 8)) == WorkAnniversary(date(2019, 6, 8), 5)


def test_not_weeks_late() -> None:
    """Tuesday 4 June: six working days ago."""
    assert work_anniversary(date(2019, 6, 4)) is None


def test_a_29_february_hire_is_marked_on_28_february_in_common_years() -> None:
    """Hired 29 February 2020: one year on Sunday 28 February 2021 (marked Monday 1
    March), four years on 29 February 2024, five on Friday 28 February 2025."""
    hired = date(2020, 2, 29)
    on = {
        datetime(2021, 3, 1, 12, tzinfo=UTC): 1,
        datetime(2024, 2, 29, 12, tzinfo=UTC): 4,
        datetime(2025, 2, 28, 12, tzinfo=UTC): 5,
    }
    for now, years in on.items():
        assert find_work_anniversary(hired, now, CAL, JUDGEMENT) == WorkAnniversary(hired, years)
    assert (
        find_work_anniversary(hired, datetime(2024, 2, 28, 12, tzinfo=UTC), CAL, JUDGEMENT) is None
    )


def test_an_anniversary_at_the_years_end_is_marked_in_january() -> None:
    """Hired Monday 30 December 2019: Thursday 2 January 2025 is two working days late
    (1 January counts as a working day here: no holidays known)."""
    found = find_work_anniversary(
        date(2019, 12, 30), datetime(2025, 1, 2, 12, tzinfo=UTC), CAL, JUDGEMENT
    )
    assert found == WorkAnniversary(date(2019, 12, 30), 5)


def test_the_outbox_label_is_the_year_it_falls_in() -> None:
    assert work_anniversary_label(WorkAnniversary(date(2019, 12, 30), 5)) == "work-2024"


def test_no_hire_date_no_anniversary() -> None:
    assert run_audit([meeting(days_ago(10), ANA)], [ana()])[ANA].work_anniversary is None


# --- welcome back ----------------------------------------------------------------------


def test_back_on_monday_from_two_weeks_away_is_welcomed_on_wednesday() -> None:
    """Out Monday 27 May to Friday 7 June (10 working days), back Monday 10 June."""
    start, end = midnight(date(2024, 5, 27)), midnight(date(2024, 6, 8))
    assert welcome_back(start, end, 10) == WelcomeBack(start, end, 10)


def test_fewer_than_five_of_their_working_days_is_not_a_long_absence() -> None:
    start, end = midnight(date(2024, 6, 5)), midnight(date(2024, 6, 11))
    assert welcome_back(start, end, 4) is None


def test_not_before_they_are_back() -> None:
    start, end = midnight(date(2024, 6, 3)), midnight(date(2024, 6, 14))
    assert welcome_back(start, end, 9) is None


def test_not_weeks_after_the_return() -> None:
    """Back Monday 3 June: seven working days ago."""
    start, end = midnight(date(2024, 5, 20)), midnight(date(2024, 6, 1))
    assert welcome_back(start, end, 10) is None


def test_an_absence_ending_in_the_afternoon_returns_the_next_day() -> None:
    """Out until Tuesday 11 June 17:00: back Wednesday, welcomed today."""
    start, end = midnight(date(2024, 5, 27)), datetime(2024, 6, 11, 15, tzinfo=UTC)
    assert welcome_back(start, end, 12) is not None


def test_how_long_is_long_is_judgement() -> None:
    start, end = midnight(date(2024, 6, 5)), midnight(date(2024, 6, 11))
    prefs = [ana(absence=Absence(start, end, 4))]
    rows = run_audit(
        [meeting(days_ago(30), ANA)], prefs, Judgement(welcome_back_min_working_days=3)
    )
    assert rows[ANA].welcome_back is not None


def test_working_days_are_the_persons_own() -> None:
    """Two weeks away: 10 days Monday to Friday, 8 for someone working Monday to
    Thursday; a day counts when most of it is covered."""
    start, end = midnight(date(2024, 5, 27)), midnight(date(2024, 6, 8))
    paris = CAL.tz
    assert absence_working_days(start, end, paris, WEEKDAYS) == 10
    assert absence_working_days(start, end, paris, frozenset({1, 2, 3, 4})) == 8


def test_one_email_per_absence() -> None:
    start, end = midnight(date(2024, 5, 27)), midnight(date(2024, 6, 8))
    assert welcome_back_label(WelcomeBack(start, end, 10)) == "back-2024-06-07"


def test_a_stored_audit_keeps_both_moments() -> None:
    absence = Absence(midnight(date(2024, 5, 27)), midnight(date(2024, 6, 8)), 10)
    prefs = {ANA: ana(hire_date=date(2021, 6, 12), absence=absence)}
    audit = full_audit(OWNER, [meeting(days_ago(10), ANA)], prefs, NOW, JUDGEMENT, ROLES)
    [row] = audit_from_json(audit_to_json(audit)).healths
    assert row.work_anniversary == WorkAnniversary(date(2021, 6, 12), 3)
    assert row.welcome_back == WelcomeBack(absence.start, absence.end, 10)
    assert row.to_json()["work_anniversary"] == {"hired": "2021-06-12", "years": 3}


# --- absences from free/busy -------------------------------------------------------------


def oof(start: datetime, end: datetime) -> BusyInterval:
    return BusyInterval(start, end, out_of_office=True)


def test_out_of_office_days_joined_across_the_weekend_make_one_absence() -> None:
    """Daily 09:00-17:00 out-of-office blocks, Monday 27 May to Friday 7 June."""
    days = [date(2024, 5, 27) + timedelta(days=n) for n in range(12) if n % 7 < 5]
    busy = [
        oof(datetime(d.year, d.month, d.day, 7, tzinfo=UTC), midnight(d) + timedelta(hours=19))
        for d in days
    ]
    found = latest_absence(busy, CAL.tz, WEEKDAYS, 5)
    assert found == Absence(busy[0].start, busy[-1].end, 10)


def test_busy_time_is_never_taken_for_an_absence() -> None:
    """Google's free/busy says busy only: two weeks of it are not a holiday."""
    busy = [BusyInterval(midnight(date(2024, 5, 27)), midnight(date(2024, 6, 8)))]
    assert latest_absence(busy, CAL.tz, WEEKDAYS, 5) is None


def test_a_working_day_back_in_between_splits_two_absences_and_the_latest_long_one_counts() -> None:
    first = oof(midnight(date(2024, 5, 13)), midnight(date(2024, 5, 18)))  # 5 days
    second = oof(midnight(date(2024, 5, 21)), midnight(date(2024, 5, 23)))  # back on the 20th
    assert latest_absence([first, second], CAL.tz, WEEKDAYS, 5) == Absence(
        first.start, first.end, 5
    )
    assert latest_absence([first, second], CAL.tz, WEEKDAYS, 2) == Absence(
        second.start, second.end, 2
    )
