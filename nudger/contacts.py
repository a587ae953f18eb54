"""The user's own knowledge about contacts: roles, cadence overrides, snooze, mute.

Roles come from the user's settings, or from the provider's directory where it has
one; a role the user set is never overwritten by the directory.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy.orm import Session

from nudger.analysis.model import Absence, ContactPrefs
from nudger.runtime import Runtime
from nudger.store import contacts as contact_store
from nudger.store.db import session_scope
from nudger.store.models import Contact

ROLES = ("direct_report", "manager", "mentor", "peer", "external", "key")


def _prefs(contact: Contact) -> ContactPrefs:
    return ContactPrefs(
        email=contact.email,
        name=contact.name,
        role=contact.role,
        cadence_override_days=contact.cadence_override_days,
        muted=contact.muted,
        snoozed_until=contact.snoozed_until,
        talked_at=contact.talked_at,
        hire_date=contact.hire_date,
        absence=_absence(contact),
    )


def _absence(contact: Contact) -> Absence | None:
    start, end, days = contact.absence_start, contact.absence_end, contact.absence_days
    return Absence(start, end, days) if start and end and days is not None else None


def prefs_of(session: Session, account_id: int) -> dict[str, ContactPrefs]:
    """Everything the user has told nudger about the account's contacts, by address."""
    return {c.email: _prefs(c) for c in contact_store.contact_rows(session, account_id)}


def _contact(session: Session, account_id: int, email: str) -> Contact:
    contact = contact_store.contact_row(session, account_id, email)
    if contact is None:
        contact = Contact(account_id=account_id, email=email.lower(), muted=False)
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
    with session_scope(runtime.db) as session:
        assign_role(session, account_id, email, role, name=name, source=source)


def assign_role(
    session: Session,
    account_id: int,
    email: str,
    role: str | None,
    *,
    name: str | None = None,
    source: str = "user",
) -> None:
    """``set_role`` inside a session the caller holds."""
    if role is not None and role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    contact = _contact(session, account_id, email)
    if source == "directory" and contact.role_source == "user":
        return
    contact.role, contact.role_source = role, source
    contact.name = name or contact.name


def snooze(runtime: Runtime, account_id: int, email: str, until: datetime) -> None:
    with session_scope(runtime.db) as session:
        _contact(session, account_id, email).snoozed_until = until


def note_talked(runtime: Runtime, account_id: int, email: str, when: datetime) -> None:
    """The user says they talked with the contact: their nudge ladder starts afresh."""
    with session_scope(runtime.db) as session:
        contact = _contact(session, account_id, email)
        if contact.talked_at is None or contact.talked_at < when:
            contact.talked_at = when


def mute(runtime: Runtime, account_id: int, email: str, muted: bool = True) -> None:
    with session_scope(runtime.db) as session:
        _contact(session, account_id, email).muted = muted


def snooze_at_least(runtime: Runtime, account_id: int, email: str, until: datetime) -> datetime:
    """Snooze until ``until`` unless already snoozed longer: repeating it changes nothing."""
    with session_scope(runtime.db) as session:
        contact = _contact(session, account_id, email)
        current = contact.snoozed_until
        contact.snoozed_until = max(until, current) if current else until
        return contact.snoozed_until


def list_contacts(runtime: Runtime, account_id: int) -> list[ContactPrefs]:
    with session_scope(runtime.db) as session:
        return [_prefs(c) for c in contact_store.contact_rows(session, account_id)]


def find_contact(runtime: Runtime, account_id: int, email: str) -> ContactPrefs | None:
    with session_scope(runtime.db) as session:
        contact = contact_store.contact_row(session, account_id, email)
        return _prefs(contact) if contact else None


def display_name(runtime: Runtime, account_id: int, email: str) -> str | None:
    """The name the user gave the contact, else the latest the calendar shows for them."""
    known = find_contact(runtime, account_id, email)
    if known and known.name:
        return known.name
    with session_scope(runtime.db) as session:
        return contact_store.latest_attendee_name(session, account_id, email)


USER_FIELDS = ("role", "cadence_override_days", "snoozed_until", "muted")
"""The fields of ``ContactPrefs`` the user edits on /settings."""


def update_contact(runtime: Runtime, account_id: int, change: ContactPrefs) -> None:
    """Save every user-set field of one contact at once; the role becomes the user's."""
    with session_scope(runtime.db) as session:
        edit_contact(session, account_id, change, USER_FIELDS)
        if change.name:
            _contact(session, account_id, change.email).name = change.name


def edit_contact(
    session: Session, account_id: int, wanted: ContactPrefs, fields: Collection[str]
) -> None:
    """Set only ``fields`` (of ``USER_FIELDS``) of one contact to ``wanted``'s values,
    inside a session the caller holds: what else changed meanwhile (a snooze clicked in
    an email) stays. A role set here becomes the user's."""
    if wanted.role is not None and wanted.role not in ROLES:
        raise ValueError(f"unknown role {wanted.role!r}; one of {', '.join(ROLES)}")
    contact = _contact(session, account_id, wanted.email)
    if "role" in fields:
        contact.role, contact.role_source = wanted.role, "user"
    if "cadence_override_days" in fields:
        contact.cadence_override_days = wanted.cadence_override_days
    if "snoozed_until" in fields:
        contact.snoozed_until = wanted.snoozed_until
    if "muted" in fields:
        contact.muted = wanted.muted
