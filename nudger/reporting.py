"""Presenting the audit: a rich table grouped by status, or the JSON contract."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from nudger.analysis.audit import ContactHealth

STATUS_STYLE = {
    "lapsed_one_on_one": "bold red",
    "missing_one_on_one": "bold red",
    "neglected": "red",
    "fading": "yellow",
    "new": "cyan",
    "healthy": "green",
    "weak_tie": "dim",
}


def audit_json(healths: Sequence[ContactHealth]) -> list[dict[str, Any]]:
    """The ``nudger audit --json`` contract: one object per contact."""
    return [h.to_json() for h in healths]


def print_audit(console: Console, healths: Sequence[ContactHealth], *, weak_ties: int = 5) -> None:
    """One table per status, most urgent first; weak ties are summarised, not listed."""
    by_status: dict[str, list[ContactHealth]] = {}
    for health in healths:
        by_status.setdefault(str(health.status), []).append(health)
    console.rule(f"Relationship audit: {len(healths)} contacts")
    for status in STATUS_STYLE:
        group = by_status.get(status, [])
        if not group:
            continue
        style = STATUS_STYLE[status]
        table = Table(
            title=f"[{style}]{status.replace('_', ' ')}[/] ({len(group)})",
            title_justify="left",
            expand=True,
        )
        for column in ("contact", "role", "last met", "next", "cadence", "strength", "why"):
            table.add_column(column, overflow="fold")
        shown = group[:weak_ties] if status == "weak_tie" else group
        for h in shown:
            table.add_row(
                h.name or h.email,
                (h.role or "").replace("_", " "),
                _day(h.last_interaction),
                _day(h.next_meeting),
                f"{h.cadence_days:.0f}d" if h.cadence_days else "",
                f"{h.strength:.2f}",
                "; ".join(h.reasons),
            )
        if len(shown) < len(group):
            table.caption = f"and {len(group) - len(shown)} more"
        console.print(table)


def _day(value: datetime | None) -> str:
    return f"{value:%d %b %Y}" if value else ""
