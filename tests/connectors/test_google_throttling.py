"""Google throttling and resync, counted and timed at the emulator: a throttled page is
asked for again (same pageToken) once its Retry-After has passed, never the round; a
410 on a sync token costs one full resync per calendar per pass; a wait beyond the cap
ends the account's pass, and the next pass resumes from the saved sync token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from nudger import accounts
from nudger.config import Settings
from nudger.connectors.base import Connector
from nudger.cycle import run_cycle
from nudger.runtime import Runtime
from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import Fault, Mailbox, World
from nudger.store import events as store
from nudger.store.db import session_scope
from nudger.store.models import Account
from nudger.sync import sync_account, sync_window

from .conftest import GOOGLE_OWNER
from .google_helpers import add_meeting, connected, consent
from .throttling_helpers import asked_once_each, calls_to, faults_of, rounds_started

NOW = datetime.now(UTC).replace(microsecond=0)
WINDOW = sync_window(NOW, 365, 28)
MANY = 2000  # two pages of the emulator: 2/3 of 2,500, then the rest
EVENTS = f"/calendar/v3/calendars/{GOOGLE_OWNER}/events"
WINDOW_PARAM = "timeMin"


@pytest.fixture
def account_id(runtime: Runtime) -> int:
    with session_scope(runtime.db) as session:
        account = Account(provider="google", email=GOOGLE_OWNER, credentials="-", settings={})
        session.add(account)
        session.flush()
        return account.id


@pytest.fixture
def connector(provider_settings: Settings, sandbox: Sandbox) -> Connector:
    return connected(provider_settings, sandbox, GOOGLE_OWNER, [])


def owner(world: World) -> Mailbox:
    return world.mailbox(GOOGLE_OWNER)


def fill(world: World, count: int) -> None:
    for i in range(count):
        start = NOW - timedelta(days=300) + timedelta(hours=3 * i)
        add_meeting(world, owner(world), f"evt{i:05d}", start, "priya@example.com")


def touch(world: World, count: int) -> None:
    """Change ``count`` events so the next incremental round has that many."""
    for event in list(owner(world).events.values())[:count]:
        world.put_event(owner(world), event)


def stored_count(runtime: Runtime, account_id: int) -> int:
    with session_scope(runtime.db) as session:
        return sum(1 for _ in store.iter_events(session, account_id))


def synced_once(runtime: Runtime, account_id: int, connector: Connector, world: World) -> None:
    """A first full round, then a clean request log."""
    sync_account(runtime.db, account_id, connector.calendar, NOW, WINDOW)
    with world.lock:
        world.requests.clear()


@pytest.mark.parametrize("as_date", [False, True], ids=["seconds", "http-date"])
def test_google_429_retry_after_is_waited_out(
    runtime: Runtime, account_id: int, connector: Connector, world: World, as_date: bool
) -> None:
    fill(world, MANY)
    world.faults.append(Fault(EVENTS, 429, retry_after=1, skip=1, retry_after_date=as_date))

    [result] = sync_account(runtime.db, account_id, connector.calendar, NOW, WINDOW)

    assert (result.pages, result.events) == (2, MANY)
    calls = calls_to(world, EVENTS)
    assert faults_of(calls) == [None, 429, None]
    throttled, retried = calls[1], calls[2]
    assert retried.query == throttled.query, "the same page, by its own pageToken"
    assert "pageToken" in retried.query
    assert retried.at - throttled.at >= 1.0


@pytest.mark.parametrize("reason", ["rateLimitExceeded", "userRateLimitExceeded"])
def test_403_rate_limit_exceeded_with_retry_after_is_waited_out_like_a_429(
    runtime: Runtime, account_id: int, connector: Connector, world: World, reason: str
) -> None:
    fill(world, MANY)
    world.faults.append(Fault(EVENTS, 403, retry_after=1, skip=1, reason=reason))

    [result] = sync_account(runtime.db, account_id, connector.calendar, NOW, WINDOW)

    assert result.events == MANY
    calls = calls_to(world, EVENTS)
    assert faults_of(calls) == [None, 403, None]
    assert calls[2].query == calls[1].query
    assert calls[2].at - calls[1].at >= 1.0


def test_throttled_google_page_is_retried_not_the_round(
    runtime: Runtime, account_id: int, connector: Connector, world: World
) -> None:
    fill(world, MANY)
    world.faults.append(Fault(EVENTS, 429, retry_after=1, skip=1, count=2))

    [result] = sync_account(runtime.db, account_id, connector.calendar, NOW, WINDOW)

    assert result.pages == 2
    calls = calls_to(world, EVENTS)
    assert faults_of(calls) == [None, 429, 429, None]
    assert rounds_started(calls, WINDOW_PARAM) == 1
    assert asked_once_each(calls[:1]), "the first page is not fetched again"
    assert calls[3].at - calls[1].at >= 2.0, "each 429 waited out in turn"
    assert stored_count(runtime, account_id) == MANY


@pytest.mark.parametrize("page", [0, 1], ids=["first-page", "second-page"])
def test_410_on_google_sync_token_costs_exactly_one_full_resync(
    runtime: Runtime, account_id: int, connector: Connector, world: World, page: int
) -> None:
    fill(world, MANY)
    synced_once(runtime, account_id, connector, world)
    touch(world, MANY)  # an incremental round of two pages
    world.faults.append(Fault(EVENTS, 410, reason="fullSyncRequired", skip=page))

    [result] = sync_account(runtime.db, account_id, connector.calendar, NOW, WINDOW)

    assert result.full
    calls = calls_to(world, EVENTS)
    assert faults_of(calls) == [None] * page + [410, None, None]
    assert all("syncToken" in c.query for c in calls[: page + 1])
    assert rounds_started(calls, WINDOW_PARAM) == 1
    assert stored_count(runtime, account_id) == MANY


def test_429_on_google_resyncs_first_page_does_not_trigger_a_second_resync(
    runtime: Runtime, account_id: int, connector: Connector, world: World
) -> None:
    fill(world, MANY)
    synced_once(runtime, account_id, connector, world)
    world.expire_cursors(owner(world))
    world.faults.append(Fault(EVENTS, 429, retry_after=1, skip=1))  # after the emulator's 410

    [result] = sync_account(runtime.db, account_id, connector.calendar, NOW, WINDOW)

    assert (result.full, result.pages) == (True, 2)
    calls = calls_to(world, EVENTS)
    assert faults_of(calls) == [None, 429, None, None]
    assert "syncToken" in calls[0].query
    assert calls[2].query == calls[1].query
    assert rounds_started(calls, WINDOW_PARAM) == 1


def connect(runtime: Runtime, sandbox: Sandbox) -> accounts.AccountRef:
    start = accounts.begin_connect(runtime, "google", login_hint=GOOGLE_OWNER)
    return accounts.complete_connect(runtime, "google", consent(sandbox, start.url))


def test_retry_after_beyond_the_cap_ends_the_pass_and_resumes_from_the_cursor(
    runtime: Runtime, sandbox: Sandbox, world: World
) -> None:
    fill(world, 20)
    connect(runtime, sandbox)
    [first] = run_cycle(runtime, now=NOW, dry_run=True)
    assert (first.error, first.events_synced) == (None, 20)
    touch(world, 3)
    with world.lock:
        world.requests.clear()
    world.faults.append(Fault(EVENTS, 429, retry_after=3600))

    [throttled] = run_cycle(runtime, now=NOW, dry_run=True)
    assert throttled.error is not None
    assert "rate limited" in throttled.error
    assert "3600s" in throttled.error

    [resumed] = run_cycle(runtime, now=NOW, dry_run=True)
    assert (resumed.error, resumed.events_synced) == (None, 3)
    calls = calls_to(world, EVENTS)
    assert faults_of(calls) == [429, None]
    assert calls[1].query == calls[0].query, "the next pass asks with the saved sync token"
    assert "syncToken" in calls[1].query
    assert rounds_started(calls, WINDOW_PARAM) == 0
