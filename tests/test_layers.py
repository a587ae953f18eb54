"""The layout tells the truth: imports run down the data flow (connectors → sync →
analysis → rules → delivery, with store below and web, passes and cli above), queries
live in ``nudger.store``, and a name means one thing.

Read from the source with ``ast``, lazy imports inside functions included: an arrow
hidden in a function body is still an arrow.
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import pytest

import nudger

ROOT = Path(nudger.__file__).parent
NEVER = [
    ("nudger.delivery", "nudger.web", "links belong with delivery; the web reads them"),
    ("nudger.delivery", "nudger.passes", "delivery is a layer the passes compose"),
    ("nudger.analysis", "nudger.rules", "the judgement's parameters belong to analysis"),
    ("nudger.analysis", "nudger.store", "analysis is pure"),
    ("nudger.rules", "nudger.store", "rules are pure"),
    ("nudger.connectors", "nudger.analysis", "connectors are the bottom layer"),
    ("nudger.connectors", "nudger.store", "connectors are the bottom layer"),
    ("nudger.store", "nudger.delivery", "store is below everything but connectors"),
    ("nudger.store", "nudger.passes", "store is below everything but connectors"),
    ("nudger.store", "nudger.web", "store is below everything but connectors"),
    ("nudger.crypto", "nudger.store", "the database uses the cipher, not the other way"),
    ("nudger.web", "nudger.sandbox", "the web app runs without the emulator"),  # but serve
    ("nudger.passes", "nudger.web", "passes run without the web app"),
    ("nudger.passes", "nudger.cycle", "cycle composes the passes"),
]
STARTS_THE_EMULATOR = "nudger.web.serve"
"""``nudger serve --sandbox`` starts the emulator (inside the command, only then)."""
QUERY_NAMES = {"select", "update", "delete", "insert"}
QUERIES_ALLOWED = {
    "delivery/outbox.py",  # the outbox's own claims and state changes
    "accounts.py",  # sign-in's OAuth state and account ids
    "scheduler.py",
    "lease.py",
}


def modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found.append((name, path))
    return found


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


@pytest.mark.parametrize(("low", "high", "why"), NEVER)
def test_no_arrow_runs_upward(low: str, high: str, why: str) -> None:
    upward = sorted(
        f"{name} imports {target}"
        for name, path in modules()
        if within(name, low) and name != STARTS_THE_EMULATOR
        for target in imported(path)
        if within(target, high)
    )
    assert upward == [], why


def test_queries_live_in_the_store() -> None:
    outside = sorted(
        str(path.relative_to(ROOT))
        for _, path in modules()
        if path.relative_to(ROOT).parts[0] not in ("store", "sandbox")
        and str(path.relative_to(ROOT)) not in QUERIES_ALLOWED
        and any(f"sqlalchemy.{q}" in imported(path) for q in QUERY_NAMES)
    )
    assert outside == []


def defined(kind: type[ast.AST]) -> Counter[str]:
    names: Counter[str] = Counter()
    for _, path in modules():
        tree = ast.parse(path.read_text())
        names.update(n.name for n in tree.body if isinstance(n, kind) and hasattr(n, "name"))
    return names


def test_one_owner_and_one_clock() -> None:
    assert defined(ast.ClassDef)["Owner"] == 1
    assert defined(ast.FunctionDef)["utcnow"] == 1
