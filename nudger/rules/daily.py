"""One intentional interaction a day: the daily step (opt-in, ``policies.daily_step``).

Each working morning at most one email naming one key person and one small step,
drawn from the whole audit rather than only the people in trouble. Pure: the audit,
the outbox history, the rules and the owner's morning in; one decision or none out.

- Who: the key people (anyone with a role, and the strongest collaborators), least
  recently suggested first, so the step rotates fairly; on a tie the strongest first.
  Nobody muted, snoozed, new, a weak tie, nudged about within the cooldown, met today
  or meeting the owner today (that day is already full of them), or already the subject
  of another nudge today.
- When: a working day of the owner's week that is not a quiet day, not out of office,
  not in a crunch, with no other nudger email that day, and no daily step yet that day
  (the outbox key carries the date, so a second pass that day adds nothing).
- Budget: a daily step spends no ``weekly_budget`` and never counts in the ladder or
  the cooldown of other nudges (``engine.decide`` leaves them out): repairs and the
  people in trouble keep their places. Its own budget is one a working day, and it
  steps aside on a day another nudge email goes out.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from nudger.analysis.audit import ContactHealth
from nudger.analysis.key_people import TOP_COLLABORATORS
from nudger.analysis.model import NEVER_NUDGED, ContactPrefs
from nudger.rules.daily_steps import step_for
from nudger.rules.engine import (
    DIGEST,
    Decision,
    PastNudge,
    contacts_in_cooldown,
    decision_key,
    in_crunch,
    may_nudge,
    other_than_daily,
)
from nudger.rules.ladder import DAILY_STEP, EMAIL, NOT_COUNTED
from nudger.rules.model import RuleSet

MAIL = frozenset({EMAIL, DIGEST})


@dataclass(frozen=True)
class Morning:
    """The owner's day as the daily step sees it."""

    day: date
    """The owner's local date."""
    time_zone: str
    working_days: frozenset[int]
    """ISO weekdays of the owner's working week."""
    away: bool = False
    """The owner is out of office that day."""


def morning_of(
    now: datetime, time_zone: str, working_days: Collection[int], away: Collection[date]
) -> Morning:
    """The owner's day at ``now``; ``away``: the local days they are out of office."""
    day = now.astimezone(ZoneInfo(time_zone)).date()
    return Morning(day, time_zone, frozenset(working_days), day in away)


def daily_decision(
    account_id: int,
    healths: Sequence[ContactHealth],
    prefs: Mapping[str, ContactPrefs],
    history: Sequence[PastNudge],
    decided: Sequence[Decision],
    ruleset: RuleSet,
    now: datetime,
    morning: Morning,
) -> Decision | None:
    """Today's daily step (rule, kind and template ``daily_step``), or None: off, not a
    working morning, or nobody fits. ``decided``: the other decisions of this pass."""
    if not step_day(ruleset, now, morning) or _day_taken(history, decided, morning):
        return None
    others = other_than_daily(history)
    skip = contacts_in_cooldown(others, ruleset.policies, now) | _nudged_today(
        others, decided, morning
    )
    person = _next_person(_eligible(healths, prefs, skip, now, morning), history)
    if person is None:
        return None
    step = step_for(person, ZoneInfo(morning.time_zone))
    evidence = (step.reason, _rotation_reason(person, history, now), *person.reasons[:1])
    return Decision(
        key=decision_key(account_id, DAILY_STEP, "", morning.day.isoformat()),
        contact_email=person.email,
        contact_name=person.name,
        kind=DAILY_STEP,
        rule=DAILY_STEP,
        template=DAILY_STEP,
        priority=0,
        evidence=evidence,
        hold_minutes=30,
        hold_horizon_days=1,
        status=person.status.value,
        role=person.role,
        step=step.text,
    )


def out_of_date(key: str, kind: str, now: datetime, time_zone: str) -> str | None:
    """Why a daily step must not go out now (it was today's step on an earlier day, say
    a morning the mail could not go), or None. Today's step, or none: never two in one
    morning."""
    if kind != DAILY_STEP:
        return None
    day = key.rsplit(":", 1)[-1]
    today = now.astimezone(ZoneInfo(time_zone)).date().isoformat()
    return None if day == today else f"the daily step of {day}, not today's"


def step_day(ruleset: RuleSet, now: datetime, morning: Morning) -> bool:
    """The mode is on and this is a working morning: a day of the owner's working
    week, not a quiet day, not out of office, not in a crunch (only repairs then)."""
    policies = ruleset.policies
    weekday = morning.day.isoweekday()
    return (
        policies.daily_step
        and weekday in morning.working_days
        and weekday not in policies.quiet_days
        and not morning.away
        and not in_crunch(policies, now)
    )


def _day_taken(history: Sequence[PastNudge], decided: Sequence[Decision], morning: Morning) -> bool:
    """A daily step was already decided today (whatever became of it), or another nudge
    email goes out today: the daily step never adds a second email to a day."""
    tz = ZoneInfo(morning.time_zone)
    today = [n for n in history if n.created_at.astimezone(tz).date() == morning.day]
    if any(n.kind == DAILY_STEP for n in today):
        return True
    mailed = [n for n in today if n.kind in MAIL and n.status not in NOT_COUNTED]
    return bool(mailed) or any(d.kind in MAIL for d in decided)


def _eligible(
    healths: Sequence[ContactHealth],
    prefs: Mapping[str, ContactPrefs],
    skip: frozenset[str],
    now: datetime,
    morning: Morning,
) -> list[ContactHealth]:
    """Key people not muted or snoozed, not in ``skip`` (cooldown, nudged about today),
    and not met or meeting the owner today."""
    by_email = {email.lower(): pref for email, pref in prefs.items()}
    return [
        h
        for h in key_people(healths)
        if may_nudge(h, by_email.get(h.email.lower()), skip, now) and not _meets_today(h, morning)
    ]


def _next_person(
    eligible: Sequence[ContactHealth], history: Sequence[PastNudge]
) -> ContactHealth | None:
    """The one least recently suggested (never first), then the strongest: the rotation."""
    last = _last_suggested(history)
    never = datetime.min.replace(tzinfo=UTC)
    ranked = sorted(
        eligible, key=lambda h: (last.get(h.email.lower(), never), -h.strength, h.email)
    )
    return ranked[0] if ranked else None


def key_people(healths: Sequence[ContactHealth]) -> list[ContactHealth]:
    """Everyone with a role, and the strongest collaborators (as the guided start
    proposes them); never a new contact or a weak tie."""
    ranked = sorted(
        (h for h in healths if h.status not in NEVER_NUDGED), key=lambda h: (-h.strength, h.email)
    )
    strongest = {h.email for h in ranked[:TOP_COLLABORATORS]}
    return [h for h in ranked if h.role or h.email in strongest]


def _nudged_today(
    history: Sequence[PastNudge], decided: Sequence[Decision], morning: Morning
) -> frozenset[str]:
    """People another nudge is about today: never two nudges about one person a day."""
    tz = ZoneInfo(morning.time_zone)
    people = {
        email
        for n in history
        if n.created_at.astimezone(tz).date() == morning.day
        for email in n.about
    }
    for d in decided:
        people.update(e.lower() for e in (d.group or (d.contact_email,)) if e)
        people.update(b.contact_email.lower() for b in d.bundled)
    return frozenset(people)


def _meets_today(health: ContactHealth, morning: Morning) -> bool:
    """Met earlier today, or meeting later today: the day already has them."""
    tz = ZoneInfo(morning.time_zone)
    moments = (health.last_interaction, health.next_meeting)
    return any(m is not None and m.astimezone(tz).date() == morning.day for m in moments)


def _last_suggested(history: Sequence[PastNudge]) -> dict[str, datetime]:
    """When each person was last the daily step (that reached the user)."""
    last: dict[str, datetime] = {}
    for n in history:
        if n.kind == DAILY_STEP and n.status not in NOT_COUNTED:
            email = n.contact_email.lower()
            last[email] = max(last.get(email, n.created_at), n.created_at)
    return last


def _rotation_reason(person: ContactHealth, history: Sequence[PastNudge], now: datetime) -> str:
    who = person.name or person.email
    last = _last_suggested(history).get(person.email.lower())
    if last is None:
        return f"{who} has not been your daily step yet; the daily step goes round your key people"
    days = (now - last).total_seconds() / 86400
    return f"{who} was your daily step longest ago of your key people ({_ago(days)})"


def _ago(days: float) -> str:
    whole = round(days)
    return "1 day ago" if whole == 1 else f"{whole} days ago"
