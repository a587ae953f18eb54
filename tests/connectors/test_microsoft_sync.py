"""The sync engine over the Microsoft connector (real msal, Graph over HTTP) and a real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from nudger.config import Settings
from nudger.connectors.base import Connector
from nudger.runtime import Runtime
from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import Mailbox, World
from nudger.store import events as store
from nudger.store.db import session_scope
from nudger.store.models import Calendar
from nudger.sync import sync_account, sync_window

from .microsoft_helpers import (
    add_meeting,
    add_owner,
    connected,
    fill,
    graph_requests,
    stored_account,
)

NOW = datetime.now(UTC).replace(microsecond=0)
WINDOW = sync_window(NOW, 365, 28)
MANY = 250  # three pages of 100
DELTA = "/calendarView/delta"


@pytest.fixture
def owner(world: World) -> Mailbox:
    return add_owner(world)


@pytest.fixture
def account_id(runtime: Runtime, owner: Mailbox) -> int:
    return stored_account(runtime)


@pytest.fixture
def connector(provider_settings: Settings, sandbox: Sandbox, owner: Mailbox) -> Connector:
    return connected(provider_settings, sandbox, [])


def stored(runtime: Runtime, account_id: int) -> dict[datetime, bool]:
    """Stored events by start time (Graph ids are opaque): whether each is cancelled."""
    with session_scope(runtime.db) as session:
        return {
            e.start.astimezone(UTC): e.cancelled for e in store.iter_events(session, account_id)
        }


def cursor_of(runtime: Runtime) -> str | None:
    with session_scope(runtime.db) as session:
        return session.query(Calendar).one().cursor


def test_full_then_incremental_sync(
    runtime: Runtime, account_id: int, connector: Connector, world: World, owner: Mailbox
) -> None:
    fill(world, owner, MANY, NOW)
    [full] = sync_account(runtime.db, account_id, connector.calendar, NOW, WINDOW)
    assert full.full
    assert full.pages == 3
    assert len(stored(runtime, account_id)) == MANY
    assert cursor_of(runtime)

    deleted, changed = owner.events["evt00001"], owner.events["evt00002"]
    world.delete_event(owner, deleted.id)
    changed.cancelled = True
    world.put_event(owner, changed)
    added = add_meeting(world, owner, "added00001", NOW - timedelta(days=1), "sam@example.com")
    before = graph_requests(world, DELTA)

    [incremental] = sync_account(runtime.db, account_id, connector.calendar, NOW, WINDOW)
    assert not incremental.full
    assert (incremental.events, incremental.removed) == (2, 1)
    assert graph_requests(world, DELTA) - before == 1
    rows = stored(runtime, account_id)
    assert len(rows) == MANY
    assert deleted.start not in rows
    assert rows[added.start] is False
    assert rows[changed.start] is True


def test_expired_delta_link_wipes_and_resyncs_once(
    runtime: Runtime, account_id: int, connector: Connector, world: World, owner: Mailbox
) -> None:
    fill(world, owner, 10, NOW)
    sync_account(runtime.db, account_id, connector.calendar, NOW, WINDOW)
    old_cursor = cursor_of(runtime)
    gone = owner.events["evt00003"]
    world.delete_event(owner, gone.id)
    world.expire_cursors(owner)

    [result] = sync_account(runtime.db, account_id, connector.calendar, NOW, WINDOW)
    assert result.full
    rows = stored(runtime, account_id)
    assert len(rows) == 9
    assert gone.start not in rows
    assert cursor_of(runtime) not in (None, old_cursor)
