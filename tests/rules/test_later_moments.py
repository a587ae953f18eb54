"""The work_anniversary and welcome_back rules: one email per moment about a key person,
never a hold (NOW is Wednesday 12 June 2024)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from nudger.analysis.audit import audit
from nudger.analysis.judgement import DEFAULT_ROLES
from nudger.analysis.model import Absence, ContactPrefs
from nudger.errors import RuleError
from nudger.resources import resource_dir
from nudger.rules.engine import Decision, PastNudge, decide
from nudger.rules.loader import load_rules
from nudger.rules.model import RuleSet
from tests.analysis.builders import JUDGEMENT, NOW, OWNER, days_ago, meeting

SHIPPED = load_rules([resource_dir("config") / "rules.yaml"])
ANA = "ana@corp.example"
HIRED = date(2021, 6, 12)
AWAY = Absence(
    datetime(2024, 5, 26, 22, tzinfo=UTC), datetime(2024, 6, 7, 22, tzinfo=UTC), 10
)  # Paris: Monday 27 May to Friday 7 June, back Monday 10 June


def decisions(
    *,
    role: str | None = "peer",
    hired: date | None = HIRED,
    absence: Absence | None = None,
    history: list[PastNudge] | None = None,
    now: datetime = NOW,
    ruleset: RuleSet = SHIPPED,
) -> list[Decision]:
    """Ana, met every four weeks up to last week (healthy, nothing else to say)."""
    events = [meeting(days_ago(d), ANA) for d in range(150, 6, -28)]
    pref = ContactPrefs(ANA, "Ana Lima", role, hire_date=hired, absence=absence)
    healths = audit(OWNER, events, {ANA: pref}, now, JUDGEMENT, DEFAULT_ROLES)
    return decide(7, healths, {ANA: pref}, history or [], ruleset, now, "Europe/Paris")


def sent(decision: Decision, at: datetime) -> PastNudge:
    return PastNudge(decision.contact_email, decision.rule, decision.kind, "sent", at)


def no_cooldown() -> RuleSet:
    policies = SHIPPED.policies.model_copy(update={"cooldown_days": 0})
    return SHIPPED.model_copy(update={"policies": policies})


def test_a_key_persons_work_anniversary_is_one_email_with_its_years() -> None:
    [moment] = decisions()
    assert (moment.rule, moment.kind, moment.template) == (
        "work_anniversary",
        "email",
        "work_anniversary",
    )
    assert moment.evidence[0] == "Ana Lima joined 3 years ago, on 12 June 2021"
    assert moment.key == f"7:work_anniversary:{ANA}:work-2024"


def test_no_role_no_hire_date_no_email() -> None:
    assert decisions(role=None) == []
    assert decisions(hired=None) == []


def test_a_work_anniversary_marked_is_not_marked_again() -> None:
    [moment] = decisions()
    later = decisions(
        history=[sent(moment, NOW)], now=NOW + timedelta(days=1), ruleset=no_cooldown()
    )
    assert later == []


def test_back_from_two_weeks_away_is_one_welcome_back_with_its_evidence() -> None:
    [moment] = decisions(hired=None, absence=AWAY)
    assert (moment.rule, moment.kind, moment.template) == ("welcome_back", "email", "welcome_back")
    assert moment.evidence[0] == "Ana Lima was out of office for 10 working days, 27 May to 7 June"
    assert moment.key == f"7:welcome_back:{ANA}:back-2024-06-07"


def test_a_welcome_back_sent_closes_that_absence() -> None:
    [moment] = decisions(hired=None, absence=AWAY)
    tomorrow = NOW + timedelta(days=1)
    again = decisions(
        hired=None, absence=AWAY, history=[sent(moment, NOW)], now=tomorrow, ruleset=no_cooldown()
    )
    assert again == []


def test_both_on_one_day_make_one_email_the_return_first() -> None:
    [moment] = decisions(absence=AWAY)
    assert moment.rule == "welcome_back"


@pytest.mark.parametrize("moment", ["work_anniversary", "welcome_back"])
def test_a_rule_on_a_moment_must_send_an_email(tmp_path: Path, moment: str) -> None:
    mine = tmp_path / "rules.yaml"
    mine.write_text(
        f"rules:\n  - name: {moment}\n    when: {{{moment}: true}}\n"
        f"    action: {{kind: hold, template: {moment}}}\n    priority: 96\n"
    )
    with pytest.raises(RuleError, match=f'rule "{moment}" → action.kind: a rule on {moment}'):
        load_rules([resource_dir("config") / "rules.yaml", mine])
