"""Groups: people met lately only in the same meetings, judged and nudged as one.

When you, Jordan, Alex and Sam stop meeting, that is one relationship going quiet,
not three: their latest meetings with you are the very same events. People whose last
``Judgement.group_meetings`` meetings are identical form a group, as long as it is no
bigger than a medium meeting (an all-hands crowd is not a group anyone keeps up).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from nudger.analysis.appreciation import group_run
from nudger.analysis.judgement import Judgement
from nudger.analysis.model import EndedRun, Status

if TYPE_CHECKING:
    from nudger.analysis.audit import ContactHealth


def find_groups(
    recent_meetings: Mapping[str, tuple[str, ...]], meetings: int, max_members: int
) -> dict[str, tuple[str, ...]]:
    """Each grouped contact's group (sorted emails, itself included)."""
    by_meetings: defaultdict[tuple[str, ...], list[str]] = defaultdict(list)
    for email, recent in recent_meetings.items():
        if len(recent) >= meetings:
            by_meetings[recent].append(email)
    groups: dict[str, tuple[str, ...]] = {}
    for members in by_meetings.values():
        if 2 <= len(members) <= max_members:
            group = tuple(sorted(members))
            groups.update(dict.fromkeys(group, group))
    return groups


INDIVIDUAL = frozenset({Status.LAPSED_ONE_ON_ONE, Status.MISSING_ONE_ON_ONE})
"""Statuses about a one-on-one: always one person's, never a group's."""


def with_groups(
    healths: list[ContactHealth], now: datetime, judgement: Judgement
) -> list[ContactHealth]:
    """Mark people met lately only together; someone with a one-on-one of their own (kept,
    lapsed or missing) is a relationship of their own, never part of a group."""
    recent = {
        h.email: h.features.recent_meetings
        for h in healths
        if h.features.one_on_one is None and h.status not in INDIVIDUAL
    }
    members = judgement.weights.medium_max_size - 1
    groups = find_groups(recent, judgement.group_meetings, members)
    runs = _group_runs(healths, set(groups.values()), now, judgement)
    return [
        replace(h, group=groups[h.email], group_run=runs.get(groups[h.email]))
        if h.email in groups
        else h
        for h in healths
    ]


def _group_runs(
    healths: list[ContactHealth],
    groups: Collection[tuple[str, ...]],
    now: datetime,
    judgement: Judgement,
) -> dict[tuple[str, ...], EndedRun]:
    """Each group whose run of meetings ended, and that run."""
    by_email = {h.email: h for h in healths}
    found = {}
    for group in groups:
        people = [by_email[email] for email in group]
        runs = [h.features.company_run for h in people]
        run = group_run(group, runs, [h.status for h in people], now, judgement)
        if run is not None:
            found[group] = run
    return found
