"""A round that holds the database longer than the pass lease lives keeps the lease.

A round is one transaction (``nudger.sync``). On SQLite that transaction holds the whole
database's write lock, so the lease's renewal thread cannot write while it runs, and a
round can run long: both providers answer throttling with ``Retry-After`` and the
connector waits up to 120 s inside the round (``connectors/retry.py``; Graph documents
429 with Retry-After per mailbox, Google 429/403 rateLimitExceeded). The round therefore
renews the lease in its own transaction before it commits, so the lease is fresh the
moment another process can write again.

Against the emulator over HTTP (its injected 429 with ``Retry-After`` stands for the
provider's throttling) and a real database.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from nudger import lease
from nudger.connectors.base import CalendarReader
from nudger.passes.account_pass import CycleReport, run_account_pass
from nudger.passes.connection import connect
from nudger.passes.exclusive import lease_name
from nudger.sandbox.world import Fault
from nudger.sync import sync_account, sync_window
from tests.team import MONDAY, Team, generated_team

LEASE_SECONDS = 3
"""The settings' minimum: the renewal thread tries every second."""
THROTTLED = 5
"""Longer than the lease: the round waits this long inside its transaction."""


@pytest.fixture
def team(database_url: str, tmp_path: Path, encryption_key: str) -> Iterator[Team]:
    with generated_team(
        MONDAY,
        database_url=database_url,
        data_dir=tmp_path,
        encryption_key=encryption_key,
        pass_lease_seconds=str(LEASE_SECONDS),
    ) as team:
        yield team


def throttle_first_events_page(team: Team) -> None:
    fault = Fault(path="/events", method="GET", status=429, retry_after=THROTTLED)
    team.sandbox.world.faults.append(fault)


def throttled_yet(team: Team) -> bool:
    return any(r.fault == 429 for r in team.sandbox.world.requests)


def test_a_round_renews_the_lease_in_its_own_transaction(team: Team) -> None:
    account_id = team.connect_owner().id
    name, ttl = lease_name(account_id), timedelta(seconds=LEASE_SECONDS)
    assert lease.try_acquire(team.runtime.db, name, "the pass", MONDAY, ttl)
    kept = lease.KeptLease(team.runtime.db, name, "the pass", ttl, MONDAY)  # no thread: the
    throttle_first_events_page(team)  # round alone must renew it
    window = sync_window(MONDAY, 30, 30)
    reader = _reader(team, account_id)
    started = time.monotonic()
    sync_account(team.runtime.db, account_id, reader, MONDAY, window, before_commit=kept.renew_in)
    waited = time.monotonic() - started
    assert waited >= THROTTLED
    held = lease.lease_of(team.runtime.db, name)
    assert held is not None
    assert held[0] == "the pass"
    assert held[1] >= MONDAY + timedelta(seconds=waited) + ttl - timedelta(seconds=1)


def test_a_round_whose_lease_was_taken_rolls_back(team: Team) -> None:
    account_id = team.connect_owner().id
    name, ttl = lease_name(account_id), timedelta(seconds=LEASE_SECONDS)
    assert lease.try_acquire(team.runtime.db, name, "another process", MONDAY, ttl)
    kept = lease.KeptLease(team.runtime.db, name, "the pass", ttl, MONDAY)
    window = sync_window(MONDAY, 30, 30)
    with pytest.raises(lease.LeaseLost):
        sync_account(
            team.runtime.db,
            account_id,
            _reader(team, account_id),
            MONDAY,
            window,
            before_commit=kept.renew_in,
        )
    assert lease.lease_of(team.runtime.db, name) == ("another process", MONDAY + ttl)


def test_a_second_pass_during_a_long_throttled_round_is_skipped(team: Team) -> None:
    account_id = team.connect_owner().id
    throttle_first_events_page(team)
    reports: list[CycleReport] = []
    first = threading.Thread(
        target=lambda: reports.append(run_account_pass(team.runtime, account_id, now=MONDAY))
    )
    first.start()
    deadline = time.monotonic() + 10
    while not throttled_yet(team) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(LEASE_SECONDS + 0.5)  # past the lease's first lifetime, the round still waiting
    second = run_account_pass(
        team.runtime, account_id, now=MONDAY + timedelta(seconds=LEASE_SECONDS + 1)
    )
    first.join()
    assert second.skipped is not None, second.summary()
    assert second.events_synced == 0
    [report] = reports
    assert report.error is None, report.error
    assert report.events_synced > 0


def _reader(team: Team, account_id: int) -> CalendarReader:
    return connect(team.runtime, account_id).connector.calendar
