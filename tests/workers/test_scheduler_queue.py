"""With a broker, the scheduler's leader queues each account in its own slot of the sync
period (never all at once) and never queues an account twice; followers queue nothing.
Real Redis and a real database; time is driven by passing ``now``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from nudger.cadence import SYNC_PERIOD, next_slot
from nudger.config import Settings
from nudger.runtime import Runtime, open_runtime
from nudger.scheduler import Scheduler
from nudger.store import pass_status
from nudger.store.db import session_scope
from nudger.store.models import Account
from nudger.workers.enqueue import PassQueue
from nudger.workers.status import queue_depth

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
LONG_AGO = T0 - timedelta(days=90)


@pytest.fixture
def runtime(settings: Settings, redis_url: str) -> Iterator[Runtime]:
    opened = open_runtime(settings.model_copy(update={"broker_url": SecretStr(redis_url)}))
    yield opened
    opened.db.dispose()


def add_accounts(runtime: Runtime, count: int, created_at: datetime) -> list[int]:
    with session_scope(runtime.db) as session:
        rows = [
            Account(
                provider="google",
                email=f"owner{i}@example.com",
                credentials=runtime.cipher.encrypt("{}"),
                created_at=created_at,
            )
            for i in range(count)
        ]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def queued(runtime: Runtime) -> set[int]:
    with session_scope(runtime.db) as session:
        return {a.id for a in session.query(Account).filter(Account.enqueued_at.is_not(None))}


def leader(runtime: Runtime) -> Scheduler:
    return Scheduler(runtime, holder="leader", queue=PassQueue(runtime))


def test_the_leader_queues_accounts_in_their_slots_spread_over_the_period(
    runtime: Runtime,
) -> None:
    ids = add_accounts(runtime, 30, LONG_AGO)
    scheduler = leader(runtime)
    assert scheduler.tick(T0)
    assert queued(runtime) == set()  # none is due the moment the workers arrive

    five_minutes = T0 + timedelta(minutes=5)
    scheduler.tick(five_minutes)
    expected = {i for i in ids if next_slot(i, T0) <= five_minutes}
    assert queued(runtime) == expected
    assert 0 < len(expected) < len(ids)
    assert queue_depth(runtime.settings.broker) == len(expected)

    scheduler.tick(T0 + SYNC_PERIOD)
    assert queued(runtime) == set(ids)
    assert queue_depth(runtime.settings.broker) == len(ids)  # each account once


def test_a_new_sign_up_is_queued_at_once_and_a_queued_account_never_twice(
    runtime: Runtime,
) -> None:
    [account_id] = add_accounts(runtime, 1, T0 - timedelta(minutes=1))
    scheduler = leader(runtime)
    scheduler.tick(T0)
    scheduler.tick(T0 + SYNC_PERIOD)
    scheduler.tick(T0 + 2 * SYNC_PERIOD)  # still queued (no worker runs it): not again
    assert queued(runtime) == {account_id}
    assert queue_depth(runtime.settings.broker) == 1

    with session_scope(runtime.db) as session:  # a worker ran it at T0 + 2 periods
        pass_status.record_pass(
            session,
            account_id,
            started=T0 + 2 * SYNC_PERIOD,
            error=None,
            next_due=next_slot(account_id, T0 + 2 * SYNC_PERIOD),
        )
    scheduler.tick(T0 + 2 * SYNC_PERIOD + timedelta(seconds=1))
    assert queued(runtime) == set()
    scheduler.tick(next_slot(account_id, T0 + 2 * SYNC_PERIOD))
    assert queued(runtime) == {account_id}


def test_a_follower_queues_nothing(runtime: Runtime) -> None:
    add_accounts(runtime, 3, T0 - timedelta(minutes=1))
    assert leader(runtime).tick(T0)
    follower = Scheduler(runtime, holder="follower", queue=PassQueue(runtime))
    with session_scope(runtime.db) as session:
        session.query(Account).update({Account.enqueued_at: None})
    assert not follower.tick(T0 + timedelta(seconds=1))
    assert queued(runtime) == set()
