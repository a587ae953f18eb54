"""The escalation ladder: what to do about a person this time, given what was tried before.

Never nag. The first nudge about someone is what the winning rule asks for; if nothing
happens (no small meeting with them, no "we already talked"), the second is the other
medium: a hold for people you are close to (a digest line for the rest), or an email
after a hold. After that nudger goes quiet, trying again only after
``ladder_backoff_days``, then twice that, and so on. A hold not yet passed blocks
another hold for the same person, and no person is the subject of more than
``max_emails_per_person`` emails in any 30 days. A meeting with them or "we already
talked" starts the ladder afresh.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from nudger.analysis.judgement import OUTER_TIER
from nudger.rules.model import Policies

if TYPE_CHECKING:
    from nudger.rules.engine import PastNudge

EMAIL, HOLD, DIGEST = "email", "hold", "digest"
DAILY_STEP = "daily_step"
"""The daily step's kind (``nudger.rules.daily``): outside the ladder and the budget."""
NOT_COUNTED = frozenset({"suppressed", "failed"})
"""Outbox states of nudges that never reached the user."""
EMAIL_WINDOW = timedelta(days=30)


def sent_since(
    history: Sequence[PastNudge], rules: Collection[str], email: str, since: datetime
) -> bool:
    """Whether a nudge of one of ``rules`` reached the user about ``email`` after
    ``since``: what closes a nudge that happens once (a thank-you, an anniversary)."""
    return any(
        nudge.rule in rules
        and nudge.status not in NOT_COUNTED
        and nudge.created_at > since
        and email.lower() in nudge.about
        for nudge in history
    )


@dataclass(frozen=True)
class Attempt:
    """A nudge that reached the user about ``about`` (one person, or a group)."""

    about: frozenset[str]
    kind: str
    at: datetime
    hold_until: datetime | None = None
    """For a hold: when its time has passed (it blocks another hold until then)."""


def next_kind(
    first: str,
    tier: str,
    about: frozenset[str],
    attempts: Sequence[Attempt],
    reset_at: datetime | None,
    policies: Policies,
    now: datetime,
) -> str | None:
    """The kind of nudge to send about ``about`` now, or None to stay quiet."""
    mine, fresh = _tried(about, attempts, reset_at)
    kind = _rung_kind(_opening(first, tier, policies), tier, fresh, policies, now)
    if kind == HOLD and _hold_pending(mine, now):
        return None
    if kind == EMAIL and _emails_lately(mine, now) >= policies.max_emails_per_person:
        return None
    return kind


def thanks_kind(
    about: frozenset[str], attempts: Sequence[Attempt], policies: Policies, now: datetime
) -> str | None:
    """A thank-you is an email or nothing: never escalated into a hold, never beyond
    ``max_emails_per_person``, and not sent to a user who takes no email at all."""
    if policies.weekly_budget == 0:
        return None
    mine = _tried(about, attempts, None)[0]
    return EMAIL if _emails_lately(mine, now) < policies.max_emails_per_person else None


def quiet_ends(
    about: frozenset[str],
    attempts: Sequence[Attempt],
    reset_at: datetime | None,
    policies: Policies,
) -> list[datetime]:
    """When the quiet time after the latest unanswered nudges about ``about`` ends (the
    moment ``next_kind`` may speak again), if it is quiet at all."""
    fresh = _tried(about, attempts, reset_at)[1]
    if len(fresh) < 2:
        return []
    last = fresh[-1]
    return [max(last.at, last.hold_until or last.at) + _quiet(len(fresh), policies)]


def _tried(
    about: frozenset[str], attempts: Sequence[Attempt], reset_at: datetime | None
) -> tuple[list[Attempt], list[Attempt]]:
    """Nudges about ``about``, oldest first: all of them, and those since the reset."""
    mine = sorted((a for a in attempts if a.about & about), key=lambda a: a.at)
    return mine, [a for a in mine if reset_at is None or a.at > reset_at]


def _quiet(tried: int, policies: Policies) -> timedelta:
    return timedelta(days=policies.ladder_backoff_days * 2 ** (tried - 2))


def _opening(first: str, tier: str, policies: Policies) -> str:
    """The rule's kind, unless the user takes no email at all (holds only)."""
    if first == EMAIL and policies.weekly_budget == 0:
        return HOLD if tier != OUTER_TIER else DIGEST
    return first


def _rung_kind(
    opening: str, tier: str, fresh: Sequence[Attempt], policies: Policies, now: datetime
) -> str | None:
    if not fresh:
        return opening
    if len(fresh) == 1:
        return _escalation(fresh[0].kind, tier)
    quiet = _quiet(len(fresh), policies)
    last = fresh[-1]
    since = max(last.at, last.hold_until or last.at)
    return opening if now - since >= quiet else None


def _escalation(previous: str, tier: str) -> str:
    if previous == HOLD:
        return EMAIL
    return HOLD if tier != OUTER_TIER else DIGEST


def _hold_pending(attempts: Sequence[Attempt], now: datetime) -> bool:
    return any(a.kind == HOLD and a.hold_until is not None and a.hold_until > now for a in attempts)


def _emails_lately(attempts: Sequence[Attempt], now: datetime) -> int:
    return sum(1 for a in attempts if a.kind == EMAIL and a.at > now - EMAIL_WINDOW)
