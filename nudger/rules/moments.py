"""Moments for the rules: what a one-off email says, its outbox label, and whether it
was already sent.

Each moment happens once: a year since the first meeting, a work anniversary, a return
from a long absence (thank-yous for ended runs are ``thanks``'). An email of its rule sent after
the moment began closes it for good, whichever day in its window it went out (see
``engine.decide``); its outbox key carries the moment's label besides.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from nudger.analysis.audit import ContactHealth
from nudger.analysis.features import days_between
from nudger.analysis.model import Anniversary, WelcomeBack, WorkAnniversary
from nudger.analysis.moments import (
    anniversary_label,
    return_day,
    welcome_back_label,
    work_anniversary_label,
    years_after,
)
from nudger.analysis.status import span_words
from nudger.rules.ladder import sent_since
from nudger.rules.model import ONCE_CONDITIONS, Condition, Rule

if TYPE_CHECKING:
    from nudger.rules.engine import PastNudge

T = TypeVar("T")


@dataclass(frozen=True)
class Moment(Generic[T]):
    """How the rules handle one kind of moment."""

    found: Callable[[ContactHealth], T | None]
    label: Callable[[T], str]
    """Stands in for the ISO week in the outbox key: one email per moment."""
    reasons: Callable[[T, str, tzinfo], tuple[str, ...]]
    began: Callable[[T], datetime]
    """An email of its rule sent after this closes it."""


def anniversary_reasons(anniversary: Anniversary, who: str, tz: tzinfo) -> tuple[str, ...]:
    """The first meeting's date, and how much calendar before it shows nothing with them."""
    first = anniversary.first_met.astimezone(tz).date()
    before = span_words(days_between(anniversary.history_from, anniversary.first_met))
    return (
        f"you first met {who} on {first.day} {first:%B %Y}, a year ago",
        f"nothing with {who} in the {before} of calendar before that",
    )


def work_anniversary_reasons(moment: WorkAnniversary, who: str, tz: tzinfo) -> tuple[str, ...]:
    years = "1 year" if moment.years == 1 else f"{moment.years} years"
    hired = moment.hired
    return (
        f"{who} joined {years} ago, on {hired.day} {hired:%B %Y}",
        "the hire date is your directory's (Microsoft 365)",
    )


def _anniversary_day(moment: WorkAnniversary) -> datetime:
    day = years_after(moment.hired, moment.years)
    return datetime.combine(day, time(0), UTC) - timedelta(days=1)  # a day early: any zone


def welcome_back_reasons(welcome: WelcomeBack, who: str, tz: tzinfo) -> tuple[str, ...]:
    first = welcome.start.astimezone(tz).date()
    last = (welcome.end - timedelta(microseconds=1)).astimezone(tz).date()
    back = return_day(welcome.end, tz)
    return (
        f"{who} was out of office for {welcome.working_days} working days, "
        f"{first.day} {first:%B} to {last.day} {last:%B}",
        f"back on {back:%A} {back.day} {back:%B}, as their free/busy shows",
    )


MOMENTS: Mapping[str, Moment[Any]] = {
    "anniversary": Moment(
        lambda h: h.anniversary, anniversary_label, anniversary_reasons, lambda a: a.first_met
    ),
    "work_anniversary": Moment(
        lambda h: h.work_anniversary,
        work_anniversary_label,
        work_anniversary_reasons,
        _anniversary_day,
    ),
    "welcome_back": Moment(
        lambda h: h.welcome_back, welcome_back_label, welcome_back_reasons, lambda w: w.end
    ),
}
assert set(MOMENTS) <= set(ONCE_CONDITIONS)


def moment_evidence(
    rule: Rule, health: ContactHealth, tz: tzinfo
) -> tuple[str, tuple[str, ...]] | None:
    """The outbox label and evidence of the moment ``rule`` is about, if it is due."""
    once = rule.when.once
    moment = MOMENTS.get(once) if once else None
    found = moment.found(health) if moment else None
    if moment is None or found is None:
        return None
    return moment.label(found), moment.reasons(found, health.name or health.email, tz)


def moments_match(condition: Condition, health: ContactHealth) -> bool:
    """Each moment the condition names is due (true) or not (false)."""
    return all(
        getattr(condition, name) is None
        or (moment.found(health) is not None) == getattr(condition, name)
        for name, moment in MOMENTS.items()
    )


def once_rules(rules: Sequence[Rule]) -> dict[str, frozenset[str]]:
    """Moment → the names of the rules on it."""
    return {
        name: frozenset(rule.name for rule in rules if rule.when.once == name) for name in MOMENTS
    }


def closed(
    health: ContactHealth,
    history: Sequence[PastNudge],
    rules_by_moment: Mapping[str, Collection[str]],
) -> bool:
    """A moment of this person's was already marked with an email: it is closed, so
    nudger neither marks it again nor nudges about them otherwise while it lasts."""
    for name, moment in MOMENTS.items():
        found = moment.found(health)
        rules = rules_by_moment.get(name, ())
        if found is not None and sent_since(history, rules, health.email, moment.began(found)):
            return True
    return False
