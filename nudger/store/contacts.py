"""Contact rows: what the user (or the directory) told nudger about each contact, and
the names the calendar shows for them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from nudger.store.models import Contact, Event, EventAttendee


def contact_row(session: Session, account_id: int, email: str) -> Contact | None:
    """The account's row for ``email`` (stored lowercase), if the user has one."""
    return session.scalar(
        select(Contact).where(Contact.account_id == account_id, Contact.email == email.lower())
    )


def contact_rows(session: Session, account_id: int) -> list[Contact]:
    """Every contact row of the account, by address."""
    query = select(Contact).where(Contact.account_id == account_id).order_by(Contact.email)
    return list(session.scalars(query))


def latest_attendee_name(session: Session, account_id: int, email: str) -> str | None:
    """The name the calendar most recently showed for ``email``."""
    return session.scalar(
        select(EventAttendee.name)
        .join(Event, Event.id == EventAttendee.event_id)
        .where(
            Event.account_id == account_id,
            EventAttendee.email == email.lower(),
            EventAttendee.name.is_not(None),
        )
        .order_by(Event.start.desc())
        .limit(1)
    )
