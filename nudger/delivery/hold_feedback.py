"""What the user did with the holds nudger booked: a deleted hold is a "no, thanks".

After each sync, a hold nudger booked (outbox row ``sent`` with the provider's event
id) that is no longer on the calendar was deleted by the user: its row becomes
``declined``, which gives the contact the rules' ``declined_cooldown_days``. (A hold
the user turned into a meeting stays on the calendar and is judged by the analysis:
once someone else accepts it, it counts as a meeting; see ``analysis.interactions``.)

Only holds the sync has certainly had a chance to see are judged: the primary calendar
(where holds are booked) must have saved a cursor after the hold was booked, so a
calendar that is not synced, or not yet, never turns holds into refusals.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from nudger.store import nudges, schedule

log = logging.getLogger(__name__)

LOOKBACK = timedelta(days=60)
"""Holds booked longer ago are left alone (their time is long past)."""


def record_deleted_holds(session: Session, account_id: int, now: datetime) -> int:
    """Mark the account's deleted holds ``declined``; returns how many were marked."""
    synced_at = schedule.primary_synced_at(session, account_id)
    if synced_at is None:
        return 0
    booked = nudges.sent_holds(session, account_id, since=now - LOOKBACK, before=synced_at)
    on_calendar = schedule.event_starts(session, account_id, [ref for _, ref in booked])
    gone = [nudge_id for nudge_id, ref in booked if ref not in on_calendar]
    if gone:
        nudges.mark_declined(session, gone, now)
        log.info("account %s: %d hold(s) deleted by the user, taken as no", account_id, len(gone))
    return len(gone)
