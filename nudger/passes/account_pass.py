"""One account's whole pass: sync, then analyse and decide, then deliver.

The steps share one connection and report into one ``CycleReport``. Whatever stops the
pass is recorded on that report and goes no further: a revoked grant pauses the account
and queues one reconnect email, any other error (a provider outage, a bug, a corrupt
row) is the report's ``error``, and the next account's pass goes on.

A pass holds the account's pass lease throughout (``exclusive``): a pass that finds it
held is ``skipped``, which is no failure. A pass that ran is recorded on the account's
row (last pass, how it ended, when the next is due) for ``nudger status`` and /healthz.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.exc import OperationalError

from nudger import accounts, cadence, lease
from nudger.delivery import outbox, reconnect
from nudger.errors import AuthRevoked, NudgerError
from nudger.passes.analyse import rules_in_force
from nudger.passes.connection import connect
from nudger.passes.decide_step import decide_step
from nudger.passes.deliver_step import deliver_step
from nudger.passes.exclusive import take_pass
from nudger.passes.moments_step import moments_step
from nudger.passes.schedules_step import schedules_step
from nudger.passes.sync_step import sync_step
from nudger.rules.model import RuleSet
from nudger.runtime import Runtime
from nudger.store import pass_status
from nudger.store.db import session_scope

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
    skipped: str | None = None
    """Why the pass did not run although nothing failed (another pass held the account)."""

    def summary(self) -> str:
        if self.error:
            return f"{self.account}: [red]failed[/red]: {self.error}"
        if self.skipped:
            return f"{self.account}: skipped: {self.skipped}"
        delivered = ", ".join(f"{n} {s}" for s, n in sorted(self.delivered.items())) or "none"
        return (
            f"{self.account}: {self.events_synced} events synced, {self.contacts} contacts, "
            f"{self.decisions} nudges decided ({self.enqueued} new), delivered: {delivered}"
        )

    def to_json(self) -> dict[str, Any]:
        """The report as JSON values: a worker's task result."""
        return {
            "account": self.account,
            "events_synced": self.events_synced,
            "contacts": self.contacts,
            "statuses": dict(self.statuses),
            "decisions": self.decisions,
            "enqueued": self.enqueued,
            "analysis": self.analysis,
            "delivered": dict(self.delivered),
            "error": self.error,
            "skipped": self.skipped,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CycleReport:
        counters = {key: Counter(data[key]) for key in ("statuses", "delivered")}
        return cls(**{**data, **counters})


@dataclass(frozen=True)
class PassLock:
    """Who takes the account's pass lease: ``holder``, succeeding any holder whose name
    starts with ``successor_of`` (an earlier delivery of the same worker task)."""

    holder: str
    successor_of: str | None = None


def run_account_pass(
    runtime: Runtime,
    account_id: int,
    *,
    now: datetime,
    deliver_mail: bool = True,
    ruleset: RuleSet | None = None,
    dry_run: bool = False,
    lock: PassLock | None = None,
) -> CycleReport:
    """One account's whole pass, by id: what a worker runs. ``dry_run``: sync and decide,
    queue and deliver nothing."""
    ref = accounts.account_ref(runtime, account_id)
    ruleset = ruleset or rules_in_force(runtime)
    return pass_of(runtime, ref, now, ruleset, dry_run, deliver_mail, lock=lock)


def pass_of(
    runtime: Runtime,
    ref: accounts.AccountRef,
    now: datetime,
    ruleset: RuleSet,
    dry_run: bool,
    deliver_mail: bool,
    *,
    lock: PassLock | None = None,
) -> CycleReport:
    """The pass under the account's pass lease, recorded on its row (not a dry run)."""
    if ref.status != "active":
        _record(runtime, ref.id, now, None)
        return CycleReport(ref.email, error=f"skipped: account {ref.status}")
    lock = lock or PassLock(lease.new_holder("pass:"))
    try:
        kept = take_pass(runtime, ref.id, lock.holder, now, successor_of=lock.successor_of)
    except OperationalError as exc:  # SQLite's write lock, held past the busy timeout
        log.info("pass of account %s skipped: %s", ref.id, exc.__class__.__name__)
        return CycleReport(ref.email, skipped="the database was busy; the next pass runs it")
    if kept is None:
        log.info("pass of account %s skipped: another pass holds it", ref.id)
        return CycleReport(ref.email, skipped="another pass of this account is running")
    now = kept.taken_at  # later than asked if it waited for a dead pass's lease
    with kept:
        report = _guarded(runtime, ref, kept, ruleset, dry_run=dry_run, mail=deliver_mail)
        if not dry_run:
            _record(runtime, ref.id, now, report)
    return report


def _record(runtime: Runtime, account_id: int, now: datetime, report: CycleReport | None) -> None:
    """The pass on the account's row; None: no pass ran, only the queue mark goes."""
    with session_scope(runtime.db) as session:
        if report is None:
            pass_status.clear_queued(session, account_id)
            return
        next_due = cadence.next_due(account_id, now, spread=runtime.settings.broker is not None)
        pass_status.record_pass(
            session, account_id, started=now, error=report.error, next_due=next_due
        )


def _guarded(
    runtime: Runtime,
    ref: accounts.AccountRef,
    kept: lease.KeptLease,
    ruleset: RuleSet,
    *,
    dry_run: bool,
    mail: bool,
) -> CycleReport:
    """The steps; whatever they raise becomes the report's error."""
    report, now = CycleReport(ref.email), kept.taken_at
    try:
        _steps(runtime, ref.id, kept, ruleset, report, dry_run=dry_run, mail=mail)
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
    kept: lease.KeptLease,
    ruleset: RuleSet,
    report: CycleReport,
    *,
    dry_run: bool,
    mail: bool,
) -> None:
    """The steps in order; each one's outcome is on the report before the next starts."""
    connection, now = connect(runtime, account_id), kept.taken_at
    synced = sync_step(runtime, account_id, now, connection=connection, lease=kept)
    report.events_synced = synced.events
    schedules_step(runtime, account_id, connection.connector, now)
    moments_step(runtime, account_id, connection.connector, now)
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
