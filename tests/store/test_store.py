"""The database layer on SQLite and PostgreSQL: migrations, rows, cursors, cascades."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, func, select, text

from nudger.config import Settings
from nudger.connectors.base import (
    Attendee,
    CalendarEvent,
    CalendarInfo,
    EventKind,
    Response,
    SyncPage,
    SyncWindow,
)
from nudger.runtime import Runtime, open_runtime
from nudger.store import events as store
from nudger.store.db import MIGRATIONS, migrate, session_scope
from nudger.store.models import Account, Base, Contact, Event, EventAttendee, Nudge

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WINDOW = SyncWindow(T0 - timedelta(days=365), T0 + timedelta(days=28))


def meeting(event_id: str, start: datetime, *, cancelled: bool = False) -> CalendarEvent:
    return CalendarEvent(
        event_id=event_id,
        start=start,
        end=start + timedelta(minutes=30),
        attendees=(
            Attendee("owner@example.com", "Owner", Response.ACCEPTED, is_self=True),
            Attendee("Priya@Example.com", "Priya Shah", Response.DECLINED),
            Attendee("room-1@resource.example.com", "Room 1", Response.ACCEPTED, is_resource=True),
        ),
        cancelled=cancelled,
        series_id="series1",
        original_start=start,
        ical_uid=f"{event_id}@example.com",
    )


def add_account(runtime: Runtime, email: str = "owner@example.com") -> int:
    with session_scope(runtime.db) as session:
        account = Account(provider="google", email=email, credentials="x", settings={})
        session.add(account)
        session.flush()
        return account.id


def add_calendar(runtime: Runtime, account_id: int) -> int:
    with session_scope(runtime.db) as session:
        return store.get_or_create_calendar(
            session, account_id, CalendarInfo("primary", "Owner", True, "Europe/London")
        )


def stored(runtime: Runtime, account_id: int) -> dict[str, CalendarEvent]:
    with session_scope(runtime.db) as session:
        return {e.event_id: e for e in store.iter_events(session, account_id)}


def test_migrations_match_the_models(runtime: Runtime) -> None:
    with runtime.db.engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
    assert diff == []


def test_attendees_stored_before_revision_0005_gain_their_account(
    unmigrated_database_url: str,
) -> None:
    engine = create_engine(unmigrated_database_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0004")
        for statement in (
            "INSERT INTO accounts (id, provider, email, status, credentials, scopes, aliases,"
            " settings, created_at, updated_at, session_epoch) VALUES (7, 'google',"
            " 'o@example.com', 'active', 'x', '', '', '{}', :t, :t, 0)",
            'INSERT INTO calendars (id, account_id, provider_calendar_id, name, "primary")'
            " VALUES (3, 7, 'primary', '', true)",
            'INSERT INTO events (id, calendar_id, account_id, provider_event_id, start, "end",'
            " all_day, cancelled, kind, busy, follows_series) VALUES (5, 3, 7, 'e1', :t, :t,"
            " false, false, 'meeting', true, false)",
            "INSERT INTO event_attendees (event_id, email, response, is_resource, is_self,"
            " is_organizer, optional) VALUES (5, 'a@example.com', 'accepted', false, false,"
            " false, false)",
        ):
            connection.execute(text(statement), {"t": T0})
    migrate(engine)
    with engine.connect() as connection:
        owner = connection.execute(text("SELECT account_id FROM event_attendees")).scalar()
    engine.dispose()
    assert owner == 7


def test_opening_twice_is_a_no_op(settings: Settings, runtime: Runtime) -> None:
    again = open_runtime(settings)
    with again.db.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0008"
    again.db.dispose()


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(runtime: Runtime) -> None:
    if runtime.db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas")
    with runtime.db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 10_000
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_events_round_trip_as_aware_utc_without_titles(runtime: Runtime) -> None:
    account_id = add_account(runtime)
    calendar_id = add_calendar(runtime, account_id)
    event = meeting("a1", T0)
    with session_scope(runtime.db) as session:
        store.apply_page(session, calendar_id, account_id, SyncPage(events=(event,)))
    back = stored(runtime, account_id)["a1"]
    assert back.start == T0
    assert back.start.tzinfo is not None
    assert back.attendees[1] == Attendee("priya@example.com", "Priya Shah", Response.DECLINED)
    assert back.attendees[2].is_resource
    assert back.series_id == "series1"
    assert back.original_start == T0
    assert back.kind is EventKind.MEETING
    columns = {c.name for c in Event.__table__.columns}
    assert not columns & {"summary", "title", "description", "body"}


def test_naive_datetimes_are_refused(runtime: Runtime) -> None:
    account_id = add_account(runtime)
    with pytest.raises(Exception, match="naive datetime"), session_scope(runtime.db) as session:
        session.get_one(Account, account_id).reconnect_notified_at = datetime(2026, 1, 1)


def test_pages_upsert_and_remove(runtime: Runtime) -> None:
    account_id = add_account(runtime)
    calendar_id = add_calendar(runtime, account_id)
    with session_scope(runtime.db) as session:
        page = SyncPage(events=(meeting("a1", T0), meeting("a2", T0 + timedelta(days=7))))
        store.apply_page(session, calendar_id, account_id, page)
    with session_scope(runtime.db) as session:
        changed = SyncPage(events=(meeting("a1", T0, cancelled=True),), removed_ids=("a2",))
        store.apply_page(session, calendar_id, account_id, changed)
    events = stored(runtime, account_id)
    assert set(events) == {"a1"}
    assert events["a1"].cancelled
    with session_scope(runtime.db) as session:
        assert session.scalar(select(func.count()).select_from(EventAttendee)) == 3


def test_cursor_is_kept_until_it_is_too_old(runtime: Runtime) -> None:
    account_id = add_account(runtime)
    calendar_id = add_calendar(runtime, account_id)
    with session_scope(runtime.db) as session:
        assert store.load_cursor(session, calendar_id, stale_before=T0) is None
        store.save_cursor(session, calendar_id, "token-1", WINDOW, full=True, now=T0)
    with session_scope(runtime.db) as session:
        assert store.load_cursor(session, calendar_id, stale_before=T0 - timedelta(days=1)) == (
            "token-1"
        )
        assert store.load_cursor(session, calendar_id, stale_before=T0 + timedelta(days=1)) is None


def test_wipe_drops_events_and_cursor_of_one_calendar_only(runtime: Runtime) -> None:
    account_id = add_account(runtime)
    calendar_id = add_calendar(runtime, account_id)
    with session_scope(runtime.db) as session:
        other = store.get_or_create_calendar(
            session, account_id, CalendarInfo("team", "Team", False)
        )
        store.apply_page(session, calendar_id, account_id, SyncPage(events=(meeting("a1", T0),)))
        store.apply_page(session, other, account_id, SyncPage(events=(meeting("b1", T0),)))
        store.save_cursor(session, calendar_id, "token-1", WINDOW, full=True, now=T0)
    with session_scope(runtime.db) as session:
        store.wipe_calendar(session, calendar_id)
    assert set(stored(runtime, account_id)) == {"b1"}
    with session_scope(runtime.db) as session:
        assert store.load_cursor(session, calendar_id, stale_before=T0 - timedelta(1)) is None


def test_deleting_an_account_deletes_every_row(runtime: Runtime) -> None:
    account_id = add_account(runtime)
    keep_id = add_account(runtime, "someone-else@example.com")
    calendar_id = add_calendar(runtime, account_id)
    with session_scope(runtime.db) as session:
        store.apply_page(session, calendar_id, account_id, SyncPage(events=(meeting("a1", T0),)))
        session.add(Contact(account_id=account_id, email="priya@example.com", role="peer"))
        session.add(
            Nudge(account_id=account_id, key="k1", contact_email="p", kind="email", rule="r")
        )
    with session_scope(runtime.db) as session:
        session.delete(session.get_one(Account, account_id))
    with session_scope(runtime.db) as session:
        for model in (Event, EventAttendee, Contact, Nudge):
            assert session.scalar(select(func.count()).select_from(model)) == 0, model
        assert session.get(Account, keep_id) is not None
