"""/sandbox: the emulator's mailbox of the signed-in user, for ``nudger serve --sandbox``.

Locally nobody receives the nudge emails: the emulator keeps what nudger sent. This
page shows those messages (newest first, the HTML part in a sandboxed frame, so its
one-click links work as they would in a mail client) and has a button that runs one
pass for the account now, emails included, rather than waiting for the scheduler's
morning window. When the owner's quiet hours are on (evening, weekend), the pass runs
as of the next hour outside them, so a person clicking through at night still sees
what the morning brings. The routes exist only in sandbox mode.
"""

from __future__ import annotations

import email
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import default
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from nudger import preferences
from nudger.cycle import CycleReport, account_ruleset, run_cycle
from nudger.rules.engine import quiet_now
from nudger.rules.loader import load_rules
from nudger.rules.paths import rule_paths
from nudger.runtime import Runtime
from nudger.sandbox.world import World
from nudger.store.db import session_scope
from nudger.store.models import Account
from nudger.web.dashboard import load_account
from nudger.web.pages import Web
from nudger.web.security import checked_form, signed_in_account


@dataclass(frozen=True)
class MailView:
    subject: str
    date: str
    text: str
    html: str


def mail_of(world: World, mailbox: str) -> list[MailView]:
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
        html=html.get_content() if isinstance(html, EmailMessage) else "",
    )


class SandboxRoutes:
    def __init__(self, web: Web, world: World) -> None:
        self.web = web
        self.world = world

    def routes(self) -> list[Route]:
        return [
            Route("/sandbox", self.show, methods=["GET"]),
            Route("/sandbox/run", self.run, methods=["POST"]),
        ]

    def show(self, request: Request) -> Response:
        account = load_account(self.web.runtime, signed_in_account(request))
        context = {
            "account": account,
            "mail": mail_of(self.world, account.email),
            "ran": request.query_params.get("ran"),
            "active": "sandbox",
        }
        return self.web.page(request, "sandbox.html", context)

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
    ruleset = account_ruleset(
        runtime, account_id, load_rules(rule_paths(settings=runtime.settings))
    )
    with session_scope(runtime.db) as session:
        zone = preferences.time_zone_of(session.get_one(Account, account_id))
    moment = now
    for _ in range(7 * 24):
        if not quiet_now(ruleset.policies, moment, zone):
            return moment
        moment = moment.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return now
