"""Scoring the judgement benchmark: simulated nudges against the generator's labels.

Pure functions over two inputs only: the nudges as ``nudger simulate --json`` prints them
(one object per nudge: ``day``, ``contact``, ``kind``, ``status``, ``evidence``, and a
``group`` list for a group nudge) and the ``Relationship`` labels of
``nudger.sandbox.orglabels``. Nothing here knows how nudger decides.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from nudger.sandbox.orglabels import Relationship, Trouble

MORNING = time(9, 0)
"""The moment of a simulated day's nudge: ``nudger simulate`` judges each day at 09:00 local."""
EARLY_ALLOWANCE = timedelta(days=0)
"""How long before a trouble's ``since`` a nudge may come and still count: none (strict)."""
DEADLINES = {
    "repair": timedelta(days=8),
    "drift": timedelta(days=14),
    "missing": timedelta(days=14),
    "moment": timedelta(days=6),  # a year since the first meeting: within its few working days
}
"""A trouble is caught in time when first nudged within this long (calendar days) of ``since``."""
EMAIL_KINDS = ("email", "digest")
PER_PERSON_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class Nudge:
    moment: datetime
    contact: str
    kind: str
    status: str
    evidence: tuple[str, ...]
    people: tuple[str, ...]
    """Everyone the nudge is about: the contact, or every member of a group nudge."""

    @property
    def day(self) -> date:
        return self.moment.date()


def nudges_from_json(rows: Iterable[dict[str, Any]], time_zone: str) -> list[Nudge]:
    zone = ZoneInfo(time_zone)
    return [
        Nudge(
            moment=datetime.combine(date.fromisoformat(r["day"]), MORNING, zone),
            contact=r["contact"],
            kind=r["kind"],
            status=r["status"],
            evidence=tuple(r["evidence"]),
            people=tuple(r.get("group") or [r["contact"]]),
        )
        for r in rows
    ]


@dataclass(frozen=True)
class TroubleCase:
    """One trouble to catch (a group's is one case), as the replay could see it."""

    who: tuple[str, ...]
    kind: str
    since: datetime
    """The trouble's ``since``, or the first replayed morning if it began before."""
    until: datetime | None
    what: str


@dataclass(frozen=True)
class Offender:
    nudge: Nudge
    relationship_kind: str


@dataclass(frozen=True)
class Score:
    nudges: int
    legitimate: int
    cases: int
    caught: int
    repair_latencies: list[float]
    repairs_never_nudged: int
    emails: int
    holds: int
    weeks: float
    most_emails_one_person_30d: int
    offenders: list[Offender] = field(default_factory=list)
    missed: list[tuple[TroubleCase, float | None]] = field(default_factory=list)
    """Troubles due but not caught in time, with the days to their first nudge (None: never)."""

    @property
    def precision(self) -> float | None:
        return self.legitimate / self.nudges if self.nudges else None

    @property
    def recall(self) -> float | None:
        return self.caught / self.cases if self.cases else None


class Labels:
    def __init__(self, relationships: Sequence[Relationship]) -> None:
        self.by_email = {r.email: r for r in relationships}

    def legitimate(self, nudge: Nudge) -> bool:
        """Some person the nudge is about is in an open trouble window that morning."""
        return any(self._open(email, nudge.moment) for email in nudge.people)

    def _open(self, email: str, moment: datetime) -> bool:
        found = self.by_email.get(email)
        return found is not None and any(
            _open_at(t, moment + EARLY_ALLOWANCE) for t in found.troubles
        )

    def kind_of(self, email: str) -> str:
        found = self.by_email.get(email)
        return found.kind if found else "unlabelled"

    def cases(self, start: datetime, now: datetime) -> list[TroubleCase]:
        """Every trouble open at some point of the replay, a group's counted once."""
        seen: dict[tuple[tuple[str, ...], datetime], TroubleCase] = {}
        for rel in self.by_email.values():
            who = rel.group or (rel.email,)
            for t in rel.troubles:
                if (t.until is None or t.until > start) and t.since <= now:
                    since = max(t.since, start)
                    seen.setdefault(
                        (who, t.since), TroubleCase(who, t.kind, since, t.until, t.what)
                    )
        return sorted(seen.values(), key=lambda c: (c.since, c.who))


def _open_at(trouble: Trouble, moment: datetime) -> bool:
    return trouble.since <= moment and (trouble.until is None or moment < trouble.until)


def first_nudge(case: TroubleCase, nudges: Sequence[Nudge]) -> Nudge | None:
    """The first nudge about anyone in the case while its window is open."""
    return next(
        (
            n
            for n in sorted(nudges, key=lambda n: n.moment)
            if set(n.people) & set(case.who)
            and n.moment + EARLY_ALLOWANCE >= case.since
            and (case.until is None or n.moment < case.until)
        ),
        None,
    )


def score(
    nudges: Sequence[Nudge], relationships: Sequence[Relationship], start: datetime, now: datetime
) -> Score:
    labels = Labels(relationships)
    legitimate = [n for n in nudges if labels.legitimate(n)]
    due = [c for c in labels.cases(start, now) if c.since + DEADLINES[c.kind] <= now]
    caught = [c for c in due if _caught(c, nudges)]
    missed = [(c, _latency(c, nudges)) for c in due if c not in caught]
    latencies, never = _repair_latencies(labels.cases(start, now), nudges, now)
    emails = [n for n in nudges if n.kind in EMAIL_KINDS]
    offenders = [Offender(n, labels.kind_of(n.contact)) for n in nudges if n not in legitimate]
    return Score(
        nudges=len(nudges),
        legitimate=len(legitimate),
        cases=len(due),
        caught=len(caught),
        repair_latencies=latencies,
        repairs_never_nudged=never,
        emails=len(emails),
        holds=sum(1 for n in nudges if n.kind == "hold"),
        weeks=(now - start) / timedelta(weeks=1),
        most_emails_one_person_30d=most_in_window(emails),
        offenders=offenders,
        missed=missed,
    )


def _latency(case: TroubleCase, nudges: Sequence[Nudge]) -> float | None:
    first = first_nudge(case, nudges)
    return None if first is None else (first.moment - case.since) / timedelta(days=1)


def _caught(case: TroubleCase, nudges: Sequence[Nudge]) -> bool:
    first = first_nudge(case, nudges)
    return first is not None and first.moment <= case.since + DEADLINES[case.kind]


def _repair_latencies(
    cases: Sequence[TroubleCase], nudges: Sequence[Nudge], now: datetime
) -> tuple[list[float], int]:
    """Days from each repair's ``since`` to its first nudge; repairs past due never nudged."""
    latencies, never = [], 0
    for case in (c for c in cases if c.kind == "repair"):
        first = first_nudge(case, nudges)
        if first is not None:
            latencies.append((first.moment - case.since) / timedelta(days=1))
        elif case.since + DEADLINES["repair"] <= now:
            never += 1
    return latencies, never


def most_in_window(emails: Sequence[Nudge]) -> int:
    """The most emails about one person within any ``PER_PERSON_WINDOW``."""
    days: dict[str, list[datetime]] = defaultdict(list)
    for n in emails:
        for email in n.people:
            days[email].append(n.moment)
    best = 0
    for moments in days.values():
        moments.sort()
        for i, first in enumerate(moments):
            best = max(best, sum(1 for m in moments[i:] if m - first < PER_PERSON_WINDOW))
    return best


def offenders_by_kind(offenders: Iterable[Offender]) -> Counter[str]:
    return Counter(o.relationship_kind for o in offenders)


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None
