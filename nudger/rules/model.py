"""The schema of ``rules.yaml``: judgement settings, role cadences, policies and rules.

Strict and frozen: an unknown key is an error, never silently ignored, so a typo in a
user's file cannot quietly change nothing.
"""

from __future__ import annotations

from collections import Counter
from datetime import time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from nudger.analysis.model import NO_ROLE, Status


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SizeWeights(_Strict):
    """How much one meeting counts, by the number of people in it (owner included)."""

    pair: float = Field(default=1.0, ge=0, le=1, description="Two people: a one-on-one.")
    small: float = Field(default=0.6, ge=0, le=1, description="Up to small_max_size people.")
    medium: float = Field(default=0.3, ge=0, le=1, description="Up to medium_max_size people.")
    large: float = Field(default=0.05, ge=0, le=1, description="More than medium_max_size people.")
    small_max_size: int = Field(default=4, ge=3)
    medium_max_size: int = Field(default=8, ge=3)

    @model_validator(mode="after")
    def _sizes_ascend(self) -> SizeWeights:
        if self.medium_max_size < self.small_max_size:
            raise ValueError("medium_max_size must be at least small_max_size")
        return self


class Judgement(_Strict):
    """Every number behind the default judgement (DESIGN.md "Default judgement")."""

    lookback_days: int = Field(default=365, ge=1, le=3650)
    weights: SizeWeights = SizeWeights()
    half_life_days: float = Field(
        default=90, gt=0, description="Strength halves every this many days."
    )
    typical_gap_count: int = Field(default=8, ge=2, description="Recent gaps the typical gap uses.")
    min_gaps: int = Field(default=2, ge=1, description="Fewer gaps than this: no typical gap.")
    series_min_occurrences: int = Field(default=3, ge=2)
    adhoc_one_on_one_min: int = Field(default=4, ge=3, description="One-on-ones that make a habit.")
    regular_gap_tolerance: float = Field(default=0.35, gt=0, lt=1)
    regular_gap_share: float = Field(default=0.75, gt=0, le=1)
    lapsed_streak: int = Field(default=3, ge=1, description="Missed occurrences in a row = lapsed.")
    ended_after_intervals: float = Field(default=2, gt=0)
    held_ratio_weeks: int = Field(default=8, ge=1)
    missing_window_max_factor: float = Field(
        default=2,
        gt=0,
        description="A one-on-one within this x the role's max days is not missing.",
    )
    weak_tie_max_strength: float = Field(default=0.05, ge=0)
    new_days: int = Field(default=21, ge=0)
    new_max_interactions: int = Field(default=3, ge=1)
    fading_factor: float = Field(default=1.5, gt=0)
    neglected_factor: float = Field(default=2.5, gt=0)
    booked_within_cadences: float = Field(default=1.0, ge=0)
    min_gap_working_days: int = Field(
        default=5,
        ge=0,
        description="Nobody is fading or neglected before this many working days apart.",
    )
    repair_after_working_days: int = Field(
        default=3,
        ge=0,
        description="A missed one-on-one not made up within this many working days needs repair.",
    )
    group_meetings: int = Field(
        default=3,
        ge=2,
        description="People whose last this-many meetings with you were the same ones are a group.",
    )

    @model_validator(mode="after")
    def _factors_ascend(self) -> Judgement:
        if self.neglected_factor < self.fading_factor:
            raise ValueError("neglected_factor must be at least fading_factor")
        return self


Tier = Literal["core", "network", "outer"]
OUTER_TIER: Tier = "outer"
"""The tier of a contact without a role."""


class RoleCadence(_Strict):
    """How often a role should be seen: ``ideal_days`` with no history, never over ``max``.

    ``tier`` groups roles for rules: ``core`` (the people you are responsible to and
    for), ``network`` (mentors, peers), ``outer`` (everyone else).
    """

    ideal_days: int = Field(ge=1)
    max_days: int = Field(ge=1)
    tier: Tier = OUTER_TIER

    @model_validator(mode="after")
    def _ideal_within_max(self) -> RoleCadence:
        if self.ideal_days > self.max_days:
            raise ValueError("ideal_days must not exceed max_days")
        return self


DEFAULT_ROLES: dict[str, RoleCadence] = {
    "direct_report": RoleCadence(ideal_days=7, max_days=14, tier="core"),
    "manager": RoleCadence(ideal_days=7, max_days=14, tier="core"),
    "mentor": RoleCadence(ideal_days=30, max_days=45, tier="network"),
    "peer": RoleCadence(ideal_days=30, max_days=60, tier="network"),
    "external": RoleCadence(ideal_days=90, max_days=120, tier="outer"),
    "key": RoleCadence(ideal_days=14, max_days=30, tier="core"),
}


class QuietHours(_Strict):
    """Local times ("HH:MM") between which no email goes out; may wrap midnight."""

    start: time = time(20, 0)
    end: time = time(8, 0)

    @field_validator("start", "end", mode="before")
    @classmethod
    def _quoted_time(cls, value: object) -> object:
        if isinstance(value, int):  # YAML 1.1 reads an unquoted 20:00 as 1200
            raise ValueError('write times in quotes, like "20:00"')
        return value


class Policies(_Strict):
    weekly_budget: int = Field(
        default=3, ge=0, description="Email nudges (a digest counts as one) per ISO week."
    )
    weekly_hold_budget: int = Field(
        default=3, ge=0, description="Relationship-time holds booked per ISO week."
    )
    cooldown_days: int = Field(
        default=14, ge=0, description="Days between two nudges about a contact."
    )
    declined_cooldown_days: int = Field(
        default=30,
        ge=0,
        description="Days without nudges about a contact after the user deleted their hold.",
    )
    max_emails_per_person: int = Field(
        default=2, ge=0, description="Emails about one person in any 30 days, at most."
    )
    ladder_backoff_days: int = Field(
        default=30,
        ge=1,
        description="After an email and a hold went unanswered: quiet this long, doubling after.",
    )
    quiet_hours: QuietHours = QuietHours()
    quiet_days: tuple[int, ...] = Field(default=(6, 7), description="ISO weekdays: Monday=1.")
    digest: bool = Field(default=False, description="Bundle email nudges into one weekly digest.")
    digest_size: int = Field(default=5, ge=1, le=50, description="Suggestions in one digest.")

    @field_validator("quiet_days")
    @classmethod
    def _iso_weekdays(cls, days: tuple[int, ...]) -> tuple[int, ...]:
        if any(day < 1 or day > 7 for day in days):
            raise ValueError("quiet_days are ISO weekdays, 1 (Monday) to 7 (Sunday)")
        return days


class Condition(_Strict):
    """All given tests must pass; an absent test passes."""

    status: tuple[Status, ...] | None = None
    role: tuple[str, ...] | None = Field(
        default=None, description=f'Roles; "{NO_ROLE}" for no role.'
    )
    tier: tuple[Tier, ...] | None = Field(
        default=None, description="Tiers of the contact's role (core, network, outer)."
    )
    min_days_since_last: float | None = Field(default=None, ge=0)
    min_strength: float | None = Field(default=None, ge=0)
    max_strength: float | None = Field(default=None, ge=0)
    repair: bool | None = Field(
        default=None,
        description="A one-on-one was missed (cancelled, declined, stopped) and not made up.",
    )


class Action(_Strict):
    kind: Literal["email", "hold", "digest"]
    template: str = Field(pattern=r"^[a-z0-9_]+$")
    hold_minutes: int = Field(default=30, ge=5, le=480)
    hold_horizon_days: int = Field(default=10, ge=1, le=90)


class Rule(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    when: Condition
    action: Action
    priority: int
    enabled: bool = True


class RuleSet(_Strict):
    judgement: Judgement = Judgement()
    roles: dict[str, RoleCadence] = Field(default_factory=lambda: dict(DEFAULT_ROLES))
    policies: Policies = Policies()
    rules: tuple[Rule, ...] = ()

    @model_validator(mode="after")
    def _rule_names_unique(self) -> RuleSet:
        counts = Counter(rule.name for rule in self.rules)
        duplicates = sorted(name for name, seen in counts.items() if seen > 1)
        if duplicates:
            raise ValueError(f"rules: duplicate rule name {', '.join(duplicates)}")
        return self

    @model_validator(mode="after")
    def _conditions_name_known_roles(self) -> RuleSet:
        known = {*self.roles, NO_ROLE}
        for rule in self.rules:
            unknown = sorted(set(rule.when.role or ()) - known)
            if unknown:
                raise ValueError(
                    f'rule "{rule.name}" → when.role: unknown role {", ".join(unknown)} '
                    f"(known: {', '.join(sorted(known))})"
                )
        return self

    @property
    def enabled_rules(self) -> tuple[Rule, ...]:
        return tuple(rule for rule in self.rules if rule.enabled)
