"""The scheduler: one leader per database through the lease, nudges only in the morning.

Time is driven by passing ``now``; the background threads are never started here,
except where ``start``/``shutdown`` themselves are under test.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from nudger import lease
from nudger.config import Settings
from nudger.runtime import Runtime, open_runtime
from nudger.scheduler import (
    LEASE_NAME,
    LEASE_TTL,
    Scheduler,
    in_morning_window,
)
from nudger.store.db import session_scope
from nudger.store.models import Account, Nudge
from tests.team import generated_team

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def other_runtime(settings: Settings) -> Iterator[Runtime]:
    """A second process's view of the same database."""
    opened = open_runtime(settings)
    yield opened
    opened.db.dispose()


def add_account(runtime: Runtime, email: str, time_zone: str | None = None) -> None:
    with session_scope(runtime.db) as session:
        session.add(
            Account(
                provider="google",
                email=email,
                time_zone=time_zone,
                credentials=runtime.cipher.encrypt("{}"),
            )
        )


# --- the lease --------------------------------------------------------------------------


def test_a_free_lease_is_taken_and_renewed_by_its_holder(runtime: Runtime) -> None:
    assert lease.try_acquire(runtime.db, "x", "a", T0, LEASE_TTL)
    assert lease.try_acquire(runtime.db, "x", "a", T0 + timedelta(seconds=30), LEASE_TTL)
    assert not lease.try_acquire(runtime.db, "x", "b", T0 + timedelta(seconds=80), LEASE_TTL)
    assert lease.holder_of(runtime.db, "x", T0 + timedelta(seconds=80)) == "a"


def test_an_expired_lease_goes_to_the_next_taker(runtime: Runtime) -> None:
    assert lease.try_acquire(runtime.db, "x", "a", T0, LEASE_TTL)
    later = T0 + LEASE_TTL + timedelta(seconds=1)
    assert lease.holder_of(runtime.db, "x", later) is None
    assert lease.try_acquire(runtime.db, "x", "b", later, LEASE_TTL)
    assert not lease.try_acquire(runtime.db, "x", "a", later, LEASE_TTL)


def test_only_the_holder_can_release_a_lease(runtime: Runtime) -> None:
    assert lease.try_acquire(runtime.db, "x", "a", T0, LEASE_TTL)
    assert not lease.release(runtime.db, "x", "b")
    assert lease.release(runtime.db, "x", "a")
    assert lease.try_acquire(runtime.db, "x", "b", T0, LEASE_TTL)


def test_leases_with_different_names_are_independent(runtime: Runtime) -> None:
    assert lease.try_acquire(runtime.db, "x", "a", T0, LEASE_TTL)
    assert lease.try_acquire(runtime.db, "y", "b", T0, LEASE_TTL)


def test_racing_processes_take_a_free_lease_exactly_once(
    runtime: Runtime, other_runtime: Runtime
) -> None:
    start = threading.Barrier(2)
    won: dict[str, bool] = {}

    def contend(db_runtime: Runtime, holder: str) -> None:
        start.wait()
        won[holder] = lease.try_acquire(db_runtime.db, "x", holder, T0, LEASE_TTL)

    threads = [
        threading.Thread(target=contend, args=(runtime, "a")),
        threading.Thread(target=contend, args=(other_runtime, "b")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(won.values()) == [False, True]
    winner = next(holder for holder, ok in won.items() if ok)
    assert lease.holder_of(runtime.db, "x", T0) == winner


# --- leadership -------------------------------------------------------------------------


def test_of_two_schedulers_on_one_database_exactly_one_leads(
    runtime: Runtime, other_runtime: Runtime
) -> None:
    add_account(runtime, "ann@example.com")
    first, second = Scheduler(runtime, holder="one"), Scheduler(other_runtime, holder="two")
    assert first.tick(T0)
    assert not second.tick(T0 + timedelta(seconds=1))
    assert first.account_jobs()
    assert not second.account_jobs()
    assert lease.holder_of(runtime.db, LEASE_NAME, T0) == "one"


def test_the_follower_takes_over_when_the_leader_shuts_down(
    runtime: Runtime, other_runtime: Runtime
) -> None:
    leader, follower = Scheduler(runtime, holder="one"), Scheduler(other_runtime, holder="two")
    assert leader.tick(T0)
    assert not follower.tick(T0)
    leader.shutdown(wait=False)
    assert follower.tick(T0 + timedelta(seconds=1))
    assert not leader.leading


def test_the_follower_takes_over_when_the_leader_stops_renewing(
    runtime: Runtime, other_runtime: Runtime
) -> None:
    add_account(runtime, "ann@example.com")
    leader, follower = Scheduler(runtime, holder="one"), Scheduler(other_runtime, holder="two")
    assert leader.tick(T0)
    assert not follower.tick(T0 + LEASE_TTL - timedelta(seconds=1))
    assert follower.tick(T0 + LEASE_TTL + timedelta(seconds=1))
    assert follower.account_jobs()
    # The old leader wakes up (a long GC pause, a frozen VM): it must step down.
    assert not leader.tick(T0 + LEASE_TTL + timedelta(seconds=2))
    assert not leader.account_jobs()


def test_a_renewing_leader_keeps_the_lease_past_its_first_ttl(
    runtime: Runtime, other_runtime: Runtime
) -> None:
    leader, follower = Scheduler(runtime, holder="one"), Scheduler(other_runtime, holder="two")
    for seconds in (0, 20, 40, 60, 80):
        assert leader.tick(T0 + timedelta(seconds=seconds))
        assert not follower.tick(T0 + timedelta(seconds=seconds + 10))


def test_the_leader_keeps_one_job_per_account_as_accounts_come_and_go(runtime: Runtime) -> None:
    add_account(runtime, "ann@example.com")
    scheduler = Scheduler(runtime, holder="one")
    scheduler.tick(T0)
    assert sorted(scheduler.account_jobs().values()) == ["ann@example.com"]
    add_account(runtime, "bob@example.com")
    scheduler.tick(T0 + timedelta(seconds=20))
    assert sorted(scheduler.account_jobs().values()) == ["ann@example.com", "bob@example.com"]
    with session_scope(runtime.db) as session:
        session.delete(
            session.scalars(select(Account).where(Account.email == "ann@example.com")).one()
        )
    scheduler.tick(T0 + timedelta(seconds=40))
    assert sorted(scheduler.account_jobs().values()) == ["bob@example.com"]


def test_an_accounts_job_follows_its_new_address(runtime: Runtime) -> None:
    """A user's address can change at the provider (sign-in then updates the account)."""
    add_account(runtime, "ann@example.com")
    scheduler = Scheduler(runtime, holder="one")
    scheduler.tick(T0)
    with session_scope(runtime.db) as session:
        session.scalars(select(Account)).one().email = "ann.lee@example.com"
    scheduler.tick(T0 + timedelta(seconds=20))
    assert list(scheduler.account_jobs().values()) == ["ann.lee@example.com"]


def test_a_follower_runs_no_account_pass(runtime: Runtime, other_runtime: Runtime) -> None:
    add_account(runtime, "ann@example.com", "UTC")
    Scheduler(runtime, holder="one").tick(T0)
    follower = Scheduler(other_runtime, holder="two")
    assert not follower.tick(T0)
    assert follower.run_account("ann@example.com", T0) == []


def test_start_then_shutdown_releases_the_lease(settings: Settings) -> None:
    runtime = open_runtime(settings)
    scheduler = Scheduler(runtime, holder="one")
    try:
        assert scheduler.tick()  # what the started lease job does first
        scheduler.start()
    finally:
        scheduler.shutdown(wait=True)
    now = datetime.now(UTC)
    assert lease.holder_of(runtime.db, LEASE_NAME, now) is None
    assert lease.try_acquire(runtime.db, LEASE_NAME, "two", now, LEASE_TTL)
    runtime.db.dispose()


# --- the morning window -----------------------------------------------------------------


def at(zone: str, year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A wall-clock moment in ``zone``, as UTC."""
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone)).astimezone(UTC)


@pytest.mark.parametrize(
    ("moment", "zone", "expected"),
    [
        (at("Asia/Tokyo", 2025, 3, 3, 9, 30), "Asia/Tokyo", True),  # 00:30 UTC
        (at("Asia/Tokyo", 2025, 3, 3, 18, 30), "Asia/Tokyo", False),  # 09:30 UTC
        (at("America/Los_Angeles", 2025, 3, 3, 9, 0), "America/Los_Angeles", True),  # 17:00 UTC
        (at("America/Los_Angeles", 2025, 3, 3, 2, 0), "America/Los_Angeles", False),  # 10:00 UTC
        (at("Europe/London", 2025, 3, 3, 8, 0), "Europe/London", True),
        (at("Europe/London", 2025, 3, 3, 11, 0), "Europe/London", False),
        (at("Europe/London", 2025, 3, 3, 7, 59), "Europe/London", False),
    ],
)
def test_morning_window_is_on_the_owners_wall_clock(
    moment: datetime, zone: str, expected: bool
) -> None:
    assert in_morning_window(moment, zone) is expected


def test_monday_morning_east_of_utc_is_still_sunday_in_utc() -> None:
    moment = at("Asia/Tokyo", 2025, 3, 3, 8, 30)
    assert moment.isoweekday() == 7
    assert in_morning_window(moment, "Asia/Tokyo")
    assert not in_morning_window(moment, "UTC")


def test_saturday_morning_west_of_utc_gets_no_nudge() -> None:
    moment = at("America/Los_Angeles", 2025, 3, 8, 9, 30)
    assert moment.isoweekday() == 6
    assert not in_morning_window(moment, "America/Los_Angeles")
    assert not in_morning_window(at("Europe/London", 2025, 3, 9, 9, 30), "Europe/London")


def test_morning_window_defaults_to_utc() -> None:
    assert in_morning_window(datetime(2025, 3, 3, 9, 0, tzinfo=UTC), None)
    assert in_morning_window(datetime(2025, 3, 3, 9, 0, tzinfo=UTC), "Not/AZone")
    assert not in_morning_window(datetime(2025, 3, 3, 20, 0, tzinfo=UTC), None)


# --- an account's pass against the emulator ---------------------------------------------


def test_an_account_pass_syncs_at_night_and_nudges_in_the_morning(
    database_url: str, tmp_path_factory: pytest.TempPathFactory, encryption_key: str
) -> None:
    night = at("Europe/London", 2025, 3, 3, 21, 0)
    morning = at("Europe/London", 2025, 3, 4, 9, 30)
    with generated_team(
        night,
        database_url=database_url,
        data_dir=tmp_path_factory.mktemp("data"),
        encryption_key=encryption_key,
    ) as team:
        team.connect_owner()
        runtime, sandbox, org = team.runtime, team.sandbox, team.org
        scheduler = Scheduler(runtime, holder="one")
        assert scheduler.tick(night)

        [first] = scheduler.run_account(org.owner.email, night)
        assert first.error is None
        assert first.events_synced > 0
        # Holds may be booked at night; emails wait for the morning.
        assert not sandbox.world.sent
        assert statuses(runtime, "email") <= {"pending"}

        [second] = scheduler.run_account(org.owner.email, morning)
        assert second.error is None
        assert sandbox.world.sent
        assert statuses(runtime, "email") == {"sent"}


def statuses(runtime: Runtime, kind: str) -> set[str]:
    with session_scope(runtime.db) as session:
        return set(session.scalars(select(Nudge.status).where(Nudge.kind == kind)))
