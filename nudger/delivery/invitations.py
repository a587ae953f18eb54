"""Delivering an ``invite`` row: the contact invited, as the owner confirmed.

Two shapes: into the hold nudger booked (``invite_event_id``: ``HoldWriter.invite``), or a
new event at a time the owner picked from the proposals (``invite_start``). Both are safe
to retry, which is why ``invite`` is an idempotent outbox kind: ``invite`` reads the event
before it adds anyone, and a new event takes the row's key as its Google event id /
Graph ``transactionId``. The contact sees only ``render_invitation``'s words: never the
owner's reasons, notes or one-click links.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from nudger.connectors.base import Connector, HoldRequest, Invitation
from nudger.delivery.email import render_invitation
from nudger.delivery.outbox import ClaimedNudge
from nudger.delivery.payload import NudgePayload
from nudger.errors import ConnectorError, NotFound

log = logging.getLogger(__name__)

GONE = "the hold was deleted before the invitation went out; nothing was sent"


def send(
    connector: Connector,
    owner: tuple[str | None, str],
    zone: str,
    nudge: ClaimedNudge,
    payload: NudgePayload,
) -> str | None:
    """The invitation's event id; None when the hold it was to go into is gone."""
    title, description = render_invitation(owner, (payload.contact_name, nudge.contact_email))
    if payload.invite_event_id:
        invitation = Invitation(nudge.contact_email, payload.contact_name, title, description)
        try:
            done = connector.holds.invite(payload.invite_event_id, invitation)
        except NotFound:
            return None
        log.info("nudge %s: invited into %s (before: %s)", nudge.id, done.event_id, done.already)
        return done.event_id
    start = payload.invite_start
    if start is None:
        raise ConnectorError(f"nudge {nudge.id}: an invitation with neither an event nor a time")
    created = connector.holds.create_hold(
        HoldRequest(
            key=nudge.key,
            contact_email=nudge.contact_email,
            title=title,
            description=description,
            start=start,
            end=start + timedelta(minutes=payload.hold_minutes),
            time_zone=zone,
            invite_contact=True,
        )
    )
    log.info("nudge %s: invitation %s created", nudge.id, created.event_id)
    return created.event_id
