"""The data analysis works on and hands out: owner, user overrides, interactions, features.

All frozen; every datetime is timezone-aware. ``ContactHealth`` (the audit row) lives in
``audit.py`` beside the function that builds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


class Status(StrEnum):
    """A contact's relationship health, most urgent first (the order sorts the audit)."""

    LAPSED_ONE_ON_ONE = "lapsed_one_on_one"
    MISSING_ONE_ON_ONE = "missing_one_on_one"
    NEGLECTED = "neglected"
    FADING = "fading"
    HEALTHY = "healthy"
    NEW = "new"
    WEAK_TIE = "weak_tie"

    @property
    def severity(self) -> int:
        """0 is the most urgent."""
        return list(Status).index(self)


NEVER_NUDGED = frozenset({Status.NEW, Status.WEAK_TIE})
"""Statuses the engine refuses to act on, whatever the rules say."""

NO_ROLE = "none"
"""How rule conditions name "the contact has no role"."""


@dataclass(frozen=True)
class Owner:
    """The calendar's owner: every address they use (lowercase) and their time zone."""

    emails: frozenset[str]
    time_zone: str
    working_days: frozenset[int] = frozenset({1, 2, 3, 4, 5})
    """ISO weekdays (Monday=1) the owner works: rhythms are counted in these days."""


@dataclass(frozen=True)
class Absence:
    """A contact's latest long out-of-office, as their free/busy showed it."""

    start: datetime
    end: datetime
    working_days: int
    """Their working days it covered."""


@dataclass(frozen=True)
class ContactPrefs:
    """The user's overrides for one contact, and what the provider told about them
    (``hire_date``, ``absence``: read for key people only, see ``passes.moments_step``)."""

    email: str
    name: str | None = None
    role: str | None = None
    cadence_override_days: int | None = None
    muted: bool = False
    snoozed_until: datetime | None = None
    talked_at: datetime | None = None
    """When the user last said "we already talked" (resets the nudge ladder)."""
    hire_date: date | None = None
    absence: Absence | None = None


@dataclass(frozen=True)
class Interaction:
    """One past meeting that counts as time spent with one contact."""

    contact: str
    start: datetime
    end: datetime
    size: int
    """People present, the owner included, resources excluded."""
    weight: float
    one_on_one: bool
    meeting: str = ""
    """The event's id: contacts met only in the same meetings form a group."""


@dataclass(frozen=True)
class Occurrence:
    """One scheduled two-person meeting with a contact, whether it happened or not."""

    start: datetime
    end: datetime
    series_id: str | None
    cancelled: bool = False
    declined: bool = False
    """The owner or the contact declined."""
    owner_declined: bool = False
    by_contact: bool = False
    """The contact organised it (a one-on-one someone else runs is rarely with a report)."""

    @property
    def held(self) -> bool:
        return not (self.cancelled or self.declined)


@dataclass(frozen=True)
class OneOnOne:
    """A regular one-on-one with a contact and how well it is kept."""

    interval_days: float
    series_id: str | None
    last_held: datetime | None
    last_scheduled: datetime
    missed_streak: int
    """Most recent past occurrences in a row that were cancelled or declined."""
    streak_kind: str
    """"cancelled", "declined" or "cancelled or declined" (for the reason text)."""
    has_future: bool
    ended: bool
    held_ratio: float | None
    """Held / scheduled over the recent window; None when nothing was scheduled."""
    run_by_contact: bool = False
    """The contact organised most of its occurrences."""

    def to_json(self) -> dict[str, object]:
        return {
            "interval_days": round(self.interval_days, 1),
            "last_held": _iso(self.last_held),
            "missed_streak": self.missed_streak,
            "has_future": self.has_future,
            "ended": self.ended,
            "held_ratio": None if self.held_ratio is None else round(self.held_ratio, 2),
        }


@dataclass(frozen=True)
class Rupture:
    """A one-on-one that did not take place and was not made up since."""

    missed: datetime
    """The start of the first occurrence that did not happen (or was due and is gone)."""
    what: str
    """"cancelled", "declined" (by the contact), "you declined" or "stopped"."""
    interval_days: float
    working_days_open: int
    """Working days from the miss to now."""

    def to_json(self) -> dict[str, object]:
        return {
            "missed": self.missed.isoformat(),
            "what": self.what,
            "working_days_open": self.working_days_open,
        }


@dataclass(frozen=True)
class EndedRun:
    """A long run of meetings that ran its course: worth a short thank-you, once. A
    one-on-one series, or (``members`` set) a group's meetings, see ``appreciation``."""

    series_id: str
    """The one-on-one's series (empty for a group's run)."""
    meetings: int
    """Occurrences that took place."""
    interval_days: float
    first: datetime
    last: datetime
    """The last occurrence, which took place: it identifies the run."""
    timely: bool = True
    """Ended lately enough for a thank-you."""
    members: tuple[str, ...] = ()
    """A group's run: everyone who attended each of its meetings (sorted emails)."""

    def to_json(self) -> dict[str, object]:
        return {
            "timely": self.timely,
            "meetings": self.meetings,
            "interval_days": round(self.interval_days, 1),
            "first": self.first.isoformat(),
            "last": self.last.isoformat(),
            **({"members": list(self.members)} if self.members else {}),
        }


@dataclass(frozen=True)
class Anniversary:
    """A year since the first meeting with someone, due about now (see ``moments``)."""

    first_met: datetime
    """The first meeting with them on record..."""
    history_from: datetime
    """...and where the stored history begins, well before it."""

    def to_json(self) -> dict[str, object]:
        return {
            "first_met": self.first_met.isoformat(),
            "history_from": self.history_from.isoformat(),
        }


@dataclass(frozen=True)
class WorkAnniversary:
    """Whole years since the contact was hired, due about now (see ``moments``)."""

    hired: date
    years: int

    def to_json(self) -> dict[str, object]:
        return {"hired": self.hired.isoformat(), "years": self.years}


@dataclass(frozen=True)
class WelcomeBack:
    """The contact is back from a long absence, lately (see ``moments``)."""

    start: datetime
    end: datetime
    working_days: int

    def to_json(self) -> dict[str, object]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "working_days": self.working_days,
        }


@dataclass(frozen=True)
class ContactFeatures:
    """What the history says about one contact; the input of status classification."""

    email: str
    first_interaction: datetime | None
    last_interaction: datetime | None
    last_one_on_one: datetime | None
    next_meeting: datetime | None
    interactions: int
    interactions_30d: int
    interactions_90d: int
    interactions_365d: int
    large_only: bool
    """Every interaction was a large meeting (more than the medium size)."""
    typical_gap_days: float | None
    """The typical gap between meeting days, in the owner's working days."""
    working_days_since_last: int | None
    strength: float
    one_on_one: OneOnOne | None
    rupture: Rupture | None = None
    last_small_meeting: datetime | None = None
    """The latest meeting with them of at most ``small_max_size`` people."""
    recent_meetings: tuple[str, ...] = ()
    """Ids of the latest few meetings (see ``Judgement.group_meetings``), oldest first."""
    ended_run: EndedRun | None = None
    anniversary: Anniversary | None = None
    work_anniversary: WorkAnniversary | None = None
    welcome_back: WelcomeBack | None = None
    company_run: EndedRun | None = None
    """The run of meetings with everyone of the latest group meeting, when it may have
    ended: a group's run once the group is confirmed (``groups.with_groups``)."""


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
