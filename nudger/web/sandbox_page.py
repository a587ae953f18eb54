"""/sandbox: the emulator's mailbox of the signed-in user, for ``nudger serve --sandbox``.

Locally nobody receives the nudge emails: the emulator keeps what nudger sent. This
page shows those messages in full (newest first, rebuilt by ``sandbox_mail`` so their
one-click links work as in a mail client while the page keeps nudger's strict policy)
and has a button that runs one pass for the account now, emails included, rather than
waiting for the scheduler's morning window. When the owner's quiet hours are on
(evening, weekend), the pass runs as of the next hour outside them, so a person clicking
through at night still sees what the morning brings. The page then says what the pass
did, read from the outbox rows it changed (emails sent, holds booked, nothing to do).
The routes exist only in sandbox mode.
"""

from __future__ import annotations

import email
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import default

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from nudger import preferences
from nudger.cycle import run_cycle
from nudger.passes.analyse import account_ruleset, rules_in_force
from nudger.rules.engine import quiet_now
from nudger.runtime import Runtime
from nudger.store import nudges as nudge_store
from nudger.store.db import session_scope
from nudger.store.models import Account
from nudger.web.dashboard import AccountView, load_account
from nudger.web.pages import SentMailbox, Web
from nudger.web.sandbox_mail import MAIL_CLASS, RebuiltMail, rebuild, stylesheet
from nudger.web.security import checked_form, signed_in_account

PASS_KEY = "sandbox_pass"
"""Session key of what the last pass did, shown once by the page that follows."""
MAIL_STYLESHEET = "/sandbox/mail.css"
_ENDINGS = {
    "failed": ("failed", "failed"),
    "in_doubt": ("may not have gone out", "may not have gone out"),
    "suppressed": ("held back (snoozed or muted)", "held back (snoozed or muted)"),
    "declined": ("deleted hold noted", "deleted holds noted"),
}
"""How a row that did not go out reads, one and several."""
_SENT = {"email": ("email sent", "emails sent"), "hold": ("hold booked", "holds booked")}
_ORDER = (*_SENT.values(), *_ENDINGS.values())


@dataclass(frozen=True)
class MailView:
    subject: str
    date: str
    text: str
    html: RebuiltMail | None
    """The HTML part rebuilt for the page; None for a text-only mail."""


def mail_of(world: SentMailbox, mailbox: str) -> list[MailView]:
    """What nudger sent from ``mailbox``, newest first."""
    sent = [m for m in world.sent if m.mailbox.lower() == mailbox.lower()]
    return [_view(email.message_from_bytes(m.raw, policy=default)) for m in reversed(sent)]


def _view(message: object) -> MailView:
    assert isinstance(message, EmailMessage)
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    return MailView(
        subject=str(message.get("Subject", "")),
        date=str(message.get("Date", "")),
        text=text.get_content() if isinstance(text, EmailMessage) else "",
        html=rebuild(html.get_content()) if isinstance(html, EmailMessage) else None,
    )


class SandboxRoutes:
    def __init__(self, web: Web, world: SentMailbox) -> None:
        self.web = web
        self.world = world

    def routes(self) -> list[Route]:
        return [
            Route("/sandbox", self.show, methods=["GET"]),
            Route(MAIL_STYLESHEET, self.mail_styles, methods=["GET"]),
            Route("/sandbox/run", self.run, methods=["POST"]),
        ]

    def show(self, request: Request) -> Response:
        account = load_account(self.web.runtime, signed_in_account(request))
        context = {
            "account": account,
            "mail": mail_of(self.world, account.email),
            "ran": request.session.pop(PASS_KEY, None),
            "active": "sandbox",
            "mail_class": MAIL_CLASS,
            "mail_stylesheet": MAIL_STYLESHEET,
        }
        return self.web.page(request, "sandbox.html", context)

    def mail_styles(self, request: Request) -> Response:
        """The rules of the signed-in account's mails (their inline styles, as classes)."""
        account = load_account(self.web.runtime, signed_in_account(request))
        rebuilt = [m.html for m in mail_of(self.world, account.email) if m.html]
        return Response(stylesheet(rebuilt), media_type="text/css")

    async def run(self, request: Request) -> Response:
        await checked_form(request)
        account = await run_in_threadpool(
            load_account, self.web.runtime, signed_in_account(request)
        )
        moment = await run_in_threadpool(next_awake, self.web.runtime, account.id, self.web.clock())
        request.session[PASS_KEY] = await run_in_threadpool(self._run, account, moment)
        return RedirectResponse("/sandbox", status_code=303)

    def _run(self, account: AccountView, moment: datetime) -> str:
        """One pass as of ``moment``, told as what it did."""
        before = outbox_states(self.web.runtime, account.id)
        [report] = run_cycle(self.web.runtime, account=account.email, now=moment)
        if report.error:
            return f"The pass failed: {report.error}"
        if report.skipped:
            return f"The pass did not run: {report.skipped}"
        done = what_changed(before, outbox_states(self.web.runtime, account.id))
        return f"Pass as of {moment:%a %d %b %H:%M} UTC: {done}."


def outbox_states(runtime: Runtime, account_id: int) -> dict[int, tuple[str, str]]:
    """Each outbox row of the account: id → (kind, status)."""
    with session_scope(runtime.db) as session:
        rows = nudge_store.account_nudges(session, account_id)
        return {row.id: (row.kind, row.status) for row in rows}


def what_changed(
    before: Mapping[int, tuple[str, str]], after: Mapping[int, tuple[str, str]]
) -> str:
    """The rows a pass finished, in words: "2 emails sent, 1 hold booked"."""
    finished: Counter[tuple[str, str]] = Counter(
        _ending(kind, status)
        for row, (kind, status) in after.items()
        if before.get(row) != (kind, status) and status in nudge_store.DONE
    )
    parts = [_counted(finished[words], words) for words in _ORDER if finished[words]]
    waiting = sum(1 for _, status in after.values() if status in nudge_store.UPCOMING)
    if waiting:
        parts.append(_counted(waiting, ("nudge still queued", "nudges still queued")))
    return ", ".join(parts) or "nothing to do, no nudge was due"


def _ending(kind: str, status: str) -> tuple[str, str]:
    if status == "sent":
        return _SENT["hold" if kind == "hold" else "email"]  # digests are emails too
    return _ENDINGS.get(status, (status, status))


def _counted(number: int, words: tuple[str, str]) -> str:
    return f"{number} {words[0] if number == 1 else words[1]}"


def next_awake(runtime: Runtime, account_id: int, now: datetime) -> datetime:
    """``now``, or the first whole hour after it outside the owner's quiet hours."""
    ruleset = account_ruleset(runtime, account_id, rules_in_force(runtime))
    with session_scope(runtime.db) as session:
        zone = preferences.time_zone_of(session.get_one(Account, account_id))
    moment = now
    for _ in range(7 * 24):
        if not quiet_now(ruleset.policies, moment, zone):
            return moment
        moment = moment.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return now
