"""The judgement's parameters: every number analysis judges relationships by.

Analysis takes these as plain values; ``rules.yaml`` carries them (``judgement``,
``roles``) and ``nudger.rules.model`` composes them into its schema, so the arrow
runs from rules to analysis, never back. Strict and frozen like the rest of the
rules' schema: an unknown key is an error.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class StrictModel(BaseModel):
    """Unknown keys are errors; values never change once read."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class SizeWeights(StrictModel):
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


class Judgement(StrictModel):
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
    thanks_min_meetings: int = Field(
        default=8, ge=2, description="A series held this many times is a run worth a thank-you."
    )
    thanks_min_weeks: int = Field(
        default=8, ge=1, description="...and running at least this many weeks, first to last."
    )
    thanks_within_days: int = Field(
        default=21,
        ge=1,
        description="A thank-you is suggested until this many days after the next meeting was due.",
    )
    anniversary_seen_before_days: int = Field(
        default=30,
        ge=1,
        description="A first meeting counts only with this many days of history seen before it.",
    )
    anniversary_late_working_days: int = Field(
        default=3,
        ge=0,
        description="A year since the first meeting is marked until this many working days late.",
    )
    welcome_back_min_working_days: int = Field(
        default=5,
        ge=1,
        description="An out-of-office this long (their working days) is a long absence.",
    )
    welcome_back_within_working_days: int = Field(
        default=3,
        ge=0,
        description="A welcome back is suggested until this many working days after the return.",
    )

    @model_validator(mode="after")
    def _factors_ascend(self) -> Judgement:
        if self.neglected_factor < self.fading_factor:
            raise ValueError("neglected_factor must be at least fading_factor")
        return self


Tier = Literal["core", "network", "outer"]
OUTER_TIER: Tier = "outer"
"""The tier of a contact without a role."""


class RoleCadence(StrictModel):
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
