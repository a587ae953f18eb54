"""One-click links from emails: ``/a/{action}/{token}``.

GET only shows what will happen, for whom, with a button (mail scanners pre-fetch
links, so GET changes nothing). POST acts, and acting twice is the same as once:

- ``snooze``: no nudges about the contact for two weeks (an existing longer snooze stays).
- ``mute``: never again.
- ``talked`` ("we already talked"): a snooze until one cadence of that contact has
  passed. A snooze rather than an invented interaction date: the audit keeps showing
  what the calendar says (a chat in the corridor is not a meeting), the user can see
  and undo it in settings, and no new column has to be trusted by the analysis.
- ``crunch`` ("busy? pause the small stuff"): a crunch (``nudger.rules.crunch``) for two
  weeks from the owner's today; a crunch already running longer stays as it is.
- ``invite``: the contact invited into the hold nudger booked for them (``invite_link``).
- ``book``: a relationship-time hold queued in the outbox under a key derived from the
  link, so a double POST queues one hold. Once the link has been used, GET no longer
  offers to book: it says what became of that hold (queued, booked and when, deleted by
  the user, or why it could not be booked).

The POST needs no session (the signed link is the capability) but must carry the
confirmation form's proof, an HMAC of the token (``security.link_proof``).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from nudger import contacts, preferences
from nudger.analysis.audit import ContactHealth
from nudger.delivery import outbox
from nudger.delivery.links import ActionLink, BadLink, action_url, read_token, signing_key
from nudger.delivery.payload import NudgePayload
from nudger.passes.analyse import analyse, rules_in_force
from nudger.rules.crunch import Crunch
from nudger.runtime import Runtime
from nudger.store import nudges as nudge_store
from nudger.store import schedule
from nudger.store.db import session_scope
from nudger.store.models import Account
from nudger.web import invite_link
from nudger.web.pages import Web, local_time
from nudger.web.security import LINK_PROOF_FIELD, link_proof, link_proof_ok

log = logging.getLogger(__name__)

SNOOZE = timedelta(days=14)
CRUNCH = timedelta(days=14)
DEFAULT_CADENCE = timedelta(days=14)
BOOK_RULE = "link_book"
BOOK_MINUTES = 30
BOOK_HORIZON_DAYS = 10
QUEUED = "A hold for {who} is queued; it lands in your calendar at the next run."
PROMPTS = {
    "snooze": ("Snooze {who}?", "nudger will not nudge you about {who} for two weeks."),
    "mute": ("Mute {who}?", "nudger will never nudge you about {who} again (undo in settings)."),
    "talked": (
        "Already talked with {who}?",
        "nudger will leave {who} alone until your usual rhythm with them comes round again.",
    ),
    "book": (
        "Book time for {who}?",
        "nudger will put a 30-minute relationship-time hold for {who} in a free slot of "
        "your calendar, within working hours.",
    ),
    "crunch": (
        "Busy? Pause the small stuff for two weeks?",
        "For two weeks nudger will send only repairs of missed one-on-ones and your direct "
        "reports' one-on-ones, and stretch every other rhythm; nudges like this one about "
        "{who} wait until it ends. You can end it early from the dashboard.",
    ),
}


@dataclass(frozen=True)
class Target:
    """A verified link: the action, and the contact of an account that still exists."""

    link: ActionLink
    contact_name: str | None
    owner_email: str
    time_zone: str = "UTC"
    """The owner's, for the times a page shows."""

    @property
    def who(self) -> str:
        name = self.contact_name
        return f"{name} ({self.link.contact_email})" if name else self.link.contact_email


def verify(runtime: Runtime, action: str, token: str) -> Target:
    """The token's link, checked for signature, age, action and a live account."""
    link = read_token(signing_key(runtime.settings, runtime.cipher), action, token)
    with session_scope(runtime.db) as session:
        account = session.get(Account, link.account_id)
        if account is None:
            raise BadLink("this link belongs to an account that no longer exists")
        owner_email, zone = account.email, preferences.time_zone_of(account)
    name = contacts.display_name(runtime, link.account_id, link.contact_email)
    return Target(link, name, owner_email, zone)


def perform(runtime: Runtime, target: Target, token: str, now: datetime) -> str:
    """Do the link's action (idempotently); returns what was done, for the page."""
    link = target.link
    if link.action == "snooze":
        until = contacts.snooze_at_least(runtime, link.account_id, link.contact_email, now + SNOOZE)
        return f"No nudges about {target.who} until {until:%d %B %Y}."
    if link.action == "mute":
        contacts.mute(runtime, link.account_id, link.contact_email)
        return f"{target.who} is muted. You can unmute them in settings."
    if link.action == "talked":
        contacts.note_talked(runtime, link.account_id, link.contact_email, now)
        until = now + cadence_of(runtime, link, now)
        until = contacts.snooze_at_least(runtime, link.account_id, link.contact_email, until)
        return f"Noted. nudger will leave {target.who} alone until {until:%d %B %Y}."
    if link.action == "crunch":
        ends = crunch_at_least(runtime, link.account_id, now)
        return f"Crunch on: only repairs and direct reports' one-on-ones until {ends:%d %B %Y}."
    queued = QUEUED.format(who=target.who)
    if queue_hold(runtime, target, token, now):
        return queued
    used = what_became_of(runtime, target, token)  # the same link, used before
    return used[1] if used else queued


def crunch_at_least(runtime: Runtime, account_id: int, now: datetime) -> date:
    """A crunch until two weeks from the owner's today, unless one runs longer already."""
    with session_scope(runtime.db) as session:
        account = session.get_one(Account, account_id)
        today = now.astimezone(ZoneInfo(preferences.time_zone_of(account))).date()
        running = preferences.crunch_on(account, now)
        if running is not None and running.until >= today + CRUNCH:
            return running.until
        chosen = Crunch(today + CRUNCH, running.factor if running else None)
        account.settings = preferences.with_crunch(account.settings, chosen)
        return chosen.until


def cadence_of(runtime: Runtime, link: ActionLink, now: datetime) -> timedelta:
    """The user's override, else the inferred cadence, else the role's ideal, else 2 weeks."""
    known = contacts.find_contact(runtime, link.account_id, link.contact_email)
    if known and known.cadence_override_days:
        return timedelta(days=known.cadence_override_days)
    ruleset = rules_in_force(runtime)
    health = _health(analyse(runtime, link.account_id, ruleset, now), link.contact_email)
    if health and health.cadence_days:
        return timedelta(days=health.cadence_days)
    role = known.role if known else None
    if role and role in ruleset.roles:
        return timedelta(days=ruleset.roles[role].ideal_days)
    return DEFAULT_CADENCE


def _health(healths: list[ContactHealth], email: str) -> ContactHealth | None:
    return next((h for h in healths if h.email.lower() == email.lower()), None)


def book_key(link: ActionLink, token: str) -> str:
    """One outbox key per link: the same click twice is one hold."""
    digest = hashlib.sha256(token.encode()).hexdigest()[:32]
    return f"{link.account_id}:{BOOK_RULE}:{link.contact_email}:{digest}"


def what_became_of(runtime: Runtime, target: Target, token: str) -> tuple[str, str] | None:
    """(title, text) about the hold this link already asked for; None while it has not."""
    link, who = target.link, target.who
    with session_scope(runtime.db) as session:
        row = nudge_store.by_key(session, link.account_id, book_key(link, token))
        if row is None:
            return None
        status, error, ref = row.status, row.last_error, row.provider_ref
        starts = schedule.event_starts(session, link.account_id, [ref] if ref else [])
    if status in nudge_store.UPCOMING:
        return (
            "Already asked",
            f"A hold for {who} is queued; it lands in your calendar at the next run.",
        )
    if status == "sent":
        return "Already booked", _booked_words(who, starts.get(ref or ""), target.time_zone)
    if status == "declined":
        return (
            "Not booked again",
            f"You deleted the hold nudger booked for {who}, so it stays deleted.",
        )
    return "Not booked", f"nudger could not book a hold for {who}: {error or status}."


def _booked_words(who: str, start: datetime | None, zone: str) -> str:
    if start is None:
        return (
            f"A hold for {who} is in your calendar; its time shows here once nudger has "
            "synced your calendar."
        )
    return f"A hold for {who} is in your calendar on {local_time(start, zone)} ({zone})."


def queue_hold(runtime: Runtime, target: Target, token: str, now: datetime) -> bool:
    link = target.link
    nudge = outbox.NewNudge(
        key=book_key(link, token),
        contact_email=link.contact_email,
        kind="hold",
        rule=BOOK_RULE,
        payload=NudgePayload(
            template="hold",
            contact_name=target.contact_name,
            hold_minutes=BOOK_MINUTES,
            hold_horizon_days=BOOK_HORIZON_DAYS,
        ),
        evidence=["You asked for this from a nudge email."],
        priority=100,
    )
    with session_scope(runtime.db) as session:
        added = outbox.enqueue(session, link.account_id, [nudge], now)
    log.info("link booking for account %s: %d hold queued", link.account_id, added)
    return added == 1


AT_FIELD = "at"
"""The invite form's chosen time (and a ``propose`` email's ``?at=``)."""


def _proven(token: str, at: str | None) -> str:
    """What a confirmation form's proof covers: the token, and the time when one is chosen
    (so a POST can only invite at a time nudger's own page offered)."""
    return token if at is None else f"{token}|{at}"


class ActionRoutes:
    def __init__(self, web: Web) -> None:
        self.web = web

    def routes(self) -> list[Route]:
        return [
            Route("/a/{action}/{token}", self.confirm, methods=["GET"]),
            Route("/a/{action}/{token}", self.act, methods=["POST"]),
        ]

    def confirm(self, request: Request) -> Response:
        action, token = request.path_params["action"], request.path_params["token"]
        try:
            target = verify(self.web.runtime, action, token)
        except BadLink as exc:
            return self._bad(request, exc)
        if action == "book":
            used = what_became_of(self.web.runtime, target, token)
            if used:
                offer = self._invite_offer(target) if used[0] == "Already booked" else None
                return self.web.message(request, *used, link=offer)
        if action == "invite":
            return self._invite_page(request, target, token)
        title, text = PROMPTS[action]
        context = {
            "title": title.format(who=target.who),
            "text": text.format(who=target.who),
            "action": action,
            "proof_field": LINK_PROOF_FIELD,
            "proof": link_proof(self.web.runtime, token),
        }
        return self.web.page(request, "confirm_link.html", context)

    async def act(self, request: Request) -> Response:
        action, token = request.path_params["action"], request.path_params["token"]
        form = await request.form()
        try:
            target = await run_in_threadpool(verify, self.web.runtime, action, token)
        except BadLink as exc:
            return self._bad(request, exc)
        at = form.get(AT_FIELD) if action == "invite" else None
        at = at if isinstance(at, str) else None
        if not link_proof_ok(self.web.runtime, _proven(token, at), form.get(LINK_PROOF_FIELD)):
            text = "This confirmation was not sent from nudger's page. Open the link again."
            return self.web.message(request, "Not confirmed", text, 403)
        now = self.web.clock()
        if action == "invite":
            page = await run_in_threadpool(invite_link.perform, self.web.runtime, target, now, at)
            return self.web.message(request, page.title, page.text)
        done = await run_in_threadpool(perform, self.web.runtime, target, token, now)
        return self.web.message(request, "Done", done)

    def _invite_page(self, request: Request, target: Target, token: str) -> Response:
        at = request.query_params.get(AT_FIELD)
        page = invite_link.confirm_page(self.web.runtime, target, self.web.clock(), at)
        runtime = self.web.runtime
        if not page.ask and not page.choices:
            return self.web.message(request, page.title, page.text)
        context = {
            "title": page.title,
            "text": page.text,
            "action": "invite",
            "proof_field": LINK_PROOF_FIELD,
            "proof": link_proof(runtime, token),
            "at_field": AT_FIELD,
            "choices": [
                (c.label, c.at, link_proof(runtime, _proven(token, c.at))) for c in page.choices
            ],
        }
        name = "invite_times.html" if page.choices else "confirm_link.html"
        return self.web.page(request, name, context)

    def _invite_offer(self, target: Target) -> tuple[str, str]:
        """The booked hold's page offers the one click that invites the person into it."""
        runtime, link = self.web.runtime, target.link
        invite = ActionLink("invite", link.account_id, link.contact_email)
        key = signing_key(runtime.settings, runtime.cipher)
        return f"Invite {target.who} to it", action_url(runtime.settings.public_url, key, invite)

    def _bad(self, request: Request, exc: BadLink) -> Response:
        text = f"Sorry: {exc}. Each link in nudger's emails works for three weeks."
        return self.web.message(request, "This link does not work", text, 400)
