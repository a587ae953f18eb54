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

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from nudger.store.models import Calendar, Event, Nudge

log = logging.getLogger(__name__)

LOOKBACK = timedelta(days=60)
"""Holds booked longer ago are left alone (their time is long past)."""


def record_deleted_holds(session: Session, account_id: int, now: datetime) -> int:
    """Mark the account's deleted holds ``declined``; returns how many were marked."""
    synced_at = session.scalar(
        select(Calendar.cursor_saved_at).where(
            Calendar.account_id == account_id, Calendar.primary.is_(True)
        )
    )
    if synced_at is None:
        return 0
    booked = session.execute(
        select(Nudge.id, Nudge.provider_ref).where(
            Nudge.account_id == account_id,
            Nudge.kind == "hold",
            Nudge.status == "sent",
            Nudge.provider_ref.is_not(None),
            Nudge.sent_at >= now - LOOKBACK,
            Nudge.sent_at < synced_at,
        )
    ).all()
    if not booked:
        return 0
    on_calendar = set(
        session.scalars(
            select(Event.provider_event_id).where(
                Event.account_id == account_id,
                Event.provider_event_id.in_([ref for _, ref in booked]),
                Event.cancelled.is_(False),
            )
        )
    )
    gone = [nudge_id for nudge_id, ref in booked if ref not in on_calendar]
    if gone:
        session.execute(
            update(Nudge)
            .where(Nudge.id.in_(gone), Nudge.status == "sent")
            .values(status="declined", updated_at=now)
            .execution_options(synchronize_session=False)
        )
        log.info("account %s: %d hold(s) deleted by the user, taken as no", account_id, len(gone))
    return len(gone)
