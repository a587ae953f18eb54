"""The trend of statuses: the audit as of past week-ends, on the calendar as it stood."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from nudger.analysis.audit import audit
from nudger.analysis.judgement import DEFAULT_ROLES
from nudger.analysis.model import Status
from nudger.analysis.trend import as_it_stood, status_counts, status_trend, week_ends
from tests.analysis.builders import (
    JUDGEMENT,
    NOW,
    OWNER,
    days_ago,
    every,
    meeting,
    series,
)

PARIS = ZoneInfo("Europe/Paris")
BOB, CAROL, DANA = "bob@corp.example", "carol@corp.example", "dana@corp.example"


def test_week_ends_are_the_last_twelve_monday_midnights_in_the_owners_zone() -> None:
    ends = week_ends(NOW, OWNER.time_zone)  # NOW: Wednesday 12 June 2024
    assert len(ends) == 12
    assert ends[-1] == datetime(2024, 6, 10, tzinfo=PARIS)
    assert ends[0] == datetime(2024, 3, 25, tzinfo=PARIS)  # before the clocks went forward
    assert ends[0].utcoffset() == timedelta(hours=1)
    assert [(end.weekday(), end.hour, end.minute) for end in ends] == [(0, 0, 0)] * 12
    assert len({end.date() for end in ends}) == 12


def test_at_monday_midnight_the_week_just_ended_is_today_not_a_past_point() -> None:
    monday = datetime(2024, 6, 10, tzinfo=PARIS)
    assert week_ends(monday, OWNER.time_zone)[-1] == datetime(2024, 6, 3, tzinfo=PARIS)


def test_the_calendar_as_it_stood_keeps_running_series_and_drops_later_one_offs() -> None:
    moment = days_ago(14)
    before = meeting(days_ago(20), BOB)
    one_off_later = meeting(days_ago(10), BOB)
    running = series(CAROL, days_ago(35), 7, 8, series_id="carol")  # 35 days ago to 14 ahead
    started_later = series(DANA, days_ago(7), 7, 3, series_id="dana")
    kept = as_it_stood([before, one_off_later, *running, *started_later], moment)
    assert before in kept
    assert one_off_later not in kept
    assert all(event in kept for event in running)
    assert not any(event in kept for event in started_later)


def test_each_point_is_a_fresh_audit_as_of_its_week_end() -> None:
    events = [
        *every(7, 40, 20, BOB, CAROL),  # a weekly trio that stopped 40 days ago
        *series(DANA, days_ago(120), 7, 20, series_id="dana"),  # weekly, still running
    ]
    moments = week_ends(NOW, OWNER.time_zone)
    trend = status_trend(OWNER, events, {}, moments, JUDGEMENT, DEFAULT_ROLES)
    assert [point.at for point in trend] == moments
    for point in trend:
        fresh = audit(OWNER, as_it_stood(events, point.at), {}, point.at, JUDGEMENT, DEFAULT_ROLES)
        assert point.counts == status_counts(fresh)


def test_the_trend_follows_a_relationship_as_it_fades() -> None:
    """Weekly meetings with Bob and Carol that stopped 40 days ago: healthy while they
    ran, then fading, then drifting apart, one step at a time."""
    events = every(7, 40, 20, BOB, CAROL)
    moments = week_ends(NOW, OWNER.time_zone)
    trend = status_trend(OWNER, events, {}, moments, JUDGEMENT, DEFAULT_ROLES)
    seen = [next(s for s in Status if point.count(s)) for point in trend]
    assert seen[0] == Status.HEALTHY
    assert seen[-1] == Status.NEGLECTED
    assert Status.FADING in seen
    assert [s.severity for s in seen] == sorted((s.severity for s in seen), reverse=True), (
        "worse each week"
    )
    assert all(sum(point.counts.values()) == 2 for point in trend)


def test_a_meeting_booked_after_a_week_end_does_not_make_that_week_look_booked() -> None:
    """Weekly meetings with Bob and Carol, three weeks of silence, then one meeting two
    days after a week-end: at that week-end they were not healthy, whatever came later."""
    moment = week_ends(NOW, OWNER.time_zone)[-3]
    weekly = every(7, (NOW - moment).days + 21, 12, BOB, CAROL)
    later = meeting(moment + timedelta(days=2), BOB, CAROL)
    (point,) = status_trend(OWNER, [*weekly, later], {}, [moment], JUDGEMENT, DEFAULT_ROLES)
    hindsight = audit(OWNER, [*weekly, later], {}, moment, JUDGEMENT, DEFAULT_ROLES)
    assert status_counts(hindsight) == {Status.HEALTHY: 2}, "the later meeting reads as booked"
    assert point.count(Status.HEALTHY) == 0
    assert point.count(Status.FADING) + point.count(Status.NEGLECTED) == 2
