"""Thank-yous for ended runs: which run a thank-you is about (``moments.closed`` says
whether it was sent).

A run is identified by its person and its last meeting, so the outbox key of its
thank-you is the same whichever week it is decided in, and a thank-you sent after that
meeting closes the run for good (see ``engine.decide``).
"""

from __future__ import annotations

from datetime import UTC

from nudger.analysis.model import EndedRun


def run_label(run: EndedRun) -> str:
    """``run-2024-05-27``: the run's last meeting (UTC date), in place of the ISO week."""
    return f"run-{run.last.astimezone(UTC).date().isoformat()}"
