"""Times free for both, proposed for an invitation when there is no hold to invite into.

Read live when they are shown (the invite page, or a ``propose`` email): the owner's busy
time (their free/busy, plus out-of-office days and nudger's own holds from the store), and
the contact's free/busy, working hours and zone where the provider reveals them (Graph
``getSchedule`` / Google ``freeBusy``, the owner's organisation only). Then
``mutual_slots.slots_free_for_both``: inside both people's working hours, never in
somebody's night. For a person outside the organisation only the owner's side is known.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from nudger.connectors.base import Connector, ContactSchedule, SyncWindow, WorkingHours
from nudger.delivery.mutual_slots import slots_free_for_both
from nudger.delivery.slots import Slot, default_working_hours
from nudger.errors import ConnectorError
from nudger.runtime import Runtime
from nudger.store import contact_schedules, schedule
from nudger.store.db import session_scope

log = logging.getLogger(__name__)

COUNT = 3
MINUTES = 30
HORIZON_DAYS = 10


@dataclass(frozen=True)
class Proposals:
    slots: tuple[Slot, ...]
    contact_zone: str | None
    """The contact's IANA zone where the provider revealed it (for the page's words)."""


@dataclass(frozen=True)
class OwnerSide:
    account_id: int
    time_zone: str
    working_hours: WorkingHours | None


def propose(
    runtime: Runtime, owner: OwnerSide, connector: Connector, contact: str, now: datetime
) -> Proposals:
    """Up to three 30-minute times in the next ten days, free for both."""
    window = SyncWindow(now, now + timedelta(days=HORIZON_DAYS + 1))
    busy = connector.free_busy.busy(window)
    with session_scope(runtime.db) as session:
        busy += schedule.out_of_office(session, owner.account_id, window)
        holds = schedule.hold_starts_from(session, owner.account_id, window.start)
        known = contact_schedules.known(session, owner.account_id, contact)
    theirs = _live(connector, contact, window) or known
    slots = slots_free_for_both(
        owner_busy=busy,
        owner_hours=owner.working_hours or default_working_hours(owner.time_zone),
        contact=theirs,
        now=now,
        duration=timedelta(minutes=MINUTES),
        horizon_days=HORIZON_DAYS,
        count=COUNT,
        existing_holds=holds,
    )
    return Proposals(tuple(slots), theirs.time_zone if theirs else None)


def _live(connector: Connector, contact: str, window: SyncWindow) -> ContactSchedule | None:
    """The contact's schedule read now; None where it cannot be (then the stored zone and
    hours, if any, still count)."""
    if connector.schedules is None:
        return None
    try:
        [found] = connector.schedules.schedules([contact], window)
    except ConnectorError as exc:
        log.info("contact schedule unreadable for proposals: %s", type(exc).__name__)
        return None
    return found if found.available else None


def at_value(start: datetime) -> str:
    """A proposed time as links and forms carry it (and as it keys the invitation)."""
    return start.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def label(start: datetime, owner_zone: str, contact_zone: str | None) -> str:
    """ "Thu 05 Mar 2026 10:00 (Europe/London)", and the contact's clock where it differs."""
    words = f"{start.astimezone(ZoneInfo(owner_zone)):%a %d %b %Y %H:%M} ({owner_zone})"
    if contact_zone and contact_zone != owner_zone:
        words += f"; {start.astimezone(ZoneInfo(contact_zone)):%H:%M} for them ({contact_zone})"
    return words
