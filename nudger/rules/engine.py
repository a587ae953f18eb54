"""Rule evaluation: the audit plus the rules and policies → this week's nudge decisions.

Per contact the enabled matching rule with the highest priority wins, unless the contact
is muted, snoozed, in cooldown, or not worth a nudge (``new``, ``weak_tie``). The weekly
budget then keeps the most important decisions. Keys are deterministic per ISO week in
the owner's zone, so re-running in the same week yields the same outbox keys.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from nudger.analysis.audit import ContactHealth
from nudger.analysis.features import days_between
from nudger.analysis.judgement import OUTER_TIER
from nudger.analysis.model import NEVER_NUDGED, NO_ROLE, ContactPrefs
from nudger.analysis.status import ended_run_reasons, every_days, weeks_ago
from nudger.rules.crunch import kept_in_crunch
from nudger.rules.ladder import (
    DAILY_STEP,
    EMAIL,
    EMAIL_WINDOW,
    NOT_COUNTED,
    Attempt,
    next_kind,
    quiet_ends,
    thanks_kind,
)
from nudger.rules.model import Condition, Policies, Rule, RuleSet
from nudger.rules.moments import closed, moment_evidence, moments_match, once_rules
from nudger.rules.thanks import (
    GroupTiers,
    group_thanks,
    is_once,
    role_tier,
    run_label,
    thanked,
    thanks_rule_names,
)

DIGEST = "digest"


@dataclass(frozen=True)
class PastNudge:
    """A nudge already in the outbox (``status``: its outbox state, or "declined")."""

    contact_email: str
    rule: str
    kind: str
    status: str
    created_at: datetime
    declined_at: datetime | None = None
    """When the user deleted the hold (status "declined")."""
    group: tuple[str, ...] = ()
    """Everyone it was about when more than one: a group nudge, or a digest's people."""
    hold_until: datetime | None = None
    """For a hold: when its time will have passed."""

    @property
    def about(self) -> frozenset[str]:
        return frozenset(e.lower() for e in (self.group or (self.contact_email,)) if e)


@dataclass(frozen=True)
class Decision:
    """One nudge to deliver; ``key`` is the outbox's unique key."""

    key: str
    contact_email: str
    contact_name: str | None
    kind: str
    rule: str
    template: str
    priority: int
    evidence: tuple[str, ...]
    hold_minutes: int
    hold_horizon_days: int
    status: str
    role: str | None
    bundled: tuple[Decision, ...] = ()
    """For a digest: the decisions it lists, most important first."""
    group: tuple[str, ...] = ()
    """For a group nudge: every member (``contact_email`` is one of them)."""
    invite: str = "offer"
    """The rule's ``action.invite``: off, offer or propose."""
    step: str = ""
    """For a daily step: the small step it suggests."""


def decide(
    account_id: int,
    healths: Sequence[ContactHealth],
    prefs: Mapping[str, ContactPrefs],
    history: Sequence[PastNudge],
    ruleset: RuleSet,
    now: datetime,
    time_zone: str,
) -> list[Decision]:
    """This week's decisions for one account, most important first, within the budget.

    One decision per person, or per group of people met only together; what kind of
    nudge it is follows the escalation ladder (``ladder.py``). Daily steps in the history
    count for nothing here: they have their own budget (``daily.py``).
    """
    history = other_than_daily(history)
    tz = ZoneInfo(time_zone)
    week = iso_week_label(now, tz)
    by_email = {email.lower(): pref for email, pref in prefs.items()}
    cooling = contacts_in_cooldown(history, ruleset.policies, now)
    thanks_rules = thanks_rule_names(ruleset.rules)
    by_moment = once_rules(ruleset.rules)
    crunching = in_crunch(ruleset.policies, now)
    tiers = GroupTiers(healths, ruleset)
    chosen = [
        (health, rule)
        for health in healths
        if may_nudge(health, by_email.get(health.email.lower()), cooling, now)
        and (not crunching or kept_in_crunch(health))
        and not thanked(health, history, thanks_rules)
        and not closed(health, history, by_moment)
        and (rule := winning_rule(health, ruleset.enabled_rules, now, tiers.of(health))) is not None
    ]
    chosen.sort(key=lambda pair: (-pair[1].priority, pair[0].strength, pair[0].email))
    attempts = [attempt_of(n) for n in history if n.status not in NOT_COUNTED]
    names = {h.email: h.name or h.email for h in healths}
    decisions = []
    for health, rule in one_per_group(chosen):
        if is_once(rule):
            found = once_decision(
                account_id, health, rule, names, tz, attempts, ruleset.policies, now
            )
        else:
            found = ladder_decision(
                account_id, health, rule, week, attempts, by_email, ruleset, names, now
            )
        if found is not None:
            decisions.append(found)
    decisions = bundle_digest(decisions, account_id, week, history, tz, ruleset.policies)
    return within_budgets(decisions, history, ruleset.policies, now, tz)


def ladder_decision(
    account_id: int,
    health: ContactHealth,
    rule: Rule,
    week: str,
    attempts: Sequence[Attempt],
    by_email: Mapping[str, ContactPrefs],
    ruleset: RuleSet,
    names: Mapping[str, str],
    now: datetime,
) -> Decision | None:
    """The nudge the escalation ladder allows about this person (or group) this week."""
    about = frozenset(health.group or (health.email,))
    reset = _reset_at(health, by_email.get(health.email.lower()))
    tier = tier_of(health, ruleset)
    kind = next_kind(rule.action.kind, tier, about, attempts, reset, ruleset.policies, now)
    if kind is None:
        return None
    evidence = evidence_of(health, names, now)
    return make_decision(account_id, health, rule, week, kind, evidence)


def once_decision(
    account_id: int,
    health: ContactHealth,
    rule: Rule,
    names: Mapping[str, str],
    tz: tzinfo,
    attempts: Sequence[Attempt],
    policies: Policies,
    now: datetime,
) -> Decision | None:
    """An email marking something that happens once (a run ended, a year since the first
    meeting, a work anniversary, a return), or nothing. Keyed by that thing (the run's last
    meeting, the year, the absence), not the week, so the outbox takes it once whichever
    day it is decided on."""
    run, who = health.ended_run, health.name or health.email
    about = frozenset({health.email})
    if rule.when.group_ended_run:
        found = group_thanks(health, names, tz, attempts)
        if found is None:
            return None
        label, evidence, about = found
    elif rule.when.ended_run and run is not None:
        label, evidence = run_label(run), ended_run_reasons(run, who, tz)
    elif (moment := moment_evidence(rule, health, tz)) is not None:
        label, evidence = moment
    else:
        return None
    kind = thanks_kind(about, attempts, policies, now)
    if kind is None:
        return None
    decision = make_decision(account_id, health, rule, label, kind, evidence)
    # A group's: keyed by its first member, whichever member the engine picked.
    return replace(decision, key=decision_key(account_id, rule.name, min(about), label))


def next_change(
    healths: Sequence[ContactHealth],
    prefs: Mapping[str, ContactPrefs],
    history: Sequence[PastNudge],
    ruleset: RuleSet,
    now: datetime,
) -> datetime | None:
    """The first moment after ``now`` at which ``decide`` may answer otherwise on the same
    inputs, or None: a snooze, a cooldown or a ladder's quiet time ends, a hold's time
    passes, an email leaves the 30-day window, a rule's ``min_days_since_last`` is reached,
    a crunch ends. (The ISO week turns over with the owner's date, which callers watch
    themselves.)"""
    policies = ruleset.policies
    history = other_than_daily(history)
    moments = [p.snoozed_until for p in prefs.values() if p.snoozed_until is not None]
    if policies.crunch_until is not None:
        moments.append(policies.crunch_until)
    for nudge in history:
        moments += _nudge_moments(nudge, policies)
    attempts = [attempt_of(n) for n in history if n.status not in NOT_COUNTED]
    by_email = {email.lower(): pref for email, pref in prefs.items()}
    for health in healths:
        about = frozenset(health.group or (health.email,))
        reset = _reset_at(health, by_email.get(health.email.lower()))
        moments += quiet_ends(about, attempts, reset, policies)
        moments += _rule_moments(health, ruleset.enabled_rules)
    return min((m for m in moments if m > now), default=None)


def _nudge_moments(nudge: PastNudge, policies: Policies) -> list[datetime]:
    moments = [nudge.created_at + timedelta(days=policies.cooldown_days)]
    if nudge.kind == EMAIL:
        moments.append(nudge.created_at + EMAIL_WINDOW)
    if nudge.declined_at is not None:
        moments.append(nudge.declined_at + timedelta(days=policies.declined_cooldown_days))
    if nudge.hold_until is not None:
        moments.append(nudge.hold_until)
    return moments


def _rule_moments(health: ContactHealth, rules: Sequence[Rule]) -> list[datetime]:
    last = health.last_interaction
    if last is None:
        return []
    return [
        last + timedelta(days=rule.when.min_days_since_last)
        for rule in rules
        if rule.when.min_days_since_last is not None
    ]


def other_than_daily(history: Sequence[PastNudge]) -> list[PastNudge]:
    """The history other nudges are weighed on: daily steps spend none of their budget,
    ladder or cooldown, so repairs and the people in trouble keep their places."""
    return [nudge for nudge in history if nudge.kind != DAILY_STEP]


def attempt_of(nudge: PastNudge) -> Attempt:
    return Attempt(nudge.about, nudge.kind, nudge.created_at, nudge.hold_until)


def _reset_at(health: ContactHealth, pref: ContactPrefs | None) -> datetime | None:
    """A small meeting with the person, or "we already talked", restarts their ladder."""
    moments = [health.features.last_small_meeting, pref.talked_at if pref else None]
    return max((m for m in moments if m is not None), default=None)


def one_per_group(pairs: Sequence[tuple[ContactHealth, Rule]]) -> list[tuple[ContactHealth, Rule]]:
    """Keep the first (most important) member of each group; others ride along."""
    seen: set[tuple[str, ...]] = set()
    kept = []
    for health, rule in pairs:
        if health.group and health.group in seen:
            continue
        seen.add(health.group)
        kept.append((health, rule))
    return kept


def within_budgets(
    decisions: Sequence[Decision],
    history: Sequence[PastNudge],
    policies: Policies,
    now: datetime,
    tz: tzinfo,
) -> list[Decision]:
    """Keep the most important decisions each budget allows: messages and holds apart.

    Holds sit quietly in the calendar while emails ask for attention, so a week with
    several lapsed one-on-ones must not use up the email budget (and vice versa).
    """
    left = {
        False: remaining_budget(_of_kind(history, hold=False), policies.weekly_budget, now, tz),
        True: remaining_budget(_of_kind(history, hold=True), policies.weekly_hold_budget, now, tz),
    }
    kept = []
    for decision in decisions:
        is_hold = decision.kind == "hold"
        if left[is_hold] > 0:
            left[is_hold] -= 1
            kept.append(decision)
    return kept


def _of_kind(history: Sequence[PastNudge], *, hold: bool) -> list[PastNudge]:
    return [n for n in history if (n.kind == "hold") == hold]


def in_crunch(policies: Policies, now: datetime) -> bool:
    return policies.crunch_until is not None and now < policies.crunch_until


def may_nudge(
    health: ContactHealth, pref: ContactPrefs | None, cooling: frozenset[str], now: datetime
) -> bool:
    """Not new or a weak tie, not muted, not snoozed, not nudged about recently."""
    if health.status in NEVER_NUDGED or health.email.lower() in cooling:
        return False
    if pref is None:
        return True
    snoozed = pref.snoozed_until is not None and pref.snoozed_until > now
    return not (pref.muted or snoozed)


def contacts_in_cooldown(
    history: Sequence[PastNudge], policies: Policies, now: datetime
) -> frozenset[str]:
    """Contacts nudged lately, and those whose hold the user deleted ("no, thanks")."""
    since = now - timedelta(days=policies.cooldown_days)
    declined_since = now - timedelta(days=policies.declined_cooldown_days)
    return frozenset(
        email
        for nudge in history
        if (nudge.status not in NOT_COUNTED and nudge.created_at > since)
        or (nudge.declined_at is not None and nudge.declined_at > declined_since)
        for email in nudge.about
    )


def tier_of(health: ContactHealth, ruleset: RuleSet) -> str:
    return role_tier(health.role, ruleset)


def winning_rule(
    health: ContactHealth, rules: Sequence[Rule], now: datetime, tier: str = OUTER_TIER
) -> Rule | None:
    """The matching rule with the highest priority (the first listed on a tie)."""
    matching = [rule for rule in rules if matches(rule.when, health, now, tier)]
    return max(matching, key=lambda rule: rule.priority, default=None)


def matches(
    condition: Condition, health: ContactHealth, now: datetime, tier: str = OUTER_TIER
) -> bool:
    """Every test the condition sets passes."""
    since = days_between(health.last_interaction, now) if health.last_interaction else math.inf
    ended = health.ended_run is not None and health.ended_run.timely
    group_ended = health.group_run is not None and health.group_run.timely
    tests = (
        condition.status is None or health.status in condition.status,
        condition.role is None or (health.role or NO_ROLE) in condition.role,
        condition.tier is None or tier in condition.tier,
        condition.min_days_since_last is None or since >= condition.min_days_since_last,
        condition.min_strength is None or health.strength >= condition.min_strength,
        condition.max_strength is None or health.strength <= condition.max_strength,
        condition.repair is None or (health.repair is not None) == condition.repair,
        condition.ended_run is None or ended == condition.ended_run,
        moments_match(condition, health),
        condition.group_ended_run is None or group_ended == condition.group_ended_run,
    )
    return all(tests)


def make_decision(
    account_id: int,
    health: ContactHealth,
    rule: Rule,
    week: str,
    kind: str | None = None,
    evidence: tuple[str, ...] | None = None,
) -> Decision:
    return Decision(
        key=decision_key(account_id, rule.name, health.email, week),
        contact_email=health.email,
        contact_name=health.name,
        kind=kind or rule.action.kind,
        rule=rule.name,
        template=rule.action.template,
        priority=rule.priority,
        evidence=health.reasons if evidence is None else evidence,
        hold_minutes=rule.action.hold_minutes,
        hold_horizon_days=rule.action.hold_horizon_days,
        invite=rule.action.invite,
        status=health.status.value,
        role=health.role,
        group=health.group,
    )


def evidence_of(health: ContactHealth, names: Mapping[str, str], now: datetime) -> tuple[str, ...]:
    """The health's reasons; a group's first names the group and its rhythm."""
    if not health.group:
        return health.reasons
    people = [names.get(email, email).split(" ")[0] for email in health.group]
    who = ", ".join(["you", *people[:-1]]) + f" and {people[-1]}"
    rhythm = f" met {every_days(health.cadence_days)}" if health.cadence_days else " met"
    last = health.last_interaction
    when = f"; the last time was {weeks_ago(days_between(last, now))}" if last else ""
    return (f"{who}{rhythm}{when}", *health.reasons)


def decision_key(account_id: int, rule: str, contact: str, week: str) -> str:
    return f"{account_id}:{rule}:{contact}:{week}"


def iso_week_label(now: datetime, tz: tzinfo) -> str:
    """``2024-W05``: the ISO week of ``now`` on the owner's wall clock."""
    year, week, _ = now.astimezone(tz).isocalendar()
    return f"{year}-W{week:02d}"


def remaining_budget(history: Sequence[PastNudge], budget: int, now: datetime, tz: tzinfo) -> int:
    """Budget left this ISO week (owner's zone); suppressed nudges cost nothing."""
    week = iso_week_label(now, tz)
    used = sum(
        1
        for nudge in history
        if nudge.status != "suppressed" and iso_week_label(nudge.created_at, tz) == week
    )
    return max(budget - used, 0)


def bundle_digest(
    decisions: Sequence[Decision],
    account_id: int,
    week: str,
    history: Sequence[PastNudge],
    tz: tzinfo,
    policies: Policies,
) -> list[Decision]:
    """Digest actions, and in digest mode all emails, become one weekly digest.

    The digest takes the best priority among what it bundles; holds stay as they are.
    """
    kinds = {"email", DIGEST} if policies.digest else {DIGEST}
    emails = [d for d in decisions if d.kind in kinds]
    others = [d for d in decisions if d.kind not in kinds]
    if not emails:
        return list(decisions)
    if _digest_sent_this_week(history, week, tz):
        return others
    digest = Decision(
        key=decision_key(account_id, DIGEST, "", week),
        contact_email="",
        contact_name=None,
        kind=DIGEST,
        rule=DIGEST,
        template=DIGEST,
        priority=max(d.priority for d in emails),
        evidence=tuple(_suggestion(d) for d in emails[: policies.digest_size]),
        hold_minutes=emails[0].hold_minutes,
        hold_horizon_days=emails[0].hold_horizon_days,
        status=DIGEST,
        role=None,
        bundled=tuple(emails[: policies.digest_size]),
    )
    return sorted([*others, digest], key=lambda d: -d.priority)


def _digest_sent_this_week(history: Sequence[PastNudge], week: str, tz: tzinfo) -> bool:
    return any(
        nudge.kind == DIGEST
        and nudge.status not in NOT_COUNTED
        and iso_week_label(nudge.created_at, tz) == week
        for nudge in history
    )


def _suggestion(decision: Decision) -> str:
    who = decision.contact_name or decision.contact_email
    why = decision.evidence[0] if decision.evidence else decision.status
    return f"{who} ({decision.status.replace('_', ' ')}): {why}"


def quiet_now(policies: Policies, now: datetime, time_zone: str) -> bool:
    """True on quiet days and inside quiet hours (which may wrap midnight), owner's zone."""
    local = now.astimezone(ZoneInfo(time_zone))
    if local.isoweekday() in policies.quiet_days:
        return True
    start, end, moment = policies.quiet_hours.start, policies.quiet_hours.end, local.time()
    if start == end:
        return False
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end
