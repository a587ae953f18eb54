"""The user's own knowledge about contacts: roles, cadence overrides, snooze, mute.

Roles come from the user's settings, or from the provider's directory where it has
one; a role the user set is never overwritten by the directory.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from nudger.runtime import Runtime
from nudger.store.db import session_scope
from nudger.store.models import Contact

ROLES = ("direct_report", "manager", "mentor", "peer", "external", "key")


def _contact(session: Session, account_id: int, email: str) -> Contact:
    email = email.lower()
    contact = session.scalar(
        select(Contact).where(Contact.account_id == account_id, Contact.email == email)
    )
    if contact is None:
        contact = Contact(account_id=account_id, email=email, muted=False)
        session.add(contact)
    return contact


def set_role(
    runtime: Runtime,
    account_id: int,
    email: str,
    role: str | None,
    *,
    name: str | None = None,
    source: str = "user",
) -> None:
    if role is not None and role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    with session_scope(runtime.db) as session:
        contact = _contact(session, account_id, email)
        if source == "directory" and contact.role_source == "user":
            return
        contact.role, contact.role_source = role, source
        contact.name = name or contact.name


def snooze(runtime: Runtime, account_id: int, email: str, until: datetime) -> None:
    with session_scope(runtime.db) as session:
        _contact(session, account_id, email).snoozed_until = until


def mute(runtime: Runtime, account_id: int, email: str, muted: bool = True) -> None:
    with session_scope(runtime.db) as session:
        _contact(session, account_id, email).muted = muted
