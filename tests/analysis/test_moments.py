"""Moments: a year since the first meeting with someone, only when the calendar shows
enough history before that first meeting (NOW is Wednesday 12 June 2024; a year
before was Monday 12 June 2023, 366 days ago across the leap day)."""

from __future__ import annotations

from datetime import date, timedelta

from nudger.analysis.audit import full_audit, partial_audit
from nudger.analysis.judgement import DEFAULT_ROLES as ROLES
from nudger.analysis.judgement import Judgement
from nudger.analysis.model import Anniversary
from nudger.analysis.moments import a_year_after, anniversary_label
from nudger.connectors.base import CalendarEvent
from nudger.passes.analyse import audit_from_json, audit_to_json
from tests.analysis.builders import JUDGEMENT, NOW, OWNER, days_ago, meeting, run_audit

ANA = "ana@corp.example"
OLD_PROJECT = "bo@corp.example"
A_YEAR = 366


def met_ana_first(days: float) -> list[CalendarEvent]:
    """Ana first met ``days`` ago, then every four weeks up to last week."""
    return [meeting(days_ago(d), ANA) for d in range(int(days), 6, -28)] + [
        meeting(days_ago(days), ANA)
    ]


def history_since(days: float) -> list[CalendarEvent]:
    """Someone else met ``days`` ago: the calendar goes back at least that far."""
    return [meeting(days_ago(days), OLD_PROJECT)]


def anniversary_at(events: list[CalendarEvent]) -> Anniversary | None:
    return run_audit(events)[ANA].anniversary


def test_a_year_to_the_day_after_the_first_meeting_is_an_anniversary() -> None:
    found = anniversary_at([*met_ana_first(A_YEAR), *history_since(420)])
    assert found == Anniversary(days_ago(A_YEAR), days_ago(420))


def test_the_day_before_it_is_not_yet() -> None:
    assert anniversary_at([*met_ana_first(A_YEAR - 1), *history_since(420)]) is None


def test_a_first_meeting_at_the_start_of_the_history_is_the_window_edge() -> None:
    """Nothing older is stored: Ana may well have been met before the history begins."""
    assert anniversary_at(met_ana_first(A_YEAR)) is None
    assert anniversary_at([*met_ana_first(A_YEAR), *history_since(A_YEAR + 20)]) is None


def test_a_meeting_older_than_the_analysis_window_is_the_first_meeting() -> None:
    """Met 380 days ago (outside the 365-day window), then again a year ago: the year
    since the first meeting was two weeks ago, not today."""
    events = [*met_ana_first(A_YEAR), meeting(days_ago(380), ANA), *history_since(420)]
    assert anniversary_at(events) is None


def test_an_anniversary_on_a_weekend_is_marked_on_the_next_working_days() -> None:
    """First met Saturday 10 June 2023: due Monday 10 June 2024, still on Wednesday."""
    assert anniversary_at([*met_ana_first(A_YEAR + 2), *history_since(420)]) is not None


def test_it_is_not_marked_weeks_late() -> None:
    """First met Tuesday 6 June 2023: four working days ago is too late."""
    assert anniversary_at([*met_ana_first(A_YEAR + 6), *history_since(420)]) is None


def test_how_long_the_history_must_be_before_the_first_meeting_is_judgement() -> None:
    events = [*met_ana_first(A_YEAR), *history_since(A_YEAR + 20)]
    rows = run_audit(events, judgement=Judgement(anniversary_seen_before_days=14))
    assert rows[ANA].anniversary is not None


def test_the_29th_of_february_comes_round_on_the_28th() -> None:
    assert a_year_after(date(2024, 2, 29)) == date(2025, 2, 28)


def test_the_outbox_label_is_the_anniversary_year() -> None:
    first = NOW - timedelta(days=A_YEAR)
    assert anniversary_label(Anniversary(first, first - timedelta(days=60))) == "year-2024"


def test_a_stored_audit_keeps_where_the_history_begins() -> None:
    """The decide step reuses a stored audit and updates it contact by contact: the
    history's start must survive the round trip, or a partial audit would lose it."""
    events = [*met_ana_first(A_YEAR), *history_since(420)]
    stored = audit_from_json(audit_to_json(full_audit(OWNER, events, {}, NOW, JUDGEMENT, ROLES)))
    assert stored.history_from == days_ago(420)
    again = partial_audit(stored, {ANA}, OWNER, events, {}, NOW, JUDGEMENT, ROLES)
    [ana] = [h for h in again.healths if h.email == ANA]
    assert ana.anniversary == Anniversary(days_ago(A_YEAR), days_ago(420))
