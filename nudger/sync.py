"""Incremental sync: one cursor per calendar, pages applied in one transaction.

A round without a cursor is a full sync: the calendar's rows are wiped and rebuilt
inside the same transaction, so a crash half-way leaves the old rows and the old
cursor in place. The cursor is saved only after the last page, with the rows.
A stale cursor (HTTP 410) wipes the calendar and resyncs in full: one full round
per calendar per pass, wherever the 410 comes (first page or a later one). A 410
inside a full round (its page links expired) is not answered by another full round:
the pass ends for that account and the next pass starts one. Throttled pages are
retried inside the connector (``connectors/retry.py``), never by restarting a round.
Because neither provider lets a cursor's window slide, a cursor older than
``FULL_RESYNC_AFTER`` is dropped so the window moves forward.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from nudger.connectors.base import CalendarInfo, CalendarReader, SyncWindow
from nudger.errors import SyncCursorExpired
from nudger.store import events as store
from nudger.store.db import Database, session_scope

log = logging.getLogger(__name__)

FULL_RESYNC_AFTER = timedelta(days=7)

BeforeCommit = Callable[[Session], None]


@dataclass(frozen=True)
class CalendarSyncResult:
    calendar_id: str
    full: bool
    pages: int
    events: int
    removed: int


def sync_window(now: datetime, lookback_days: int, lookahead_days: int) -> SyncWindow:
    return SyncWindow(now - timedelta(days=lookback_days), now + timedelta(days=lookahead_days))


def choose_calendars(calendars: list[CalendarInfo], wanted: list[str] | None) -> list[CalendarInfo]:
    """The primary calendar by default; the ones named in the account's settings otherwise."""
    if wanted:
        return [
            c for c in calendars if c.calendar_id in wanted or (c.primary and "primary" in wanted)
        ]
    return [c for c in calendars if c.primary][:1]


def sync_account(
    db: Database,
    account_id: int,
    reader: CalendarReader,
    now: datetime,
    window: SyncWindow,
    wanted: list[str] | None = None,
    before_commit: BeforeCommit | None = None,
) -> list[CalendarSyncResult]:
    """Each chosen calendar's round. ``before_commit`` runs in each round's transaction
    just before it commits (the pass renews its lease there: ``KeptLease.renew_in``)."""
    results = []
    for info in choose_calendars(reader.list_calendars(), wanted):
        with session_scope(db) as session:
            calendar_id = store.get_or_create_calendar(session, account_id, info)
        results.append(
            sync_calendar(
                db, account_id, calendar_id, info.calendar_id, reader, now, window, before_commit
            )
        )
    return results


def sync_calendar(
    db: Database,
    account_id: int,
    calendar_id: int,
    provider_calendar_id: str,
    reader: CalendarReader,
    now: datetime,
    window: SyncWindow,
    before_commit: BeforeCommit | None = None,
) -> CalendarSyncResult:
    with session_scope(db) as session:
        cursor = store.load_cursor(session, calendar_id, stale_before=now - FULL_RESYNC_AFTER)
    target = _Target(db, account_id, calendar_id, provider_calendar_id, before_commit)
    try:
        return _round(target, reader, cursor, window, now)
    except SyncCursorExpired:
        if cursor is None:
            raise  # this was the pass's full round already
        log.warning("sync cursor of calendar %s expired; resyncing in full", calendar_id)
        return _round(target, reader, None, window, now)


@dataclass(frozen=True)
class _Target:
    """Where a round writes, and what runs in its transaction before it commits."""

    db: Database
    account_id: int
    calendar_id: int
    provider_calendar_id: str
    before_commit: BeforeCommit | None


def _round(
    target: _Target,
    reader: CalendarReader,
    cursor: str | None,
    window: SyncWindow,
    now: datetime,
) -> CalendarSyncResult:
    """One round in one transaction: a round that fails leaves the stored copy as it was."""
    calendar_id, provider_calendar_id = target.calendar_id, target.provider_calendar_id
    pages = events = removed = 0
    with session_scope(target.db) as session:
        if cursor is None:
            store.wipe_calendar(session, calendar_id)
        for page in reader.sync(provider_calendar_id, cursor, window):
            store.apply_page(session, calendar_id, target.account_id, page)
            pages, events, removed = (
                pages + 1,
                events + len(page.events),
                removed + len(page.removed_ids),
            )
            if page.cursor:
                store.save_cursor(
                    session, calendar_id, page.cursor, window, full=cursor is None, now=now
                )
        if target.before_commit is not None:
            target.before_commit(session)
    log.info(
        "synced calendar %s: full=%s pages=%d events=%d removed=%d",
        calendar_id,
        cursor is None,
        pages,
        events,
        removed,
    )
    return CalendarSyncResult(provider_calendar_id, cursor is None, pages, events, removed)
