"""The sync engine over the real Google client, the emulator and a real database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from nudger.config import Settings
from nudger.connectors.base import CalendarReader, Connector, SyncPage, SyncWindow
from nudger.errors import ConnectorError
from nudger.runtime import Runtime
from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import Fault, Mailbox, World
from nudger.store import events as store
from nudger.store.db import session_scope
from nudger.store.models import Account, Calendar
from nudger.sync import sync_account, sync_window
from tests.connectors.conftest import GOOGLE_OWNER
from tests.connectors.google_helpers import add_meeting, connected

NOW = datetime.now(UTC).replace(microsecond=0)
WINDOW = sync_window(NOW, 365, 28)
MANY = 2000  # more than one page of 2,500 results: the emulator's first page holds 2/3


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


def stored_ids(runtime: Runtime, account_id: int) -> set[str]:
    with session_scope(runtime.db) as session:
        return {e.event_id for e in store.iter_events(session, account_id)}


def cursor_of(runtime: Runtime) -> str | None:
    with session_scope(runtime.db) as session:
        return session.query(Calendar).one().cursor


def events_requests(world: World) -> int:
    return sum(1 for r in world.requests if r.path.endswith("/events") and r.method == "GET")


def test_full_then_incremental_sync(
    runtime: Runtime, account_id: int, connector: Connector, world: World
) -> None:
    fill(world, MANY)
    [full] = sync_account(runtime.db, account_id, connector.calendar, NOW, WINDOW)
    assert full.full
    assert full.pages > 1
    assert len(stored_ids(runtime, account_id)) == MANY
    assert cursor_of(runtime)

    mailbox = owner(world)
    world.delete_event(mailbox, "evt00001")
    add_meeting(world, mailbox, "added00001", NOW - timedelta(days=1), "sam@example.com")
    changed = mailbox.events["evt00002"]
    changed.cancelled = True
    world.put_event(mailbox, changed)
    before = events_requests(world)

    [incremental] = sync_account(runtime.db, account_id, connector.calendar, NOW, WINDOW)
    assert not incremental.full
    assert events_requests(world) - before == 1
    ids = stored_ids(runtime, account_id)
    assert "evt00001" not in ids
    assert "added00001" in ids
    with session_scope(runtime.db) as session:
        cancelled = {e.event_id for e in store.iter_events(session, account_id) if e.cancelled}
    assert "evt00002" in cancelled


def test_expired_cursor_wipes_and_resyncs_once(
    runtime: Runtime, account_id: int, connector: Connector, world: World
) -> None:
    fill(world, 10)
    sync_account(runtime.db, account_id, connector.calendar, NOW, WINDOW)
    world.delete_event(owner(world), "evt00003")
    world.expire_cursors(owner(world))

    [result] = sync_account(runtime.db, account_id, connector.calendar, NOW, WINDOW)
    assert result.full
    assert stored_ids(runtime, account_id) == {f"evt{i:05d}" for i in range(10)} - {"evt00003"}


class FailsAfterFirstPage:
    """The real reader, with the provider failing on the second page of a round."""

    def __init__(self, reader: CalendarReader, world: World) -> None:
        self.reader, self.world = reader, world

    def __getattr__(self, name: str) -> object:
        return getattr(self.reader, name)

    def sync(self, calendar_id: str, cursor: str | None, window: SyncWindow) -> Iterator[SyncPage]:
        for number, page in enumerate(self.reader.sync(calendar_id, cursor, window)):
            yield page
            if number == 0:
                self.world.faults.append(Fault(path="/events", status=400, method="GET"))


def test_a_round_that_fails_midway_keeps_the_old_rows_and_cursor(
    runtime: Runtime, account_id: int, connector: Connector, world: World
) -> None:
    fill(world, 5)
    sync_account(runtime.db, account_id, connector.calendar, NOW, WINDOW)
    old_cursor = cursor_of(runtime)
    fill(world, MANY)  # replaces the five and adds more
    world.expire_cursors(owner(world))

    broken = FailsAfterFirstPage(connector.calendar, world)
    with pytest.raises(ConnectorError):
        sync_account(runtime.db, account_id, broken, NOW, WINDOW)  # type: ignore[arg-type]
    assert stored_ids(runtime, account_id) == {f"evt{i:05d}" for i in range(5)}
    assert cursor_of(runtime) == old_cursor
