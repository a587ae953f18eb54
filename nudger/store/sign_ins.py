"""Each account's session stamp: a session cookie is good only while it matches.

The stamp is the account's session epoch and creation time. It is written into the
session at sign-in; sign-out bumps the epoch, so every cookie issued before (a copied
one included) stops working. A deleted account has no stamp, and an account that
ever got a deleted one's id (a restored backup, a reset sequence) has another
creation time, so the old cookie does not open it either.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from nudger.store.models import Account


def session_stamp(session: Session, account_id: int) -> str | None:
    """The account's current stamp; None once the account is gone."""
    row = session.execute(
        select(Account.session_epoch, Account.created_at).where(Account.id == account_id)
    ).first()
    return None if row is None else f"{row.session_epoch}@{row.created_at.isoformat()}"


def end_sessions(session: Session, account_id: int) -> None:
    """Invalidate every session cookie the account has been given so far."""
    session.execute(
        update(Account)
        .where(Account.id == account_id)
        .values(session_epoch=Account.session_epoch + 1)
    )
