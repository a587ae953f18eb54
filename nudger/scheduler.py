"""The scheduler of ``nudger serve``: one job per account, run only by the lease holder.

Every process runs a small ``lease`` job (its own one-thread executor, so long
account jobs never delay a renewal) that takes or renews the database lease. The
holder keeps one interval job per connected account; a follower keeps none and
takes over once the leader releases the lease or stops renewing it. Every job is
idempotent (outbox keys, sync cursors), so the moments around a hand-over, when
an old leader may still be finishing a pass, are harmless.

An account's job syncs and analyses every ``SYNC_MINUTES``; nudges are decided and
delivered only in the owner's morning on working days, in the owner's time zone,
so nobody is nudged at night. The rules' quiet hours apply on top.

With a broker (``NUDGER_BROKER_URL``) the leader keeps no account jobs: each tick it
puts the accounts due by then on the worker queue (``nudger.workers.enqueue``), each in
its own slot of the period, and the workers run the passes.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from nudger import accounts, lease, preferences
from nudger.cadence import SYNC_MINUTES, in_morning_window
from nudger.cycle import CycleReport, run_cycle
from nudger.runtime import Runtime
from nudger.store.db import session_scope
from nudger.store.models import Account

if TYPE_CHECKING:
    from nudger.workers.enqueue import PassQueue

log = logging.getLogger(__name__)

LEASE_NAME = "scheduler"
LEASE_TTL = timedelta(seconds=60)
LEASE_RENEW_SECONDS = 20
"""A third of the TTL: two renewals may fail before a follower can take over."""
ACCOUNT_WORKERS = 4
JOB_PREFIX = "account:"


class Scheduler:
    """APScheduler plus the leader lease; ``tick`` is the whole leadership logic."""

    def __init__(
        self, runtime: Runtime, *, holder: str | None = None, queue: PassQueue | None = None
    ) -> None:
        self.runtime = runtime
        self.queue = queue
        self.holder = holder or lease.new_holder()
        self.leading = False
        self._stopped = False
        self._lock = threading.Lock()  # a tick and a shutdown never interleave
        self._jobs = BackgroundScheduler(
            timezone=UTC,
            executors={
                "default": ThreadPoolExecutor(ACCOUNT_WORKERS),
                "lease": ThreadPoolExecutor(1),
            },
        )

    def start(self) -> None:
        self._jobs.add_job(
            self.tick,
            "interval",
            seconds=LEASE_RENEW_SECONDS,
            id="lease",
            executor="lease",
            next_run_time=datetime.now(UTC),
            max_instances=1,
            coalesce=True,
        )
        self._jobs.start()
        log.info("scheduler %s started; waiting for the lease", self.holder)

    def shutdown(self, wait: bool = True) -> None:
        """Stop the jobs, then hand the lease over at once instead of letting it expire."""
        with self._lock:
            self._stopped = True  # from now on a tick touches neither lease nor jobs
        if self._jobs.running:
            # Never while holding the lock: APScheduler waits for running jobs here.
            self._jobs.shutdown(wait=wait)
        with self._lock:
            if self.leading:
                lease.release(self.runtime.db, LEASE_NAME, self.holder)
                self.leading = False
                log.info("scheduler %s released the lease", self.holder)

    def tick(self, now: datetime | None = None) -> bool:
        """Take or renew the lease; the leader then keeps one job per account, or with a
        broker queues the accounts due. Leading?"""
        now = now or datetime.now(UTC)
        with self._lock:
            if self._stopped:
                return False
            leading = self._renew(now)
            if leading != self.leading:
                log.info("scheduler %s %s", self.holder, "leads" if leading else "follows")
            self.leading = leading
            if self.queue is None:
                self._reconcile(self._wanted_jobs() if leading else {})
            elif leading:
                self._enqueue_due(self.queue, now)
            return leading

    def _enqueue_due(self, queue: PassQueue, now: datetime) -> None:
        try:
            queued = queue.enqueue_due(now)
        except (SQLAlchemyError, OSError) as exc:  # the next tick tries again
            log.warning("queueing due passes failed: %s", exc.__class__.__name__)
            return
        if queued:
            log.info("scheduler %s queued %d passes", self.holder, queued)

    def _renew(self, now: datetime) -> bool:
        try:
            return lease.try_acquire(self.runtime.db, LEASE_NAME, self.holder, now, LEASE_TTL)
        except SQLAlchemyError as exc:
            # Unable to prove we lead: step down rather than risk two leaders.
            log.warning("lease renewal failed, stepping down: %s", exc.__class__.__name__)
            return False

    def account_jobs(self) -> dict[str, str]:
        """The account jobs scheduled now: job id → account email."""
        return {
            job.id: str(job.args[0])
            for job in self._jobs.get_jobs()
            if job.id.startswith(JOB_PREFIX)
        }

    def _wanted_jobs(self) -> dict[str, str]:
        return {f"{JOB_PREFIX}{ref.id}": ref.email for ref in accounts.list_accounts(self.runtime)}

    def _reconcile(self, wanted: dict[str, str]) -> None:
        current = self.account_jobs()
        for job_id in current.keys() - wanted.keys():
            self._jobs.remove_job(job_id)
        for job_id in current.keys() & wanted.keys():
            if current[job_id] != wanted[job_id]:  # the account's address changed
                self._jobs.modify_job(job_id, args=(wanted[job_id],))
        for job_id in wanted.keys() - current.keys():
            self._jobs.add_job(
                self.run_account,
                "interval",
                minutes=SYNC_MINUTES,
                args=(wanted[job_id],),
                id=job_id,
                next_run_time=datetime.now(UTC),
                max_instances=1,
                coalesce=True,
            )

    def run_account(self, email: str, now: datetime | None = None) -> list[CycleReport]:
        """One pass for one account; its nudge emails go out only in the owner's morning."""
        if not self.leading:
            return []
        now = now or datetime.now(UTC)
        morning = in_morning_window(now, account_time_zone(self.runtime, email))
        # run_cycle records and logs an account's failure itself; nothing else is affected.
        return run_cycle(self.runtime, account=email, now=now, deliver_mail=morning)


def account_time_zone(runtime: Runtime, email: str) -> str | None:
    """The owner's zone (their own choice first); None when the account is gone."""
    with session_scope(runtime.db) as session:
        account = session.scalar(select(Account).where(Account.email == email.lower()))
        return preferences.time_zone_of(account) if account else None


def start_scheduler(runtime: Runtime) -> Scheduler:
    queue = None
    if runtime.settings.broker:
        from nudger.workers.enqueue import PassQueue  # Celery only where a broker is set

        queue = PassQueue(runtime)
    scheduler = Scheduler(runtime, queue=queue)
    scheduler.start()
    return scheduler
