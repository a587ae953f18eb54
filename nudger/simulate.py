"""``nudger simulate``: replay past days and list the nudges that would have fired.

Each day of the period is judged as it stood that morning (09:00 in the owner's
zone) from the events stored now, with the decisions of earlier simulated days
counting towards cooldowns and weekly budgets, exactly as the live engine would
count them. Nothing is sent, booked or written. Approximations, stated in the output:
events are those on the calendar today (one deleted since is not seen, one created
later was not known then), and snoozes and mutes are today's. Moments read from the
provider replay from what is stored: a hire date fires its anniversaries on their days
(a hire date does not change), and each key person's latest long absence fires its
welcome back on the mornings after it ended; earlier absences were not kept, so they do
not show.

A crunch ("busy until") is replayed on the mornings it covers: with ``--crunch-until
DATE``, one from the first replayed morning until that date (what a crunch would have
held back); otherwise the account's own crunch, if it is on now, on today's morning only
(when it was turned on is not stored, so earlier mornings are replayed without it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from nudger import accounts, contacts, preferences
from nudger.analysis.audit import audit
from nudger.analysis.workdays import days_away
from nudger.connectors.base import CalendarEvent
from nudger.passes.analyse import owner_of, rules_in_force
from nudger.rules.crunch import Crunch, in_force
from nudger.rules.daily import daily_decision, morning_of
from nudger.rules.engine import Decision, PastNudge, decide, in_crunch, quiet_now
from nudger.rules.model import RuleSet
from nudger.runtime import Runtime
from nudger.store import events as event_store
from nudger.store.db import session_scope
from nudger.store.models import Account

MORNING = time(9, 0)
MAX_DAYS = 3 * 365
_SPAN = re.compile(r"^\s*(\d+)\s*([dw])\s*$")


@dataclass(frozen=True)
class SimulatedNudge:
    day: date
    decision: Decision
    crunch: bool = False
    """The morning was inside a crunch: only what a crunch lets through went out."""

    def to_json(self) -> dict[str, Any]:
        """A group nudge (or a digest of several people) names one contact and lists all."""
        d = self.decision
        people = about(d)
        return {
            "day": self.day.isoformat(),
            "contact": people[0] if people else d.contact_email,
            "name": d.contact_name,
            "kind": d.kind,
            "rule": d.rule,
            "status": d.status,
            "role": d.role,
            "evidence": list(d.evidence),
            **({"group": list(people)} if len(people) > 1 else {}),
            **({"crunch": True} if self.crunch else {}),
            **({"step": d.step} if d.step else {}),
        }


def about(decision: Decision) -> tuple[str, ...]:
    """Everyone a decision is about: its group, or for a digest everyone it lists."""
    if decision.bundled:
        return tuple(e for d in decision.bundled for e in about(d))
    return decision.group or ((decision.contact_email,) if decision.contact_email else ())


def parse_span(text: str) -> timedelta:
    """``180d`` or ``26w``: how far back to replay."""
    match = _SPAN.match(text)
    if not match:
        raise ValueError(f"{text!r}: expected a number of days or weeks, like 180d or 26w")
    count, unit = int(match[1]), match[2]
    days = count * (7 if unit == "w" else 1)
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"{text!r}: between 1 day and {MAX_DAYS} days")
    return timedelta(days=days)


@dataclass(frozen=True)
class ReplayedCrunch:
    """A crunch as the replay applies it: from ``start`` until its own end."""

    crunch: Crunch
    start: datetime | None = None
    """None: from the first replayed morning."""

    def rules_at(self, ruleset: RuleSet, moment: datetime, time_zone: str) -> RuleSet:
        if self.start is not None and moment < self.start:
            return ruleset
        return in_force(ruleset, self.crunch, moment, time_zone)


def simulate(
    runtime: Runtime,
    email: str,
    since: timedelta,
    *,
    now: datetime | None = None,
    daily_step: bool = False,
    crunch_until: date | None = None,
) -> list[SimulatedNudge]:
    """``daily_step``: replay with the daily step on, whatever the settings say;
    ``crunch_until``: replay as if busy until that date (see the module's docstring)."""
    now = now or datetime.now(UTC)
    ref = accounts.find_account(runtime, email)
    ruleset = rules_in_force(runtime)
    with session_scope(runtime.db) as session:
        account = session.get_one(Account, ref.id)
        ruleset = with_daily_step(preferences.ruleset_for(account, ruleset), daily_step)
        owner = owner_of(account)
        crunch = replayed_crunch(account, crunch_until, now, owner.time_zone)
        prefs = contacts.prefs_of(session, ref.id)
        events: list[CalendarEvent] = list(event_store.iter_events(session, ref.id))
    away = days_away(events, ZoneInfo(owner.time_zone))
    history: list[PastNudge] = []
    fired: list[SimulatedNudge] = []
    for moment in mornings(now - since, now, owner.time_zone):
        rules = crunch.rules_at(ruleset, moment, owner.time_zone) if crunch else ruleset
        if quiet_now(rules.policies, moment, owner.time_zone):
            continue  # nothing is delivered then; the next working morning decides
        day = moment.astimezone(ZoneInfo(owner.time_zone)).date()
        healths = audit(owner, events, prefs, moment, rules.judgement, rules.roles)
        decisions = decide(ref.id, healths, prefs, history, rules, moment, owner.time_zone)
        morning = morning_of(moment, owner.time_zone, owner.working_days, away)
        daily = daily_decision(ref.id, healths, prefs, history, decisions, rules, moment, morning)
        for decision in [*decisions, *([daily] if daily else [])]:
            history.append(as_sent(decision, moment))
            fired.append(SimulatedNudge(day, decision, in_crunch(rules.policies, moment)))
    return fired


def replayed_crunch(
    account: Account, crunch_until: date | None, now: datetime, time_zone: str
) -> ReplayedCrunch | None:
    """The crunch asked for, or else the account's own while it is on (today only)."""
    own = preferences.crunch_on(account, now)
    if crunch_until is not None:
        factor = own.factor if own is not None else None
        return ReplayedCrunch(Crunch(crunch_until, factor))
    if own is None:
        return None
    zone = ZoneInfo(time_zone)
    return ReplayedCrunch(own, datetime.combine(now.astimezone(zone).date(), time.min, zone))


def parse_day(text: str) -> date:
    """``2026-01-15``: the day a replayed crunch ends (that day is back to normal)."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r}: expected a date like 2026-01-15") from None


def with_daily_step(ruleset: RuleSet, on: bool) -> RuleSet:
    """The rules with the daily step switched on when asked; as they are otherwise."""
    if not on:
        return ruleset
    policies = ruleset.policies.model_copy(update={"daily_step": True})
    return ruleset.model_copy(update={"policies": policies})


def as_sent(decision: Decision, moment: datetime) -> PastNudge:
    """A simulated decision as it would stand in the outbox: sent, never reacted to."""
    group = about(decision) if decision.bundled or decision.group else ()
    hold_until = None
    if decision.kind == "hold":
        hold_until = moment + timedelta(days=decision.hold_horizon_days)
    return PastNudge(
        decision.contact_email,
        decision.rule,
        decision.kind,
        "sent",
        moment,
        group=group,
        hold_until=hold_until,
    )


def mornings(start: datetime, end: datetime, time_zone: str) -> Iterator[datetime]:
    """09:00 local on each day from ``start`` to ``end`` (inclusive), as UTC instants."""
    zone = ZoneInfo(time_zone)
    day = start.astimezone(zone).date()
    while True:
        moment = datetime.combine(day, MORNING, tzinfo=zone).astimezone(UTC)
        if moment > end:
            return
        if moment >= start:
            yield moment
        day += timedelta(days=1)
