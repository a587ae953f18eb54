"""How the audit moved over recent weeks: the statuses counted as of each past week-end.

Each point is a fresh audit with ``now`` set back, over the calendar as it could have
looked then. The store keeps events, not when they were booked, so a meeting dated
after a past moment is counted as planned then only when it belongs to a recurring
series already running at that moment; a one-off meeting is left out, because nothing
says it was on the calendar yet (counting it would make the past look better booked,
hence healthier, than it was).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from nudger.analysis.audit import ContactHealth, audit
from nudger.analysis.judgement import Judgement, RoleCadence
from nudger.analysis.model import ContactPrefs, Owner, Status
from nudger.connectors.base import CalendarEvent

TREND_WEEKS = 12


@dataclass(frozen=True)
class TrendPoint:
    """The audit's status counts as of one moment."""

    at: datetime
    counts: Mapping[Status, int]

    def count(self, status: Status) -> int:
        return self.counts.get(status, 0)


def week_ends(now: datetime, time_zone: str, weeks: int = TREND_WEEKS) -> list[datetime]:
    """The last ``weeks`` ends of a week (Monday 00:00 in the owner's zone) before
    ``now``, oldest first."""
    zone = ZoneInfo(time_zone)
    today = now.astimezone(zone).date()
    monday = today - timedelta(days=today.weekday())
    if datetime.combine(monday, time(0), tzinfo=zone) >= now:
        monday -= timedelta(weeks=1)  # exactly Monday midnight: that week-end is now
    return [
        datetime.combine(monday - timedelta(weeks=w), time(0), tzinfo=zone)
        for w in reversed(range(weeks))
    ]


def as_it_stood(events: Iterable[CalendarEvent], moment: datetime) -> list[CalendarEvent]:
    """The events the calendar could show at ``moment``: those begun by then, and the
    later occurrences of recurring series already running."""
    events = list(events)
    running = {e.series_id for e in events if e.series_id and e.start < moment}
    return [e for e in events if e.start < moment or e.series_id in running]


def status_counts(healths: Iterable[ContactHealth]) -> dict[Status, int]:
    return dict(Counter(h.status for h in healths))


def status_trend(
    owner: Owner,
    events: Sequence[CalendarEvent],
    prefs: Mapping[str, ContactPrefs],
    moments: Iterable[datetime],
    judgement: Judgement,
    roles: Mapping[str, RoleCadence],
) -> list[TrendPoint]:
    """The audit's status counts as of each of ``moments`` (see the module's note)."""
    return [
        TrendPoint(
            moment,
            status_counts(
                audit(owner, as_it_stood(events, moment), prefs, moment, judgement, roles)
            ),
        )
        for moment in moments
    ]
