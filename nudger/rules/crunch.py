"""The crunch dial: "busy until 15 Jan".

While a crunch is on, every cadence is stretched by a factor (nobody turns fading or
neglected as soon), and only repairs and direct-report one-on-ones go out. It ends by
itself at the start of its end date in the owner's zone. Pure: the account's choice
and ``now`` in, the rules as they apply out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from nudger.analysis.audit import ContactHealth
from nudger.analysis.model import Status
from nudger.rules.model import RuleSet

DIRECT_REPORT = "direct_report"
ONE_ON_ONE_STATUSES = frozenset({Status.LAPSED_ONE_ON_ONE, Status.MISSING_ONE_ON_ONE})


@dataclass(frozen=True)
class Crunch:
    """The owner is busy until ``until`` (that day is back to normal)."""

    until: date
    factor: float | None = None
    """None: the rules' ``crunch_factor``."""


def ends_at(crunch: Crunch, time_zone: str) -> datetime:
    """The moment the crunch ends: midnight starting ``until`` on the owner's clock."""
    return datetime.combine(crunch.until, time.min, tzinfo=ZoneInfo(time_zone))


def in_force(ruleset: RuleSet, crunch: Crunch | None, now: datetime, time_zone: str) -> RuleSet:
    """The rules with the crunch applied while it is on; unchanged before or after."""
    if crunch is None or now >= ends_at(crunch, time_zone):
        return ruleset
    factor = crunch.factor or ruleset.policies.crunch_factor
    judgement = ruleset.judgement.model_copy(
        update={
            "fading_factor": ruleset.judgement.fading_factor * factor,
            "neglected_factor": ruleset.judgement.neglected_factor * factor,
        }
    )
    policies = ruleset.policies.model_copy(update={"crunch_until": ends_at(crunch, time_zone)})
    return ruleset.model_copy(update={"judgement": judgement, "policies": policies})


def kept_in_crunch(health: ContactHealth) -> bool:
    """What still goes out during a crunch: a repair, or a direct report's one-on-one."""
    if health.repair is not None:
        return True
    return health.role == DIRECT_REPORT and health.status in ONE_ON_ONE_STATUSES
