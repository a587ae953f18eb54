"""Account rows: listing, lookup by address, and status changes by conditional UPDATE."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from nudger.store.models import Account, Calendar


def accounts_by_email(session: Session) -> list[Account]:
    return list(session.scalars(select(Account).order_by(Account.email)))


def account_by_email(session: Session, email: str) -> Account | None:
    return session.scalar(select(Account).where(Account.email == email.lower()))


def account_of_user(session: Session, provider: str, subject: str) -> Account | None:
    """The account of the provider's user ``subject`` (their stable id)."""
    query = select(Account).where(Account.provider == provider, Account.subject == subject)
    return session.scalar(query)


def account_holding(session: Session, provider: str, email: str) -> Account | None:
    """The provider's account that has this address now."""
    query = select(Account).where(Account.provider == provider, Account.email == email)
    return session.scalar(query)


def change_status(
    session: Session,
    account_id: int,
    before: str,
    after: str,
    *,
    reconnect_notified_at: datetime | None = None,
) -> bool:
    """Move the account from ``before`` to ``after`` by a conditional UPDATE: True for
    the one caller that moved it, False when it was in another state."""
    values: dict[str, object] = {"status": after}
    if reconnect_notified_at is not None:
        values["reconnect_notified_at"] = reconnect_notified_at
    result = session.execute(
        update(Account)
        .where(Account.id == account_id, Account.status == before)
        .values(values)
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], result).rowcount == 1


def first_sync_done(session: Session, account_id: int) -> bool:
    """At least one of the account's calendars has been read in full."""
    query = select(Calendar.id).where(
        Calendar.account_id == account_id, Calendar.full_synced_at.is_not(None)
    )
    return session.scalar(query.limit(1)) is not None
