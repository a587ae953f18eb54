"""Appreciation: a long one-on-one series that ran its course deserves a short thank-you.

An ended run is the regular one-on-one's recurring series (``features.find_habit``) once
it has stopped: no occurrence ahead, and the end shows, either as repair reads it (the
next occurrence was due and a few working days passed: "stopped") or as the one-on-one
reads it (none for ``ended_after_intervals`` intervals). Showing at the same moment as
the "stopped" rupture lets a thank-you come instead of a repair nudge, never after one.
On top of that it must be long (at least ``thanks_min_meetings`` held over
``thanks_min_weeks``) and end well: its last occurrence took place (a series that dies
in cancellations is a rupture to repair, not a collaboration to thank someone for). It
is ``timely`` within ``thanks_within_days`` of the next occurrence falling due: a
thank-you months later reads oddly, but the run stays known so that, once thanked,
nudger does not ask to restart it.

Two shapes are deliberately not an ended run:

- a series that paused and resumed, or was replaced by a new series with the same
  person: the habit is then the newer, running series, so nothing ended;
- a person still met in small meetings since, or with one planned: the collaboration
  goes on in another form, and a thank-you for "the series ending" would read like a
  farewell to someone you still see every week.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from nudger.analysis.judgement import Judgement
from nudger.analysis.model import EndedRun, Occurrence


def find_ended_run(
    series_id: str | None,
    habit: Sequence[Occurrence],
    interval_days: float,
    seen: Seen,
    now: datetime,
    judgement: Judgement,
) -> EndedRun | None:
    """The regular one-on-one's series as a finished run, or None (``habit``: the series'
    occurrences, oldest first)."""
    if series_id is None or seen.planned_small or any(o.start > now and o.held for o in habit):
        return None
    past = [o for o in habit if o.start <= now]
    held = [o for o in past if o.held]
    if not held or not past[-1].held:
        return None
    first, last = held[0].start, held[-1].start
    if seen.last_small is not None and seen.last_small > last:
        return None
    if not (seen.stopped or _ended(last, interval_days, now, judgement)):
        return None
    if len(held) < judgement.thanks_min_meetings:
        return None
    if last - first < timedelta(weeks=judgement.thanks_min_weeks):
        return None
    due = last + timedelta(days=interval_days)
    timely = now - due <= timedelta(days=judgement.thanks_within_days)
    return EndedRun(series_id, len(held), interval_days, first, last, timely)


@dataclass(frozen=True)
class Seen:
    """What else is known of the person: the latest small meeting with them (any), one
    planned ahead, and whether repair already reads the series as stopped."""

    last_small: datetime | None
    planned_small: bool
    stopped: bool


def _ended(last: datetime, interval_days: float, now: datetime, judgement: Judgement) -> bool:
    return now - last > timedelta(days=judgement.ended_after_intervals * interval_days)
