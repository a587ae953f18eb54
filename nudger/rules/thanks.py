"""Thank-yous for ended runs: which run a thank-you is about, and whether it was sent.

A run is identified by its person and its last meeting, so the outbox key of its
thank-you is the same whichever week it is decided in, and a thank-you sent after that
meeting closes the run for good (see ``engine.decide``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC
from typing import TYPE_CHECKING

from nudger.analysis.audit import ContactHealth
from nudger.analysis.model import EndedRun
from nudger.rules.ladder import sent_since

if TYPE_CHECKING:
    from nudger.rules.engine import PastNudge


def run_label(run: EndedRun) -> str:
    """``run-2024-05-27``: the run's last meeting (UTC date), in place of the ISO week."""
    return f"run-{run.last.astimezone(UTC).date().isoformat()}"


def thanked(
    health: ContactHealth, history: Sequence[PastNudge], thanks_rules: Collection[str]
) -> bool:
    """The person's ended run was thanked for: it is closed, so nudger neither thanks
    again nor asks to restart it. Meeting them again ends the run, and the rules with it."""
    run = health.ended_run
    return run is not None and sent_since(history, thanks_rules, health.email, run.last)
