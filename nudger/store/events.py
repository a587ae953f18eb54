"""Calendar and event rows: what the sync engine writes and the analysis reads.

Events cross this module as ``nudger.connectors.base.CalendarEvent``; the rows are
an implementation detail. Only metadata is stored (no titles, no descriptions).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.orm import Session

from nudger.connectors.base import (
    Attendee,
    CalendarEvent,
    CalendarInfo,
    EventKind,
    Response,
    SeriesMaster,
    SyncPage,
    SyncWindow,
)
from nudger.store import analysis_state
from nudger.store.models import Calendar, Event, EventAttendee

LOAD_BATCH = 2000
EVENTS = cast(Table, Event.__table__)
ATTENDEES = cast(Table, EventAttendee.__table__)
CHUNK = 500
"""Ids per IN (...) list, well under every backend's bound-parameter limit."""
_RESPONSES = {r.value: r for r in Response}
_KINDS = {k.value: k for k in EventKind}


def get_or_create_calendar(session: Session, account_id: int, info: CalendarInfo) -> int:
    calendar = session.scalar(
        select(Calendar).where(
            Calendar.account_id == account_id,
            Calendar.provider_calendar_id == info.calendar_id,
        )
    )
    if calendar is None:
        calendar = Calendar(account_id=account_id, provider_calendar_id=info.calendar_id)
        session.add(calendar)
    calendar.name, calendar.primary, calendar.time_zone = info.name, info.primary, info.time_zone
    session.flush()
    return calendar.id


def load_cursor(session: Session, calendar_id: int, *, stale_before: datetime) -> str | None:
    """The saved cursor, or None when there is none or it is too old to keep sliding."""
    calendar = session.get_one(Calendar, calendar_id)
    if calendar.cursor is None or calendar.full_synced_at is None:
        return None
    if calendar.full_synced_at < stale_before:
        return None
    return calendar.cursor


def save_cursor(
    session: Session,
    calendar_id: int,
    cursor: str,
    window: SyncWindow,
    *,
    full: bool,
    now: datetime,
) -> None:
    calendar = session.get_one(Calendar, calendar_id)
    calendar.cursor, calendar.cursor_saved_at = cursor, now
    if full:
        calendar.full_synced_at = now
        calendar.cursor_window_start, calendar.cursor_window_end = window.start, window.end


def wipe_calendar(session: Session, calendar_id: int) -> None:
    """Drop a calendar's events and cursor (full resync); attendees go by cascade."""
    _delete_attendees(session, select(Event.id).where(Event.calendar_id == calendar_id))
    session.execute(delete(Event).where(Event.calendar_id == calendar_id))
    calendar = session.get_one(Calendar, calendar_id)
    calendar.cursor = None
    analysis_state.note_changes(session, calendar.account_id, (), everything=True)


def apply_page(session: Session, calendar_id: int, account_id: int, page: SyncPage) -> None:
    """Upsert the page's events and drop its removed ones (replace = delete + insert),
    and note the change for the analysis (who was in the events, before and after).

    Plain-row bulk INSERTs rather than ORM objects: a full sync writes every event and
    attendee in the window, and the unit of work would insert them one row at a time.
    """
    replaced = [e.event_id for e in page.events] + list(page.removed_ids)
    if not (replaced or page.series):
        return
    if page.full:  # a full round: every contact may have changed
        _write_page(session, calendar_id, account_id, page, replaced)
        analysis_state.note_changes(session, account_id, (), everything=True)
        return
    series = {e.series_id for e in page.events if e.series_id}
    series |= {m.series_id for m in page.series}
    uids = {e.ical_uid for e in page.events if e.ical_uid}
    before = _people_in(session, calendar_id, account_id, replaced, series, uids)
    _write_page(session, calendar_id, account_id, page, replaced)
    after = _people_in(session, calendar_id, account_id, replaced, series, uids)
    analysis_state.note_changes(
        session, account_id, before.people | after.people, everything=before.away or after.away
    )


@dataclass(frozen=True)
class _People:
    people: frozenset[str]
    away: bool
    """An out-of-office event is among them: the owner's working days change for all."""


def _people_in(
    session: Session,
    calendar_id: int,
    account_id: int,
    provider_ids: list[str],
    series: set[str],
    uids: set[str],
) -> _People:
    """Everyone in the calendar's events with these ids, and in the account's events that
    share a series or an iCalendar UID with them (an audit judges those together)."""
    rows: dict[int, str] = {}
    for chunk in _chunks(provider_ids, CHUNK):
        named = select(Event.id, Event.kind, Event.series_id, Event.ical_uid).where(
            Event.calendar_id == calendar_id, Event.provider_event_id.in_(chunk)
        )
        for row_id, kind, series_id, uid in session.execute(named):
            rows[row_id] = kind
            series.update([series_id] if series_id else [])
            uids.update([uid] if uid else [])
    for column, values in ((Event.series_id, series), (Event.ical_uid, uids)):
        for chunk in _chunks(sorted(values), CHUNK):
            related = select(Event.id, Event.kind).where(
                Event.account_id == account_id, column.in_(chunk)
            )
            rows.update((row_id, kind) for row_id, kind in session.execute(related))
    people: set[str] = set()
    for chunk in _chunks(list(rows), CHUNK):
        emails = select(EventAttendee.email).where(
            EventAttendee.event_id.in_(chunk),
            EventAttendee.is_self.is_(False),  # the owner and rooms are never contacts
            EventAttendee.is_resource.is_(False),
        )
        people.update(session.scalars(emails.distinct()))
    return _People(frozenset(people), EventKind.OUT_OF_OFFICE.value in rows.values())


def _write_page(
    session: Session, calendar_id: int, account_id: int, page: SyncPage, replaced: list[str]
) -> None:
    for chunk in _chunks(replaced, CHUNK):
        stale = select(Event.id).where(
            Event.calendar_id == calendar_id, Event.provider_event_id.in_(chunk)
        )
        _delete_attendees(session, stale)
        session.execute(
            delete(Event).where(
                Event.calendar_id == calendar_id, Event.provider_event_id.in_(chunk)
            )
        )
    if page.events:
        session.execute(
            insert(EVENTS), [_event_row(calendar_id, account_id, e) for e in page.events]
        )
        ids = _row_ids(session, calendar_id, [e.event_id for e in page.events])
        rows = [(ids[e.event_id], e.attendees) for e in page.events]
        _insert_attendees(session, account_id, rows)
    if not page.full:
        in_page = {e.event_id for e in page.events}
        for master in page.series:
            _follow_series(session, calendar_id, account_id, master, in_page)


def _insert_attendees(
    session: Session, account_id: int, rows: list[tuple[int, tuple[Attendee, ...]]]
) -> None:
    attendees = [_attendee_row(account_id, row_id, a) for row_id, people in rows for a in people]
    if attendees:
        session.execute(insert(ATTENDEES), attendees)


def _follow_series(
    session: Session, calendar_id: int, account_id: int, master: SeriesMaster, skip: set[str]
) -> None:
    """Give the stored plain occurrences of a series its master's (new) details.

    A full round needs none of this: every occurrence in it was completed from the
    master it came with."""
    query = select(Event.id, Event.provider_event_id).where(
        Event.calendar_id == calendar_id,
        Event.series_id == master.series_id,
        Event.follows_series.is_(True),
    )
    row_ids = [row_id for row_id, provider_id in session.execute(query) if provider_id not in skip]
    template = master.template
    for chunk in _chunks(row_ids, CHUNK):
        session.execute(
            update(Event)
            .where(Event.id.in_(chunk))
            .values(
                cancelled=template.cancelled,
                kind=template.kind.value,
                busy=template.busy,
                organizer_email=template.organizer_email,
                ical_uid=template.ical_uid,
            )
        )
        session.execute(delete(EventAttendee).where(EventAttendee.event_id.in_(chunk)))
        rows = [(row_id, template.attendees) for row_id in chunk]
        _insert_attendees(session, account_id, rows)


def _delete_attendees(session: Session, event_ids: object) -> None:
    # Explicit, so deletes do not depend on SQLite's foreign_keys pragma being on.
    session.execute(delete(EventAttendee).where(EventAttendee.event_id.in_(event_ids)))  # type: ignore[arg-type]


def _row_ids(session: Session, calendar_id: int, provider_ids: list[str]) -> dict[str, int]:
    """Row ids of the calendar's events, by provider event id."""
    found: dict[str, int] = {}
    for chunk in _chunks(provider_ids, CHUNK):
        query = select(Event.provider_event_id, Event.id).where(
            Event.calendar_id == calendar_id, Event.provider_event_id.in_(chunk)
        )
        found.update(session.execute(query).all())
    return found


def _event_row(calendar_id: int, account_id: int, event: CalendarEvent) -> dict[str, Any]:
    return {
        "calendar_id": calendar_id,
        "account_id": account_id,
        "provider_event_id": event.event_id,
        "start": event.start,
        "end": event.end,
        "all_day": event.all_day,
        "cancelled": event.cancelled,
        "kind": event.kind.value,
        "busy": event.busy,
        "organizer_email": event.organizer_email,
        "series_id": event.series_id,
        "original_start": event.original_start,
        "ical_uid": event.ical_uid,
        "hold_contact": event.hold_contact,
        "follows_series": event.follows_series,
    }


def _attendee_row(account_id: int, event_id: int, attendee: Attendee) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "event_id": event_id,
        "email": attendee.email.lower(),
        "name": attendee.name,
        "response": attendee.response.value,
        "is_resource": attendee.is_resource,
        "is_self": attendee.is_self,
        "is_organizer": attendee.is_organizer,
        "optional": attendee.optional,
    }


def iter_events(session: Session, account_id: int) -> Iterator[CalendarEvent]:
    """Every stored occurrence of the account, streamed in batches of plain rows.

    Core selects rather than ORM objects: an audit reads every event and attendee of
    the account, and building mapped objects for them would cost several times more.
    """
    last_id = 0
    while True:
        rows = session.execute(
            select(EVENTS)
            .where(EVENTS.c.account_id == account_id, EVENTS.c.id > last_id)
            .order_by(EVENTS.c.id)
            .limit(LOAD_BATCH)
        ).all()
        if not rows:
            return
        yield from _with_attendees(session, rows)
        last_id = rows[-1].id


def family_events(
    session: Session, account_id: int, contacts: Collection[str]
) -> list[CalendarEvent]:
    """The account's events any of ``contacts`` is in, and every event that shares a
    series or an iCalendar UID with one of them (the same meeting in two calendars, a
    cancelled occurrence that came without attendees), in stored order."""
    ids: set[int] = set()
    for chunk in _chunks(sorted({c.lower() for c in contacts}), CHUNK):
        theirs = select(EventAttendee.event_id).where(
            EventAttendee.account_id == account_id, EventAttendee.email.in_(chunk)
        )
        ids.update(session.scalars(theirs))
    found = [
        row for chunk in _chunks(sorted(ids), CHUNK) for row in _rows(session, account_id, chunk)
    ]
    ids = {row.id for row in found}
    for column, values in (
        (Event.series_id, {row.series_id for row in found if row.series_id}),
        (Event.ical_uid, {row.ical_uid for row in found if row.ical_uid}),
    ):
        for chunk in _chunks(sorted(values), CHUNK):
            kin = select(Event.id).where(Event.account_id == account_id, column.in_(chunk))
            ids.update(session.scalars(kin))
    known = {row.id for row in found}
    found += [
        row
        for chunk in _chunks(sorted(ids - known), CHUNK)
        for row in _rows(session, account_id, chunk)
    ]
    found.sort(key=lambda row: row.id)
    return [e for chunk in _chunks(found, LOAD_BATCH) for e in _with_attendees(session, chunk)]


def _rows(session: Session, account_id: int, row_ids: list[int]) -> Sequence[Any]:
    query = select(EVENTS).where(EVENTS.c.id.in_(row_ids), EVENTS.c.account_id == account_id)
    return session.execute(query).all()


def _with_attendees(session: Session, rows: Sequence[Any]) -> Iterator[CalendarEvent]:
    people = _attendees_of(session, [row.id for row in rows])
    for row in rows:
        yield _event(row, people.get(row.id, ()))


_ATTENDEE_COLUMNS = (
    ATTENDEES.c.event_id,
    ATTENDEES.c.email,
    ATTENDEES.c.name,
    ATTENDEES.c.response,
    ATTENDEES.c.is_resource,
    ATTENDEES.c.is_self,
    ATTENDEES.c.is_organizer,
    ATTENDEES.c.optional,
)


def _attendees_of(session: Session, event_ids: list[int]) -> dict[int, tuple[Attendee, ...]]:
    """The events' attendees, in stored order. One person answering the same way is one
    (frozen) ``Attendee`` shared by all their events: a year of meetings repeats the same
    few hundred people, and building each anew costs more than reading the row."""
    found: dict[int, list[Attendee]] = {}
    made: dict[tuple[Any, ...], Attendee] = {}
    query = select(*_ATTENDEE_COLUMNS).where(ATTENDEES.c.event_id.in_(event_ids))
    # Event by event in stored order: (event_id, id) follows the event_id index, no sort.
    rows = session.execute(query.order_by(ATTENDEES.c.event_id, ATTENDEES.c.id)).all()
    current: list[Attendee] = []
    for event_id, *fields in rows:
        key = tuple(fields)
        attendee = made.get(key)
        if attendee is None:
            email, name, response, *flags = key
            attendee = made[key] = Attendee(email, name, _RESPONSES[response], *flags)
        if event_id not in found:
            current = found[event_id] = []
        current.append(attendee)
    return {event_id: tuple(items) for event_id, items in found.items()}


def _event(row: Any, attendees: tuple[Attendee, ...]) -> CalendarEvent:
    return CalendarEvent(
        event_id=row.provider_event_id,
        start=row.start,
        end=row.end,
        attendees=attendees,
        all_day=row.all_day,
        cancelled=row.cancelled,
        kind=_KINDS[row.kind],
        busy=row.busy,
        organizer_email=row.organizer_email,
        series_id=row.series_id,
        original_start=row.original_start,
        ical_uid=row.ical_uid,
        hold_contact=row.hold_contact,
        follows_series=row.follows_series,
    )


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
