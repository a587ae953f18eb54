"""Colleagues' time zones and working hours as the provider revealed them, and who to ask.

Only the zone and the hours are kept (metadata); busy time is read live when a slot is
needed. A person the provider would not show is kept as unavailable, so a known zone is
never guessed from an old answer: each read replaces the last.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nudger.connectors.base import ContactSchedule
from nudger.store.hours import hours_json, read_working_hours
from nudger.store.models import Account, ContactScheduleRow, Event, EventAttendee


def people_to_ask(
    session: Session, account_id: int, domain: str, since: datetime, limit: int
) -> list[str]:
    """The owner's most frequent fellow attendees in ``domain`` since ``since`` (people,
    not rooms; never the owner), most frequent first."""
    count = func.count(EventAttendee.id)
    rows = session.execute(
        select(EventAttendee.email, count)
        .join(Event, Event.id == EventAttendee.event_id)
        .where(
            EventAttendee.account_id == account_id,
            EventAttendee.is_self.is_(False),
            EventAttendee.is_resource.is_(False),
            EventAttendee.email.like(f"%@{domain}"),
            Event.start >= since,
        )
        .group_by(EventAttendee.email)
        .order_by(count.desc(), EventAttendee.email)
        .limit(limit)
    )
    return [email for email, _ in rows]


def save(
    session: Session, account_id: int, schedules: Sequence[ContactSchedule], now: datetime
) -> None:
    """Replace what was known about these people with what the provider said now."""
    rows = {row.email: row for row in _rows(session, account_id, [s.email for s in schedules])}
    for schedule in schedules:
        row = rows.get(schedule.email) or ContactScheduleRow(
            account_id=account_id, email=schedule.email
        )
        row.time_zone = schedule.time_zone
        row.working_hours = hours_json(schedule.working_hours) if schedule.working_hours else None
        row.available = schedule.available
        row.read_at = now
        session.add(row)


def record_read(session: Session, account_id: int, now: datetime, error: str | None) -> None:
    account = session.get_one(Account, account_id)
    account.schedules_read_at = now
    account.schedules_error = error


def last_read(session: Session, account_id: int) -> datetime | None:
    return session.get_one(Account, account_id).schedules_read_at


def known(session: Session, account_id: int, email: str) -> ContactSchedule | None:
    """What is known of one person's zone and hours (no busy time); None: nothing."""
    rows = _rows(session, account_id, [email.lower()])
    if not rows:
        return None
    row = rows[0]
    return ContactSchedule(
        email=row.email,
        working_hours=read_working_hours(row.working_hours),
        time_zone=row.time_zone,
        available=row.available,
    )


def _rows(session: Session, account_id: int, emails: list[str]) -> list[ContactScheduleRow]:
    if not emails:
        return []
    return list(
        session.scalars(
            select(ContactScheduleRow).where(
                ContactScheduleRow.account_id == account_id,
                ContactScheduleRow.email.in_(emails),
            )
        )
    )
