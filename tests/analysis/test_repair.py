"""Fast repair: a one-on-one that did not take place and was not made up within a few
working days is named, with what happened and when (NOW is Wednesday 12 June 2024)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from nudger.analysis.judgement import Judgement
from nudger.analysis.model import ContactPrefs, Status
from nudger.connectors.base import CalendarEvent, EventKind, Response
from tests.analysis.builders import (
    ME,
    days_ago,
    days_ahead,
    meeting,
    person,
    run_audit,
    series,
)

PRIYA = "priya@corp.example"
NAMED = [ContactPrefs(email=PRIYA, name="Priya Shah")]
FIRST = days_ago(5 + 7 * 8)  # a Friday, eight weeks before last Friday


def weekly(cancelled: Iterable[int] = (), declined: Iterable[int] = ()) -> list[CalendarEvent]:
    """A weekly Friday one-on-one with Priya: eight held, last Friday's, then three ahead."""
    return series(PRIYA, FIRST, 7, 12, cancelled=cancelled, declined=declined)


def test_a_cancelled_one_on_one_not_rebooked_in_three_working_days_needs_repair() -> None:
    priya = run_audit(weekly(cancelled=[8]), NAMED)[PRIYA]
    assert priya.repair is not None
    assert priya.repair.what == "cancelled"
    assert priya.repair.working_days_open == 3
    assert priya.reasons[0] == (
        "your weekly one-on-one with Priya Shah was cancelled on 7 Jun and not rebooked"
    )


def test_two_working_days_are_not_yet_a_rupture() -> None:
    strict = Judgement(repair_after_working_days=4)
    assert run_audit(weekly(cancelled=[8]), NAMED, judgement=strict)[PRIYA].repair is None


def test_a_one_on_one_the_contact_declined_names_them() -> None:
    priya = run_audit(weekly(declined=[8]), NAMED)[PRIYA]
    assert priya.repair is not None
    assert priya.reasons[0] == (
        "Priya Shah declined your weekly one-on-one on 7 Jun; not rebooked since"
    )


def test_a_small_meeting_since_makes_it_up() -> None:
    events = [*weekly(cancelled=[8]), meeting(days_ago(1), PRIYA, "x@corp.example")]
    assert run_audit(events, NAMED)[PRIYA].repair is None


def test_a_meeting_already_rebooked_makes_it_up() -> None:
    events = [*weekly(cancelled=[8]), meeting(days_ahead(1), PRIYA)]
    assert run_audit(events, NAMED)[PRIYA].repair is None


def test_a_big_team_meeting_does_not_make_up_a_one_on_one() -> None:
    team = [f"t{n}@corp.example" for n in range(5)]
    events = [*weekly(cancelled=[8]), meeting(days_ago(1), PRIYA, *team)]
    assert run_audit(events, NAMED)[PRIYA].repair is not None


def test_a_series_that_stops_is_repaired_before_it_reads_as_ended() -> None:
    stopped = series(PRIYA, days_ago(12 + 7 * 7), 7, 8)  # last one 12 days ago, none ahead
    priya = run_audit(stopped, NAMED)[PRIYA]
    assert priya.status is not Status.LAPSED_ONE_ON_ONE  # not two intervals yet
    assert priya.repair is not None
    assert priya.repair.what == "stopped"
    assert priya.reasons[0] == (
        "your weekly one-on-one with Priya Shah was due on 7 Jun and is no longer on the calendar"
    )


def test_an_occurrence_gone_from_the_series_is_a_miss() -> None:
    """Outlook removes an occurrence its organiser cancels instead of marking it."""
    events = [e for n, e in enumerate(weekly()) if n != 8]
    priya = run_audit(events, NAMED)[PRIYA]
    assert priya.repair is not None
    assert priya.reasons[0] == (
        "your weekly one-on-one with Priya Shah did not take place on 7 Jun and was not rebooked"
    )


def test_the_next_held_occurrence_closes_the_rupture() -> None:
    earlier = series(PRIYA, FIRST, 7, 12, cancelled=[7])  # cancelled 12 days ago, then held
    assert run_audit(earlier, NAMED)[PRIYA].repair is None


def test_declined_by_the_owner_is_said_so() -> None:
    events = weekly()
    events[8] = meeting(
        events[8].start,
        person(PRIYA),
        my_response=Response.DECLINED,
        series_id="s1",
        original_start=events[8].start,
        ical_uid="s1@uid",
    )
    priya = run_audit(events, NAMED)[PRIYA]
    assert priya.reasons[0].startswith(
        "you declined your weekly one-on-one with Priya Shah on 7 Jun"
    )


def away(first: datetime, days: int) -> CalendarEvent:
    """The owner out of office for ``days`` whole days from ``first``."""
    return CalendarEvent(
        event_id=f"ooo-{first.date()}",
        start=first,
        end=first + timedelta(days=days),
        kind=EventKind.OUT_OF_OFFICE,
        organizer_email=ME,
    )


MONDAY = datetime(2024, 6, 10, tzinfo=ZoneInfo("Europe/Paris"))


def test_a_one_on_one_missed_before_a_week_away_is_named_on_the_first_day_back() -> None:
    """Cancelled Friday 7 June; the owner is away Monday and Tuesday; NOW is Wednesday, one
    working day later but three days of the working week: nobody could make it up."""
    priya = run_audit([*weekly(cancelled=[8]), away(MONDAY, 2)], NAMED)[PRIYA]
    assert priya.repair is not None
    assert priya.repair.working_days_open == 1


def test_the_first_day_back_waits_for_the_usual_three_days_of_the_working_week() -> None:
    """Cancelled Friday; away Monday only: Tuesday and Wednesday back are two days, not three."""
    strict = Judgement(repair_after_working_days=4)
    events = [*weekly(cancelled=[8]), away(MONDAY, 1)]
    assert run_audit(events, NAMED, judgement=strict)[PRIYA].repair is None


def test_a_one_on_one_missed_while_the_owner_was_away_waits_three_working_days_back() -> None:
    """Missed during the owner's own holiday: expected, so the usual make-up time applies."""
    friday = datetime(2024, 6, 7, tzinfo=ZoneInfo("Europe/Paris"))
    events = [*weekly(cancelled=[8]), away(friday, 5)]  # away Friday to Tuesday
    assert run_audit(events, NAMED)[PRIYA].repair is None
