"""Step 2 of a pass: analyse the account, decide this week's nudges, queue them.

Idempotent: decisions carry deterministic outbox keys (rule, contact, ISO week in the
owner's zone) and ``outbox.enqueue`` leaves a key already present alone, so running the
step again queues nothing twice; the engine also weighs what is already queued.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from nudger import contacts, preferences
from nudger.analysis.audit import ContactHealth
from nudger.analysis.model import Status
from nudger.delivery import outbox
from nudger.delivery.payload import DigestEntry, NudgePayload, readable
from nudger.passes.analyse import analyse_in, rules_in_force
from nudger.rules.engine import Decision, PastNudge, decide
from nudger.rules.model import RuleSet
from nudger.runtime import Runtime
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
    with session_scope(runtime.db) as session:
        account = session.get_one(Account, account_id)
        ruleset = preferences.ruleset_for(account, ruleset or rules_in_force(runtime))
        healths = analyse_in(session, account_id, ruleset, now)
        prefs = contacts.prefs_of(session, account_id)
        history = [past_nudge(n) for n in nudge_store.account_nudges(session, account_id)]
        zone = preferences.time_zone_of(account)
    decisions = decide(account_id, healths, prefs, history, ruleset, now, zone)
    enqueued = 0
    if enqueue and decisions:
        with session_scope(runtime.db) as session:
            enqueued = outbox.enqueue(session, account_id, outbox_rows(decisions, healths), now)
    statuses = Counter(str(h.status) for h in healths)
    return DecideOutcome(len(healths), statuses, len(decisions), enqueued)


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
