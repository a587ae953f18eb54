"""One pass per account at a time, across every process and machine.

A pass holds the lease row ``pass:{account_id}`` (``nudger.lease``, on SQLite and
PostgreSQL alike) from before its first step until after its last, renewed while it
runs, so ``nudger cycle``, the in-process scheduler and any number of workers never
overlap on one account. Whoever finds the lease held skips the pass: the holder is
doing that very work. A redelivered worker task is the exception: the lease may still
carry the task's own earlier delivery, which died (its renewals stopped) or still runs
(they go on). It waits until the lease lapses (then takes it) or is renewed (then the
worker task tries again later rather than trust a delivery that may yet die).
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from nudger import lease
from nudger.runtime import Runtime

WAIT_STEP_SECONDS = 0.5


def lease_name(account_id: int) -> str:
    return f"pass:{account_id}"


def take_pass(
    runtime: Runtime,
    account_id: int,
    holder: str,
    now: datetime,
    *,
    successor_of: str | None = None,
) -> lease.KeptLease | None:
    """The account's pass lease, kept until released; None when another pass holds it.

    ``now``: the pass's time. ``successor_of``: a holder prefix this one succeeds (the
    same task, delivered again).
    """
    ttl = timedelta(seconds=runtime.settings.pass_lease_seconds)
    name = lease_name(account_id)
    kept = lease.KeptLease.take(runtime.db, name, holder, ttl, now)
    if kept is not None or successor_of is None:
        return kept
    first, started = lease.lease_of(runtime.db, name), time.monotonic()
    deadline = started + ttl.total_seconds() + 2 * WAIT_STEP_SECONDS

    def clock() -> datetime:
        return now + timedelta(seconds=time.monotonic() - started)

    while _earlier_delivery_may_be_dead(runtime, name, successor_of, first, clock()):
        if time.monotonic() > deadline:
            return None
        time.sleep(WAIT_STEP_SECONDS)
        kept = lease.KeptLease.take(runtime.db, name, holder, ttl, clock())
        if kept is not None:
            return kept
    return None


def held_by(runtime: Runtime, account_id: int, prefix: str, now: datetime) -> bool:
    """Whether a holder whose name starts with ``prefix`` holds the account's pass."""
    holder = lease.holder_of(runtime.db, lease_name(account_id), now)
    return holder is not None and holder.startswith(prefix)


def _earlier_delivery_may_be_dead(
    runtime: Runtime, name: str, prefix: str, first: tuple[str, datetime] | None, now: datetime
) -> bool:
    """Worth waiting: the lease lapsed or is the same task's and was not renewed since
    ``first``. Another pass's lease, or a renewal (that delivery lives), is no use."""
    current = lease.lease_of(runtime.db, name)
    if current is None or current[1] < now:
        return True
    holder, expires = current
    renewed = first is not None and expires > first[1]
    return holder.startswith(prefix) and not renewed
