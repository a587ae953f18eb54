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

A group's run (a project's meetings) is read the same way from each person's side
(``find_company_run``): the company of their latest group meeting (two or more others,
at most a medium meeting), every past meeting all of them attended, long enough, its
last one held (no meeting of theirs cancelled or declined by the owner since), nobody
met since in a meeting up to medium size, and no such meeting planned with any of them.
``groups.with_groups`` keeps it only for a group (people met lately only together) that
is exactly that company, once it has ended: none for ``ended_after_intervals``
intervals, or the group already reads as fading or neglected. The latter makes the
thank-you show no later than the group's "stopped" nudge could, so one comes instead of
the other (the ``thanks_group`` rule outranks them), never both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from statistics import median

from nudger.analysis.judgement import Judgement
from nudger.analysis.model import EndedRun, Occurrence, Status


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


@dataclass(frozen=True)
class Company:
    """One person's group meetings, as the audit gathered them: each held one with who
    attended it (sorted emails), each that did not take place with who was invited, and
    whether a meeting of at most medium size is planned with them."""

    meetings: tuple[tuple[datetime, tuple[str, ...]], ...]
    missed: tuple[tuple[datetime, frozenset[str]], ...]
    planned: bool


def find_company_run(
    company: Company, last_met: datetime | None, now: datetime, judgement: Judgement
) -> EndedRun | None:
    """The run of meetings with the people of the latest group meeting, if it may have
    ended (``last_met``: the latest meeting of at most medium size with the person)."""
    if company.planned or not company.meetings:
        return None
    last, members = max(company.meetings)
    if (last_met is not None and last_met > last) or _missed_since(company, members, last):
        return None
    starts = sorted(start for start, people in company.meetings if set(members) <= set(people))
    if len(starts) < judgement.thanks_min_meetings:
        return None
    if last - starts[0] < timedelta(weeks=judgement.thanks_min_weeks):
        return None
    interval = _median_gap(starts, judgement.typical_gap_count)
    due = last + timedelta(days=interval)
    timely = now - due <= timedelta(days=judgement.thanks_within_days)
    return EndedRun("", len(starts), interval, starts[0], last, timely, members)


def group_run(
    group: tuple[str, ...],
    runs: Sequence[EndedRun | None],
    statuses: Sequence[Status],
    now: datetime,
    judgement: Judgement,
) -> EndedRun | None:
    """The group's ended run: every member's run is the same, made of exactly the group,
    and it has ended (see the module's docstring)."""
    first = runs[0]
    if first is None or first.members != group or any(run != first for run in runs):
        return None
    drifting = any(status in DRIFTING for status in statuses)
    if not (drifting or _ended(first.last, first.interval_days, now, judgement)):
        return None
    return first


DRIFTING = frozenset({Status.FADING, Status.NEGLECTED})
"""What a group's "stopped" nudge fires on: a run reading so has ended."""


def _missed_since(company: Company, members: tuple[str, ...], last: datetime) -> bool:
    return any(start > last and set(members) <= invited for start, invited in company.missed)


def _median_gap(starts: Sequence[datetime], count: int) -> float:
    """The median of the latest ``count`` gaps, in days (``starts``: sorted, two or more)."""
    gaps = [(later - earlier).total_seconds() / 86400 for earlier, later in pairwise(starts)]
    return median(gaps[-count:])
