"""What the stored calendars say about the owner's time: out-of-office blocks, holds
already on the calendar, where booked holds sit, and when the primary calendar was
last synced. Read by delivery (slots), hold feedback and the dashboard.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from nudger.connectors.base import BusyInterval, SyncWindow
from nudger.store.models import Calendar, Event


def out_of_office(session: Session, account_id: int, window: SyncWindow) -> list[BusyInterval]:
    rows = session.execute(
        select(Event.start, Event.end).where(
            Event.account_id == account_id,
            Event.kind == "out_of_office",
            Event.cancelled.is_(False),
            Event.end > window.start,
            Event.start < window.end,
        )
    )
    return [BusyInterval(start, end, out_of_office=True) for start, end in rows]


def hold_starts_from(session: Session, account_id: int, since: datetime) -> list[datetime]:
    """When nudger's holds on the calendar start, from ``since`` on."""
    rows = session.scalars(
        select(Event.start).where(
            Event.account_id == account_id,
            Event.hold_contact.is_not(None),
            Event.cancelled.is_(False),
            Event.start >= since,
        )
    )
    return list(rows)


def event_starts(
    session: Session, account_id: int, provider_ids: Sequence[str]
) -> dict[str, datetime]:
    """When each of these provider events starts, for those on the calendar (one query)."""
    if not provider_ids:
        return {}
    calendars = select(Calendar.id).where(Calendar.account_id == account_id)
    rows = session.execute(
        select(Event.provider_event_id, Event.start).where(
            Event.calendar_id.in_(calendars),  # by the (calendar, provider id) unique index
            Event.provider_event_id.in_(provider_ids),
            Event.cancelled.is_(False),
        )
    )
    return {event_id: start for event_id, start in rows}


def primary_synced_at(session: Session, account_id: int) -> datetime | None:
    """When the primary calendar last saved a sync cursor; None before its first sync."""
    return session.scalar(
        select(Calendar.cursor_saved_at).where(
            Calendar.account_id == account_id, Calendar.primary.is_(True)
        )
    )
