"""Load ``rules.yaml`` files: the shipped defaults first, then user files merged over them.

Merging: ``judgement``, ``roles`` and ``policies`` deep-merge key by key; ``rules`` merge
by name (a new name adds a rule, an existing name replaces it, an entry with only
``name`` and ``enabled`` switches a rule on or off). After each file the whole result
is validated, so an error is blamed on the file that caused it, and nothing is returned
unless every file is valid.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from nudger.errors import RuleError
from nudger.rules.model import RuleSet

SECTIONS = ("judgement", "roles", "policies", "rules")
MAPPING_SECTIONS = ("judgement", "roles", "policies")
ACCOUNT_ONLY_POLICIES = ("crunch_until",)
"""Policies the decide step sets from one account's settings: a rules file applies to
every account, so a crunch set there would silence everyone."""
TOGGLE_KEYS = frozenset({"name", "enabled"})

Document = dict[str, Any]


def load_rules(paths: Sequence[Path]) -> RuleSet:
    """The validated rule set from the shipped file and any user files, in order."""
    if not paths:
        raise RuleError("no rules file given")
    merged: Document = {}
    ruleset = RuleSet()
    for path in paths:
        merged = merge_documents(merged, read_document(path), path)
        ruleset = validate(merged, path)
    return ruleset


def read_document(path: Path) -> Document:
    """One file's YAML, checked for shape (sections, rule entries with names)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RuleError(f"{path}: cannot read the file: {exc.strerror or exc}") from None
    data = _parse_yaml(text, path)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise RuleError(f"{path}: expected a mapping with keys {', '.join(SECTIONS)}")
    _check_sections(data, path)
    return data


def _parse_yaml(text: str, path: Path) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else "?"
        problem = exc.problem or exc.context or "invalid YAML"
        raise RuleError(f"{path}: line {line}: {problem}") from None
    except yaml.YAMLError as exc:
        raise RuleError(f"{path}: invalid YAML: {exc}") from None


def _check_sections(data: Mapping[Any, Any], path: Path) -> None:
    for key in data:
        if key not in SECTIONS:
            raise RuleError(f"{path}: {key}: unknown section (expected {', '.join(SECTIONS)})")
    for section in MAPPING_SECTIONS:
        if section in data and not isinstance(data[section], dict):
            raise RuleError(f"{path}: {section}: expected a mapping")
    for key in ACCOUNT_ONLY_POLICIES:
        if key in (data.get("policies") or {}):
            raise RuleError(f"{path}: policies.{key}: set per account in settings, not in a file")
    rules = data.get("rules", [])
    if not isinstance(rules, list):
        raise RuleError(f"{path}: rules: expected a list of rules")
    _check_rule_entries(rules, path)


def _check_rule_entries(rules: Sequence[Any], path: Path) -> None:
    seen: set[str] = set()
    for index, rule in enumerate(rules, start=1):
        if not isinstance(rule, dict) or "name" not in rule:
            raise RuleError(f"{path}: rule #{index} → name: every rule needs a name")
        name = str(rule["name"])
        if name in seen:
            raise RuleError(f'{path}: rule "{name}" → name: appears twice in this file')
        seen.add(name)


def merge_documents(base: Document, override: Document, path: Path) -> Document:
    """``override`` over ``base``: sections deep-merged, rules merged by name."""
    merged = dict(base)
    for section in MAPPING_SECTIONS:
        if section in override:
            merged[section] = deep_merge(base.get(section, {}), override[section])
    if "rules" in override:
        merged["rules"] = merge_rules(base.get("rules", []), override["rules"], path)
    return merged


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Mappings merge key by key, recursively; anything else in ``override`` wins."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def merge_rules(
    base: Sequence[Mapping[str, Any]], overrides: Sequence[Mapping[str, Any]], path: Path
) -> list[dict[str, Any]]:
    """By name: add new rules, replace same-named ones, apply on/off switches."""
    by_name = {str(rule["name"]): dict(rule) for rule in base}
    for rule in overrides:
        name = str(rule["name"])
        if set(rule) <= TOGGLE_KEYS:
            if name not in by_name:
                raise RuleError(f'{path}: rule "{name}" → enabled: no earlier rule of that name')
            by_name[name] = {**by_name[name], **rule}
        else:
            by_name[name] = dict(rule)
    return list(by_name.values())


def validate(merged: Document, path: Path) -> RuleSet:
    """The rule set, or a ``RuleError`` naming ``path``, the rule and the key at fault."""
    try:
        return RuleSet.model_validate(merged)
    except ValidationError as exc:
        rules = merged.get("rules", [])
        lines = [f"{path}: {describe_error(error, rules)}" for error in exc.errors()]
        raise RuleError("\n".join(lines)) from None


def describe_error(error: ErrorDetails, rules: Sequence[Mapping[str, Any]]) -> str:
    """``rule "name" → action.kind: message`` or ``policies.weekly_budget: message``."""
    loc = list(error["loc"])
    message = _message(error)
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        rule = rules[loc[1]] if loc[1] < len(rules) else {}
        where = f'rule "{rule.get("name", "#" + str(loc[1] + 1))}"'
        key = ".".join(str(part) for part in loc[2:])
        return f"{where} → {key}: {message}" if key else f"{where}: {message}"
    key = ".".join(str(part) for part in loc)
    return f"{key}: {message}" if key else message


def _message(error: ErrorDetails) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown key"
    if error["type"] == "value_error" and "error" in error.get("ctx", {}):
        return str(error["ctx"]["error"])
    return error["msg"]
