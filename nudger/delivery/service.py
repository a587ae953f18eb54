"""Delivery: claimed outbox rows become emails and holds.

Each row is claimed in its own committed transaction *before* the provider call,
and finished in another one after it. So a crash between the two leaves a
``claimed`` row that the sweeper turns into ``in_doubt`` (emails: never resent)
or back into ``pending`` (holds: idempotent at the provider). Suppression
(mute, snooze, paused account) is re-checked at claim time, because the user may
have clicked "mute" after the decision was made. A row that fails for an unexpected
reason (a bug, a row stored by an older version) is finished as ``failed`` with the
error on it, never resent, and the account's other rows still go.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from nudger import failpoints
from nudger.clock import utcnow
from nudger.connectors.base import (
    Connector,
    HoldRequest,
    SyncWindow,
    WorkingHours,
)
from nudger.delivery import invitations, outbox, proposals
from nudger.delivery.email import (
    DigestContext,
    DigestItem,
    NudgeContext,
    build_message,
    render_email,
    render_hold,
)
from nudger.delivery.links import ACTIONS, ActionLink, action_url, signing_key
from nudger.delivery.mutual_slots import slots_free_for_both
from nudger.delivery.payload import NudgePayload
from nudger.delivery.slots import default_working_hours
from nudger.errors import AuthRevoked, ConnectorError, OutcomeUnknown, TransientError
from nudger.rules.daily import out_of_date
from nudger.rules.engine import quiet_now
from nudger.rules.ladder import DAILY_STEP
from nudger.rules.model import Policies
from nudger.runtime import Runtime
from nudger.store import contact_schedules, schedule
from nudger.store import contacts as contact_store
from nudger.store import nudges as nudge_store
from nudger.store.db import session_scope
from nudger.wording import display_name, greeting_name, zone_sentence

log = logging.getLogger(__name__)

MAIL_KINDS = ("email", "digest", DAILY_STEP)


@dataclass(frozen=True)
class DeliveryAccount:
    """The account as delivery sees it."""

    account_id: int
    email: str
    name: str | None
    time_zone: str
    working_hours: WorkingHours | None
    active: bool


@dataclass(frozen=True)
class Outcome:
    status: str
    provider_ref: str | None = None
    error: str | None = None


def deliver_pending(
    runtime: Runtime,
    owner: DeliveryAccount,
    connector: Connector,
    policies: Policies,
    now: datetime,
    *,
    worker: str,
    mail: bool = True,
) -> Counter[str]:
    """Deliver the account's pending rows, highest priority first; returns status counts.

    With ``mail`` False (outside the owner's morning) emails wait; holds still go.
    """
    done: Counter[str] = Counter()
    quiet = not mail or quiet_now(policies, now, owner.time_zone)
    with session_scope(runtime.db) as session:
        outbox.sweep_expired_claims(session, now)
        rows = outbox.pending_ids(session, owner.account_id)
    booked: list[datetime] = []  # holds of this run are not synced yet: spread them too
    for nudge_id in rows:
        claimed = _claim(runtime, nudge_id, now, worker, quiet)
        if claimed is None:
            continue
        failpoints.hit("after_claim")
        outcome = _act(runtime, owner, connector, claimed, now, booked)
        failpoints.hit("after_provider_call")
        _finish(runtime, claimed.id, outcome, now)
        failpoints.hit("after_finish")
        done[outcome.status] += 1
    return done


def _claim(
    runtime: Runtime, nudge_id: int, now: datetime, worker: str, quiet: bool
) -> outbox.ClaimedNudge | None:
    with session_scope(runtime.db) as session:
        if quiet and nudge_store.kind_of(session, nudge_id) in MAIL_KINDS:
            return None  # stays pending until the owner's morning
        return outbox.claim(session, nudge_id, worker, now)


def _suppression(
    runtime: Runtime, owner: DeliveryAccount, nudge: outbox.ClaimedNudge, now: datetime
) -> str | None:
    if not owner.active:
        return "account paused or awaiting reconnection"
    stale = out_of_date(nudge.key, nudge.kind, now, owner.time_zone)
    if stale:
        return stale
    if not nudge.contact_email or nudge.kind == outbox.INVITE:
        return None  # the owner's own confirmed step: snooze and mute stop nudges, not that
    with session_scope(runtime.db) as session:
        contact = contact_store.contact_row(session, owner.account_id, nudge.contact_email)
        if contact is None:
            return None
        if contact.muted:
            return "contact muted"
        if contact.snoozed_until and contact.snoozed_until > now:
            return f"contact snoozed until {contact.snoozed_until:%Y-%m-%d}"
        return None


def _finish(runtime: Runtime, nudge_id: int, outcome: Outcome, now: datetime | None = None) -> None:
    with session_scope(runtime.db) as session:
        outbox.finish(
            session,
            nudge_id,
            outcome.status,
            now or utcnow(),
            provider_ref=outcome.provider_ref,
            error=outcome.error,
        )


def _act(
    runtime: Runtime,
    owner: DeliveryAccount,
    connector: Connector,
    nudge: outbox.ClaimedNudge,
    now: datetime,
    booked: list[datetime],
) -> Outcome:
    """What became of one claimed row. Whatever goes wrong fails this row alone: it is
    never left claimed, and the account's other rows still go."""
    try:
        reason = _suppression(runtime, owner, nudge, now)
        if reason:
            log.info("nudge %s suppressed: %s", nudge.id, reason)
            return Outcome("suppressed", error=reason)
        payload = NudgePayload.from_json(nudge.payload, where=f"nudge {nudge.id}: payload")
        if nudge.kind == "hold":
            return _book_hold(runtime, owner, connector, nudge, payload, now, booked)
        if nudge.kind == outbox.INVITE:
            return _send_invitation(owner, connector, nudge, payload)
        return _send_email(runtime, owner, connector, nudge, payload, now)
    except OutcomeUnknown as exc:
        log.warning("nudge %s: send outcome unknown; marked in doubt", nudge.id)
        return Outcome("in_doubt", error=str(exc))
    except TransientError as exc:
        # Holds are idempotent; a refused send (e.g. 429) was never accepted. Both retry.
        return Outcome("pending", error=f"will retry: {exc}")
    except AuthRevoked:
        # The request never reached the mailbox: the row waits for the reconnect.
        _finish(runtime, nudge.id, Outcome("pending", error="account needs reconnecting"))
        raise
    except ConnectorError as exc:
        return Outcome("failed", error=str(exc))
    except Exception as exc:  # a bug or a broken row, e.g. one stored by an older version
        log.exception("nudge %s failed unexpectedly", nudge.id)
        return Outcome("failed", error=outbox.unexpected_error(exc))


DIGEST_ITEM_ACTIONS = tuple(a for a in ACTIONS if a not in ("crunch", "invite"))
"""A digest lists several people: the crunch is not about any one of them, and an
invitation is offered in each person's own email and hold, not in a list."""
NO_INVITE = tuple(a for a in ACTIONS if a != "invite")


def _links(
    runtime: Runtime, owner: DeliveryAccount, contact: str, actions: tuple[str, ...] = ACTIONS
) -> dict[str, str]:
    if not contact:
        return {}
    key = signing_key(runtime.settings, runtime.cipher)
    base = runtime.settings.public_url
    return {
        action: action_url(base, key, ActionLink(action, owner.account_id, contact))
        for action in actions
    }


def _nudge_context(
    runtime: Runtime,
    owner: DeliveryAccount,
    nudge: outbox.ClaimedNudge,
    payload: NudgePayload,
    now: datetime,
) -> NudgeContext:
    return NudgeContext(
        owner_name=greeting_name(owner.name, owner.email),
        contact_name=payload.contact_name,
        contact_email=nudge.contact_email,
        status=payload.status,
        role=payload.role,
        reasons=tuple(nudge.evidence),
        last_interaction=payload.last_interaction,
        cadence_days=payload.cadence_days,
        links=_links(
            runtime, owner, nudge.contact_email, NO_INVITE if payload.invite == "off" else ACTIONS
        ),
        time_zone=owner.time_zone,
        step=payload.step,
        zone_note=_zone_note(runtime, owner, nudge.contact_email, payload.contact_name, now),
    )


def _zone_note(
    runtime: Runtime, owner: DeliveryAccount, contact: str, name: str | None, now: datetime
) -> str | None:
    """Where the contact's zone is known and not the owner's, the sentence that says so."""
    if not contact:
        return None
    with session_scope(runtime.db) as session:
        known = contact_schedules.known(session, owner.account_id, contact)
    zone = known.time_zone if known and known.available else None
    return zone_sentence(display_name(name, contact), zone, owner.time_zone, now)


def _send_email(
    runtime: Runtime,
    owner: DeliveryAccount,
    connector: Connector,
    nudge: outbox.ClaimedNudge,
    payload: NudgePayload,
    now: datetime,
) -> Outcome:
    if nudge.kind == "digest":
        rendered = render_email("digest", _digest_context(runtime, owner, payload))
    else:
        context = _nudge_context(runtime, owner, nudge, payload, now)
        if payload.invite == "propose":
            context = replace(context, proposals=_proposed(runtime, owner, connector, context, now))
        rendered = render_email(payload.template or nudge.kind, context)
    message = build_message(
        sender=owner.email, sender_name=owner.name, rendered=rendered, key=nudge.key, now=now
    )
    sent = connector.mail.send(message)
    log.info("nudge %s sent as %s", nudge.id, message.message_id)
    return Outcome("sent", provider_ref=sent.provider_message_id or message.message_id)


def _proposed(
    runtime: Runtime,
    owner: DeliveryAccount,
    connector: Connector,
    context: NudgeContext,
    now: datetime,
) -> tuple[tuple[str, str], ...]:
    """Times free for both, each linking to the invite page for that time; none when the
    calendars cannot be read now (the email still goes, with its Invite link)."""
    side = proposals.OwnerSide(owner.account_id, owner.time_zone, owner.working_hours)
    try:
        found = proposals.propose(runtime, side, connector, context.contact_email, now)
    except AuthRevoked:
        raise
    except ConnectorError as exc:
        log.info("no proposed times for account %s: %s", owner.account_id, type(exc).__name__)
        return ()
    invite = context.links["invite"]
    return tuple(
        (
            proposals.label(slot.start, owner.time_zone, found.contact_zone),
            f"{invite}?at={proposals.at_value(slot.start)}",
        )
        for slot in found.slots
    )


def _digest_context(
    runtime: Runtime, owner: DeliveryAccount, payload: NudgePayload
) -> DigestContext:
    items = tuple(
        DigestItem(
            contact_name=item.contact_name,
            contact_email=item.contact_email,
            status=item.status,
            role=item.role,
            reasons=item.reasons,
            links=_links(runtime, owner, item.contact_email, DIGEST_ITEM_ACTIONS),
        )
        for item in payload.items
    )
    return DigestContext(
        owner_name=greeting_name(owner.name, owner.email),
        time_zone=owner.time_zone,
        counts_by_role=payload.counts_by_role,
        items=items,
    )


def _book_hold(
    runtime: Runtime,
    owner: DeliveryAccount,
    connector: Connector,
    nudge: outbox.ClaimedNudge,
    payload: NudgePayload,
    now: datetime,
    booked: list[datetime],
) -> Outcome:
    horizon = payload.hold_horizon_days
    duration = timedelta(minutes=payload.hold_minutes)
    window = SyncWindow(now, now + timedelta(days=horizon + 1))
    busy = connector.free_busy.busy(window)
    with session_scope(runtime.db) as session:
        busy = busy + schedule.out_of_office(session, owner.account_id, window)
        holds = schedule.hold_starts_from(session, owner.account_id, window.start)
        contact = contact_schedules.known(session, owner.account_id, nudge.contact_email)
    # Where the other person's working hours are known, the hold lands where both work.
    slots = slots_free_for_both(
        owner_busy=busy,
        owner_hours=owner.working_hours or default_working_hours(owner.time_zone),
        contact=contact,
        now=now,
        duration=duration,
        horizon_days=horizon,
        count=1,
        existing_holds=holds + booked,
    )
    if not slots:
        return Outcome("failed", error=f"no free slot in working hours within {horizon} days")
    slot = slots[0]
    title, description = render_hold(_nudge_context(runtime, owner, nudge, payload, now))
    created = connector.holds.create_hold(
        HoldRequest(
            key=nudge.key,
            contact_email=nudge.contact_email,
            title=title,
            description=description,
            start=slot.start,
            end=slot.end,
            time_zone=owner.time_zone,
            invite_contact=payload.invite_contact,
        )
    )
    booked.append(slot.start)
    log.info("nudge %s booked hold %s", nudge.id, created.event_id)
    return Outcome("sent", provider_ref=created.event_id)


def _send_invitation(
    owner: DeliveryAccount, connector: Connector, nudge: outbox.ClaimedNudge, payload: NudgePayload
) -> Outcome:
    sender = (owner.name, owner.email)
    invited = invitations.send(connector, sender, owner.time_zone, nudge, payload)
    if invited is None:
        return Outcome("failed", error=invitations.GONE)
    return Outcome("sent", provider_ref=invited)
