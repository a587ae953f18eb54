"""Step 1b of a pass: learn colleagues' time zones and working hours, at most once a day.

The owner's most frequent fellow attendees inside their own domain are asked about
(``ScheduleReader``; outsiders never are). What the provider says replaces what was
known. A failed read is recorded on the account and retried the next day; it never
fails the pass, since slots and emails simply go without the other person's hours. A
revoked grant is the exception: it stops the pass as it would anywhere else.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from nudger.connectors.base import Connector, SyncWindow
from nudger.connectors.schedules import domain
from nudger.errors import AuthRevoked, ConnectorError
from nudger.runtime import Runtime
from nudger.store import contact_schedules
from nudger.store.db import session_scope
from nudger.store.models import Account

log = logging.getLogger(__name__)

READ_EVERY = timedelta(days=1)
"""Working hours and zones change rarely."""
PEOPLE = 100
"""Colleagues asked about per read: five Graph requests, two Google ones."""
WINDOW = timedelta(days=1)
"""Only hours and zones are kept, so the shortest window will do."""


def schedules_step(runtime: Runtime, account_id: int, connector: Connector, now: datetime) -> int:
    """Read and store colleagues' schedules when due; returns how many were stored."""
    reader = connector.schedules
    with session_scope(runtime.db) as session:
        last = contact_schedules.last_read(session, account_id)
        owner = session.get_one(Account, account_id).email
        if reader is None or (last is not None and last <= now < last + READ_EVERY):
            return 0
        since = now - timedelta(days=runtime.settings.lookback_days)  # lapsed people too
        people = contact_schedules.people_to_ask(session, account_id, domain(owner), since, PEOPLE)
    error: str | None = None
    try:
        found = reader.schedules(people, SyncWindow(now, now + WINDOW)) if people else []
    except AuthRevoked:
        raise
    except ConnectorError as exc:
        log.warning("reading colleagues' schedules for account %s failed: %s", account_id, exc)
        found, error = [], str(exc)
    with session_scope(runtime.db) as session:
        contact_schedules.save(session, account_id, found, now)
        contact_schedules.record_read(session, account_id, now, error)
    return len(found)
