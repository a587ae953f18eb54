"""Step 1 of a pass: bring the stored copy of the account up to date.

The owner's profile (name, zone, aliases, working hours) and roles from the directory,
read once a day (``PROFILE_EVERY``) and after each sign-in, the chosen calendars' events
(incrementally: ``nudger.sync``), then the holds the user deleted since. Idempotent: a
second run with the saved cursors fetches only what changed since the first (usually
nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from nudger import contacts
from nudger.connectors.base import AccountProfile, Connector, Person
from nudger.delivery import hold_feedback
from nudger.lease import KeptLease
from nudger.passes.connection import Connection, connect
from nudger.runtime import Runtime
from nudger.store.db import session_scope
from nudger.store.hours import hours_json
from nudger.store.models import Account
from nudger.sync import sync_account, sync_window

PROFILE_EVERY = timedelta(days=1)
"""Profiles, working hours and org charts change rarely; a request each pass would cost
more than the rest of a pass with nothing new."""


@dataclass(frozen=True)
class SyncOutcome:
    calendars: int
    events: int
    """Events received: new or changed since the last cursor."""
    removed: int
    holds_declined: int
    """Holds nudger booked that the user has deleted: taken as "no, thanks"."""


def sync_step(
    runtime: Runtime,
    account_id: int,
    now: datetime,
    *,
    connection: Connection | None = None,
    lease: KeptLease | None = None,
) -> SyncOutcome:
    """``lease``: the pass's, renewed as each round commits (a full round on SQLite can
    hold the write lock longer than the lease lives)."""
    connection = connection or connect(runtime, account_id)
    wanted = _refresh_account(runtime, account_id, connection.connector, now)
    window = sync_window(now, runtime.settings.lookback_days, runtime.settings.lookahead_days)
    with connection.saver.deferred():  # a refresh in mid-round must not wait on the round's lock
        synced = sync_account(
            runtime.db,
            account_id,
            connection.connector.calendar,
            now,
            window,
            wanted,
            before_commit=lease.renew_in if lease else None,
        )
    with session_scope(runtime.db) as session:
        declined = hold_feedback.record_deleted_holds(session, account_id, now)
    return SyncOutcome(
        calendars=len(synced),
        events=sum(r.events for r in synced),
        removed=sum(r.removed for r in synced),
        holds_declined=declined,
    )


def _refresh_account(
    runtime: Runtime, account_id: int, connector: Connector, now: datetime
) -> list[str] | None:
    """Store the profile and the directory's roles when due; returns the calendars to sync."""
    with session_scope(runtime.db) as session:
        account = session.get_one(Account, account_id)
        wanted: list[str] | None = (account.settings or {}).get("calendars")
        last = account.profile_synced_at
    if last is not None and last <= now < last + PROFILE_EVERY:
        return wanted
    profile = connector.calendar.profile()
    found = _directory_roles(connector)
    with session_scope(runtime.db) as session:
        account = session.get_one(Account, account_id)
        _store_profile(account, profile)
        account.profile_synced_at = now
        for person, role in found:
            contacts.assign_role(
                session, account_id, person.email, role, name=person.name, source="directory"
            )
    return wanted


def _store_profile(account: Account, profile: AccountProfile) -> None:
    account.name = profile.name or account.name
    account.time_zone = profile.time_zone or account.time_zone
    account.aliases = " ".join(profile.aliases)
    hours = profile.working_hours
    account.working_hours = hours_json(hours) if hours else None


def _directory_roles(connector: Connector) -> list[tuple[Person, str]]:
    """Roles from the org chart (``contacts`` never lets them overwrite the user's)."""
    if connector.directory is None:
        return []
    found = [(p, "direct_report") for p in connector.directory.direct_reports()]
    manager = connector.directory.manager()
    if manager is not None:
        found.append((manager, "manager"))
    return found
