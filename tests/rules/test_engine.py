from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta

import pytest

from nudger.analysis.audit import ContactHealth
from nudger.analysis.judgement import RoleCadence
from nudger.analysis.model import ContactFeatures, ContactPrefs, Status
from nudger.resources import resource_dir
from nudger.rules.engine import Decision, PastNudge, decide, quiet_now
from nudger.rules.loader import load_rules
from nudger.rules.model import Policies, QuietHours, RuleSet

NOW = datetime(2024, 6, 12, 12, 0, tzinfo=UTC)  # Wednesday, ISO week 24
PARIS = "Europe/Paris"
SHIPPED = load_rules([resource_dir("config") / "rules.yaml"])


def health(
    email: str,
    status: Status,
    *,
    role: str | None = None,
    strength: float = 1.0,
    name: str | None = None,
) -> ContactHealth:
    features = ContactFeatures(
        email=email,
        first_interaction=None,
        last_interaction=NOW - timedelta(days=40),
        last_one_on_one=None,
        next_meeting=None,
        interactions=5,
        interactions_30d=0,
        interactions_90d=5,
        interactions_365d=5,
        large_only=False,
        typical_gap_days=7,
        working_days_since_last=None,
        strength=strength,
        one_on_one=None,
    )
    return ContactHealth(
        email=email,
        name=name,
        status=status,
        role=role,
        last_interaction=features.last_interaction,
        next_meeting=None,
        cadence_days=7,
        strength=strength,
        reasons=(f"why {email}",),
        features=features,
    )


def past(
    contact: str, created_at: datetime, status: str = "sent", kind: str = "email"
) -> PastNudge:
    return PastNudge(contact, "neglected", kind, status, created_at)


def run(
    healths: list[ContactHealth],
    *,
    prefs: Sequence[ContactPrefs] = (),
    history: Sequence[PastNudge] = (),
    ruleset: RuleSet = SHIPPED,
    now: datetime = NOW,
    time_zone: str = PARIS,
) -> list[Decision]:
    by_email = {p.email: p for p in prefs}
    return decide(7, healths, by_email, history, ruleset, now, time_zone)


def with_policies(**changes: object) -> RuleSet:
    return SHIPPED.model_copy(update={"policies": SHIPPED.policies.model_copy(update=changes)})


def test_highest_priority_matching_rule_wins() -> None:
    (decision,) = run([health("a@x.example", Status.NEGLECTED, role="peer")])
    assert decision.rule == "neglected_close"
    assert decision.kind == "email"
    assert decision.template == "neglected"
    assert decision.priority == 70
    assert decision.evidence == ("why a@x.example",)
    assert decision.role == "peer"
    assert decision.status == "neglected"


def test_without_a_role_the_plain_neglected_rule_applies() -> None:
    (decision,) = run([health("a@x.example", Status.NEGLECTED)])
    assert decision.rule == "neglected"


def test_external_contacts_are_outer_tier_and_get_the_plain_rule() -> None:
    (decision,) = run([health("a@x.example", Status.NEGLECTED, role="external")])
    assert decision.rule == "neglected"


def test_a_custom_role_joins_rules_through_its_tier() -> None:
    ruleset = SHIPPED.model_copy(
        update={
            "roles": {
                **SHIPPED.roles,
                "board": RoleCadence(ideal_days=30, max_days=60, tier="core"),
            }
        }
    )
    healths = [health("a@x.example", Status.NEGLECTED, role="board")]
    (decision,) = decide(7, healths, {}, [], ruleset, NOW, PARIS)
    assert decision.rule == "neglected_close"


def test_lapsed_one_on_one_becomes_a_hold() -> None:
    (decision,) = run([health("a@x.example", Status.LAPSED_ONE_ON_ONE)])
    assert (decision.kind, decision.hold_minutes, decision.hold_horizon_days) == ("hold", 30, 10)


def test_healthy_contacts_get_nothing() -> None:
    assert run([health("a@x.example", Status.HEALTHY)]) == []


@pytest.mark.parametrize("status", [Status.NEW, Status.WEAK_TIE])
def test_new_and_weak_ties_are_never_nudged_even_by_a_catch_all_rule(status: Status) -> None:
    catch_all = {
        "name": "everyone",
        "when": {},
        "action": {"kind": "email", "template": "fading"},
        "priority": 1,
    }
    ruleset = RuleSet.model_validate({**SHIPPED.model_dump(), "rules": [catch_all]})
    assert run([health("a@x.example", status)], ruleset=ruleset) == []
    assert len(run([health("a@x.example", Status.HEALTHY)], ruleset=ruleset)) == 1


def test_disabled_rules_do_not_fire() -> None:
    rules = tuple(r.model_copy(update={"enabled": r.name != "fading"}) for r in SHIPPED.rules)
    ruleset = SHIPPED.model_copy(update={"rules": rules})
    assert run([health("a@x.example", Status.FADING)], ruleset=ruleset) == []


def test_muted_contacts_are_skipped() -> None:
    prefs = [ContactPrefs(email="a@x.example", muted=True)]
    assert run([health("a@x.example", Status.NEGLECTED)], prefs=prefs) == []


def test_snoozed_contacts_are_skipped_until_the_snooze_ends() -> None:
    snoozed = [ContactPrefs(email="A@x.example", snoozed_until=NOW + timedelta(days=1))]
    assert run([health("a@x.example", Status.NEGLECTED)], prefs=snoozed) == []
    woke = [ContactPrefs(email="a@x.example", snoozed_until=NOW - timedelta(minutes=1))]
    assert len(run([health("a@x.example", Status.NEGLECTED)], prefs=woke)) == 1


@pytest.mark.parametrize(
    ("days_ago", "status", "skipped"),
    [
        (10, "sent", True),
        (10, "pending", True),
        (10, "in_doubt", True),
        (10, "declined", True),
        (10, "suppressed", False),
        (10, "failed", False),
        (15, "sent", False),
    ],
)
def test_cooldown_after_a_nudge_that_reached_the_user(
    days_ago: int, status: str, skipped: bool
) -> None:
    history = [past("a@x.example", NOW - timedelta(days=days_ago), status)]
    decisions = run([health("a@x.example", Status.NEGLECTED)], history=history)
    assert (decisions == []) is skipped


@pytest.mark.parametrize(("declined_days_ago", "skipped"), [(29, True), (31, False)])
def test_a_deleted_hold_rests_the_contact_from_the_day_it_was_deleted(
    declined_days_ago: int, skipped: bool
) -> None:
    booked = NOW - timedelta(days=40)  # long past the ordinary 14-day cooldown
    declined = PastNudge(
        "a@x.example",
        "neglected",
        "hold",
        "declined",
        booked,
        declined_at=NOW - timedelta(days=declined_days_ago),
    )
    decisions = run([health("a@x.example", Status.NEGLECTED)], history=[declined])
    assert (decisions == []) is skipped


def test_weekly_budget_keeps_highest_priority_then_weakest_first() -> None:
    healths = [
        health("fading@x.example", Status.FADING),
        health("strong@x.example", Status.NEGLECTED, strength=2.0),
        health("weak@x.example", Status.NEGLECTED, strength=0.5),
        health("lapsed@x.example", Status.LAPSED_ONE_ON_ONE),
    ]
    history = [
        past("old@x.example", NOW - timedelta(days=1)),  # this week (Tuesday)
        past("older@x.example", NOW - timedelta(days=1)),
    ]
    decisions = run(healths, history=history)
    assert [d.contact_email for d in decisions] == ["lapsed@x.example", "weak@x.example"]


def test_holds_and_emails_have_budgets_of_their_own() -> None:
    lapsed = [health(f"l{i}@x.example", Status.LAPSED_ONE_ON_ONE) for i in range(4)]
    neglected = [health(f"n{i}@x.example", Status.NEGLECTED) for i in range(4)]
    decisions = run(lapsed + neglected)
    assert [d.kind for d in decisions] == ["hold"] * 3 + ["email"] * 3
    held_this_week = [past(f"h{i}@x.example", NOW, kind="hold") for i in range(3)]
    assert {d.kind for d in run(lapsed + neglected, history=held_this_week)} == {"email"}


def test_ties_in_priority_and_strength_break_on_email() -> None:
    healths = [health(f"{c}@x.example", Status.FADING) for c in "dcba"]
    assert [d.contact_email for d in run(healths)] == [f"{c}@x.example" for c in "abc"]


def test_suppressed_nudges_do_not_use_the_budget() -> None:
    history = [past(f"o{i}@x.example", NOW - timedelta(days=1), "suppressed") for i in range(3)]
    assert len(run([health("a@x.example", Status.NEGLECTED)], history=history)) == 1


def test_budget_week_follows_the_owners_time_zone() -> None:
    # Sunday 20:00 in Los Angeles is already Monday (a new ISO week) in UTC.
    now = datetime(2024, 6, 10, 3, 0, tzinfo=UTC)
    sunday_morning_la = datetime(2024, 6, 9, 10, 0, tzinfo=UTC)
    history = [past(f"o{i}@x.example", sunday_morning_la) for i in range(3)]
    healths = [health("a@x.example", Status.NEGLECTED)]
    assert run(healths, history=history, now=now, time_zone="America/Los_Angeles") == []
    assert len(run(healths, history=history, now=now, time_zone="UTC")) == 1
    monday_la = datetime(2024, 6, 10, 9, 0, tzinfo=UTC)  # 02:00 Monday in Los Angeles
    fresh = run(healths, history=history, now=monday_la, time_zone="America/Los_Angeles")
    assert len(fresh) == 1


def test_keys_are_deterministic_within_an_iso_week_in_the_owners_zone() -> None:
    healths = [health("a@x.example", Status.NEGLECTED)]
    (wednesday,) = run(healths)
    (sunday_night,) = run(healths, now=datetime(2024, 6, 16, 21, 30, tzinfo=UTC))  # 23:30 Paris
    (monday,) = run(healths, now=datetime(2024, 6, 16, 22, 30, tzinfo=UTC))  # 00:30 Paris
    assert wednesday.key == "7:neglected:a@x.example:2024-W24"
    assert sunday_night.key == wednesday.key
    assert monday.key == "7:neglected:a@x.example:2024-W25"


def test_digest_mode_bundles_emails_into_one_weekly_digest() -> None:
    ruleset = with_policies(digest=True)
    healths = [
        health("a@x.example", Status.NEGLECTED, name="Ann"),
        health("b@x.example", Status.FADING),
        health("c@x.example", Status.LAPSED_ONE_ON_ONE),
    ]
    decisions = run(healths, ruleset=ruleset)
    assert [d.kind for d in decisions] == ["hold", "digest"]
    digest = decisions[1]
    assert digest.key == "7:digest::2024-W24"
    assert digest.contact_email == ""
    assert digest.priority == 60
    assert digest.evidence == (
        "Ann (neglected): why a@x.example",
        "b@x.example (fading): why b@x.example",
    )


def test_digest_is_sent_once_a_week() -> None:
    ruleset = with_policies(digest=True)
    history = [PastNudge("", "digest", "digest", "sent", NOW - timedelta(days=1))]
    healths = [health("a@x.example", Status.NEGLECTED)]
    assert run(healths, ruleset=ruleset, history=history) == []


def test_digest_action_bundles_even_outside_digest_mode() -> None:
    rules = tuple(
        r.model_copy(update={"action": r.action.model_copy(update={"kind": "digest"})})
        if r.name == "fading"
        else r
        for r in SHIPPED.rules
    )
    ruleset = SHIPPED.model_copy(update={"rules": rules})
    healths = [health("a@x.example", Status.FADING), health("b@x.example", Status.NEGLECTED)]
    decisions = run(healths, ruleset=ruleset)
    assert [(d.kind, d.contact_email) for d in decisions] == [
        ("email", "b@x.example"),
        ("digest", ""),
    ]


def test_digest_counts_once_against_the_budget() -> None:
    ruleset = with_policies(digest=True, weekly_budget=1)
    healths = [health(f"{c}@x.example", Status.NEGLECTED) for c in "abc"]
    (digest,) = run(healths, ruleset=ruleset)
    assert len(digest.evidence) == 3


# --- quiet hours ---------------------------------------------------------------------

BERLIN = "Europe/Berlin"  # UTC+2 in June
AUCKLAND = "Pacific/Auckland"  # UTC+12 in June


@pytest.mark.parametrize(
    ("utc_time", "quiet"),
    [
        (datetime(2024, 6, 12, 17, 59, tzinfo=UTC), False),  # Wed 19:59 Berlin
        (datetime(2024, 6, 12, 18, 0, tzinfo=UTC), True),  # Wed 20:00
        (datetime(2024, 6, 12, 23, 0, tzinfo=UTC), True),  # Thu 01:00
        (datetime(2024, 6, 13, 5, 59, tzinfo=UTC), True),  # Thu 07:59
        (datetime(2024, 6, 13, 6, 0, tzinfo=UTC), False),  # Thu 08:00
        (datetime(2024, 6, 15, 10, 0, tzinfo=UTC), True),  # Saturday noon
        (datetime(2024, 6, 17, 10, 0, tzinfo=UTC), False),  # Monday noon
    ],
)
def test_quiet_hours_wrap_midnight_in_the_owners_zone(utc_time: datetime, quiet: bool) -> None:
    assert quiet_now(Policies(), utc_time, BERLIN) is quiet


def test_quiet_days_are_the_owners_weekdays() -> None:
    days_only = Policies(quiet_hours=QuietHours(start=time(0, 0), end=time(0, 0)))
    friday_utc_saturday_auckland = datetime(2024, 6, 14, 23, 0, tzinfo=UTC)
    sunday_utc_monday_auckland = datetime(2024, 6, 16, 13, 0, tzinfo=UTC)
    assert quiet_now(days_only, friday_utc_saturday_auckland, AUCKLAND)
    assert not quiet_now(days_only, friday_utc_saturday_auckland, "UTC")
    assert not quiet_now(days_only, sunday_utc_monday_auckland, AUCKLAND)
    assert quiet_now(days_only, sunday_utc_monday_auckland, "UTC")


def test_quiet_hours_within_one_day() -> None:
    lunch = Policies(quiet_hours=QuietHours(start=time(12, 0), end=time(13, 0)), quiet_days=())
    assert quiet_now(lunch, datetime(2024, 6, 12, 10, 30, tzinfo=UTC), BERLIN)
    assert not quiet_now(lunch, datetime(2024, 6, 12, 11, 0, tzinfo=UTC), BERLIN)
    assert not quiet_now(lunch, datetime(2024, 6, 12, 21, 0, tzinfo=UTC), BERLIN)
