"""The thanks rule: one thank-you email per ended run, never again, never a hold."""

from __future__ import annotations

from dataclasses import replace
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
from tests.analysis.builders import JUDGEMENT, NOW, OWNER, days_ago, series

SHIPPED = load_rules([resource_dir("config") / "rules.yaml"])
ANA = "ana@partner.example"
PARIS = "Europe/Paris"


def ended_series_with_ana(role: str | None = None) -> list[ContactPrefs]:
    return [ContactPrefs(email=ANA, name="Ana Lima", role=role)]


def decisions(
    *,
    role: str | None = None,
    history: list[PastNudge] | None = None,
    now: datetime = NOW,
    ruleset: RuleSet = SHIPPED,
) -> list[Decision]:
    prefs = ended_series_with_ana(role)
    events = series(ANA, days_ago(16 + 7 * 13), 7, 14)  # weekly, 14 held, last 16 days ago
    by_email = {p.email: p for p in prefs}
    healths = audit(OWNER, events, by_email, now, JUDGEMENT, DEFAULT_ROLES)
    return decide(7, healths, by_email, history or [], ruleset, now, PARIS)


def sent(decision: Decision, at: datetime) -> PastNudge:
    return PastNudge(decision.contact_email, decision.rule, decision.kind, "sent", at)


def test_an_ended_run_with_someone_outside_the_core_gets_a_thank_you_email() -> None:
    [thanks] = decisions()
    assert (thanks.rule, thanks.kind, thanks.template) == ("thanks", "email", "thanks")
    assert thanks.evidence == (
        "your weekly one-on-one series with Ana Lima: 14 meetings over 3 months",
        "the first on 26 Feb, the last on 27 May; nothing since",
    )


def test_the_key_names_the_run_not_the_week() -> None:
    [first] = decisions()
    [later] = decisions(now=NOW + timedelta(days=2))
    assert first.key == later.key == f"7:thanks:{ANA}:run-{days_ago(16).date().isoformat()}"


def test_once_thanked_the_run_is_closed_no_second_thanks_and_no_restart() -> None:
    [thanks] = decisions()
    history = [sent(thanks, NOW)]
    for days in (15, 16, 40, 90):  # past the cooldown, inside and beyond the timely window
        assert decisions(history=history, now=NOW + timedelta(days=days)) == []


def test_a_run_past_its_timely_window_gets_no_thank_you() -> None:
    late = decisions(now=NOW + timedelta(days=20))
    assert late
    assert all(d.rule != "thanks" for d in late)


def test_a_thank_you_that_never_reached_the_user_does_not_count() -> None:
    [thanks] = decisions()
    failed = replace(sent(thanks, NOW), status="failed")
    [again] = decisions(history=[failed], now=NOW + timedelta(days=1))
    assert again.rule == "thanks"


def test_a_direct_reports_ended_series_is_a_one_on_one_to_restart_instead() -> None:
    [decision] = decisions(role="direct_report")
    assert decision.rule == "lapsed_one_on_one"


def test_a_thank_you_stays_an_email_after_an_unanswered_email() -> None:
    earlier = PastNudge(ANA, "fading", "email", "sent", NOW - timedelta(days=20))
    [thanks] = decisions(history=[earlier])
    assert (thanks.rule, thanks.kind) == ("thanks", "email")


def test_a_thank_you_spends_the_weekly_email_budget() -> None:
    none_left = SHIPPED.model_copy(
        update={"policies": SHIPPED.policies.model_copy(update={"weekly_budget": 1})}
    )
    spent = PastNudge("sam@corp.example", "fading", "email", "sent", NOW - timedelta(hours=1))
    assert decisions(history=[spent], ruleset=none_left) == []


def test_a_rule_on_ended_runs_must_send_an_email(tmp_path: Path) -> None:
    mine = tmp_path / "rules.yaml"
    mine.write_text(
        "rules:\n"
        "  - name: thanks\n"
        "    when: {ended_run: true}\n"
        "    action: {kind: hold, template: thanks}\n"
        "    priority: 95\n"
    )
    with pytest.raises(RuleError, match="thank-you"):
        load_rules([resource_dir("config") / "rules.yaml", mine])


def test_without_a_cooldown_the_run_is_still_thanked_once() -> None:
    no_cooldown = SHIPPED.model_copy(
        update={"policies": SHIPPED.policies.model_copy(update={"cooldown_days": 0})}
    )
    [thanks] = decisions(ruleset=no_cooldown)
    later = decisions(history=[sent(thanks, NOW)], now=NOW + timedelta(days=1), ruleset=no_cooldown)
    assert later == []


def test_a_user_who_takes_no_email_gets_no_thank_you_and_no_hold_instead() -> None:
    holds_only = SHIPPED.model_copy(
        update={"policies": SHIPPED.policies.model_copy(update={"weekly_budget": 0})}
    )
    assert decisions(ruleset=holds_only) == []
