"""The thanks_group rule: one thank-you naming the group when a project's run of meetings
ends, instead of the group's "stopped" nudge, never both, never twice."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from nudger.analysis.audit import audit
from nudger.analysis.judgement import DEFAULT_ROLES
from nudger.analysis.model import ContactPrefs
from nudger.connectors.base import CalendarEvent
from nudger.errors import RuleError
from nudger.resources import resource_dir
from nudger.rules.engine import Decision, PastNudge, decide
from nudger.rules.loader import load_rules
from nudger.rules.model import RuleSet
from tests.analysis.builders import JUDGEMENT, NOW, OWNER, days_ago, meeting

SHIPPED = load_rules([resource_dir("config") / "rules.yaml"])
ANA, BO, CHEN = "ana@corp.example", "bo@corp.example", "chen@corp.example"
TEAM = (ANA, BO, CHEN)
NAMES = {ANA: "Ana Lima", BO: "Bo Berg", CHEN: "Chen Wu"}


def project(last_days_ago: float = 16, times: int = 12) -> list[CalendarEvent]:
    """A weekly project meeting with Ana, Bo and Chen that stopped."""
    return [meeting(days_ago(last_days_ago + 7 * n), *TEAM) for n in range(times)]


def decisions(
    *,
    history: list[PastNudge] | None = None,
    now: datetime = NOW,
    roles: dict[str, str] | None = None,
    events: list[CalendarEvent] | None = None,
    ruleset: RuleSet = SHIPPED,
) -> list[Decision]:
    prefs = {e: ContactPrefs(email=e, name=NAMES[e], role=(roles or {}).get(e)) for e in TEAM}
    healths = audit(OWNER, events or project(), prefs, now, JUDGEMENT, DEFAULT_ROLES)
    return decide(7, healths, prefs, history or [], ruleset, now, "Europe/Paris")


def sent(decision: Decision, at: datetime) -> PastNudge:
    return PastNudge(
        decision.contact_email, decision.rule, decision.kind, "sent", at, group=decision.group
    )


def test_a_projects_run_that_ended_gets_one_thank_you_naming_the_group() -> None:
    [thanks] = decisions()
    assert (thanks.rule, thanks.kind, thanks.template) == ("thanks_group", "email", "thanks_group")
    assert thanks.group == TEAM
    assert thanks.evidence == (
        "the 12 weekly meetings with Ana, Bo and Chen over 3 months",
        "the first on 11 Mar, the last on 27 May; nothing since",
    )


def test_the_key_names_the_run_and_the_groups_first_member() -> None:
    [first] = decisions()
    [later] = decisions(now=NOW + timedelta(days=3))
    assert first.key == later.key == f"7:thanks_group:{ANA}:run-{days_ago(16).date().isoformat()}"


def test_once_thanked_the_group_is_closed_no_stopped_nudge_after() -> None:
    [thanks] = decisions()
    history = [sent(thanks, NOW)]
    for days in (15, 30, 60, 120):  # past the cooldown, the group reads neglected by then
        assert decisions(history=history, now=NOW + timedelta(days=days)) == []


def test_no_thank_you_after_the_groups_stopped_nudge_went_out() -> None:
    """One or the other: a "stopped" nudge about the group since its last meeting (sent
    while a meeting was still planned, say) rules the thank-you out."""
    stopped = PastNudge(BO, "fading", "email", "sent", NOW - timedelta(days=15), group=TEAM)
    later = decisions(history=[stopped], now=NOW + timedelta(days=1))
    assert all(d.rule != "thanks_group" for d in later)


def test_a_run_long_over_gets_the_usual_group_nudge_instead() -> None:
    [late] = decisions(events=project(last_days_ago=60))
    assert late.rule.startswith("neglected")
    assert late.group == TEAM


def test_a_group_with_a_core_person_is_a_relationship_to_restart_not_thanked() -> None:
    [decision] = decisions(roles={CHEN: "manager"})
    assert decision.rule != "thanks_group"
    assert decision.group == TEAM


def test_a_failed_thank_you_does_not_close_the_run() -> None:
    [thanks] = decisions()
    failed = replace(sent(thanks, NOW), status="failed")
    [again] = decisions(history=[failed], now=NOW + timedelta(days=1))
    assert again.rule == "thanks_group"


def test_a_rule_on_group_ended_runs_must_send_an_email(tmp_path: Path) -> None:
    mine = tmp_path / "rules.yaml"
    mine.write_text(
        "rules:\n"
        "  - name: thanks_group\n"
        "    when: {group_ended_run: true}\n"
        "    action: {kind: hold, template: thanks_group}\n"
        "    priority: 94\n"
    )
    with pytest.raises(RuleError, match=r"group_ended_run.*thank-you"):
        load_rules([resource_dir("config") / "rules.yaml", mine])
