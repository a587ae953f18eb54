from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from nudger.analysis.judgement import DEFAULT_ROLES, Judgement
from nudger.config import load_settings
from nudger.errors import RuleError
from nudger.resources import resource_dir
from nudger.rules.loader import load_rules
from nudger.rules.model import RuleSet
from nudger.rules.paths import rule_paths

SHIPPED = resource_dir("config") / "rules.yaml"


def user_file(tmp_path: Path, text: str, name: str = "mine.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load_with(tmp_path: Path, text: str) -> RuleSet:
    return load_rules([SHIPPED, user_file(tmp_path, text)])


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(RuleError) as caught:
        load_with(tmp_path, text)
    return str(caught.value)


def test_shipped_rules_load_and_match_the_code_defaults() -> None:
    ruleset = load_rules([SHIPPED])
    assert ruleset.judgement == Judgement()
    assert ruleset.roles == DEFAULT_ROLES
    assert ruleset.policies.weekly_budget == 3
    assert ruleset.policies.quiet_hours.start == time(20, 0)
    priorities = {rule.name: (rule.action.kind, rule.priority) for rule in ruleset.rules}
    assert priorities == {
        "welcome_back": ("email", 98),
        "work_anniversary": ("email", 97),
        "anniversary": ("email", 96),
        "thanks": ("email", 95),
        "thanks_group": ("email", 94),
        "repair_one_on_one": ("email", 85),
        "lapsed_one_on_one": ("hold", 90),
        "missing_one_on_one": ("hold", 80),
        "neglected_close": ("email", 70),
        "neglected": ("email", 60),
        "fading": ("email", 40),
    }


def test_shipped_rules_never_target_new_or_weak_ties() -> None:
    for rule in load_rules([SHIPPED]).rules:
        assert rule.when.status or rule.when.repair or rule.when.once
        assert not {"new", "weak_tie"} & set(rule.when.status or ())


def test_sections_deep_merge_key_by_key(tmp_path: Path) -> None:
    ruleset = load_with(
        tmp_path,
        "policies: {weekly_budget: 1}\njudgement: {weights: {pair: 0.9}}\n"
        "roles: {peer: {max_days: 90}, investor: {ideal_days: 60, max_days: 90}}\n",
    )
    assert ruleset.policies.weekly_budget == 1
    assert ruleset.policies.cooldown_days == 14
    assert ruleset.judgement.weights.pair == 0.9
    assert ruleset.judgement.weights.small == 0.6
    assert ruleset.roles["peer"].ideal_days == 30
    assert ruleset.roles["peer"].max_days == 90
    assert ruleset.roles["investor"].max_days == 90
    assert len(ruleset.rules) == len(load_rules([SHIPPED]).rules)


def test_user_rule_with_a_shipped_name_replaces_it(tmp_path: Path) -> None:
    ruleset = load_with(
        tmp_path,
        "rules:\n"
        "  - name: fading\n"
        "    when: {status: [fading], min_strength: 0.5}\n"
        "    action: {kind: hold, template: fading}\n"
        "    priority: 10\n",
    )
    fading = next(rule for rule in ruleset.rules if rule.name == "fading")
    assert fading.action.kind == "hold"
    assert fading.when.min_strength == 0.5
    assert fading.priority == 10
    assert len(ruleset.rules) == len(load_rules([SHIPPED]).rules)


def test_user_rule_with_a_new_name_is_added(tmp_path: Path) -> None:
    ruleset = load_with(
        tmp_path,
        "rules:\n  - {name: mentors, when: {role: [mentor]}, "
        "action: {kind: email, template: fading}, priority: 50}\n",
    )
    assert [rule.name for rule in ruleset.rules][-1] == "mentors"


def test_enabled_false_disables_a_rule(tmp_path: Path) -> None:
    ruleset = load_with(tmp_path, "rules:\n  - {name: fading, enabled: false}\n")
    assert "fading" not in {rule.name for rule in ruleset.enabled_rules}
    assert len(ruleset.rules) == len(load_rules([SHIPPED]).rules)


def test_later_user_files_win(tmp_path: Path) -> None:
    first = user_file(tmp_path, "policies: {weekly_budget: 1, cooldown_days: 3}", "a.yaml")
    second = user_file(tmp_path, "policies: {weekly_budget: 5}", "b.yaml")
    policies = load_rules([SHIPPED, first, second]).policies
    assert (policies.weekly_budget, policies.cooldown_days) == (5, 3)


def test_empty_user_file_changes_nothing(tmp_path: Path) -> None:
    assert load_with(tmp_path, "") == load_rules([SHIPPED])


def test_bad_yaml_names_file_and_line(tmp_path: Path) -> None:
    message = error_of(tmp_path, "policies:\n  weekly_budget: 3\n  quiet_days: [6, 7\n")
    assert "mine.yaml: line " in message


def test_unknown_key_in_a_rule_names_file_rule_and_key(tmp_path: Path) -> None:
    message = error_of(
        tmp_path,
        "rules:\n  - {name: extra, when: {status: [fading], colour: red}, "
        "action: {kind: email, template: fading}, priority: 5}\n",
    )
    assert message.endswith('mine.yaml: rule "extra" → when.colour: unknown key')


def test_bad_action_kind_names_file_rule_and_key(tmp_path: Path) -> None:
    message = error_of(
        tmp_path,
        "rules:\n  - {name: neglected, when: {status: [neglected]}, "
        "action: {kind: sms, template: neglected}, priority: 60}\n",
    )
    assert message.endswith(
        "mine.yaml: rule \"neglected\" → action.kind: Input should be 'email', 'hold' or 'digest'"
    )


def test_unknown_status_is_an_error(tmp_path: Path) -> None:
    message = error_of(
        tmp_path,
        "rules:\n  - {name: x, when: {status: [forgotten]}, "
        "action: {kind: email, template: x}, priority: 5}\n",
    )
    assert 'mine.yaml: rule "x" → when.status.0: Input should be' in message


def test_unknown_role_is_an_error(tmp_path: Path) -> None:
    message = error_of(
        tmp_path,
        "rules:\n  - {name: x, when: {role: [boss]}, "
        "action: {kind: email, template: x}, priority: 5}\n",
    )
    assert 'mine.yaml: rule "x" → when.role: unknown role boss' in message


def test_roles_added_by_the_user_can_be_used_in_conditions(tmp_path: Path) -> None:
    ruleset = load_with(
        tmp_path,
        "roles: {investor: {ideal_days: 60, max_days: 90}}\n"
        "rules:\n  - {name: x, when: {role: [investor]}, action: {kind: email, template: x}, "
        "priority: 5}\n",
    )
    assert ruleset.rules[-1].when.role == ("investor",)


def test_unknown_section_and_section_key_are_errors(tmp_path: Path) -> None:
    assert "mine.yaml: polices: unknown section" in error_of(tmp_path, "polices: {}\n")
    message = error_of(tmp_path, "policies: {weekly_budgt: 2}\n")
    assert message.endswith("mine.yaml: policies.weekly_budgt: unknown key")


def test_unquoted_quiet_time_gets_a_helpful_error(tmp_path: Path) -> None:
    message = error_of(tmp_path, "policies: {quiet_hours: {start: 21:00}}\n")
    assert 'policies.quiet_hours.start: write times in quotes, like "20:00"' in message


def test_rule_without_a_name_is_named_by_index(tmp_path: Path) -> None:
    message = error_of(tmp_path, "rules:\n  - {name: a, enabled: false}\n  - {priority: 3}\n")
    assert "mine.yaml: rule #2 → name:" in message


def test_disabling_an_unknown_rule_is_an_error(tmp_path: Path) -> None:
    message = error_of(tmp_path, "rules:\n  - {name: nope, enabled: false}\n")
    assert 'mine.yaml: rule "nope" → enabled: no earlier rule' in message


def test_nothing_half_loads(tmp_path: Path) -> None:
    good = user_file(tmp_path, "policies: {weekly_budget: 9}\n", "good.yaml")
    bad = user_file(tmp_path, "policies: {cooldown_days: -1}\n", "bad.yaml")
    with pytest.raises(RuleError, match=r"bad\.yaml: policies\.cooldown_days"):
        load_rules([SHIPPED, good, bad])
    assert load_rules([SHIPPED]).policies.weekly_budget == 3


def test_missing_file_is_a_rule_error(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match=r"absent\.yaml: cannot read"):
        load_rules([SHIPPED, tmp_path / "absent.yaml"])


def test_rule_paths_order_shipped_settings_then_explicit(tmp_path: Path) -> None:
    from_settings, explicit = tmp_path / "s.yaml", tmp_path / "e.yaml"
    paths = rule_paths(explicit, load_settings(rules_file=from_settings))
    assert paths == [SHIPPED, from_settings, explicit]
    assert rule_paths(None, load_settings(rules_file=None)) == [SHIPPED]


def test_unknown_tier_names_file_rule_and_key(tmp_path: Path) -> None:
    message = error_of(
        tmp_path,
        "rules:\n  - {name: inner, when: {tier: [inner]}, "
        "action: {kind: email, template: fading}, priority: 5}\n",
    )
    assert 'mine.yaml: rule "inner" → when.tier.0' in message


def test_a_users_role_takes_a_tier(tmp_path: Path) -> None:
    ruleset = load_with(tmp_path, "roles:\n  board: {ideal_days: 30, max_days: 60, tier: core}\n")
    assert ruleset.roles["board"].tier == "core"
    assert ruleset.roles["peer"].tier == "network"


def test_a_rules_file_cannot_set_a_crunch(tmp_path: Path) -> None:
    """A rules file applies to every account: a crunch is one account's, from its settings."""
    with pytest.raises(RuleError, match=r"mine.yaml: policies.crunch_until: set per account"):
        load_with(tmp_path, "policies:\n  crunch_until: 2026-12-24T00:00:00+00:00\n")
