"""Calendar edge cases the judgement must survive: DST changes and all-day events."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from nudger.analysis.audit import ContactHealth, audit
from nudger.analysis.judgement import DEFAULT_ROLES, Judgement
from nudger.analysis.model import ContactPrefs, Owner, Status
from nudger.connectors.base import CalendarEvent
from tests.analysis.builders import ME, meeting

LONDON = ZoneInfo("Europe/London")
OWNER = Owner(emails=frozenset({ME}), time_zone="Europe/London")
PRIYA = "priya@corp.example"


def weekly_london(first: datetime, weeks: int) -> list[CalendarEvent]:
    """Weekly at the same London wall-clock time: UTC shifts by an hour at DST."""
    events = []
    for week in range(weeks):
        start = (first + timedelta(weeks=week)).astimezone(UTC)
        events.append(meeting(start, PRIYA, series_id="s1", original_start=start, ical_uid="s1"))
    return events


def run(
    events: list[CalendarEvent], now: datetime, role: str | None = "direct_report"
) -> ContactHealth:
    prefs = {PRIYA: ContactPrefs(PRIYA, role=role)} if role else {}
    [row] = [r for r in audit(OWNER, events, prefs, now, Judgement(), DEFAULT_ROLES)]
    return row


def test_a_weekly_one_on_one_across_the_spring_change_stays_weekly_and_healthy() -> None:
    first = datetime(2026, 2, 26, 10, tzinfo=LONDON)  # Thursdays, clocks change 29 March
    events = weekly_london(first, 8)
    now = datetime(2026, 4, 17, 12, tzinfo=UTC)  # the day after the eighth occurrence
    row = run(events, now)
    assert row.status is Status.HEALTHY
    assert row.cadence_days == 7
    one_on_one = row.features.one_on_one
    assert one_on_one is not None
    assert one_on_one.interval_days == 7


def test_a_cancelled_streak_across_the_autumn_change_is_a_lapse() -> None:
    first = datetime(2026, 9, 3, 10, tzinfo=LONDON)  # clocks change 25 October
    events = weekly_london(first, 12)
    for i in (7, 8, 9):  # 22 Oct, 29 Oct, 5 Nov: the streak straddles the change
        events[i] = replace(events[i], cancelled=True)
    now = datetime(2026, 11, 7, 12, tzinfo=UTC)
    row = run(events, now)
    assert row.status is Status.LAPSED_ONE_ON_ONE
    assert any("3" in reason and "cancelled" in reason for reason in row.reasons)


def test_all_day_events_are_never_interactions() -> None:
    now = datetime(2026, 6, 10, 12, tzinfo=UTC)
    offsite = [
        replace(meeting(now - timedelta(days=d), PRIYA, minutes=24 * 60), all_day=True)
        for d in (3, 10, 17, 24)
    ]
    assert audit(OWNER, offsite, {}, now, Judgement(), DEFAULT_ROLES) == []
    one_real = [*offsite, meeting(now - timedelta(days=40), PRIYA)]
    [row] = audit(OWNER, one_real, {}, now, Judgement(), DEFAULT_ROLES)
    assert row.last_interaction == now - timedelta(days=40)
