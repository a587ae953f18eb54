"""Appreciation: a long one-on-one series that ran its course is an ended run, worth a
thank-you; a paused, still running, short or badly ended one is not (NOW is Wednesday
12 June 2024)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from nudger.analysis.judgement import Judgement
from nudger.analysis.model import ContactPrefs
from nudger.analysis.status import ended_run_reasons, span_words
from nudger.connectors.base import CalendarEvent
from tests.analysis.builders import days_ago, days_ahead, meeting, run_audit, series

ANA = "ana@partner.example"
NAMED = [ContactPrefs(email=ANA, name="Ana Lima")]
PARIS = ZoneInfo("Europe/Paris")


def weekly(times: int, last_days_ago: float, **marks: list[int]) -> list[CalendarEvent]:
    """A weekly one-on-one with Ana: ``times`` occurrences, the last ``last_days_ago``."""
    first = days_ago(last_days_ago + 7 * (times - 1))
    return series(ANA, first, 7, times, **marks)


def test_a_long_series_that_ended_two_weeks_ago_is_an_ended_run() -> None:
    ana = run_audit(weekly(14, 16), NAMED)[ANA]
    run = ana.ended_run
    assert run is not None
    assert (run.meetings, run.interval_days) == (14, 7)
    assert (run.first, run.last) == (days_ago(16 + 7 * 13), days_ago(16))


def test_its_evidence_names_rhythm_length_and_span_but_no_title() -> None:
    run = run_audit(weekly(14, 16), NAMED)[ANA].ended_run
    assert run is not None
    assert ended_run_reasons(run, "Ana Lima", PARIS) == (
        "your weekly one-on-one series with Ana Lima: 14 meetings over 3 months",
        "the first on 26 Feb, the last on 27 May; nothing since",
    )


def test_a_series_with_occurrences_ahead_is_still_running() -> None:
    first = days_ago(7 * 13)
    events = series(ANA, first, 7, 16)  # 14 held, two still to come
    assert run_audit(events, NAMED)[ANA].ended_run is None


def test_a_series_that_paused_and_resumed_has_not_ended() -> None:
    old = weekly(10, 120)
    resumed = series(ANA, days_ago(20), 7, 6, series_id="s2")  # a new series, still on
    assert run_audit([*old, *resumed], NAMED)[ANA].ended_run is None


def test_a_series_just_stopped_has_not_shown_its_end_yet() -> None:
    assert run_audit(weekly(14, 10), NAMED)[ANA].ended_run is None


def test_the_end_shows_when_repair_reads_the_series_as_stopped() -> None:
    ana = run_audit(weekly(14, 12), NAMED)[ANA]  # the next one was due Friday 7 June
    assert ana.repair is not None
    assert ana.repair.what == "stopped"
    assert ana.ended_run is not None
    assert ana.ended_run.timely


def test_a_series_that_ended_long_ago_is_past_thanking_but_still_known() -> None:
    run = run_audit(weekly(14, 7 + 22), NAMED)[ANA].ended_run
    assert run is not None
    assert not run.timely
    timely = run_audit(weekly(14, 7 + 21), NAMED)[ANA].ended_run
    assert timely is not None
    assert timely.timely


def test_a_short_series_is_not_a_run() -> None:
    assert run_audit(weekly(7, 16), NAMED)[ANA].ended_run is None


def test_a_few_weeks_is_not_a_run_however_many_meetings() -> None:
    daily = series(ANA, days_ago(16 + 9), 1, 10)
    assert run_audit(daily, NAMED)[ANA].ended_run is None


def test_a_series_that_died_in_cancellations_is_a_rupture_not_a_run() -> None:
    assert run_audit(weekly(14, 16, cancelled=[12, 13]), NAMED)[ANA].ended_run is None


def test_someone_still_met_in_small_meetings_since_is_not_thanked_goodbye() -> None:
    events = [*weekly(14, 16), meeting(days_ago(3), ANA, "sam@corp.example")]
    assert run_audit(events, NAMED)[ANA].ended_run is None


def test_someone_with_a_small_meeting_planned_is_not_thanked_goodbye() -> None:
    events = [*weekly(14, 16), meeting(days_ahead(3), ANA)]
    assert run_audit(events, NAMED)[ANA].ended_run is None


def test_the_thresholds_are_the_judgements() -> None:
    lenient = Judgement(thanks_min_meetings=5, thanks_min_weeks=4)
    assert run_audit(weekly(7, 16), NAMED, judgement=lenient)[ANA].ended_run is not None


def test_the_audit_json_carries_the_run_only_when_there_is_one() -> None:
    rows = run_audit(weekly(14, 16), NAMED)
    assert rows[ANA].to_json()["ended_run"] == {
        "timely": True,
        "meetings": 14,
        "interval_days": 7.0,
        "first": days_ago(16 + 7 * 13).isoformat(),
        "last": days_ago(16).isoformat(),
    }
    assert "ended_run" not in run_audit(weekly(7, 16), NAMED)[ANA].to_json()


def test_spans_read_in_weeks_then_months_then_years() -> None:
    spans = [timedelta(days=d).days for d in (5, 50, 91, 400)]
    assert [span_words(d) for d in spans] == ["1 week", "7 weeks", "3 months", "1 year"]
