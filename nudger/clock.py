"""The wall clock, in one place: an aware UTC ``now``.

Whatever decides takes ``now`` as a parameter; only the edges (a web request, a row's
default timestamp, a command, the emulator) read the clock, and they read it here.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
