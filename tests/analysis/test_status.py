"""Status classification, mostly end to end through the audit on hand-built calendars."""

from __future__ import annotations

from dataclasses import replace

import pytest

from nudger.analysis.judgement import DEFAULT_ROLES, Judgement
from nudger.analysis.model import ContactFeatures, ContactPrefs, Status
from nudger.analysis.status import classify, describe_interval, expected_cadence
from tests.analysis.builders import (
    CAL,
    JUDGEMENT,
    NOW,
    crowd,
    days_ago,
    days_ahead,
    every,
    meeting,
    run_audit,
    series,
)

ANN = "ann@corp.example"
TEAM = "x@corp.example"  # a third person, so history is not a one-on-one habit

BLANK = ContactFeatures(
    email=ANN,
    first_interaction=None,
    last_interaction=None,
    last_one_on_one=None,
    next_meeting=None,
    interactions=0,
    interactions_30d=0,
    interactions_90d=0,
    interactions_365d=0,
    large_only=False,
    typical_gap_days=None,
    working_days_since_last=None,
    strength=0.0,
    one_on_one=None,
)


def with_history(typical_gap: float | None, last_days_ago: int, count: int = 6) -> ContactFeatures:
    """A rhythm and a gap in working days."""
    return replace(
        BLANK,
        first_interaction=days_ago(300),
        last_interaction=days_ago(last_days_ago),
        interactions=count,
        typical_gap_days=typical_gap,
        working_days_since_last=last_days_ago,
        strength=1.0,
    )


# --- the sanity targets -------------------------------------------------------------


def test_quarterly_relationship_last_met_60_days_ago_is_healthy() -> None:
    ann = run_audit(every(90, 60, 4, ANN, TEAM))[ANN]
    assert ann.status is Status.HEALTHY
    assert ann.cadence_working_days == 64  # 90 calendar days, Monday to Friday
    assert ann.reasons == ("usually every ~13 weeks; last met 43 working days ago",)


def test_weekly_relationship_last_met_42_days_ago_is_neglected() -> None:
    ann = run_audit(every(7, 42, 8, ANN, TEAM))[ANN]
    assert ann.status is Status.NEGLECTED
    assert ann.reasons == ("usually weekly; last met 30 working days ago",)


def test_fortnightly_relationship_at_24_days_is_fading() -> None:
    ann = run_audit(every(14, 24, 6, ANN, TEAM))[ANN]
    assert ann.status is Status.FADING


def test_booked_meeting_within_cadence_suppresses_neglect() -> None:
    events = [*every(7, 42, 8, ANN, TEAM), meeting(days_ahead(5), ANN, TEAM)]
    ann = run_audit(events)[ANN]
    assert ann.status is Status.HEALTHY
    assert "next meeting booked in 5 days" in ann.reasons
    assert ann.next_meeting == days_ahead(5)


def test_meeting_booked_beyond_one_cadence_does_not_suppress_neglect() -> None:
    events = [*every(7, 42, 8, ANN, TEAM), meeting(days_ahead(20), ANN, TEAM)]
    assert run_audit(events)[ANN].status is Status.NEGLECTED


# --- one-on-ones --------------------------------------------------------------------


def test_three_missed_occurrences_lapse_a_one_on_one_even_with_future_ones_booked() -> None:
    events = series(ANN, days_ago(7 * 9 + 1), 7, 12, cancelled=[7, 8, 9])
    ann = run_audit(events)[ANN]
    assert ann.features.one_on_one is not None
    assert ann.features.one_on_one.has_future
    assert ann.status is Status.LAPSED_ONE_ON_ONE
    assert ann.reasons == (
        f"your weekly one-on-one with {ANN} was cancelled on 28 May and not rebooked",
        "weekly one-on-one: last 3 occurrences cancelled",
        "last held 22 days ago",
    )


def test_two_missed_occurrences_are_not_yet_lapsed() -> None:
    events = series(ANN, days_ago(7 * 9 + 1), 7, 12, cancelled=[8, 9])
    assert run_audit(events)[ANN].status is Status.HEALTHY


def test_ended_series_is_a_lapsed_one_on_one() -> None:
    events = series(ANN, days_ago(42 + 7 * 7), 7, 8)
    ann = run_audit(events)[ANN]
    assert ann.status is Status.LAPSED_ONE_ON_ONE
    assert ann.reasons[1] == "weekly one-on-one ended 6 weeks ago"


def test_cancelled_occurrence_without_attendees_still_counts_for_its_series() -> None:
    events = series(ANN, days_ago(7 * 9 + 1), 7, 12, cancelled=[8, 9])
    orphan = replace(events[7], attendees=(), cancelled=True)
    ann = run_audit([*events[:7], orphan, *events[8:]])[ANN]
    assert ann.status is Status.LAPSED_ONE_ON_ONE


def test_direct_report_with_no_meetings_is_missing_a_one_on_one() -> None:
    prefs = [ContactPrefs(email="Dana@Corp.example", name="Dana", role="direct_report")]
    dana = run_audit([], prefs)["dana@corp.example"]
    assert dana.status is Status.MISSING_ONE_ON_ONE
    assert dana.name == "Dana"
    assert dana.reasons[0] == "direct report with no one-on-one"


def test_direct_report_met_only_in_groups_is_missing_a_one_on_one() -> None:
    prefs = [ContactPrefs(email=ANN, role="direct_report")]
    ann = run_audit(every(7, 2, 8, ANN, TEAM), prefs)[ANN]
    assert ann.status is Status.MISSING_ONE_ON_ONE


def test_direct_report_with_a_recent_one_on_one_is_not_missing() -> None:
    prefs = [ContactPrefs(email=ANN, role="direct_report")]
    events = [*every(7, 2, 8, ANN, TEAM), meeting(days_ago(20), ANN)]
    assert run_audit(events, prefs)[ANN].status is Status.HEALTHY


def test_direct_report_with_a_kept_weekly_one_on_one_is_healthy() -> None:
    prefs = [ContactPrefs(email=ANN, role="direct_report")]
    ann = run_audit(series(ANN, days_ago(7 * 9 + 1), 7, 12), prefs)[ANN]
    assert ann.status is Status.HEALTHY
    assert ann.cadence_days == 7


def test_lapsed_takes_precedence_over_missing() -> None:
    prefs = [ContactPrefs(email=ANN, role="direct_report")]
    events = series(ANN, days_ago(7 * 9 + 1), 7, 12, cancelled=[7, 8, 9])
    assert run_audit(events, prefs)[ANN].status is Status.LAPSED_ONE_ON_ONE


# --- weak ties and new contacts -----------------------------------------------------


def test_someone_only_met_in_large_meetings_is_a_weak_tie() -> None:
    events = [meeting(days_ago(d), ANN, *crowd(9)) for d in (3, 40, 90)]
    ann = run_audit(events)[ANN]
    assert ann.status is Status.WEAK_TIE
    assert ann.reasons == ("only met in meetings of more than 8 people",)


def test_faint_old_contact_is_a_weak_tie() -> None:
    ann = run_audit([meeting(days_ago(360), ANN, TEAM, "y@corp.example", "z@corp.example")])[ANN]
    assert ann.strength < JUDGEMENT.weak_tie_max_strength
    assert ann.status is Status.WEAK_TIE


def test_someone_with_a_role_is_never_a_weak_tie() -> None:
    events = [meeting(days_ago(d), ANN, *crowd(9)) for d in (3, 40, 90)]
    ann = run_audit(events, [ContactPrefs(email=ANN, role="peer")])[ANN]
    assert ann.status is Status.HEALTHY
    assert ann.cadence_days == 30  # large meetings give no typical gap: the peer's ideal


def test_first_met_recently_with_few_meetings_is_new() -> None:
    ann = run_audit([meeting(days_ago(d), ANN, TEAM) for d in (10, 3)])[ANN]
    assert ann.status is Status.NEW
    assert ann.reasons == ("first met 10 days ago", "2 meeting(s) so far")


def test_only_upcoming_meetings_is_new() -> None:
    ann = run_audit([meeting(days_ahead(3), ANN)])[ANN]
    assert ann.status is Status.NEW
    assert ann.last_interaction is None
    assert ann.reasons == ("only upcoming meetings so far",)


def test_too_little_history_for_a_rhythm_is_new() -> None:
    ann = run_audit([meeting(days_ago(d), ANN, TEAM) for d in (100, 60)])[ANN]
    assert ann.status is Status.NEW
    assert ann.cadence_days is None


# --- cadence --------------------------------------------------------------------------


def test_user_override_sets_the_cadence() -> None:
    prefs = [ContactPrefs(email=ANN, cadence_override_days=7)]
    ann = run_audit(every(90, 20, 4, ANN, TEAM), prefs)[ANN]
    assert ann.cadence_days == 7
    assert ann.status is Status.NEGLECTED
    assert ann.reasons[0].startswith("you asked for every ~7 days")


def test_role_clamps_a_long_typical_gap_to_its_maximum() -> None:
    prefs = [ContactPrefs(email=ANN, role="peer")]
    ann = run_audit(every(90, 100, 4, ANN, TEAM), prefs)[ANN]
    assert ann.cadence_days == 60
    assert ann.status is Status.FADING
    assert ann.reasons[0] == "peer: at least every 60 days; last met 72 working days ago"


def test_role_ideal_applies_without_typical_gap() -> None:
    features = with_history(None, 20)
    cadence = expected_cadence(features, "mentor", None, DEFAULT_ROLES, CAL)
    assert cadence is not None
    assert cadence.days == pytest.approx(30 * 5 / 7)  # in working days


def test_role_does_not_stretch_a_shorter_typical_gap() -> None:
    cadence = expected_cadence(with_history(5, 1), "peer", None, DEFAULT_ROLES, CAL)
    assert cadence is not None
    assert cadence.days == 5


def test_manager_never_met_is_neglected() -> None:
    boss = run_audit([], [ContactPrefs(email=ANN, role="manager")])[ANN]
    assert boss.status is Status.NEGLECTED
    assert boss.reasons == ("manager: ideally every 7 days; no meeting on record",)


@pytest.mark.parametrize(
    ("last", "status"),
    [(15, Status.HEALTHY), (16, Status.FADING), (25, Status.FADING), (26, Status.NEGLECTED)],
)
def test_fading_and_neglected_thresholds_scale_with_cadence(last: int, status: Status) -> None:
    verdict = classify(with_history(10, last), None, None, NOW, CAL, JUDGEMENT, DEFAULT_ROLES)
    assert verdict.status is status


def test_thresholds_are_settings() -> None:
    strict = Judgement(fading_factor=1.1, neglected_factor=1.2)
    verdict = classify(with_history(10, 13), None, None, NOW, CAL, strict, DEFAULT_ROLES)
    assert verdict.status is Status.NEGLECTED


@pytest.mark.parametrize(
    ("days", "words"),
    [(7, "weekly"), (14, "fortnightly"), (30, "monthly"), (21, "21-day")],
)
def test_interval_wording(days: float, words: str) -> None:
    assert describe_interval(days) == words


def test_daily_rhythm_reads_naturally() -> None:
    ann = run_audit([meeting(days_ago(d), ANN, TEAM) for d in range(1, 9)])[ANN]
    assert ann.reasons == ("usually every working day; last met 1 working day ago",)


def test_stopped_ad_hoc_one_on_ones_are_neglect_not_a_lapsed_series() -> None:
    coffees = [meeting(days_ago(80 + 30 * i), ANN) for i in range(6)]
    ann = run_audit(coffees, [ContactPrefs(email=ANN, role="mentor")])[ANN]
    assert ann.features.one_on_one is not None
    assert not ann.features.one_on_one.ended
    assert ann.status is Status.NEGLECTED
