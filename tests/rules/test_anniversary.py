"""The anniversary rule: one email a year after the first meeting with a key person,
once, never a hold (NOW is Wednesday 12 June 2024; Ana was first met 366 days ago)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from nudger.analysis.audit import audit
from nudger.analysis.judgement import DEFAULT_ROLES
from nudger.analysis.model import ContactPrefs
from nudger.errors import RuleError
from nudger.resources import resource_dir
from nudger.rules.engine import Decision, PastNudge, decide
from nudger.rules.loader import load_rules
from nudger.rules.model import RuleSet
from tests.analysis.builders import JUDGEMENT, NOW, OWNER, days_ago, meeting

SHIPPED = load_rules([resource_dir("config") / "rules.yaml"])
ANA = "ana@corp.example"
PARIS = "Europe/Paris"
OFF_THE_RECORD = [ContactPrefs(email="bo@corp.example", muted=True)]


def decisions(
    *,
    role: str | None = "peer",
    history: list[PastNudge] | None = None,
    now: datetime = NOW,
    ruleset: RuleSet = SHIPPED,
) -> list[Decision]:
    """Ana first met a year ago, then every four weeks; the calendar reaches 420 days
    back (a meeting with Bo, muted so that only Ana can be nudged)."""
    events = [meeting(days_ago(d), ANA) for d in range(366, 6, -28)]
    events.append(meeting(days_ago(420), "bo@corp.example"))
    prefs = [ContactPrefs(email=ANA, name="Ana Lima", role=role), *OFF_THE_RECORD]
    by_email = {p.email: p for p in prefs}
    healths = audit(OWNER, events, by_email, now, JUDGEMENT, DEFAULT_ROLES)
    return decide(7, healths, by_email, history or [], ruleset, now, PARIS)


def sent(decision: Decision, at: datetime) -> PastNudge:
    return PastNudge(decision.contact_email, decision.rule, decision.kind, "sent", at)


def test_a_year_since_the_first_meeting_with_a_key_person_is_one_email() -> None:
    [moment] = decisions()
    assert (moment.rule, moment.kind, moment.template) == ("anniversary", "email", "anniversary")
    assert moment.evidence == (
        "you first met Ana Lima on 12 June 2023, a year ago",
        "nothing with Ana Lima in the 8 weeks of calendar before that",
    )


def test_someone_without_a_role_gets_none() -> None:
    assert decisions(role=None) == []


def test_the_key_is_the_year_whichever_day_it_is_decided() -> None:
    [first] = decisions()
    [later] = decisions(now=NOW + timedelta(days=1))
    assert first.key == later.key == f"7:anniversary:{ANA}:year-2024"


def test_once_marked_it_is_not_sent_again_this_year() -> None:
    [moment] = decisions()
    no_cooldown = SHIPPED.model_copy(
        update={"policies": SHIPPED.policies.model_copy(update={"cooldown_days": 0})}
    )
    later = decisions(history=[sent(moment, NOW)], now=NOW + timedelta(days=1), ruleset=no_cooldown)
    assert later == []


def test_a_week_later_the_moment_has_passed() -> None:
    assert decisions(now=NOW + timedelta(days=7)) == []


def test_it_spends_the_weekly_email_budget() -> None:
    one_a_week = SHIPPED.model_copy(
        update={"policies": SHIPPED.policies.model_copy(update={"weekly_budget": 1})}
    )
    spent = PastNudge("sam@corp.example", "fading", "email", "sent", NOW - timedelta(hours=1))
    assert decisions(history=[spent], ruleset=one_a_week) == []


def test_a_user_who_takes_no_email_gets_no_hold_instead() -> None:
    holds_only = SHIPPED.model_copy(
        update={"policies": SHIPPED.policies.model_copy(update={"weekly_budget": 0})}
    )
    assert decisions(ruleset=holds_only) == []


def test_a_rule_on_anniversaries_must_send_an_email(tmp_path: Path) -> None:
    mine = tmp_path / "rules.yaml"
    mine.write_text(
        "rules:\n"
        "  - name: anniversary\n"
        "    when: {anniversary: true}\n"
        "    action: {kind: hold, template: anniversary}\n"
        "    priority: 96\n"
    )
    with pytest.raises(RuleError, match="anniversary"):
        load_rules([resource_dir("config") / "rules.yaml", mine])


def test_it_can_be_switched_off(tmp_path: Path) -> None:
    mine = tmp_path / "rules.yaml"
    mine.write_text("rules:\n  - {name: anniversary, enabled: false}\n")
    off = load_rules([resource_dir("config") / "rules.yaml", mine])
    assert decisions(ruleset=off) == []
