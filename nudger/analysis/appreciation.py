"""Appreciation: a long one-on-one series that ran its course deserves a short thank-you.

An ended run is the regular one-on-one's recurring series (``features.find_habit``) once
it has stopped: no occurrence ahead, and none for ``ended_after_intervals`` intervals,
the same test that makes a one-on-one "ended". On top of that it must be long (at least
``thanks_min_meetings`` held over ``thanks_min_weeks``), end well (its last occurrence
took place: a series that dies in cancellations is a rupture to repair, not a
collaboration to thank someone for), and have ended lately (within
``thanks_within_days`` of the end showing): a thank-you months later reads oddly.

Two shapes are deliberately not an ended run:

- a series that paused and resumed, or was replaced by a new series with the same
  person: the habit is then the newer, running series, so nothing ended;
- a person still met in small meetings since, or with one planned: the collaboration
  goes on in another form, and a thank-you for "the series ending" would read like a
  farewell to someone you still see every week.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from nudger.analysis.judgement import Judgement
from nudger.analysis.model import EndedRun, Occurrence


def find_ended_run(
    series_id: str | None,
    habit: Sequence[Occurrence],
    interval_days: float,
    last_small: datetime | None,
    planned_small: bool,
    now: datetime,
    judgement: Judgement,
) -> EndedRun | None:
    """The regular one-on-one's series as a finished run worth thanks, or None.

    ``habit``: the series' occurrences, oldest first; ``last_small``: the latest small
    meeting with the person (any); ``planned_small``: one is on the calendar ahead.
    """
    if series_id is None or planned_small or any(o.start > now and o.held for o in habit):
        return None
    past = [o for o in habit if o.start <= now]
    held = [o for o in past if o.held]
    if not held or not past[-1].held:
        return None
    first, last = held[0].start, held[-1].start
    if last_small is not None and last_small > last:
        return None
    if not _ended_lately(last, interval_days, now, judgement):
        return None
    if len(held) < judgement.thanks_min_meetings:
        return None
    if last - first < timedelta(weeks=judgement.thanks_min_weeks):
        return None
    return EndedRun(series_id, len(held), interval_days, first, last)


def _ended_lately(
    last: datetime, interval_days: float, now: datetime, judgement: Judgement
) -> bool:
    """The end shows once ``ended_after_intervals`` intervals passed with nothing; the
    thank-you is timely for ``thanks_within_days`` after that."""
    shows = last + timedelta(days=judgement.ended_after_intervals * interval_days)
    return shows < now <= shows + timedelta(days=judgement.thanks_within_days)
