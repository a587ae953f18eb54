"""One pass per account at a time, and every pass that ran recorded on the account's row.

Against the emulator over HTTP and a real database; the "other process" holding an
account is another holder of the same lease row, as a second process would be.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from nudger import accounts, lease
from nudger.cadence import SYNC_PERIOD
from nudger.clock import utcnow
from nudger.cycle import run_cycle
from nudger.passes.exclusive import lease_name, take_pass
from nudger.runtime import Runtime
from nudger.sandbox.world import Fault
from nudger.store import pass_status
from nudger.store.db import session_scope
from tests.team import MONDAY, Team

CALENDAR_LIST = "/calendar/v3/users/me/calendarList"


@pytest.fixture
def account_id(team: Team) -> int:
    return accounts.find_account(team.runtime, team.org.owner.email).id


def overview(runtime: Runtime) -> pass_status.PassOverview:
    with session_scope(runtime.db) as session:
        return pass_status.overview(session, MONDAY + timedelta(hours=1))


def test_a_pass_finding_its_account_held_is_skipped_not_failed(team: Team, account_id: int) -> None:
    other = lease.KeptLease.take(
        team.runtime.db, lease_name(account_id), "another process", timedelta(seconds=30), MONDAY
    )
    assert other is not None
    with other:
        [report] = run_cycle(team.runtime, now=MONDAY)
    assert report.skipped == "another pass of this account is running"
    assert report.error is None
    assert report.events_synced == 0
    assert overview(team.runtime).last_pass_at is None  # a skip is not a pass

    [report] = run_cycle(team.runtime, now=MONDAY)  # released: the next pass runs
    assert report.skipped is None
    assert report.events_synced > 0


def test_a_pass_is_recorded_on_its_account(team: Team, account_id: int) -> None:
    run_cycle(team.runtime, now=MONDAY)
    seen = overview(team.runtime)
    assert seen.last_pass_at == MONDAY
    assert seen.failing == []
    assert seen.oldest_due == MONDAY + SYNC_PERIOD  # in-process: one period on
    with session_scope(team.runtime.db) as session:
        assert pass_status.due(session, MONDAY + SYNC_PERIOD, MONDAY) == [account_id]
        assert pass_status.due(session, MONDAY + SYNC_PERIOD / 2, MONDAY) == []


def test_a_failed_pass_lists_its_account_as_failing_until_one_succeeds(team: Team) -> None:
    team.sandbox.world.faults.append(Fault(path=CALENDAR_LIST, status=404))
    [report] = run_cycle(team.runtime, now=MONDAY)
    assert report.error
    [failing] = overview(team.runtime).failing
    assert (failing.email, failing.error, failing.at) == (
        team.org.owner.email,
        report.error,
        MONDAY,
    )
    run_cycle(team.runtime, now=MONDAY + timedelta(minutes=15))
    assert overview(team.runtime).failing == []


def test_a_pass_killed_mid_way_frees_its_account_one_lease_later(
    team: Team, account_id: int
) -> None:
    # Its lease, taken at the pass's time and never renewed again (the process died):
    assert lease.try_acquire(
        team.runtime.db, lease_name(account_id), "dead process", MONDAY, timedelta(seconds=60)
    )
    [report] = run_cycle(team.runtime, now=MONDAY + timedelta(seconds=30))
    assert report.skipped
    [report] = run_cycle(team.runtime, now=MONDAY + timedelta(seconds=61))
    assert report.skipped is None
    assert report.events_synced > 0


def test_a_kept_lease_outlives_its_ttl_until_released(runtime: Runtime) -> None:
    kept = lease.KeptLease.take(runtime.db, "x", "me", timedelta(seconds=0.3))
    assert kept is not None
    with kept:
        time.sleep(0.8)  # more than two lifetimes: renewed in the background
        assert lease.holder_of(runtime.db, "x", utcnow()) == "me"
        assert lease.KeptLease.take(runtime.db, "x", "you", timedelta(seconds=1)) is None
    assert lease.holder_of(runtime.db, "x", utcnow()) is None


def test_a_redelivered_task_takes_over_its_dead_deliverys_lease_once_it_lapses(
    runtime: Runtime,
) -> None:
    # The first delivery's process died: its lease is no longer renewed.
    assert lease.try_acquire(
        runtime.db, lease_name(7), "task:t1:host:1", utcnow(), timedelta(seconds=0.8)
    )
    started = time.monotonic()
    assert take_pass(runtime, 7, "task:t2:host:2", utcnow(), successor_of="task:t2:") is None
    assert time.monotonic() - started < 0.5  # another task's pass: skipped at once
    kept = take_pass(runtime, 7, "task:t1:host:3", utcnow(), successor_of="task:t1:")
    assert kept is not None
    kept.release()
    assert 0.5 < time.monotonic() - started < 3


def test_a_redelivered_task_leaves_a_live_earlier_delivery_alone(runtime: Runtime) -> None:
    earlier = lease.KeptLease.take(
        runtime.db, lease_name(7), "task:t3:host:1", timedelta(seconds=0.6)
    )
    assert earlier is not None
    with earlier:  # alive: renewed every 0.2 s
        started = time.monotonic()
        assert take_pass(runtime, 7, "task:t3:host:2", utcnow(), successor_of="task:t3:") is None
        assert time.monotonic() - started < 2  # one renewal seen, not the 60 s lease waited
