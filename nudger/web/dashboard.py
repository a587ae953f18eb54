"""The dashboard: the audit, what is queued, the holds booked and what was sent.

Everything is read for the session's account only: each query filters by its id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from nudger import contacts, preferences
from nudger.analysis.audit import ContactHealth
from nudger.analysis.judgement import Judgement
from nudger.analysis.model import ContactPrefs, Status
from nudger.analysis.trend import TrendPoint, status_counts
from nudger.delivery.payload import readable
from nudger.passes.analyse import account_rules_at, analyse, rules_in_force
from nudger.runtime import Runtime
from nudger.store import nudges as nudge_store
from nudger.store import schedule
from nudger.store.db import session_scope
from nudger.store.models import Account, Nudge
from nudger.web.charts import URGENT, RhythmChart, TrendChart, rhythm_chart, trend_chart
from nudger.web.pages import Web
from nudger.web.security import SignInRequired, signed_in_account
from nudger.web.trends import TrendCache

HISTORY_LIMIT = 50
NO_REACTION_AFTER = timedelta(days=7)
"""A nudge nothing came of for this long got no reaction (before: "no reaction yet")."""
STATUS_LABELS = {
    Status.LAPSED_ONE_ON_ONE: "One-on-ones that have lapsed",
    Status.MISSING_ONE_ON_ONE: "Direct reports without a one-on-one",
    Status.NEGLECTED: "Drifting apart",
    Status.FADING: "Fading",
}
SUMMARIES = {
    Status.HEALTHY: ("healthy relationship", "healthy relationships"),
    Status.NEW: ("new contact, too early to judge", "new contacts, too early to judge"),
    Status.WEAK_TIE: (
        "person you meet only in large meetings or rarely",
        "people you meet only in large meetings or rarely",
    ),
}
"""The calm groups, collapsed behind one line: ``23 people you meet only in ...``."""


@dataclass(frozen=True)
class AccountView:
    id: int
    email: str
    name: str | None
    provider: str
    status: str
    time_zone: str | None
    """The calendar's zone, as the provider reported it."""
    zone: str = "UTC"
    """The zone the owner lives by (their choice, else the calendar's): pages show times
    in it."""


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
    hold_minutes: int = 0
    hold_horizon_days: int = 0
    group: tuple[str, ...] = ()
    reaction: str | None = None
    """What came of a nudge that reached the user (see ``reaction``)."""


@dataclass(frozen=True)
class AuditGroup:
    status: Status
    contacts: tuple[ContactHealth, ...]

    @property
    def urgent(self) -> bool:
        """Shown open; the others are collapsed behind their summary."""
        return self.status in URGENT

    @property
    def label(self) -> str:
        if self.urgent:
            return f"{STATUS_LABELS[self.status]} ({len(self.contacts)})"
        one, many = SUMMARIES[self.status]
        return f"{len(self.contacts)} {one if len(self.contacts) == 1 else many}"


@dataclass(frozen=True)
class Pictures:
    rhythm: RhythmChart
    trend: TrendChart | None


@dataclass(frozen=True)
class Dashboard:
    account: AccountView
    groups: tuple[AuditGroup, ...]
    upcoming: tuple[NudgeView, ...]
    holds: tuple[NudgeView, ...]
    history: tuple[NudgeView, ...]
    judgement: Judgement
    """For the note on what strength means."""
    pictures: Pictures | None = None
    """None until the first sync."""
    crunch: CrunchView | None = None
    """The crunch, while it is on."""


@dataclass(frozen=True)
class CrunchView:
    until: date
    """The day things are back to normal."""
    factor: float


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
            preferences.time_zone_of(account),
        )


def account_healths(runtime: Runtime, account_id: int, now: datetime) -> list[ContactHealth]:
    """The audit as nudger acts on it now: during a crunch, with the stretched cadences."""
    return analyse(
        runtime,
        account_id,
        account_rules_at(runtime, account_id, rules_in_force(runtime), now),
        now,
    )


def audit_groups(healths: list[ContactHealth]) -> tuple[AuditGroup, ...]:
    return tuple(
        AuditGroup(status, tuple(h for h in healths if h.status == status))
        for status in Status
        if any(h.status == status for h in healths)
    )


def _view(row: Nudge, hold_start: datetime | None = None) -> NudgeView:
    payload = readable(row.payload, where=f"nudge {row.id}: payload")
    return NudgeView(
        row.kind,
        row.contact_email,
        row.rule,
        row.status,
        tuple(row.evidence or ()),
        row.created_at,
        row.sent_at or (row.updated_at if row.status in nudge_store.DONE else None),
        row.last_error,
        hold_start,
        payload.hold_minutes,
        payload.hold_horizon_days,
        payload.group,
    )


def _outbox(runtime: Runtime, account_id: int) -> tuple[list[NudgeView], ...]:
    with session_scope(runtime.db) as session:
        holds = nudge_store.booked_holds(session, account_id)
        # When each booked hold sits in the calendar, once the sync has seen it.
        refs = [n.provider_ref for n in holds if n.provider_ref]
        starts = schedule.event_starts(session, account_id, refs)
        return (
            [_view(n) for n in nudge_store.upcoming(session, account_id)],
            [_view(n, starts.get(n.provider_ref or "")) for n in holds],
            [_view(n) for n in nudge_store.finished(session, account_id, HISTORY_LIMIT)],
        )


def build_dashboard(
    runtime: Runtime, account_id: int, now: datetime, trends: TrendCache
) -> Dashboard:
    account = load_account(runtime, account_id)
    upcoming, holds, history = _outbox(runtime, account_id)
    ruleset = rules_in_force(runtime)
    healths = account_healths(runtime, account_id, now)
    with session_scope(runtime.db) as session:
        prefs = contacts.prefs_of(session, account_id)
    by_email = {h.email: h for h in healths}
    reacted = tuple(replace(n, reaction=reaction(n, by_email, prefs, now)) for n in history)
    pictures = None
    if healths:
        past = trends.past_weeks(runtime, account_id, ruleset, now)
        points = [*past, TrendPoint(now, status_counts(healths))]
        pictures = Pictures(rhythm_chart(healths), trend_chart(points, account.zone))
    groups = audit_groups(healths)
    return Dashboard(
        account,
        groups,
        tuple(upcoming),
        tuple(holds),
        reacted,
        ruleset.judgement,
        pictures,
        crunch_view(runtime, account_id, now, ruleset.policies.crunch_factor),
    )


def crunch_view(
    runtime: Runtime, account_id: int, now: datetime, default_factor: float
) -> CrunchView | None:
    with session_scope(runtime.db) as session:
        crunch = preferences.crunch_on(session.get_one(Account, account_id), now)
    if crunch is None:
        return None
    return CrunchView(crunch.until, crunch.factor or default_factor)


def reaction(
    nudge: NudgeView,
    healths: Mapping[str, ContactHealth],
    prefs: Mapping[str, ContactPrefs],
    now: datetime,
) -> str | None:
    """What came of a nudge: the user met the person, said so, deleted the hold, or
    nothing yet. Only nudges that reached the user have one."""
    if nudge.status == "declined":
        return "you deleted the hold"
    if nudge.status != "sent" or nudge.done_at is None:
        return None
    about = nudge.group or (nudge.contact_email,)
    met = [healths[e].features.last_small_meeting for e in about if e in healths]
    if any(m is not None and m > nudge.done_at for m in met):
        return "you met since"
    talked = [prefs[e].talked_at for e in about if e in prefs]
    if any(t is not None and t > nudge.done_at for t in talked):
        return "you said you talked"
    if any(prefs[e].muted for e in about if e in prefs):
        return "muted"
    return "no reaction yet" if now - nudge.done_at < NO_REACTION_AFTER else "no reaction"


class DashboardRoutes:
    def __init__(self, web: Web) -> None:
        self.web = web
        self.trends = TrendCache()

    def routes(self) -> list[Route]:
        return [Route("/dashboard", self.dashboard)]

    def dashboard(self, request: Request) -> Response:
        account_id = signed_in_account(request)
        board = build_dashboard(self.web.runtime, account_id, self.web.clock(), self.trends)
        return self.web.page(request, "dashboard.html", {"board": board, "active": "dashboard"})
