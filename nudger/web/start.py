"""/start: the guided start, the page a first sign-up lands on.

Until the first sync has read a calendar the page says so and reloads itself (a meta
refresh: the Content Security Policy allows no script). Then it proposes the key people
(``nudger.analysis.key_people``), each with its evidence, and one form confirms their
roles: stored as the user's own (``contacts.assign_role``, as /settings does), in one
transaction with the mark that the guided start is done, then on to the dashboard. The
page keeps working afterwards, showing the roles as they are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from nudger import accounts, contacts
from nudger.analysis.key_people import Proposal, propose_key_people
from nudger.contacts import ROLES
from nudger.runtime import Runtime
from nudger.store import accounts as account_store
from nudger.store import contacts as contact_store
from nudger.store.db import session_scope
from nudger.web.dashboard import account_healths, load_account
from nudger.web.pages import Web
from nudger.web.security import checked_form, signed_in_account
from nudger.web.settings_rows import NO_ROLE
from nudger.wording import display_name

ROLE_FIELD = "role:"
"""Each person's select is ``role:<address>``, as on /settings."""
MAX_FIELDS = 200
REFRESH_SECONDS = 10


@dataclass
class Choices:
    """A submitted form: the role chosen per address, or what is wrong with it."""

    roles: dict[str, str | None] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    typed: dict[str, str] = field(default_factory=dict)


def key_people(
    runtime: Runtime, account_id: int, owner_email: str, now: datetime
) -> list[Proposal]:
    """The proposals from the stored events and what the org chart said."""
    healths = account_healths(runtime, account_id, now)
    with session_scope(runtime.db) as session:
        rows = contact_store.contact_rows(session, account_id)
        directory = {c.email: c.role for c in rows if c.role and c.role_source == "directory"}
    return propose_key_people(healths, owner_email, directory)


def first_sync_done(runtime: Runtime, account_id: int) -> bool:
    with session_scope(runtime.db) as session:
        return account_store.first_sync_done(session, account_id)


def parse_choices(form: FormData, shown: Sequence[Proposal]) -> Choices:
    """Each ``role:<address>`` field checked against the people proposed and the roles
    nudger knows; anything else is named in an error, and nothing is stored."""
    known = {p.email: p for p in shown}
    choices = Choices()
    for key, raw in form.multi_items():
        if not key.startswith(ROLE_FIELD):
            continue
        email, role = key.removeprefix(ROLE_FIELD).strip().lower(), str(raw)
        choices.typed[email] = role
        person = known.get(email)
        if person is None:
            choices.errors.append(f"{email[:80]!r} is not one of the people proposed here.")
        elif role != NO_ROLE and role not in ROLES:
            who = display_name(person.name, email)
            choices.errors.append(f"Role of {who}: {role[:40]!r} is not a role nudger knows.")
        else:
            choices.roles[email] = None if role == NO_ROLE else role
    if shown and not choices.roles and not choices.errors:
        choices.errors.append("The form carried no roles; reload the page and try again.")
    return choices


def save_roles(
    runtime: Runtime, account_id: int, roles: Mapping[str, str | None], shown: Sequence[Proposal]
) -> None:
    """The chosen roles, as the user's own, and the guided start marked done: one
    transaction. A person left without a role and never given one gets no row."""
    current = {p.email: p.current_role for p in shown}
    with session_scope(runtime.db) as session:
        for email, role in roles.items():
            if role is not None or current.get(email) is not None:
                contacts.assign_role(session, account_id, email, role, source="user")
        accounts.finish_guided_start(session, account_id)


class StartRoutes:
    def __init__(self, web: Web) -> None:
        self.web = web

    def routes(self) -> list[Route]:
        return [
            Route("/start", self.show, methods=["GET"]),
            Route("/start", self.save, methods=["POST"]),
        ]

    def show(self, request: Request) -> Response:
        return self._render(request, signed_in_account(request), Choices())

    async def save(self, request: Request) -> Response:
        form = await checked_form(request, max_fields=MAX_FIELDS)
        account_id = signed_in_account(request)
        return await run_in_threadpool(self._save, request, account_id, form)

    def _save(self, request: Request, account_id: int, form: FormData) -> Response:
        account = load_account(self.web.runtime, account_id)
        shown = key_people(self.web.runtime, account_id, account.email, self.web.clock())
        choices = parse_choices(form, shown)
        if choices.errors:
            return self._render(request, account_id, choices, 400)
        save_roles(self.web.runtime, account_id, choices.roles, shown)
        return RedirectResponse("/dashboard", status_code=303)

    def _render(
        self, request: Request, account_id: int, choices: Choices, status: int = 200
    ) -> Response:
        runtime = self.web.runtime
        account = load_account(runtime, account_id)
        synced = first_sync_done(runtime, account_id)
        shown = key_people(runtime, account_id, account.email, self.web.clock()) if synced else []
        context = {
            "account": account,
            "synced": synced,
            "people": shown,
            "choices": choices,
            "roles": (*ROLES, NO_ROLE),
            "refresh": REFRESH_SECONDS,
        }
        return self.web.page(request, "start.html", context, status)
