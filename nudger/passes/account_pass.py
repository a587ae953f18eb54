"""One account's whole pass: sync, then analyse and decide, then deliver.

The steps share one connection and report into one ``CycleReport``. Whatever stops the
pass is recorded on that report and goes no further: a revoked grant pauses the account
and queues one reconnect email, any other error (a provider outage, a bug, a corrupt
row) is the report's ``error``, and the next account's pass goes on.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from nudger import accounts
from nudger.delivery import outbox, reconnect
from nudger.errors import AuthRevoked, NudgerError
from nudger.passes.analyse import rules_in_force
from nudger.passes.connection import connect
from nudger.passes.decide_step import decide_step
from nudger.passes.deliver_step import deliver_step
from nudger.passes.sync_step import sync_step
from nudger.rules.model import RuleSet
from nudger.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass
class CycleReport:
    account: str
    events_synced: int = 0
    contacts: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    decisions: int = 0
    enqueued: int = 0
    analysis: str = ""
    """How the decide step had its audit (``DecideOutcome.analysis``)."""
    delivered: Counter[str] = field(default_factory=Counter)
    error: str | None = None

    def summary(self) -> str:
        if self.error:
            return f"{self.account}: [red]failed[/red]: {self.error}"
        delivered = ", ".join(f"{n} {s}" for s, n in sorted(self.delivered.items())) or "none"
        return (
            f"{self.account}: {self.events_synced} events synced, {self.contacts} contacts, "
            f"{self.decisions} nudges decided ({self.enqueued} new), delivered: {delivered}"
        )


def run_account_pass(
    runtime: Runtime,
    account_id: int,
    *,
    now: datetime,
    deliver_mail: bool = True,
    ruleset: RuleSet | None = None,
    dry_run: bool = False,
) -> CycleReport:
    """One account's whole pass, by id: what a worker runs. ``dry_run``: sync and decide,
    queue and deliver nothing."""
    ref = accounts.account_ref(runtime, account_id)
    return pass_of(runtime, ref, now, ruleset or rules_in_force(runtime), dry_run, deliver_mail)


def pass_of(
    runtime: Runtime,
    ref: accounts.AccountRef,
    now: datetime,
    ruleset: RuleSet,
    dry_run: bool,
    deliver_mail: bool,
) -> CycleReport:
    if ref.status != "active":
        return CycleReport(ref.email, error=f"skipped: account {ref.status}")
    report = CycleReport(ref.email)
    try:
        _steps(runtime, ref.id, now, ruleset, report, dry_run=dry_run, mail=deliver_mail)
    except AuthRevoked as exc:
        reconnect.request_reconnect(runtime, ref.id, now)
        report.error = f"access revoked; the account must be reconnected ({exc})"
    except NudgerError as exc:
        log.warning("cycle for account %s failed: %s", ref.id, exc)
        report.error = str(exc)
    except Exception as exc:  # a bug or a corrupt row: this account fails, the others go on
        log.exception("cycle for account %s failed unexpectedly", ref.id)
        report.error = outbox.unexpected_error(exc)
    return report


def _steps(
    runtime: Runtime,
    account_id: int,
    now: datetime,
    ruleset: RuleSet,
    report: CycleReport,
    *,
    dry_run: bool,
    mail: bool,
) -> None:
    """The steps in order; each one's outcome is on the report before the next starts."""
    connection = connect(runtime, account_id)
    report.events_synced = sync_step(runtime, account_id, now, connection=connection).events
    decided = decide_step(runtime, account_id, now, ruleset=ruleset, enqueue=not dry_run)
    report.contacts, report.decisions = decided.contacts, decided.decisions
    report.statuses, report.enqueued = Counter(decided.statuses), decided.enqueued
    report.analysis = decided.analysis
    if dry_run:
        return
    delivered = deliver_step(
        runtime, account_id, now, ruleset=ruleset, connection=connection, mail=mail
    )
    report.delivered = Counter(delivered.delivered)
