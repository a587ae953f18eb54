"""Per-contact features: recency, counts, typical gap, strength and one-on-one hygiene.

Pure functions over one contact's interactions and scheduled one-on-ones.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta, tzinfo
from itertools import pairwise

from nudger.analysis.appreciation import Company, Seen, find_company_run, find_ended_run
from nudger.analysis.judgement import Judgement
from nudger.analysis.model import (
    ContactFeatures,
    EndedRun,
    Interaction,
    Occurrence,
    OneOnOne,
    Rupture,
)
from nudger.analysis.repair import find_rupture
from nudger.analysis.workdays import WorkCalendar

DAY_SECONDS = 86400.0


def median(values: Sequence[float]) -> float:
    """The middle value (mean of the two middle ones for an even count); needs a value."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return (ordered[middle - 1] + ordered[middle]) / 2


def days_between(earlier: datetime, later: datetime) -> float:
    return (later - earlier).total_seconds() / DAY_SECONDS


def distinct_days(moments: Iterable[datetime], tz: tzinfo) -> list[date]:
    """Sorted calendar days (in the owner's zone) on which something happened."""
    return sorted({moment.astimezone(tz).date() for moment in moments})


def typical_gap_days(
    days: Sequence[date], max_gaps: int, min_gaps: int, cal: WorkCalendar
) -> float | None:
    """Median working-day gap between the last ``max_gaps`` pairs of distinct meeting days.

    A weekend meeting is a day like any other, so a gap is at least one day.
    """
    gaps = [max(cal.days_between(earlier, later), 1) for earlier, later in pairwise(days)]
    recent = gaps[-max_gaps:]
    return median(recent) if len(recent) >= min_gaps else None


def strength(interactions: Iterable[Interaction], now: datetime, half_life_days: float) -> float:
    """How alive the relationship is: ``sum(weight * 0.5 ** (age_days / half_life_days))``.

    ``age_days`` counts from each meeting's end, so a one-on-one today is worth 1.0, one a
    half-life ago 0.5; large meetings barely add anything.
    """
    return sum(
        i.weight * 0.5 ** (max(days_between(i.end, now), 0.0) / half_life_days)
        for i in interactions
    )


def count_since(interactions: Iterable[Interaction], now: datetime, days: int) -> int:
    since = now - timedelta(days=days)
    return sum(1 for i in interactions if i.start >= since)


# --- one-on-one hygiene --------------------------------------------------------


_Habit = tuple[str | None, list[Occurrence], float]


def detect_one_on_one(
    occurrences: Sequence[Occurrence], now: datetime, judgement: Judgement
) -> OneOnOne | None:
    """The regular one-on-one with a contact, if there is one, and how well it is kept.

    Regular means a recurring series of two-person meetings with enough occurrences, or
    else enough ad-hoc one-on-ones at a steady gap.
    """
    found = find_habit(occurrences, judgement)
    if found is None:
        return None
    series_id, habit, interval = found
    return _hygiene(habit, series_id, interval, now, judgement)


def find_habit(occurrences: Sequence[Occurrence], judgement: Judgement) -> _Habit | None:
    return _recurring_series(occurrences, judgement) or _adhoc_habit(occurrences, judgement)


def _recurring_series(occurrences: Sequence[Occurrence], judgement: Judgement) -> _Habit | None:
    """The most recently active series with enough occurrences."""
    by_series: dict[str, list[Occurrence]] = defaultdict(list)
    for occurrence in occurrences:
        if occurrence.series_id:
            by_series[occurrence.series_id].append(occurrence)
    candidates = [
        sorted(group, key=_start)
        for group in by_series.values()
        if len(group) >= judgement.series_min_occurrences
    ]
    if not candidates:
        return None
    latest = max(candidates, key=lambda group: group[-1].start)
    interval = _median_gap(latest, judgement.typical_gap_count)
    if interval <= 0:
        return None
    return latest[0].series_id, latest, interval


def _adhoc_habit(occurrences: Sequence[Occurrence], judgement: Judgement) -> _Habit | None:
    """Scheduled (not cancelled) one-on-ones, enough of them, at a steady recent gap."""
    scheduled = sorted((o for o in occurrences if not o.cancelled), key=_start)
    if len(scheduled) < judgement.adhoc_one_on_one_min:
        return None
    gaps = _gaps(scheduled)[-judgement.typical_gap_count :]
    interval = median(gaps)
    if interval < 1 or not _is_regular(gaps, interval, judgement):
        return None
    return None, scheduled, interval


def _is_regular(gaps: Sequence[float], interval: float, judgement: Judgement) -> bool:
    tolerance = interval * judgement.regular_gap_tolerance
    steady = sum(1 for gap in gaps if abs(gap - interval) <= tolerance)
    return steady >= judgement.regular_gap_share * len(gaps)


def _hygiene(
    habit: list[Occurrence],
    series_id: str | None,
    interval: float,
    now: datetime,
    judgement: Judgement,
) -> OneOnOne:
    past = [o for o in habit if o.start <= now]
    has_future = any(o.start > now and o.held for o in habit)
    last_scheduled = past[-1].start if past else habit[0].start
    streak = _missed_streak(past)
    # Only a recurring series can "end"; a stopped ad-hoc habit is plain neglect.
    ended = (
        series_id is not None
        and not has_future
        and days_between(last_scheduled, now) > judgement.ended_after_intervals * interval
    )
    return OneOnOne(
        interval_days=interval,
        series_id=series_id,
        last_held=max((o.start for o in past if o.held), default=None),
        last_scheduled=last_scheduled,
        missed_streak=len(streak),
        streak_kind=_streak_kind(streak),
        has_future=has_future,
        ended=ended,
        held_ratio=_held_ratio(past, now, judgement.held_ratio_weeks),
        run_by_contact=2 * sum(o.by_contact for o in habit) > len(habit),
    )


def _missed_streak(past: Sequence[Occurrence]) -> list[Occurrence]:
    """The most recent past occurrences, in a row, that did not happen."""
    streak: list[Occurrence] = []
    for occurrence in reversed(past):
        if occurrence.held:
            break
        streak.append(occurrence)
    return streak


def _streak_kind(streak: Sequence[Occurrence]) -> str:
    if not streak:
        return ""
    if all(o.cancelled for o in streak):
        return "cancelled"
    if not any(o.cancelled for o in streak):
        return "declined"
    return "cancelled or declined"


def _held_ratio(past: Sequence[Occurrence], now: datetime, weeks: int) -> float | None:
    since = now - timedelta(weeks=weeks)
    recent = [o for o in past if o.start >= since]
    if not recent:
        return None
    return sum(1 for o in recent if o.held) / len(recent)


def _gaps(ordered: Sequence[Occurrence]) -> list[float]:
    return [days_between(a.start, b.start) for a, b in pairwise(ordered)]


def _median_gap(ordered: Sequence[Occurrence], max_gaps: int) -> float:
    return median(_gaps(ordered)[-max_gaps:])


def _start(occurrence: Occurrence) -> datetime:
    return occurrence.start


# --- everything for one contact --------------------------------------------------


def build_features(
    email: str,
    interactions: Sequence[Interaction],
    occurrences: Sequence[Occurrence],
    next_meeting: datetime | None,
    upcoming_small: Sequence[str | None],
    now: datetime,
    cal: WorkCalendar,
    judgement: Judgement,
    company: Company | None = None,
) -> ContactFeatures:
    """All features of one contact (``interactions`` in any order; ``upcoming_small``: the
    series id, or None, of each small meeting planned with them; ``company``: their group
    meetings)."""
    large = judgement.weights.medium_max_size
    sized = [i for i in interactions if i.size <= large]
    days = distinct_days((i.start for i in sized), cal.tz)
    last = max((i.start for i in interactions), default=None)
    habit = find_habit(occurrences, judgement)
    rupture = _rupture(habit, interactions, upcoming_small, cal, now, judgement)
    seen = Seen(
        _last_small(interactions, judgement),
        bool(upcoming_small),
        rupture is not None and rupture.what == "stopped",
    )
    return ContactFeatures(
        email=email,
        first_interaction=min((i.start for i in interactions), default=None),
        last_interaction=last,
        last_one_on_one=max((i.start for i in interactions if i.one_on_one), default=None),
        next_meeting=next_meeting,
        interactions=len(interactions),
        interactions_30d=count_since(interactions, now, 30),
        interactions_90d=count_since(interactions, now, 90),
        interactions_365d=count_since(interactions, now, 365),
        large_only=bool(interactions) and not sized,
        typical_gap_days=typical_gap_days(
            days, judgement.typical_gap_count, judgement.min_gaps, cal
        ),
        working_days_since_last=None if last is None else cal.between(last, now),
        strength=strength(interactions, now, judgement.half_life_days),
        one_on_one=None if habit is None else _hygiene(*_ordered(habit), now, judgement),
        rupture=rupture,
        last_small_meeting=_last_small(interactions, judgement),
        recent_meetings=_recent_meetings(interactions, judgement.group_meetings),
        ended_run=None if habit is None else find_ended_run(*habit, seen, now, judgement),
        company_run=None
        if company is None
        else _company_run(company, interactions, now, judgement),
    )


def _company_run(
    company: Company, interactions: Sequence[Interaction], now: datetime, judgement: Judgement
) -> EndedRun | None:
    medium = judgement.weights.medium_max_size
    last_met = max((i.start for i in interactions if i.size <= medium), default=None)
    return find_company_run(company, last_met, now, judgement)


def _ordered(habit: _Habit) -> tuple[list[Occurrence], str | None, float]:
    series_id, occurrences, interval = habit
    return occurrences, series_id, interval


def _rupture(
    habit: _Habit | None,
    interactions: Sequence[Interaction],
    upcoming_small: Sequence[str | None],
    cal: WorkCalendar,
    now: datetime,
    judgement: Judgement,
) -> Rupture | None:
    """Any small meeting makes a missed one-on-one up; so does one rebooked outside it."""
    if habit is None:
        return None
    series_id, occurrences, interval = habit
    last_met = _last_small(interactions, judgement)
    rebooked = any(series is None or series != series_id for series in upcoming_small)
    return find_rupture(occurrences, series_id, interval, last_met, rebooked, cal, now, judgement)


def _last_small(interactions: Sequence[Interaction], judgement: Judgement) -> datetime | None:
    small = judgement.weights.small_max_size
    return max((i.start for i in interactions if i.size <= small), default=None)


def _recent_meetings(interactions: Sequence[Interaction], count: int) -> tuple[str, ...]:
    latest = sorted(interactions, key=lambda i: (i.start, i.meeting))[-count:]
    return tuple(i.meeting for i in latest)
