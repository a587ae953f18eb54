"""Presenting the audit (a rich table grouped by status, or the JSON contract), the
simulation and the passes' status."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from nudger.analysis.audit import ContactHealth
from nudger.simulate import SimulatedNudge

if TYPE_CHECKING:
    from nudger.workers.status import PassStatus  # Celery and Redis only for `status`

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


def print_audit(
    console: Console, healths: Sequence[ContactHealth], now: datetime | None = None
) -> None:
    """One table per status, most urgent first; weak ties are summarised, not listed."""
    now = now or datetime.now(UTC)
    by_status: dict[str, list[ContactHealth]] = {}
    for health in healths:
        by_status.setdefault(str(health.status), []).append(health)
    console.rule(f"Relationship audit: {len(healths)} contacts")
    for status, style in STATUS_STYLE.items():
        group = by_status.get(status, [])
        if status == "weak_tie" and group:
            names = ", ".join(h.name or h.email for h in group[:6])
            more = f" and {len(group) - 6} more" if len(group) > 6 else ""
            console.print(
                f"[dim]weak ties ({len(group)}), met only in large meetings and never "
                f"nudged: {names}{more}[/dim]"
            )
        elif group:
            console.print(_status_table(status, style, group, now))


def _status_table(status: str, style: str, group: list[ContactHealth], now: datetime) -> Table:
    table = Table(
        title=f"[{style}]{status.replace('_', ' ')}[/] ({len(group)})",
        title_justify="left",
        expand=True,
    )
    table.add_column("contact", ratio=2)
    table.add_column("last met", no_wrap=True)
    table.add_column("next", no_wrap=True)
    table.add_column("cadence", no_wrap=True)
    table.add_column("strength", justify="right", no_wrap=True)
    table.add_column("why", ratio=4)
    for h in group:
        role = f"\n[dim]{h.role.replace('_', ' ')}[/dim]" if h.role else ""
        table.add_row(
            f"{h.name or h.email}{role}",
            _day(h.last_interaction, now) or "never",
            _day(h.next_meeting, now),
            f"~{h.cadence_days:.0f}d" if h.cadence_days else "",
            f"{h.strength:.1f}",
            "; ".join(h.reasons),
        )
    return table


def _day(value: datetime | None, now: datetime) -> str:
    if value is None:
        return ""
    return f"{value:%d %b}" if value.year == now.year else f"{value:%d %b %Y}"


def print_simulation(console: Console, fired: Sequence[SimulatedNudge], since: str) -> None:
    """The replay as one table, oldest first, with the approximations stated."""
    table = Table(
        title=f"Nudges the rules would have fired over the last {since}: {len(fired)}",
        title_justify="left",
        expand=True,
    )
    table.add_column("day", no_wrap=True)
    table.add_column("contact", ratio=2)
    table.add_column("action", no_wrap=True)
    table.add_column("rule", no_wrap=True)
    table.add_column("why", ratio=4)
    for item in fired:
        d = item.decision
        table.add_row(
            f"{item.day:%a %d %b}" + (" (crunch)" if item.crunch else ""),
            d.contact_name or d.contact_email,
            d.kind,
            d.rule,
            "; ".join(d.evidence),
        )
    console.print(table)
    console.print(
        "[dim]Judged from the events on the calendar today, with today's snoozes and mutes; "
        "welcome backs only for each person's latest long absence (earlier ones are not "
        "kept); nothing was sent or booked.[/dim]"
    )


def print_pass_status(console: Console, status: PassStatus) -> None:
    """``nudger status``: the queue, what is due, the last pass and what fails."""
    o = status.overview
    depth = status.queue_depth if status.broker else "no broker: passes run in-process"
    console.print(f"queue depth: {'unknown (Redis did not answer)' if depth is None else depth}")
    console.print(f"accounts: {o.accounts} active, {o.queued} queued or running")
    console.print(f"oldest due account: {_when(o.oldest_due)}")
    console.print(f"last pass: {_when(o.last_pass_at)}")
    console.print(f"failing accounts: {len(o.failing)}")
    for failing in o.failing:
        console.print(f"  {failing.email}: {escape(failing.error)}", soft_wrap=True)


def _when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment else "none"
