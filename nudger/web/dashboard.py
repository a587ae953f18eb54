"""The dashboard: the audit, what is queued, the holds booked and what was sent.

Everything is read for the session's account only: each query filters by its id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from nudger.analysis.audit import ContactHealth
from nudger.analysis.model import Status
from nudger.cycle import analyse
from nudger.rules.loader import load_rules
from nudger.rules.paths import rule_paths
from nudger.runtime import Runtime
from nudger.store.db import session_scope
from nudger.store.models import Account, Event, Nudge
from nudger.web.pages import Web
from nudger.web.security import SignInRequired, signed_in_account

UPCOMING = ("pending", "claimed")
DONE = ("sent", "in_doubt", "failed", "suppressed", "declined")
HISTORY_LIMIT = 50
STATUS_LABELS = {
    Status.LAPSED_ONE_ON_ONE: "One-on-ones that have lapsed",
    Status.MISSING_ONE_ON_ONE: "Direct reports without a one-on-one",
    Status.NEGLECTED: "Neglected",
    Status.FADING: "Fading",
    Status.HEALTHY: "Healthy",
    Status.NEW: "New (too early to judge)",
    Status.WEAK_TIE: "Weak ties (large meetings only)",
}


@dataclass(frozen=True)
class AccountView:
    id: int
    email: str
    name: str | None
    provider: str
    status: str
    time_zone: str | None


@dataclass(frozen=True)
class NudgeView:
    kind: str
    contact_email: str
    rule: str
    status: str
    evidence: tuple[str, ...]
    created_at: datetime
    done_at: datetime | None
    note: str | None
    hold_start: datetime | None = None


@dataclass(frozen=True)
class AuditGroup:
    status: Status
    label: str
    contacts: tuple[ContactHealth, ...]


@dataclass(frozen=True)
class Dashboard:
    account: AccountView
    groups: tuple[AuditGroup, ...]
    upcoming: tuple[NudgeView, ...]
    holds: tuple[NudgeView, ...]
    history: tuple[NudgeView, ...]


def load_account(runtime: Runtime, account_id: int) -> AccountView:
    """The signed-in account; a session whose account is gone must sign in again."""
    with session_scope(runtime.db) as session:
        account = session.get(Account, account_id)
        if account is None:
            raise SignInRequired
        return AccountView(
            account.id,
            account.email,
            account.name,
            account.provider,
            account.status,
            account.time_zone,
        )


def audit_groups(runtime: Runtime, account_id: int, now: datetime) -> tuple[AuditGroup, ...]:
    ruleset = load_rules(rule_paths(settings=runtime.settings))
    healths = analyse(runtime, account_id, ruleset, now)
    return tuple(
        AuditGroup(status, STATUS_LABELS[status], tuple(h for h in healths if h.status == status))
        for status in Status
        if any(h.status == status for h in healths)
    )


def _view(row: Nudge, hold_start: datetime | None = None) -> NudgeView:
    return NudgeView(
        row.kind,
        row.contact_email,
        row.rule,
        row.status,
        tuple(row.evidence or ()),
        row.created_at,
        row.sent_at or (row.updated_at if row.status in DONE else None),
        row.last_error,
        hold_start,
    )


def _outbox(runtime: Runtime, account_id: int) -> tuple[list[NudgeView], ...]:
    with session_scope(runtime.db) as session:
        mine = select(Nudge).where(Nudge.account_id == account_id)
        upcoming = session.scalars(mine.where(Nudge.status.in_(UPCOMING)).order_by(Nudge.id))
        holds = list(
            session.scalars(
                mine.where(Nudge.kind == "hold", Nudge.provider_ref.is_not(None)).order_by(Nudge.id)
            )
        )
        starts = _hold_starts(session, account_id, [n.provider_ref for n in holds])
        history = session.scalars(
            mine.where(Nudge.status.in_(DONE)).order_by(Nudge.updated_at.desc(), Nudge.id.desc())
        )
        return (
            [_view(n) for n in upcoming],
            [_view(n, starts.get(n.provider_ref or "")) for n in holds],
            [_view(n) for n in list(history)[:HISTORY_LIMIT]],
        )


def _hold_starts(
    session: Session, account_id: int, provider_refs: list[str | None]
) -> dict[str, datetime]:
    """When each booked hold sits in the calendar, once the sync has seen it (one query)."""
    refs = [ref for ref in provider_refs if ref]
    if not refs:
        return {}
    rows = session.execute(
        select(Event.provider_event_id, Event.start).where(
            Event.account_id == account_id,
            Event.provider_event_id.in_(refs),
            Event.cancelled.is_(False),
        )
    )
    return {event_id: start for event_id, start in rows}


def build_dashboard(runtime: Runtime, account_id: int, now: datetime) -> Dashboard:
    account = load_account(runtime, account_id)
    upcoming, holds, history = _outbox(runtime, account_id)
    groups = audit_groups(runtime, account_id, now)
    return Dashboard(account, groups, tuple(upcoming), tuple(holds), tuple(history))


class DashboardRoutes:
    def __init__(self, web: Web) -> None:
        self.web = web

    def routes(self) -> list[Route]:
        return [Route("/dashboard", self.dashboard)]

    def dashboard(self, request: Request) -> Response:
        account_id = signed_in_account(request)
        board = build_dashboard(self.web.runtime, account_id, self.web.clock())
        return self.web.page(request, "dashboard.html", {"board": board, "active": "dashboard"})
