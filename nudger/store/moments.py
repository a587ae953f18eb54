"""The contact rows moments read into: who is due a read, and the rows to write it on."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from nudger.store.models import Contact


def key_people(
    session: Session, account_id: int, read_at: InstrumentedAttribute[datetime | None]
) -> list[tuple[str, datetime | None]]:
    """Every contact with a role, and when ``read_at`` says they were last read."""
    query = select(Contact.email, read_at).where(
        Contact.account_id == account_id, Contact.role.is_not(None)
    )
    return [(email, last) for email, last in session.execute(query)]


def rows_by_email(session: Session, account_id: int, emails: Sequence[str]) -> dict[str, Contact]:
    query = select(Contact).where(Contact.account_id == account_id, Contact.email.in_(emails))
    return {row.email: row for row in session.scalars(query)}
