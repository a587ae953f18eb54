"""Putting passes on the queue, and waiting for their reports.

The scheduler's leader calls ``enqueue_due`` on every tick: each active account is due
in its own slot of the sync period (``nudger.cadence``), so the queue fills evenly over
the fifteen minutes. An account is claimed (``enqueued_at``, a conditional UPDATE)
before its message is sent and released if the send fails, so it is never queued twice,
even by two schedulers around a lease hand-over. A claim older than ``stale_after``
(the message was lost with Redis itself) no longer blocks the account.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery import Celery
from celery.result import AsyncResult
from kombu.exceptions import KombuError

from nudger import accounts, cadence
from nudger.passes.account_pass import CycleReport
from nudger.runtime import Runtime
from nudger.store import pass_status
from nudger.store.db import session_scope
from nudger.workers.app import PASS_TASK, QUEUE, create_app
from nudger.workers.tasks import QUEUED_AT, report_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Queued:
    account_id: int
    email: str
    task_id: str


class PassQueue:
    """The pass queue of one runtime's broker."""

    def __init__(self, runtime: Runtime, app: Celery | None = None) -> None:
        self.runtime = runtime
        self.app = app or create_app(runtime.settings)

    @property
    def stale_after(self) -> timedelta:
        """How long a claim blocks its account: a full queue's wait, a redelivery, a pass."""
        return 2 * cadence.SYNC_PERIOD + timedelta(
            seconds=self.runtime.settings.broker_visibility_timeout
        )

    def send(self, account_id: int, now: datetime, *, morning_only: bool) -> str:
        result = self.app.send_task(
            PASS_TASK,
            args=[account_id, morning_only],
            queue=QUEUE,
            headers={QUEUED_AT: now.isoformat()},
        )
        return str(result.id)

    def enqueue_due(self, now: datetime) -> int:
        """Queue every account due by ``now`` and not queued yet; how many were queued."""
        stale_before = now - self.stale_after
        with session_scope(self.runtime.db) as session:
            for account_id, created_at in pass_status.unscheduled(session):
                due = cadence.first_due(account_id, created_at, now)
                pass_status.set_first_due(session, account_id, due)
            due_ids = pass_status.due(session, now, stale_before)
        return sum(self._claim_and_send(account_id, now, stale_before) for account_id in due_ids)

    def _claim_and_send(self, account_id: int, now: datetime, stale_before: datetime) -> bool:
        with session_scope(self.runtime.db) as session:
            if not pass_status.claim_for_queue(session, account_id, now, stale_before):
                return False
        try:
            self.send(account_id, now, morning_only=True)
        except (KombuError, OSError) as exc:
            log.warning("could not queue the pass of account %s: %s", account_id, exc)
            with session_scope(self.runtime.db) as session:
                pass_status.clear_queued(session, account_id)
            return False
        return True

    def enqueue_all(self, now: datetime, email: str | None = None) -> list[Queued]:
        """One pass per active account (or the one named), emails at once: ``cycle --enqueue``."""
        refs = (
            [accounts.find_account(self.runtime, email)]
            if email
            else accounts.list_accounts(self.runtime)
        )
        active = [ref for ref in refs if ref.status == "active"]
        with session_scope(self.runtime.db) as session:
            pass_status.mark_queued(session, [ref.id for ref in active], now)
        return [
            Queued(ref.id, ref.email, self.send(ref.id, now, morning_only=False)) for ref in active
        ]

    def wait(
        self, queued: Iterable[Queued], on_report: Callable[[CycleReport], None]
    ) -> list[CycleReport]:
        """Block until each queued pass has finished; its report, in the order queued."""
        reports = []
        for item in queued:
            result = AsyncResult(item.task_id, app=self.app)
            report = _report(item, result)
            on_report(report)
            reports.append(report)
        return reports


def _report(item: Queued, result: AsyncResult) -> CycleReport:
    try:
        return report_of(result.get(), item.email)
    except Exception as exc:  # the task raised (its pass could not run), or Redis failed
        return CycleReport(item.email, error=f"no report from the worker: {exc!r}")
