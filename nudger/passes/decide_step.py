"""Step 2 of a pass: analyse the account, decide this week's nudges, queue them.

Idempotent: decisions carry deterministic outbox keys (rule, contact, ISO week in the
owner's zone) and ``outbox.enqueue`` leaves a key already present alone, so running the
step again queues nothing twice; the engine also weighs what is already queued.

Cheap when nothing changed. The step keeps its audit and outcome per account
(``store.analysis_state``) with the keys of what they rest on. When the events, the
audit's key (owner, contacts, judgement, the owner's date) and the decision's key (the
outbox, snoozes and mutes, the rules) are all as stored, and the engine's answer cannot
have changed on its own since (``engine.next_change``), the step does nothing and
returns the stored outcome. Otherwise it brings the audit up to date as cheaply as it
can (``analyse.refreshed``) and decides again. Within a day the audit is therefore as of
its last change: statuses move with the date, or with the events, not by the hour.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from nudger import contacts, preferences
from nudger.analysis.audit import ContactHealth
from nudger.analysis.model import ContactPrefs, Status
from nudger.analysis.workdays import days_off
from nudger.connectors.base import SyncWindow
from nudger.delivery import outbox
from nudger.delivery.payload import DigestEntry, NudgePayload, readable
from nudger.passes.analyse import (
    ANALYSIS_VERSION,
    Refreshed,
    analysis_key,
    audit_to_json,
    owner_of,
    refreshed,
    rules_in_force,
)
from nudger.rules.daily import Morning, daily_decision, morning_of
from nudger.rules.engine import Decision, PastNudge, decide, next_change
from nudger.rules.model import RuleSet
from nudger.runtime import Runtime
from nudger.store import analysis_state, schedule
from nudger.store import nudges as nudge_store
from nudger.store.db import session_scope
from nudger.store.models import Account, Nudge


@dataclass(frozen=True)
class DecideOutcome:
    contacts: int
    statuses: Mapping[str, int]
    """Contacts by health status."""
    decisions: int
    enqueued: int
    """Decisions that were not queued already."""
    analysis: str = "full"
    """How the audit was had: "full", "partial" (the contacts whose events changed),
    "stored" (kept from an earlier pass, decided afresh) or "skipped" (nothing changed:
    the stored outcome, nothing analysed or decided)."""
    analysed: int = 0
    """Contacts assessed afresh."""

    def to_json(self) -> dict[str, Any]:
        return {
            "contacts": self.contacts,
            "statuses": dict(self.statuses),
            "decisions": self.decisions,
        }


@dataclass(frozen=True)
class _Keys:
    analysis: str
    decision: str


def decide_step(
    runtime: Runtime,
    account_id: int,
    now: datetime,
    *,
    ruleset: RuleSet | None = None,
    enqueue: bool = True,
) -> DecideOutcome:
    """``ruleset``: the rules in force (read from the files when not given); the
    account's own budget and delivery mode are applied here. ``enqueue`` False: a dry
    run, nothing is written."""
    rules = ruleset or rules_in_force(runtime)
    with session_scope(runtime.db) as session:
        account = session.get_one(Account, account_id)
        ruleset = preferences.ruleset_at(account, rules, now)
        prefs = contacts.prefs_of(session, account_id)
        zone = preferences.time_zone_of(account)
        stored = analysis_state.load(session, account_id)
        keys = _Keys(
            analysis_key(account, prefs, ruleset, now),
            decision_key(session, account_id, prefs, ruleset, zone),
        )
        if stored.outcome is not None and _unchanged(stored, keys, now):
            return _skipped(stored.outcome)
        fresh = refreshed(session, account_id, stored, keys.analysis, prefs, ruleset, now)
        history = [past_nudge(n) for n in nudge_store.engine_history(session, account_id)]
        morning = owner_morning(session, account, ruleset, now)
    healths = fresh.audit.healths
    decisions = decide(account_id, healths, prefs, history, ruleset, now, zone)
    if morning is not None:
        daily = daily_decision(
            account_id, healths, prefs, history, decisions, ruleset, now, morning
        )
        decisions += [daily] if daily else []
    statuses = Counter(str(h.status) for h in healths)
    outcome = DecideOutcome(len(healths), statuses, len(decisions), 0, fresh.how, fresh.analysed)
    if not enqueue:
        return outcome
    valid_until = next_change(healths, prefs, history, ruleset, now)
    with session_scope(runtime.db) as session:
        enqueued = 0
        if decisions:
            enqueued = outbox.enqueue(session, account_id, outbox_rows(decisions, healths), now)
        _remember(session, account_id, stored, keys, fresh, outcome, valid_until, now)
    return replace(outcome, enqueued=enqueued)


def owner_morning(
    session: Session, account: Account, ruleset: RuleSet, now: datetime
) -> Morning | None:
    """The owner's day for the daily step, with their out-of-office; None when the mode
    is off (nothing is read then)."""
    if not ruleset.policies.daily_step:
        return None
    owner = owner_of(account)
    tz = ZoneInfo(owner.time_zone)
    midnight = datetime.combine(now.astimezone(tz).date(), time.min, tzinfo=tz)
    window = SyncWindow(midnight, midnight + timedelta(days=1))
    spans = [(b.start, b.end) for b in schedule.out_of_office(session, account.id, window)]
    return morning_of(now, owner.time_zone, owner.working_days, days_off(spans, tz))


def decision_key(
    session: Session,
    account_id: int,
    prefs: Mapping[str, ContactPrefs],
    ruleset: RuleSet,
    zone: str,
) -> str:
    """Digest of the engine's inputs besides the audit: the outbox, what the user said
    (mute, snooze, "we already talked"), the rules with the account's policies, the zone."""
    parts = {
        "version": ANALYSIS_VERSION,
        "outbox": analysis_state.outbox_mark(session, account_id),
        "contacts": [
            [p.email.lower(), p.muted, _iso(p.snoozed_until), _iso(p.talked_at)]
            for p in sorted(prefs.values(), key=lambda p: p.email.lower())
        ],
        "rules": ruleset.model_dump(mode="json"),
        "zone": zone,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _unchanged(stored: analysis_state.Stored, keys: _Keys, now: datetime) -> bool:
    """Nothing the stored outcome rests on moved, and no time-bound answer is due."""
    return (
        stored.analysed_version == stored.events_version
        and stored.analysis_key == keys.analysis
        and stored.decision_key == keys.decision
        and stored.decided_at is not None
        and stored.decided_at <= now
        and (stored.valid_until is None or now < stored.valid_until)
    )


def _skipped(stored: Mapping[str, Any]) -> DecideOutcome:
    statuses = {str(k): int(v) for k, v in stored["statuses"].items()}
    return DecideOutcome(stored["contacts"], statuses, stored["decisions"], 0, "skipped", 0)


def _remember(
    session: Session,
    account_id: int,
    stored: analysis_state.Stored,
    keys: _Keys,
    fresh: Refreshed,
    outcome: DecideOutcome,
    valid_until: datetime | None,
    now: datetime,
) -> None:
    decided = analysis_state.Decided(keys.decision, valid_until, outcome.to_json(), now)
    analysed = None
    if fresh.how != "stored":
        analysed = analysis_state.Analysed(
            stored.events_version, keys.analysis, audit_to_json(fresh.audit)
        )
    analysis_state.save(session, account_id, decided, analysed, stored)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


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


def outbox_rows(decisions: list[Decision], healths: list[ContactHealth]) -> list[outbox.NewNudge]:
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
        invite=decision.invite,
        last_interaction=health.last_interaction if health else None,
        cadence_days=health.cadence_days if health else None,
        step=decision.step,
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
