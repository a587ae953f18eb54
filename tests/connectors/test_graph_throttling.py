"""Graph throttling and resync, counted and timed at the emulator: a throttled page is
asked for again once its Retry-After has passed, never the round; a 410 costs one full
resync per calendar per pass."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from nudger.config import Settings
from nudger.connectors.base import Connector
from nudger.errors import RateLimited, SyncCursorExpired
from nudger.runtime import Runtime
from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import Fault, Mailbox, World
from nudger.store import events as store
from nudger.store.db import session_scope
from nudger.store.models import Calendar
from nudger.sync import sync_account, sync_window

from .microsoft_helpers import add_owner, connected, fill, stored_account
from .throttling_helpers import asked_once_each, calls_to, faults_of, rounds_started

NOW = datetime.now(UTC).replace(microsecond=0)
WINDOW = sync_window(NOW, 365, 28)
MANY = 250  # three pages of 100
DELTA = "/calendarView/delta"
WINDOW_PARAM = "startDateTime"


@pytest.fixture
def owner(world: World) -> Mailbox:
    return add_owner(world)


@pytest.fixture
def account_id(runtime: Runtime, owner: Mailbox) -> int:
    return stored_account(runtime)


@pytest.fixture
def connector(provider_settings: Settings, sandbox: Sandbox, owner: Mailbox) -> Connector:
    return connected(provider_settings, sandbox, [])


def touch(world: World, owner: Mailbox, count: int) -> None:
    """Change ``count`` events so the next incremental round has that many."""
    for event in list(owner.events.values())[:count]:
        world.put_event(owner, event)


def stored_count(runtime: Runtime, account_id: int) -> int:
    with session_scope(runtime.db) as session:
        return sum(1 for _ in store.iter_events(session, account_id))


def cursor_of(runtime: Runtime) -> str | None:
    with session_scope(runtime.db) as session:
        return session.query(Calendar).one().cursor


def synced_once(runtime: Runtime, account_id: int, connector: Connector, world: World) -> None:
    """A first full round, then a clean request log."""
    sync_account(runtime.db, account_id, connector.calendar, NOW, WINDOW)
    with world.lock:
        world.requests.clear()


@pytest.mark.parametrize("as_date", [False, True], ids=["seconds", "http-date"])
def test_graph_429_retry_after_is_waited_out_before_the_same_page_is_asked_again(
    runtime: Runtime,
    account_id: int,
    connector: Connector,
    world: World,
    owner: Mailbox,
    as_date: bool,
) -> None:
    fill(world, owner, MANY, NOW)
    world.faults.append(Fault(DELTA, 429, retry_after=1, skip=1, retry_after_date=as_date))

    [result] = sync_account(runtime.db, account_id, connector.calendar, NOW, WINDOW)

    assert (result.pages, result.events) == (3, MANY)
    calls = calls_to(world, DELTA)
    assert faults_of(calls) == [None, 429, None, None]
    throttled, retried = calls[1], calls[2]
    assert retried.query == throttled.query, "the same page, by its own $skiptoken"
    assert retried.at - throttled.at >= 1.0


def test_throttled_page_is_retried_not_the_round(
    runtime: Runtime, account_id: int, connector: Connector, world: World, owner: Mailbox
) -> None:
    fill(world, owner, MANY, NOW)
    world.faults.append(Fault(DELTA, 429, retry_after=1, skip=2))

    [result] = sync_account(runtime.db, account_id, connector.calendar, NOW, WINDOW)

    assert result.pages == 3
    calls = calls_to(world, DELTA)
    assert faults_of(calls) == [None, None, 429, None]
    assert rounds_started(calls, WINDOW_PARAM) == 1
    assert asked_once_each(calls[:2]), "pages before the throttled one are not fetched again"
    assert stored_count(runtime, account_id) == MANY


@pytest.mark.parametrize("page", [0, 1], ids=["first-page", "second-page"])
def test_410_on_delta_link_costs_exactly_one_full_resync(
    runtime: Runtime,
    account_id: int,
    connector: Connector,
    world: World,
    owner: Mailbox,
    page: int,
) -> None:
    fill(world, owner, MANY, NOW)
    synced_once(runtime, account_id, connector, world)
    touch(world, owner, 150)  # an incremental round of two pages
    world.faults.append(Fault(DELTA, 410, reason="resyncRequired", skip=page))

    [result] = sync_account(runtime.db, account_id, connector.calendar, NOW, WINDOW)

    assert result.full
    calls = calls_to(world, DELTA)
    assert faults_of(calls) == [None] * page + [410, None, None, None]
    assert rounds_started(calls, WINDOW_PARAM) == 1
    assert stored_count(runtime, account_id) == MANY


def test_429_on_the_resyncs_first_page_does_not_trigger_a_second_resync(
    runtime: Runtime, account_id: int, connector: Connector, world: World, owner: Mailbox
) -> None:
    fill(world, owner, MANY, NOW)
    synced_once(runtime, account_id, connector, world)
    world.expire_cursors(owner)
    world.faults.append(Fault(DELTA, 429, retry_after=1, skip=1))  # after the emulator's 410

    [result] = sync_account(runtime.db, account_id, connector.calendar, NOW, WINDOW)

    assert (result.full, result.pages) == (True, 3)
    calls = calls_to(world, DELTA)
    assert faults_of(calls) == [None, 429, None, None, None]
    assert calls[2].query == calls[1].query
    assert rounds_started(calls, WINDOW_PARAM) == 1


def test_a_410_during_the_resync_ends_the_pass_instead_of_resyncing_again(
    runtime: Runtime, account_id: int, connector: Connector, world: World, owner: Mailbox
) -> None:
    fill(world, owner, MANY, NOW)
    synced_once(runtime, account_id, connector, world)
    world.faults.append(Fault(DELTA, 410, count=2, reason="resyncRequired", skip=0))

    with pytest.raises(SyncCursorExpired):
        sync_account(runtime.db, account_id, connector.calendar, NOW, WINDOW)

    assert faults_of(calls_to(world, DELTA)) == [410, 410]
    assert stored_count(runtime, account_id) == MANY, "the old rows stay until a round ends"


def test_a_410_in_a_first_full_round_is_not_followed_by_another_full_round(
    runtime: Runtime, account_id: int, connector: Connector, world: World, owner: Mailbox
) -> None:
    fill(world, owner, MANY, NOW)
    world.faults.append(Fault(DELTA, 410, reason="syncStateNotFound", skip=1))

    with pytest.raises(SyncCursorExpired):
        sync_account(runtime.db, account_id, connector.calendar, NOW, WINDOW)

    calls = calls_to(world, DELTA)
    assert faults_of(calls) == [None, 410]
    assert rounds_started(calls, WINDOW_PARAM) == 1


def test_retry_after_beyond_the_cap_ends_the_pass_and_resumes_from_the_cursor(
    runtime: Runtime, account_id: int, connector: Connector, world: World, owner: Mailbox
) -> None:
    fill(world, owner, MANY, NOW)
    synced_once(runtime, account_id, connector, world)
    saved = cursor_of(runtime)
    touch(world, owner, 3)
    world.faults.append(Fault(DELTA, 429, retry_after=3600))

    started = time.monotonic()
    with pytest.raises(RateLimited) as raised:
        sync_account(runtime.db, account_id, connector.calendar, NOW, WINDOW)
    assert time.monotonic() - started < 5, "an hour is not slept inside a pass"
    assert "3600" in str(raised.value)
    assert cursor_of(runtime) == saved

    [result] = sync_account(runtime.db, account_id, connector.calendar, NOW, WINDOW)
    assert (result.full, result.events) == (False, 3)
    calls = calls_to(world, DELTA)
    assert faults_of(calls) == [429, None]
    assert calls[1].query == calls[0].query, "the next pass asks the saved deltaLink again"
    assert rounds_started(calls, WINDOW_PARAM) == 0
