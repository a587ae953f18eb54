"""When an account's passes are due: every ``SYNC_PERIOD``, each account in its own slot;
and when a scheduled pass may send nudge emails: in the owner's weekday morning.

An account's slot is a fixed offset into the period derived from its id by a hash, so a
thousand accounts spread over the fifteen minutes instead of all starting at once, and the
same account keeps its place from one period to the next and across schedulers.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

log = logging.getLogger(__name__)

SYNC_MINUTES = 15
SYNC_PERIOD = timedelta(minutes=SYNC_MINUTES)
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
MORNING_START, MORNING_END = time(8, 0), time(11, 0)
WORKING_DAYS = frozenset({1, 2, 3, 4, 5})
"""ISO weekdays (Monday=1) on which nudges go out."""


def slot_offset(account_id: int) -> timedelta:
    """The account's fixed place in the period (whole seconds)."""
    digest = hashlib.blake2b(str(account_id).encode(), digest_size=8).digest()
    return timedelta(seconds=int.from_bytes(digest, "big") % int(SYNC_PERIOD.total_seconds()))


def next_slot(account_id: int, after: datetime) -> datetime:
    """The account's first slot strictly after ``after``."""
    periods = (after - _EPOCH - slot_offset(account_id)) // SYNC_PERIOD + 1
    return _EPOCH + slot_offset(account_id) + periods * SYNC_PERIOD


def first_due(account_id: int, created_at: datetime, now: datetime) -> datetime:
    """A new sign-up is due at once; an account that was never scheduled (one connected
    before the workers came) waits for its slot, so an upgrade does not start them all."""
    return created_at if now - created_at < SYNC_PERIOD else next_slot(account_id, now)


def next_due(account_id: int, started: datetime, *, spread: bool) -> datetime:
    """When the pass after one started at ``started`` is due: the account's next slot when
    workers run passes (``spread``), else one period on, as the in-process scheduler runs."""
    return next_slot(account_id, started) if spread else started + SYNC_PERIOD


def in_morning_window(now: datetime, time_zone: str | None) -> bool:
    """True between 08:00 and 11:00 on a working day on the owner's wall clock."""
    local = now.astimezone(_zone(time_zone))
    return local.isoweekday() in WORKING_DAYS and MORNING_START <= local.time() < MORNING_END


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("unknown time zone %r; using UTC", name)
        return ZoneInfo("UTC")
