"""The schema of ``rules.yaml``: judgement settings, role cadences, policies and rules.

The judgement and the role cadences are analysis's parameters
(``nudger.analysis.judgement``); this schema composes them with the rules' own parts.

Strict and frozen: an unknown key is an error, never silently ignored, so a typo in a
user's file cannot quietly change nothing.
"""

from __future__ import annotations

from collections import Counter
from datetime import time
from typing import Literal

from pydantic import AwareDatetime, Field, field_validator, model_validator

from nudger.analysis.judgement import (
    DEFAULT_ROLES,
    Judgement,
    RoleCadence,
    StrictModel,
    Tier,
)
from nudger.analysis.model import NO_ROLE, Status


class QuietHours(StrictModel):
    """Local times ("HH:MM") between which no email goes out; may wrap midnight."""

    start: time = time(20, 0)
    end: time = time(8, 0)

    @field_validator("start", "end", mode="before")
    @classmethod
    def _quoted_time(cls, value: object) -> object:
        if isinstance(value, int):  # YAML 1.1 reads an unquoted 20:00 as 1200
            raise ValueError('write times in quotes, like "20:00"')
        return value


class Policies(StrictModel):
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
    daily_step: bool = Field(
        default=False,
        description="One intentional interaction a day: each working morning one email "
        "naming one key person and one small step (its own budget of one a working day).",
    )
    crunch_factor: float = Field(
        default=2,
        ge=1,
        le=10,
        description='During a crunch ("busy until"), every cadence is stretched this many times.',
    )
    crunch_until: AwareDatetime | None = Field(
        default=None,
        description="Set from the account's settings while a crunch is on: until this moment "
        "only repairs and direct-report one-on-ones go out.",
    )

    @field_validator("quiet_days")
    @classmethod
    def _iso_weekdays(cls, days: tuple[int, ...]) -> tuple[int, ...]:
        if any(day < 1 or day > 7 for day in days):
            raise ValueError("quiet_days are ISO weekdays, 1 (Monday) to 7 (Sunday)")
        return days


class Condition(StrictModel):
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
    ended_run: bool | None = Field(
        default=None,
        description="A long one-on-one series ended well lately and was not thanked for yet.",
    )
    anniversary: bool | None = Field(
        default=None,
        description="A year since the first meeting with them falls about now.",
    )
    group_ended_run: bool | None = Field(
        default=None,
        description="A group's long run of meetings (a project) ended well lately and was "
        "not thanked for yet; the tier test then applies to the group's closest member.",
    )
    work_anniversary: bool | None = Field(
        default=None,
        description="Whole years since they were hired (the directory's hire date) fall about now.",
    )
    welcome_back: bool | None = Field(
        default=None,
        description="They are back lately from an out-of-office of a week or more.",
    )

    @property
    def once(self) -> str | None:
        """The one-off moment the condition asks for, if any: its rule sends one email."""
        return next((name for name in ONCE_CONDITIONS if getattr(self, name)), None)


ONCE_CONDITIONS = {
    "ended_run": "a thank-you",
    "group_ended_run": "a thank-you",
    "anniversary": "a year since the first meeting",
    "work_anniversary": "a work anniversary",
    "welcome_back": "a welcome back",
}
"""Conditions on something that happens once: their rules send one email about it."""


class Action(StrictModel):
    kind: Literal["email", "hold", "digest"]
    template: str = Field(pattern=r"^[a-z0-9_]+$")
    hold_minutes: int = Field(default=30, ge=5, le=480)
    hold_horizon_days: int = Field(default=10, ge=1, le=90)
    invite: Literal["off", "offer", "propose"] = Field(
        default="offer",
        description=(
            "Inviting the person: offer (a one-click 'Invite' link: into the hold once there "
            "is one, else a choice of times free for both), propose (an email also lists "
            "those times, each a one-click link), off (no invite link). Nothing reaches "
            "the contact before the owner confirms."
        ),
    )


class Rule(StrictModel):
    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    when: Condition
    action: Action
    priority: int
    enabled: bool = True

    @model_validator(mode="after")
    def _once_is_an_email(self) -> Rule:
        once = self.when.once
        if once is not None and self.action.kind != "email":
            raise ValueError(
                f'rule "{self.name}" → action.kind: a rule on {once} sends one email '
                f"({ONCE_CONDITIONS[once]}); it cannot be a hold or a digest line"
            )
        return self

    @model_validator(mode="after")
    def _proposals_are_emailed(self) -> Rule:
        if self.action.invite == "propose" and self.action.kind != "email":
            raise ValueError(
                f'rule "{self.name}" → action.invite: propose lists times in a nudge email; '
                f"a {self.action.kind} rule can offer the invite link (offer) or not (off)"
            )
        return self


class RuleSet(StrictModel):
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
