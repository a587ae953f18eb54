"""The ``invite`` link with no hold to invite into: times free for both, one click each.

The page reads the times live (``delivery.proposals``) and offers each as its own POST
form; a ``propose`` email links to one time (``?at=``), whose page asks about that time
alone. Each form carries the link's proof over the token *and* the time, so a POST can
only invite at a time nudger's own page offered. The chosen time becomes a new event with
the contact as guest, under a key of the contact and the time: the same time chosen twice,
from the page or the email, is one invitation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from nudger import accounts, preferences
from nudger.delivery.payload import NudgePayload
from nudger.delivery.proposals import (
    HORIZON_DAYS,
    MINUTES,
    OwnerSide,
    Proposals,
    at_value,
    label,
    propose,
)
from nudger.errors import ConnectorError
from nudger.runtime import Runtime
from nudger.store.db import session_scope
from nudger.store.models import Account
from nudger.wording import zone_sentence

if TYPE_CHECKING:
    from nudger.web.actions import Target

FURTHEST = timedelta(days=60)


@dataclass(frozen=True)
class Choice:
    at: str
    """The start, ISO 8601 UTC: the form's value and part of the invitation's key."""
    label: str


def proposals_for(runtime: Runtime, target: Target, now: datetime) -> Proposals:
    link = target.link
    with session_scope(runtime.db) as session:
        account = session.get_one(Account, link.account_id)
        owner = OwnerSide(account.id, target.time_zone, preferences.working_hours_of(account))
    connector = accounts.connector_for(runtime, link.account_id)
    return propose(runtime, owner, connector, link.contact_email, now)


def choices(found: Proposals, owner_zone: str) -> tuple[Choice, ...]:
    return tuple(
        Choice(at_value(slot.start), label(slot.start, owner_zone, found.contact_zone))
        for slot in found.slots
    )


def parse_at(value: object, now: datetime) -> datetime | None:
    """A proposed time from a form or a link: aware, ahead, within reach; else None."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None or not now < moment < now + FURTHEST:
        return None
    return moment


def times_text(target: Target, found: Proposals, now: datetime) -> str:
    zone = zone_sentence(
        target.contact_name or target.link.contact_email, found.contact_zone, target.time_zone, now
    )
    text = (
        f"There is no hold for {target.who} yet. These {MINUTES}-minute times in the next "
        f"{HORIZON_DAYS} days are free in your calendar"
        + (
            " and theirs, within both your working hours."
            if found.contact_zone
            else " and within your working hours."
        )
        + " Pick one and nudger sends them the invitation from your calendar."
    )
    return f"{text} {zone}" if zone else text


def none_free_text(target: Target, exc: ConnectorError | None) -> str:
    if exc is not None:
        return f"nudger could not read the calendars just now ({exc}). Try again later."
    return (
        f"No {MINUTES}-minute time in the next {HORIZON_DAYS} days is free for you and "
        f"{target.who} within both your working hours."
    )


def slot_payload(target: Target, start: datetime) -> NudgePayload:
    return NudgePayload(contact_name=target.contact_name, invite_start=start, hold_minutes=MINUTES)
