"""One pass for each account: sync → analysis → rules → outbox → delivery.

The scheduler runs this per account; ``nudger cycle`` and ``nudger demo`` run it
once. One account's failure (revoked grant, provider outage, or an unexpected error
such as a corrupt row) is recorded in its report and never stops the others.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.console import Console
from sqlalchemy import select

from nudger import accounts, contacts, preferences
from nudger.analysis.audit import ContactHealth, audit
from nudger.analysis.model import Owner, Status
from nudger.analysis.workdays import WEEK
from nudger.connectors.base import Connector
from nudger.delivery import hold_feedback, outbox, reconnect
from nudger.delivery import service as delivery
from nudger.delivery.payload import DigestEntry, NudgePayload, readable
from nudger.errors import AuthRevoked, NudgerError
from nudger.rules.engine import Decision, PastNudge, decide
from nudger.rules.loader import load_rules
from nudger.rules.model import RuleSet
from nudger.rules.paths import rule_paths
from nudger.runtime import Runtime
from nudger.store import events as event_store
from nudger.store.db import session_scope
from nudger.store.hours import hours_json
from nudger.store.models import Account, Nudge
from nudger.sync import sync_account, sync_window

log = logging.getLogger(__name__)


@dataclass
class CycleReport:
    account: str
    events_synced: int = 0
    contacts: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    decisions: int = 0
    enqueued: int = 0
    delivered: Counter[str] = field(default_factory=Counter)
    error: str | None = None

    def summary(self) -> str:
        if self.error:
            return f"{self.account}: [red]failed[/red]: {self.error}"
        delivered = ", ".join(f"{n} {s}" for s, n in sorted(self.delivered.items())) or "none"
        return (
            f"{self.account}: {self.events_synced} events synced, {self.contacts} contacts, "
            f"{self.decisions} nudges decided ({self.enqueued} new), delivered: {delivered}"
        )


def run_cycle(
    runtime: Runtime,
    *,
    account: str | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
    progress: Console | None = None,
    deliver_mail: bool = True,
) -> list[CycleReport]:
    """``deliver_mail`` False books holds but leaves nudge emails for a later pass (the
    scheduler sends them in the owner's morning)."""
    now = now or datetime.now(UTC)
    refs = [accounts.find_account(runtime, account)] if account else accounts.list_accounts(runtime)
    ruleset = load_rules(rule_paths(settings=runtime.settings))
    reports = []
    for ref in refs:
        if progress and ref.status == "active":
            progress.print(f"[dim]{ref.email}: syncing, analysing, deciding…[/dim]")
        reports.append(_pass_of(runtime, ref, ruleset, now, dry_run, deliver_mail))
    if not dry_run:
        reconnect.deliver_reconnect_requests(runtime, now)
    return reports


def run_account_pass(
    runtime: Runtime, account_id: int, *, now: datetime, deliver_mail: bool = True
) -> CycleReport:
    """One account's whole pass (sync, analyse, decide, deliver), by id: what a worker runs."""
    ruleset = load_rules(rule_paths(settings=runtime.settings))
    ref = accounts.account_ref(runtime, account_id)
    return _pass_of(runtime, ref, ruleset, now, False, deliver_mail)


def _pass_of(
    runtime: Runtime,
    ref: accounts.AccountRef,
    ruleset: RuleSet,
    now: datetime,
    dry_run: bool,
    deliver_mail: bool,
) -> CycleReport:
    if ref.status != "active":
        return CycleReport(ref.email, error=f"skipped: account {ref.status}")
    return _run_account(runtime, ref, ruleset, now, dry_run, deliver_mail)


def _run_account(
    runtime: Runtime,
    ref: accounts.AccountRef,
    ruleset: RuleSet,
    now: datetime,
    dry_run: bool,
    deliver_mail: bool = True,
) -> CycleReport:
    report = CycleReport(ref.email)
    try:
        saver = accounts.CredentialSaver(runtime, ref.id)
        connector = accounts.connector_for(runtime, ref.id, saver)
        _refresh_profile(runtime, ref.id, connector)
        _import_directory(runtime, ref.id, connector)
        ruleset = account_ruleset(runtime, ref.id, ruleset)
        window = sync_window(now, runtime.settings.lookback_days, runtime.settings.lookahead_days)
        wanted = _account_settings(runtime, ref.id).get("calendars")
        with saver.deferred():  # a refresh in mid-round must not wait on the round's lock
            synced = sync_account(runtime.db, ref.id, connector.calendar, now, window, wanted)
        report.events_synced = sum(r.events for r in synced)
        with session_scope(runtime.db) as session:
            hold_feedback.record_deleted_holds(session, ref.id, now)
        healths = analyse(runtime, ref.id, ruleset, now)
        report.contacts = len(healths)
        report.statuses = Counter(str(h.status) for h in healths)
        decisions = _decide(runtime, ref.id, healths, ruleset, now)
        report.decisions = len(decisions)
        if dry_run:
            return report
        with session_scope(runtime.db) as session:
            report.enqueued = outbox.enqueue(session, ref.id, _to_outbox(decisions, healths), now)
        owner = _delivery_owner(runtime, ref.id)
        report.delivered = delivery.deliver_pending(
            runtime,
            owner,
            connector,
            ruleset.policies,
            now,
            worker=outbox.worker_id(),
            mail=deliver_mail,
        )
    except AuthRevoked as exc:
        reconnect.request_reconnect(runtime, ref.id, now)
        report.error = f"access revoked; the account must be reconnected ({exc})"
    except NudgerError as exc:
        log.warning("cycle for account %s failed: %s", ref.id, exc)
        report.error = str(exc)
    except Exception as exc:  # a bug or a corrupt row: this account fails, the others go on
        log.exception("cycle for account %s failed unexpectedly", ref.id)
        report.error = outbox.unexpected_error(exc)
    return report


def account_ruleset(runtime: Runtime, account_id: int, ruleset: RuleSet) -> RuleSet:
    """The rules as they apply to one account: its own budget and delivery mode."""
    with session_scope(runtime.db) as session:
        return preferences.ruleset_for(session.get_one(Account, account_id), ruleset)


def account_audit(
    runtime: Runtime, email: str, *, now: datetime | None = None
) -> list[ContactHealth]:
    """The audit from what is stored (run ``nudger cycle`` first to sync)."""
    ref = accounts.find_account(runtime, email)
    ruleset = load_rules(rule_paths(settings=runtime.settings))
    return analyse(runtime, ref.id, ruleset, now or datetime.now(UTC))


def analyse(
    runtime: Runtime, account_id: int, ruleset: RuleSet, now: datetime
) -> list[ContactHealth]:
    with session_scope(runtime.db) as session:
        owner = owner_of(session.get_one(Account, account_id))
        prefs = contacts.prefs_of(session, account_id)
        return audit(
            owner,
            event_store.iter_events(session, account_id),
            prefs,
            now,
            ruleset.judgement,
            ruleset.roles,
        )


def _decide(
    runtime: Runtime,
    account_id: int,
    healths: list[ContactHealth],
    ruleset: RuleSet,
    now: datetime,
) -> list[Decision]:
    with session_scope(runtime.db) as session:
        account = session.get_one(Account, account_id)
        prefs = contacts.prefs_of(session, account_id)
        history = [
            past_nudge(n)
            for n in session.scalars(select(Nudge).where(Nudge.account_id == account_id))
        ]
        zone = preferences.time_zone_of(account)
    return decide(account_id, healths, prefs, history, ruleset, now, zone)


def past_nudge(nudge: Nudge) -> PastNudge:
    """An outbox row as the engine weighs it: who it was about, and a hold's horizon."""
    payload = readable(nudge.payload, where=f"nudge {nudge.id}: payload")
    group = payload.group
    if nudge.kind == "digest":
        group = tuple(item.contact_email for item in payload.items)
    hold_until = None
    if nudge.kind == "hold":
        hold_until = nudge.created_at + timedelta(days=payload.hold_horizon_days)
    return PastNudge(
        nudge.contact_email,
        nudge.rule,
        nudge.kind,
        nudge.status,
        nudge.created_at,
        declined_at=nudge.updated_at if nudge.status == "declined" else None,
        group=group,
        hold_until=hold_until,
    )


def _to_outbox(decisions: list[Decision], healths: list[ContactHealth]) -> list[outbox.NewNudge]:
    by_email = {h.email: h for h in healths}
    return [_new_nudge(d, by_email) for d in decisions]


def _new_nudge(decision: Decision, by_email: dict[str, ContactHealth]) -> outbox.NewNudge:
    health = by_email.get(decision.contact_email)
    payload = NudgePayload(
        template=decision.template,
        contact_name=decision.contact_name,
        status=str(decision.status),
        role=decision.role,
        hold_minutes=decision.hold_minutes,
        hold_horizon_days=decision.hold_horizon_days,
        group=decision.group,
        last_interaction=health.last_interaction if health else None,
        cadence_days=health.cadence_days if health else None,
    )
    if decision.kind == "digest":
        payload = digest_payload(decision, by_email, payload)
    return outbox.NewNudge(
        key=decision.key,
        contact_email=decision.contact_email,
        kind=decision.kind,
        rule=decision.rule,
        payload=payload,
        evidence=list(decision.evidence),
        priority=decision.priority,
    )


def digest_payload(
    decision: Decision, by_email: dict[str, ContactHealth], payload: NudgePayload
) -> NudgePayload:
    """The weekly digest as it stood when decided: suggestions and health by role.

    Weak ties without a role are left out of the table: dozens of people met only in
    all-hands meetings would drown the relationships the user actually has.
    """
    items = tuple(
        DigestEntry(
            contact_email=d.contact_email,
            contact_name=d.contact_name,
            status=str(d.status),
            role=d.role,
            reasons=_reasons(by_email.get(d.contact_email), d),
        )
        for d in decision.bundled
    )
    counts: dict[str, Counter[str]] = {}
    for h in by_email.values():
        if h.role is None and h.status == Status.WEAK_TIE:
            continue
        counts.setdefault(h.role or "other", Counter())[str(h.status)] += 1
    return replace(payload, items=items, counts_by_role={r: dict(c) for r, c in counts.items()})


def _reasons(health: ContactHealth | None, decision: Decision) -> tuple[str, ...]:
    return tuple(health.reasons) if health and health.reasons else decision.evidence


def owner_of(account: Account) -> Owner:
    """The owner as analysis sees them; their working week is their own choice, else the
    provider's, else Monday to Friday."""
    aliases = {a.lower() for a in account.aliases.split()}
    zone = preferences.time_zone_of(account)
    hours = preferences.working_hours_of(account)
    return Owner(
        emails=frozenset({account.email.lower(), *aliases}),
        time_zone=zone,
        working_days=frozenset(hours.days) if hours and hours.days else WEEK,
    )


def _account_settings(runtime: Runtime, account_id: int) -> dict[str, Any]:
    with session_scope(runtime.db) as session:
        return dict(session.get_one(Account, account_id).settings or {})


def _refresh_profile(runtime: Runtime, account_id: int, connector: Connector) -> None:
    profile = connector.calendar.profile()
    with session_scope(runtime.db) as session:
        account = session.get_one(Account, account_id)
        account.name = profile.name or account.name
        account.time_zone = profile.time_zone or account.time_zone
        account.aliases = " ".join(profile.aliases)
        hours = profile.working_hours
        account.working_hours = hours_json(hours) if hours else None


def _import_directory(runtime: Runtime, account_id: int, connector: Connector) -> None:
    """Roles from the org chart; a role the user set themselves is never overwritten."""
    if connector.directory is None:
        return
    found = [(p, "direct_report") for p in connector.directory.direct_reports()]
    manager = connector.directory.manager()
    if manager is not None:
        found.append((manager, "manager"))
    for person, role in found:
        contacts.set_role(
            runtime, account_id, person.email, role, name=person.name, source="directory"
        )


def _delivery_owner(runtime: Runtime, account_id: int) -> delivery.DeliveryAccount:
    with session_scope(runtime.db) as session:
        account = session.get_one(Account, account_id)
        zone = preferences.time_zone_of(account)
        return delivery.DeliveryAccount(
            account_id=account.id,
            email=account.email,
            name=account.name,
            time_zone=zone,
            working_hours=preferences.working_hours_of(account),
            active=account.status == "active",
        )
