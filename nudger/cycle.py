"""One pass over every account (or one): each account's pass, then reconnect emails.

``nudger cycle`` and ``nudger demo`` run it once; the scheduler runs it per account.
An account's pass is ``nudger.passes`` (sync → analyse and decide → deliver); one
account's failure is recorded in its report and never stops the others. The names
other code and the contracts import from here (``run_account_pass``, ``CycleReport``,
``analyse``...) stay importable from here.
"""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Console

from nudger import accounts
from nudger.delivery import reconnect
from nudger.passes.account_pass import CycleReport, pass_of, run_account_pass
from nudger.passes.analyse import account_audit, account_ruleset, analyse, owner_of, rules_in_force
from nudger.passes.decide_step import digest_payload, past_nudge
from nudger.runtime import Runtime

__all__ = [
    "CycleReport",
    "account_audit",
    "account_ruleset",
    "analyse",
    "digest_payload",
    "owner_of",
    "past_nudge",
    "run_account_pass",
    "run_cycle",
]


def run_cycle(
    runtime: Runtime,
    *,
    account: str | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
    progress: Console | None = None,
    deliver_mail: bool = True,
) -> list[CycleReport]:
    """``deliver_mail`` False books holds but leaves nudge emails for a later pass (the
    scheduler sends them in the owner's morning)."""
    now = now or datetime.now(UTC)
    refs = [accounts.find_account(runtime, account)] if account else accounts.list_accounts(runtime)
    ruleset = rules_in_force(runtime)
    reports = []
    for ref in refs:
        if progress and ref.status == "active":
            progress.print(f"[dim]{ref.email}: syncing, analysing, deciding…[/dim]")
        reports.append(pass_of(runtime, ref, now, ruleset, dry_run, deliver_mail))
    if not dry_run:
        reconnect.deliver_reconnect_requests(runtime, now)
    return reports
