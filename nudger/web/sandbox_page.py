"""/sandbox: the emulator's mailbox of the signed-in user, for ``nudger serve --sandbox``.

Locally nobody receives the nudge emails: the emulator keeps what nudger sent. This
page shows those messages (newest first, the HTML part in a sandboxed frame, so its
one-click links work as they would in a mail client) and has a button that runs one
pass for the account now, emails included, rather than waiting for the scheduler's
morning window. When the owner's quiet hours are on (evening, weekend), the pass runs
as of the next hour outside them, so a person clicking through at night still sees
what the morning brings. The routes exist only in sandbox mode.

Each HTML part is a document of its own (``/sandbox/mail/{number}``) with a policy of
its own: mail needs inline styles, nudger's pages allow none. A frame showing
``srcdoc`` would inherit the page's policy instead (CSP Level 3, "Policy container").
"""

from __future__ import annotations

import email
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import default
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from nudger import preferences
from nudger.cycle import CycleReport, run_cycle
from nudger.passes.analyse import account_ruleset, rules_in_force
from nudger.rules.engine import quiet_now
from nudger.runtime import Runtime
from nudger.store.db import session_scope
from nudger.store.models import Account
from nudger.web.dashboard import load_account
from nudger.web.headers import content_security_policy
from nudger.web.pages import SentMailbox, Web
from nudger.web.security import checked_form, signed_in_account

PAGE_POLICY = content_security_policy(frame_src="'self'")
FRAME_SANDBOX = "allow-popups allow-top-navigation-by-user-activation"
MAIL_POLICY = content_security_policy(
    style_src="'unsafe-inline'",
    form_action="'none'",
    frame_ancestors="'self'",
    sandbox=FRAME_SANDBOX,
)
"""A mail's own document: inline styles (as every HTML mail has), nothing else, and
sandboxed even when opened on its own."""


@dataclass(frozen=True)
class MailView:
    number: int
    """Its place in the emulator's sent mail: the address of its HTML part."""
    subject: str
    date: str
    text: str
    html: str


def mail_of(world: SentMailbox, mailbox: str) -> list[MailView]:
    """What nudger sent from ``mailbox``, newest first."""
    sent = [(n, m) for n, m in enumerate(world.sent) if m.mailbox.lower() == mailbox.lower()]
    return [_view(n, email.message_from_bytes(m.raw, policy=default)) for n, m in reversed(sent)]


def _view(number: int, message: object) -> MailView:
    assert isinstance(message, EmailMessage)
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    return MailView(
        number=number,
        subject=str(message.get("Subject", "")),
        date=str(message.get("Date", "")),
        text=text.get_content() if isinstance(text, EmailMessage) else "",
        html=html.get_content() if isinstance(html, EmailMessage) else "",
    )


def as_framed(html: str) -> str:
    """The mail as a mail client shows it: a link opens in the whole window."""
    base = '<base target="_top">'
    return html.replace("<head>", "<head>" + base, 1) if "<head>" in html else base + html


class SandboxRoutes:
    def __init__(self, web: Web, world: SentMailbox) -> None:
        self.web = web
        self.world = world

    def routes(self) -> list[Route]:
        return [
            Route("/sandbox", self.show, methods=["GET"]),
            Route("/sandbox/mail/{number:int}", self.mail, methods=["GET"]),
            Route("/sandbox/run", self.run, methods=["POST"]),
        ]

    def show(self, request: Request) -> Response:
        account = load_account(self.web.runtime, signed_in_account(request))
        context = {
            "account": account,
            "mail": mail_of(self.world, account.email),
            "ran": request.query_params.get("ran"),
            "active": "sandbox",
            "frame_sandbox": FRAME_SANDBOX,
        }
        page = self.web.page(request, "sandbox.html", context)
        page.headers["Content-Security-Policy"] = PAGE_POLICY
        return page

    def mail(self, request: Request) -> Response:
        """The HTML part of one mail the signed-in account sent, for the page's frame."""
        account = load_account(self.web.runtime, signed_in_account(request))
        number = request.path_params["number"]
        found = [m for m in mail_of(self.world, account.email) if m.number == number]
        if not found or not found[0].html:
            raise HTTPException(404, "No such mail in your sandbox mailbox.")
        headers = {"Content-Security-Policy": MAIL_POLICY, "X-Frame-Options": "SAMEORIGIN"}
        return HTMLResponse(as_framed(found[0].html), headers=headers)

    async def run(self, request: Request) -> Response:
        await checked_form(request)
        account = await run_in_threadpool(
            load_account, self.web.runtime, signed_in_account(request)
        )
        moment = await run_in_threadpool(next_awake, self.web.runtime, account.id, self.web.clock())
        [report] = await run_in_threadpool(self._run, account.email, moment)
        outcome = report.error or f"{report.decisions} nudges decided as of {moment:%a %H:%M} UTC"
        return RedirectResponse(f"/sandbox?{urlencode({'ran': outcome})}", status_code=303)

    def _run(self, email_address: str, moment: datetime) -> list[CycleReport]:
        return run_cycle(self.web.runtime, account=email_address, now=moment)


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
