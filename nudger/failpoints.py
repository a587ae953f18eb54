"""Crash-test hook: die by SIGKILL at a named point, so tests can prove recovery.

Only the crash-matrix tests set ``NUDGER_FAILPOINT``; it is never set in
production, and with it unset (or naming another point) ``hit`` does nothing.
SIGKILL, not an exception: no ``finally``, no rollback handler, no atexit runs,
exactly as when the machine loses power or the OOM killer strikes.
"""

from __future__ import annotations

import os
import signal

ENV_VAR = "NUDGER_FAILPOINT"


def hit(name: str) -> None:
    """Kill this process at once when ``NUDGER_FAILPOINT`` equals ``name``."""
    if os.environ.get(ENV_VAR) == name:
        os.kill(os.getpid(), signal.SIGKILL)
