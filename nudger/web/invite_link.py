"""The ``invite`` link: the contact invited into the hold nudger booked for them.

GET names the person and the hold's time (in the owner's zone) and asks; only the POST
queues the invitation, an outbox row of kind ``invite`` whose key is the hold's event:
however often, and from whichever link (the nudge email, the hold's own notes, the
"Book time" page), one hold gets one invitation. Delivery adds the contact as a guest and
the provider mails them (``HoldWriter.invite``). A hold the user deleted is never
brought back: the page says so and nothing is sent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from nudger.delivery import outbox
from nudger.delivery.invitations import GONE
from nudger.delivery.payload import NudgePayload
from nudger.delivery.proposals import at_value, label
from nudger.errors import ConnectorError
from nudger.runtime import Runtime
from nudger.store import nudges as nudge_store
from nudger.store import schedule
from nudger.store.db import session_scope
from nudger.web.invite_times import (
    Choice,
    none_free_text,
    parse_at,
    proposals_for,
    slot_payload,
    times_text,
)
from nudger.web.invite_times import choices as time_choices
from nudger.web.pages import local_time

if TYPE_CHECKING:
    from nudger.web.actions import Target

log = logging.getLogger(__name__)

INVITE_RULE = "link_invite"
PROMPT = "Invite {who}?"


@dataclass(frozen=True)
class HoldSeen:
    """The newest hold nudger booked for the contact, as the store knows it."""

    event_id: str
    deleted: bool
    """The user deleted it (seen by a sync): nothing to invite into."""
    start: datetime | None
    """Known once a sync has seen the hold."""


@dataclass(frozen=True)
class Page:
    """What the link's page says: a question (``ask``) or what already happened."""

    title: str
    text: str
    ask: bool = False
    """A question about the hold: one button."""
    choices: tuple[Choice, ...] = ()
    """Times to choose from (or one time to confirm): one button each."""


def hold_of(runtime: Runtime, account_id: int, contact: str) -> HoldSeen | None:
    with session_scope(runtime.db) as session:
        row = nudge_store.latest_hold(session, account_id, contact)
        if row is None or row.provider_ref is None:
            return None
        starts = schedule.event_starts(session, account_id, [row.provider_ref])
        return HoldSeen(row.provider_ref, row.status == "declined", starts.get(row.provider_ref))


def invite_key(account_id: int, contact: str, what: str) -> str:
    """One invitation per contact and hold (``what``: its event id) or proposed time."""
    return f"{account_id}:{INVITE_RULE}:{contact}:{what}"


def when_words(start: datetime | None, zone: str) -> str:
    if start is None:
        return "the relationship-time hold nudger booked in your calendar"
    return f"your hold on {local_time(start, zone)} ({zone})"


def confirm_page(runtime: Runtime, target: Target, now: datetime, at: str | None = None) -> Page:
    """The GET page: the question, or what became of an invitation asked for before."""
    link = target.link
    start = parse_at(at, now)
    if start is not None:
        return time_page(runtime, target, start)
    hold = hold_of(runtime, link.account_id, link.contact_email)
    if hold is not None:
        return hold_page(runtime, target, hold)
    return times_page(runtime, target, now)


def time_page(runtime: Runtime, target: Target, start: datetime) -> Page:
    """One proposed time (from a ``propose`` email): confirm it, or what became of it."""
    when = label(start, target.time_zone, None)
    done = invitation_state(runtime, target, at_value(start), when)
    if done:
        return done
    text = f"nudger will send {target.who} an invitation from your calendar for {when}."
    return Page(PROMPT.format(who=target.who), text, choices=(Choice(at_value(start), when),))


def times_page(runtime: Runtime, target: Target, now: datetime) -> Page:
    """No hold: up to three times free for both, read now."""
    try:
        found = proposals_for(runtime, target, now)
    except ConnectorError as exc:
        return Page("No times to offer", none_free_text(target, exc))
    if not found.slots:
        return Page("No times to offer", none_free_text(target, None))
    offered = time_choices(found, target.time_zone)
    return Page(PROMPT.format(who=target.who), times_text(target, found, now), choices=offered)


def hold_page(runtime: Runtime, target: Target, hold: HoldSeen) -> Page:
    where = when_words(hold.start, target.time_zone)
    if hold.deleted:
        return Page("Nothing to invite into", f"You deleted {where}, so nothing was sent.")
    done = invitation_state(runtime, target, hold.event_id, where)
    if done:
        return done
    text = (
        f"nudger will add {target.who} as a guest to {where}, and your calendar will send "
        "them the invitation. The title becomes your two names; your private notes are "
        "removed."
    )
    return Page(PROMPT.format(who=target.who), text, ask=True)


def invitation_state(runtime: Runtime, target: Target, what: str, where: str) -> Page | None:
    """What became of the invitation under ``invite_key(...what)``; None if never asked."""
    link, who = target.link, target.who
    key = invite_key(link.account_id, link.contact_email, what)
    with session_scope(runtime.db) as session:
        row = nudge_store.by_key(session, link.account_id, key)
        if row is None:
            return None
        status, error = row.status, row.last_error
    if status in nudge_store.UPCOMING:
        return Page("Already asked", f"The invitation to {who} for {where} goes out shortly.")
    if status == "sent":
        return Page("Invited", f"{who} is invited to {where}; your calendar sent the invitation.")
    if error == GONE:
        return Page("Not invited", f"{where[0].upper()}{where[1:]} was deleted: nothing was sent.")
    return Page("Not invited", f"nudger could not invite {who}: {error or status}.")


def perform(runtime: Runtime, target: Target, now: datetime, at: str | None = None) -> Page:
    """The POST: queue the invitation (once) into the hold, or at the chosen time."""
    link = target.link
    if at is not None:
        return perform_at(runtime, target, now, at)
    hold = hold_of(runtime, link.account_id, link.contact_email)
    if hold is None or hold.deleted:
        return confirm_page(runtime, target, now)
    payload = NudgePayload(contact_name=target.contact_name, invite_event_id=hold.event_id)
    if queue_invitation(runtime, link.account_id, link.contact_email, payload, hold.event_id, now):
        where = when_words(hold.start, target.time_zone)
        return Page("Done", f"{target.who} will be invited to {where} at nudger's next run.")
    return hold_page(runtime, target, hold)


def perform_at(runtime: Runtime, target: Target, now: datetime, at: str) -> Page:
    start = parse_at(at, now)
    if start is None:
        text = "That time is no longer ahead. Open the link again for other times."
        return Page("Not invited", text)
    link, what = target.link, at_value(start)
    payload = slot_payload(target, start)
    if queue_invitation(runtime, link.account_id, link.contact_email, payload, what, now):
        when = label(start, target.time_zone, None)
        return Page("Done", f"{target.who} will be invited for {when} at nudger's next run.")
    return time_page(runtime, target, start)


def queue_invitation(
    runtime: Runtime,
    account_id: int,
    email: str,
    payload: NudgePayload,
    what: str,
    now: datetime,
) -> bool:
    """Queue the invitation under its key; False when that key was queued before."""
    nudge = outbox.NewNudge(
        key=invite_key(account_id, email, what),
        contact_email=email,
        kind=outbox.INVITE,
        rule=INVITE_RULE,
        payload=payload,
        evidence=["You confirmed this invitation from nudger's page."],
        priority=100,
    )
    with session_scope(runtime.db) as session:
        added = outbox.enqueue(session, account_id, [nudge], now)
    log.info("invitation for account %s: %d queued", account_id, added)
    return added == 1
