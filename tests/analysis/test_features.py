from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from nudger.analysis.features import (
    build_features,
    detect_one_on_one,
    median,
    strength,
    typical_gap_days,
)
from nudger.analysis.interactions import interactions_in, one_on_one_occurrence
from nudger.analysis.judgement import Judgement
from nudger.analysis.model import ContactFeatures, Interaction, Occurrence
from nudger.connectors.base import CalendarEvent
from tests.analysis.builders import (
    CAL,
    JUDGEMENT,
    NOW,
    OWNER,
    crowd,
    days_ago,
    days_ahead,
    every,
    meeting,
    series,
)

PARIS = ZoneInfo("Europe/Paris")
ANN = "ann@corp.example"


def features_for(events: list[CalendarEvent], contact: str = ANN) -> ContactFeatures:
    interactions = [
        i for e in events for i in interactions_in(e, OWNER, NOW, JUDGEMENT) if i.contact == contact
    ]
    occurrences = [found[1] for e in events if (found := one_on_one_occurrence(e, OWNER))]
    upcoming = [e.start for e in events if e.start > NOW and not e.cancelled]
    next_meeting = min(upcoming, default=None)
    return build_features(contact, interactions, occurrences, next_meeting, [], NOW, CAL, JUDGEMENT)


def occurrences_of(events: list[CalendarEvent]) -> list[Occurrence]:
    return [found[1] for e in events if (found := one_on_one_occurrence(e, OWNER))]


@pytest.mark.parametrize(
    ("values", "expected"), [([5], 5), ([3, 1, 2], 2), ([1, 2, 3, 10], 2.5), ([7, 7], 7)]
)
def test_median(values: list[float], expected: float) -> None:
    assert median(values) == expected


def test_typical_gap_is_the_median_of_the_last_n_gaps() -> None:
    start = date(2024, 1, 1)
    offsets = [0, 100, 107, 114, 121, 150]  # gaps 100, 7, 7, 7, 29 calendar days
    days = [start + timedelta(days=o) for o in offsets]
    # in working days: 72, 5, 5, 5, 21
    assert typical_gap_days(days, max_gaps=8, min_gaps=2, cal=CAL) == 5
    assert typical_gap_days(days, max_gaps=2, min_gaps=2, cal=CAL) == 13  # only 5 and 21


def test_typical_gap_needs_two_gaps() -> None:
    days = [date(2024, 1, 1), date(2024, 1, 8)]
    assert typical_gap_days(days, max_gaps=8, min_gaps=2, cal=CAL) is None


def test_several_meetings_on_one_day_make_one_interaction_day() -> None:
    events = [meeting(days_ago(d), ANN, "x@corp.example") for d in (1, 1.1, 8, 15)]
    features = features_for(events)
    assert features.interactions == 4
    assert features.typical_gap_days == 5  # a week is five working days


def test_typical_gap_ignores_meetings_of_more_than_eight_people() -> None:
    small = every(14, 2, 4, ANN, "x@corp.example")
    large = [meeting(days_ago(d), ANN, *crowd(9)) for d in (5, 9, 12)]
    features = features_for(small + large)
    assert features.typical_gap_days == 10  # two working weeks
    assert features.interactions == 7
    assert not features.large_only


def test_strength_decays_by_half_every_half_life() -> None:
    one_on_one = Interaction(ANN, days_ago(90), days_ago(90), size=2, weight=1.0, one_on_one=True)
    group = Interaction(ANN, days_ago(180), days_ago(180), size=3, weight=0.6, one_on_one=False)
    assert strength([one_on_one], NOW, 90) == pytest.approx(0.5)
    assert strength([one_on_one, group], NOW, 90) == pytest.approx(0.5 + 0.6 * 0.25)
    assert strength([one_on_one], NOW, 30) == pytest.approx(0.125)


def test_counts_over_30_90_365_days() -> None:
    events = [meeting(days_ago(d), ANN) for d in (5, 20, 60, 200, 300)]
    features = features_for(events)
    assert (features.interactions_30d, features.interactions_90d) == (2, 3)
    assert features.interactions_365d == 5
    assert features.first_interaction == days_ago(300)
    assert features.last_interaction == days_ago(5)
    assert features.last_one_on_one == days_ago(5)


def test_next_meeting_is_kept() -> None:
    features = features_for([meeting(days_ago(3), ANN), meeting(days_ahead(4), ANN)])
    assert features.next_meeting == days_ahead(4)


def test_weekly_series_is_a_regular_one_on_one() -> None:
    events = series(ANN, days_ago(7 * 9 + 1), 7, 12)  # 9 past, 3 future
    found = detect_one_on_one(occurrences_of(events), NOW, JUDGEMENT)
    assert found is not None
    assert found.interval_days == 7
    assert found.series_id == "s1"
    assert found.has_future
    assert not found.ended
    assert found.missed_streak == 0
    assert found.last_held == days_ago(1)
    assert found.held_ratio == 1.0


def test_two_occurrences_are_not_yet_a_series() -> None:
    assert detect_one_on_one(occurrences_of(series(ANN, days_ago(8), 7, 2)), NOW, JUDGEMENT) is None


def test_missed_streak_counts_recent_cancelled_or_declined_in_a_row() -> None:
    events = series(ANN, days_ago(7 * 9 + 1), 7, 12, cancelled=[7, 9, 3], declined=[8])
    found = detect_one_on_one(occurrences_of(events), NOW, JUDGEMENT)
    assert found is not None
    assert found.missed_streak == 3
    assert found.streak_kind == "cancelled or declined"
    assert found.has_future
    assert found.last_held == days_ago(7 * 3 + 1)
    # last 8 weeks: occurrences 2..9 → held 2, 4, 5, 6 of 8
    assert found.held_ratio == pytest.approx(4 / 8)


def test_series_without_future_occurrences_ends_after_two_intervals() -> None:
    stopped = series(ANN, days_ago(42 + 7 * 5), 7, 6)  # last one 42 days ago
    found = detect_one_on_one(occurrences_of(stopped), NOW, JUDGEMENT)
    assert found is not None
    assert found.ended
    assert found.last_scheduled == days_ago(42)
    recent = series(ANN, days_ago(10 + 7 * 5), 7, 6)  # last one 10 days ago: not yet
    found_recent = detect_one_on_one(occurrences_of(recent), NOW, JUDGEMENT)
    assert found_recent is not None
    assert not found_recent.ended


def test_cancelled_future_occurrences_do_not_keep_a_series_alive() -> None:
    events = series(ANN, days_ago(60), 14, 8, cancelled=[5, 6, 7])  # 60, 46, 32, 18, 4 days ago
    found = detect_one_on_one(occurrences_of(events), NOW, JUDGEMENT)
    assert found is not None
    assert not found.has_future


def test_steady_ad_hoc_one_on_ones_count_as_a_habit() -> None:
    events = [meeting(days_ago(d), ANN) for d in (2, 16, 29, 44, 58)]
    found = detect_one_on_one(occurrences_of(events), NOW, JUDGEMENT)
    assert found is not None
    assert found.series_id is None
    assert found.interval_days == pytest.approx(14, abs=0.6)


def test_irregular_or_too_few_one_on_ones_are_no_habit() -> None:
    irregular = [meeting(days_ago(d), ANN) for d in (2, 5, 40, 41, 100)]
    assert detect_one_on_one(occurrences_of(irregular), NOW, JUDGEMENT) is None
    few = [meeting(days_ago(d), ANN) for d in (2, 9, 16)]
    assert detect_one_on_one(occurrences_of(few), NOW, JUDGEMENT) is None


def test_series_length_and_habit_size_are_settings() -> None:
    events = occurrences_of(series(ANN, days_ago(22), 7, 4))
    assert detect_one_on_one(events, NOW, JUDGEMENT) is not None
    strict = Judgement(series_min_occurrences=5, adhoc_one_on_one_min=5)
    assert detect_one_on_one(events, NOW, strict) is None
