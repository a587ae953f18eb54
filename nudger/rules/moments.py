"""Moments for the rules: what an anniversary email says, and whether it was sent.

A year since the first meeting happens once: an anniversary email sent after the first
meeting closes it for good, whichever day in its window it went out (see
``engine.decide``); its outbox key carries the year besides.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import tzinfo
from typing import TYPE_CHECKING

from nudger.analysis.audit import ContactHealth
from nudger.analysis.features import days_between
from nudger.analysis.model import Anniversary
from nudger.analysis.status import span_words
from nudger.rules.ladder import sent_since

if TYPE_CHECKING:
    from nudger.rules.engine import PastNudge


def anniversary_reasons(anniversary: Anniversary, who: str, tz: tzinfo) -> tuple[str, ...]:
    """The first meeting's date, and how much calendar before it shows nothing with them."""
    first = anniversary.first_met.astimezone(tz).date()
    before = span_words(days_between(anniversary.history_from, anniversary.first_met))
    return (
        f"you first met {who} on {first.day} {first:%B %Y}, a year ago",
        f"nothing with {who} in the {before} of calendar before that",
    )


def marked(
    health: ContactHealth, history: Sequence[PastNudge], anniversary_rules: Collection[str]
) -> bool:
    """The anniversary of this first meeting was already marked with an email."""
    anniversary = health.anniversary
    return anniversary is not None and sent_since(
        history, anniversary_rules, health.email, anniversary.first_met
    )
