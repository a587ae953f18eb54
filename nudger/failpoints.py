"""Crash-test hook: die by SIGKILL at a named point, so tests can prove recovery.

Only the crash tests set ``NUDGER_FAILPOINT``; it is never set in production, and with
it unset (or naming another point) ``hit`` does nothing. SIGKILL, not an exception: no
``finally``, no rollback handler, no atexit runs, exactly as when the machine loses
power or the OOM killer strikes.

``hold:NAME`` stops the first process to reach the point instead, for good, after
writing its pid to the file ``NUDGER_FAILPOINT_HELD`` names (once that file exists, the
point lets everyone through): a test that kills a worker, or one of its pool processes,
mid-pass waits for the file, then kills at a moment it knows.
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

ENV_VAR = "NUDGER_FAILPOINT"
HELD_FILE_VAR = "NUDGER_FAILPOINT_HELD"
HOLD = "hold:"


def hit(name: str) -> None:
    """Kill this process at once when ``NUDGER_FAILPOINT`` equals ``name``; stop it here
    when it equals ``hold:name``."""
    value = os.environ.get(ENV_VAR)
    if value == name:
        os.kill(os.getpid(), signal.SIGKILL)
    elif value == HOLD + name:
        _hold()


def _hold() -> None:
    held = os.environ.get(HELD_FILE_VAR)
    if held:
        try:
            with Path(held).open("x") as first:  # created by one process only
                first.write(f"{os.getpid()}\n")
        except FileExistsError:
            return  # another process held here already: its work is being redone
    threading.Event().wait()  # until killed
