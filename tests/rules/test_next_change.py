"""``next_change``: until that moment, ``decide`` answers the same on the same inputs.

Random audits, snoozes, mutes, "we already talked" and outbox histories (emails, holds
and digests in every state, some declined); ``decide`` at any moment between ``now``
and the horizon (on the same day) must give what it gives at ``now``, and just after
the horizon the answer is allowed to move.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from nudger.analysis.audit import ContactHealth
from nudger.analysis.model import ContactPrefs, Status
from nudger.rules.engine import Decision, PastNudge, decide, next_change
from nudger.rules.model import RuleSet
from tests.rules.test_engine import NOW, PARIS, SHIPPED, health

STATUSES = [Status.NEGLECTED, Status.NEGLECTED, Status.FADING, Status.LAPSED_ONE_ON_ONE]
ROLES = [None, None, "peer", "direct_report"]
STATES = ["sent", "sent", "sent", "pending", "suppressed", "failed", "declined"]
PEOPLE = [f"p{i}@x.example" for i in range(5)]
SPANS = [0, 1, 10, 14, 20, 30, 31, 44, 60, 61]
"""Days back: the policies' spans (cooldowns, the 30-day email window, the ladder's
quiet 30 and 60 days, holds' 10, a rule's 20), so that many a span ends today."""
MIN_DAYS = SHIPPED.model_copy(
    update={
        "rules": tuple(
            r.model_copy(update={"when": r.when.model_copy(update={"min_days_since_last": 20})})
            for r in SHIPPED.rules
        )
    }
)

CRUNCH = SHIPPED.model_copy(
    update={
        "policies": SHIPPED.policies.model_copy(update={"crunch_until": NOW + timedelta(hours=3)})
    }
)
"""A crunch ending later today."""


def a_moment(rng: random.Random) -> datetime:
    """Some whole days before ``now`` (12:00 UTC), give or take a few hours."""
    return NOW - timedelta(days=rng.choice(SPANS), hours=rng.uniform(-9, 4))


def healths(rng: random.Random) -> list[ContactHealth]:
    found = []
    for email in PEOPLE:
        one = health(email, rng.choice(STATUSES), role=rng.choice(ROLES))
        last = a_moment(rng)
        small = a_moment(rng) if rng.random() < 0.3 else None
        features = replace(one.features, last_small_meeting=small)
        found.append(replace(one, last_interaction=last, features=features))
    return found


def prefs(rng: random.Random) -> dict[str, ContactPrefs]:
    return {
        email: ContactPrefs(
            email,
            muted=rng.random() < 0.1,
            snoozed_until=NOW + timedelta(hours=rng.uniform(-30, 10)),
            talked_at=a_moment(rng) if rng.random() < 0.3 else None,
        )
        for email in rng.sample(PEOPLE, 2)
    }


def history(rng: random.Random) -> list[PastNudge]:
    found = []
    for _ in range(rng.randint(0, 12)):
        created = a_moment(rng)
        kind = rng.choice(["email", "email", "hold", "hold", "digest"])
        status = rng.choice(STATES)
        declined = created + timedelta(days=rng.choice([0, 1])) if status == "declined" else None
        found.append(
            PastNudge(
                rng.choice(PEOPLE) if kind != "digest" else "",
                "neglected",
                kind,
                status,
                created,
                declined_at=declined,
                group=tuple(rng.sample(PEOPLE, 2)) if kind == "digest" else (),
                hold_until=created + timedelta(days=10) if kind == "hold" else None,
            )
        )
    return found


def keys(decisions: list[Decision]) -> list[tuple[str, str]]:
    return [(d.key, d.kind) for d in decisions]


@pytest.mark.parametrize(
    "ruleset", [SHIPPED, MIN_DAYS, CRUNCH], ids=["shipped", "min_days", "crunch"]
)
@pytest.mark.parametrize("seed", range(150))
def test_decisions_hold_until_the_next_change(seed: int, ruleset: RuleSet) -> None:
    rng = random.Random(seed)
    audit, likes, past = healths(rng), prefs(rng), history(rng)
    answer = keys(decide(7, audit, likes, past, ruleset, NOW, PARIS))
    horizon = next_change(audit, likes, past, ruleset, NOW)
    midnight = datetime(2024, 6, 12, 22, 0, tzinfo=NOW.tzinfo)  # Paris' next day
    until = min(horizon or midnight, midnight)
    assert until > NOW
    for later in (NOW + (until - NOW) * n / 8 for n in range(1, 8)):
        assert keys(decide(7, audit, likes, past, ruleset, later, PARIS)) == answer, later
    before = until - timedelta(seconds=1)
    assert keys(decide(7, audit, likes, past, ruleset, before, PARIS)) == answer


def test_a_snooze_ending_is_a_change() -> None:
    ends = NOW + timedelta(hours=3)
    likes = {"a@x.example": ContactPrefs("a@x.example", snoozed_until=ends)}
    audit = [health("a@x.example", Status.NEGLECTED)]

    assert next_change(audit, likes, [], SHIPPED, NOW) == ends
    assert decide(7, audit, likes, [], SHIPPED, NOW, PARIS) == []
    assert decide(7, audit, likes, [], SHIPPED, ends + timedelta(seconds=1), PARIS) != []


def test_a_cooldown_ending_is_a_change() -> None:
    sent = NOW - timedelta(days=14, hours=-2)  # its 14-day cooldown ends in 2 hours
    past = [PastNudge("a@x.example", "neglected", "email", "sent", sent)]
    audit = [health("a@x.example", Status.NEGLECTED)]

    assert next_change(audit, {}, past, SHIPPED, NOW) == sent + timedelta(days=14)


def test_nothing_pending_in_time_means_no_change_before_the_day_ends() -> None:
    audit = [health("a@x.example", Status.HEALTHY)]

    assert next_change(audit, {}, [], SHIPPED, NOW) is None


def _decided_just_before_and_after(
    moment: datetime, audit: list[ContactHealth], past: list[PastNudge], ruleset: RuleSet
) -> tuple[list[Decision], list[Decision]]:
    second = timedelta(seconds=1)
    before = decide(7, audit, {}, past, ruleset, moment - second, PARIS)
    after = decide(7, audit, {}, past, ruleset, moment + second, PARIS)
    return before, after


SHORT_COOLDOWN = SHIPPED.model_copy(
    update={"policies": SHIPPED.policies.model_copy(update={"cooldown_days": 5})}
)


def test_a_holds_time_passing_is_a_change() -> None:
    """A hold not yet passed blocks another; a meeting since restarted the ladder."""
    ends = NOW + timedelta(hours=2)
    booked = PastNudge(
        "a@x.example", "lapsed_one_on_one", "hold", "sent", NOW - timedelta(days=8), hold_until=ends
    )
    one = health("a@x.example", Status.LAPSED_ONE_ON_ONE)
    met = replace(one.features, last_small_meeting=NOW - timedelta(days=7))
    audit = [replace(one, features=met)]

    before, after = _decided_just_before_and_after(ends, audit, [booked], SHORT_COOLDOWN)

    assert next_change(audit, {}, [booked], SHORT_COOLDOWN, NOW) == ends
    assert (keys(before), [d.kind for d in after]) == ([], ["hold"])


def test_an_email_leaving_the_30_day_window_is_a_change() -> None:
    """At most two emails about one person in any 30 days."""
    leaves = NOW + timedelta(hours=2)
    past = [
        PastNudge("a@x.example", "neglected", "email", "sent", leaves - timedelta(days=30)),
        PastNudge("a@x.example", "neglected", "email", "sent", NOW - timedelta(days=25)),
    ]
    talked = ContactPrefs("a@x.example", talked_at=NOW - timedelta(days=20))
    audit = [health("a@x.example", Status.NEGLECTED)]

    assert next_change(audit, {talked.email: talked}, past, SHORT_COOLDOWN, NOW) == leaves
    second = timedelta(seconds=1)
    likes = {talked.email: talked}
    assert decide(7, audit, likes, past, SHORT_COOLDOWN, leaves - second, PARIS) == []
    assert decide(7, audit, likes, past, SHORT_COOLDOWN, leaves + second, PARIS) != []


def test_the_ladders_quiet_time_ending_is_a_change() -> None:
    """An email, then a hold, both unanswered: quiet for ``ladder_backoff_days``."""
    ends = NOW + timedelta(hours=2)
    quiet = timedelta(days=SHIPPED.policies.ladder_backoff_days)
    past = [
        PastNudge("a@x.example", "neglected", "email", "sent", ends - quiet - timedelta(days=10)),
        PastNudge("a@x.example", "neglected", "hold", "sent", ends - quiet),
    ]
    audit = [health("a@x.example", Status.NEGLECTED)]

    before, after = _decided_just_before_and_after(ends, audit, past, SHIPPED)

    assert next_change(audit, {}, past, SHIPPED, NOW) == ends
    assert (keys(before), [d.kind for d in after]) == ([], ["email"])
