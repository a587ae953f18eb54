"""Thank-yous for ended runs: which run a thank-you is about, and whether it was sent.

A run is identified by its person (a group's: its first member) and its last meeting,
so the outbox key of its thank-you is the same whichever week it is decided in, and a
thank-you sent after that meeting closes the run for good (see ``engine.decide``).

A group's run is thanked as a group only if none of its people is in the core tier
(``thanks_group`` asks for network or outer, and a group is as close as its closest
member): for a direct report, a manager or a key person, the project ending leaves a
core relationship with no meeting, which is to be restarted, not closed with a
thank-you that would silence the nudges about them. (Direct reports with a one-on-one
of their own are never in a group anyway.)
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING

from nudger.analysis.audit import ContactHealth
from nudger.analysis.judgement import OUTER_TIER, Tier
from nudger.analysis.model import EndedRun
from nudger.analysis.status import describe_interval, run_dates, run_span
from nudger.rules.ladder import Attempt, sent_since
from nudger.rules.model import Rule, RuleSet

if TYPE_CHECKING:
    from nudger.rules.engine import PastNudge

CLOSEST_FIRST: tuple[Tier, ...] = ("core", "network", "outer")


def run_label(run: EndedRun) -> str:
    """``run-2024-05-27``: the run's last meeting (UTC date), in place of the ISO week."""
    return f"run-{run.last.astimezone(UTC).date().isoformat()}"


def thanks_rule_names(rules: Iterable[Rule]) -> set[str]:
    return {rule.name for rule in rules if rule.when.ended_run or rule.when.group_ended_run}


def is_once(rule: Rule) -> bool:
    """The rule sends an email marking something that happens once."""
    return rule.when.once is not None


def thanked(
    health: ContactHealth, history: Sequence[PastNudge], thanks_rules: Collection[str]
) -> bool:
    """The person's ended run (or their group's) was thanked for: it is closed, so nudger
    neither thanks again nor asks to restart it. Meeting them again ends the run, and the
    rules with it."""
    return any(
        run is not None and sent_since(history, thanks_rules, health.email, run.last)
        for run in (health.ended_run, health.group_run)
    )


def nudged_since(about: frozenset[str], attempts: Sequence[Attempt], since: datetime) -> bool:
    """A nudge about any of ``about`` reached the user after ``since``."""
    return any(attempt.about & about and attempt.at > since for attempt in attempts)


def group_thanks(
    health: ContactHealth, names: Mapping[str, str], tz: tzinfo, attempts: Sequence[Attempt]
) -> tuple[str, tuple[str, ...], frozenset[str]] | None:
    """A thank-you for the group's run: its label, evidence and people; or nothing once
    any nudge about the group went out since its last meeting (one or the other)."""
    run, about = health.group_run, frozenset(health.group)
    if run is None or not about or nudged_since(about, attempts, run.last):
        return None
    return run_label(run), group_run_reasons(run, names, tz), about


def group_run_reasons(run: EndedRun, names: Mapping[str, str], tz: tzinfo) -> tuple[str, ...]:
    """``the 12 weekly meetings with Ana, Bo and Chen over 3 months``, then its dates.
    First names, the rhythm, the length and the dates: never the meetings' title."""
    people = [names.get(email, email).split(" ")[0] for email in run.members]
    who = ", ".join(people[:-1]) + f" and {people[-1]}"
    rhythm = describe_interval(run.interval_days)
    return (
        f"the {run.meetings} {rhythm} meetings with {who} over {run_span(run)}",
        run_dates(run, tz),
    )


def role_tier(role: str | None, ruleset: RuleSet) -> Tier:
    cadence = ruleset.roles.get(role) if role else None
    return cadence.tier if cadence else OUTER_TIER


class GroupTiers:
    """The tier rules see for a contact: their role's, or for a group's ended run the
    closest of its members' (see the module's docstring)."""

    def __init__(self, healths: Iterable[ContactHealth], ruleset: RuleSet) -> None:
        self._tiers = {h.email: role_tier(h.role, ruleset) for h in healths}
        self._ruleset = ruleset

    def of(self, health: ContactHealth) -> Tier:
        if health.group_run is None or not health.group:
            return role_tier(health.role, self._ruleset)
        tiers = {self._tiers.get(email, OUTER_TIER) for email in health.group}
        return next(tier for tier in CLOSEST_FIRST if tier in tiers)
