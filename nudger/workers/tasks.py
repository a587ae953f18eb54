"""The worker's one task: an account's pass, by id.

The message carries the account id, whether nudge emails wait for the owner's morning
(the scheduler's passes) or go at once (``nudger cycle --enqueue``, like ``nudger
cycle``), and, as a header, when it was queued. Everything else is read from the
database when the pass starts. The result is the pass's ``CycleReport`` as JSON (less
the owner's address); a pass that fails is recorded on its report and its account row,
and the task itself succeeds.

Each pool process opens its own runtime (engine and connection pool) on first use:
nothing opened before the fork is shared with the children.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime
from typing import Any

from celery import Task, shared_task

from nudger import lease, preferences
from nudger.cadence import in_morning_window
from nudger.clock import utcnow
from nudger.delivery import reconnect
from nudger.passes.account_pass import CycleReport, PassLock, run_account_pass
from nudger.passes.exclusive import held_by
from nudger.runtime import Runtime, open_runtime
from nudger.store.db import session_scope
from nudger.store.models import Account
from nudger.workers.app import PASS_TASK

log = logging.getLogger(__name__)

QUEUED_AT = "nudger_queued_at"
"""Message header: when the pass was queued (ISO 8601), for the queue latency."""

_runtimes: dict[int, Runtime] = {}


def worker_runtime() -> Runtime:
    """This process's runtime, opened on first use (after the pool's fork)."""
    pid = os.getpid()
    if pid not in _runtimes:
        _runtimes.clear()
        _runtimes[pid] = open_runtime()
    return _runtimes[pid]


@shared_task(name=PASS_TASK, bind=True, max_retries=None)
def account_pass(task: Task, account_id: int, morning_only: bool = True) -> dict[str, Any]:
    runtime, now = worker_runtime(), utcnow()
    _log_start(task, account_id, now)
    zone = _time_zone(runtime, account_id)
    if zone is None:  # removed since it was queued
        return _result(CycleReport("", skipped="account removed"))
    mail = not morning_only or in_morning_window(now, zone)
    prefix = f"task:{task.request.id}:"
    lock = PassLock(lease.new_holder(prefix), successor_of=prefix)
    report = run_account_pass(runtime, account_id, now=now, deliver_mail=mail, lock=lock)
    if report.skipped and held_by(runtime, account_id, prefix, utcnow()):
        # This message was delivered again while its first delivery still runs (a pass
        # longer than the visibility timeout). Acknowledging it would leave nothing on
        # the queue should that delivery die yet: come back later instead.
        log.info("pass of account %s still runs under this task; retrying later", account_id)
        raise task.retry(countdown=retry_seconds(runtime))
    reconnect.deliver_reconnect_requests(runtime, now)  # a revoked grant's email, if any
    return _result(report)


def _result(report: CycleReport) -> dict[str, Any]:
    result = report.to_json()
    del result["account"]  # results are logged and kept in Redis: the id says enough
    return result


def retry_seconds(runtime: Runtime) -> int:
    """Within the visibility timeout, so the delayed message is not redelivered itself."""
    return max(1, runtime.settings.broker_visibility_timeout // 2)


def _time_zone(runtime: Runtime, account_id: int) -> str | None:
    """The owner's zone; None when the account no longer exists."""
    with session_scope(runtime.db) as session:
        account = session.get(Account, account_id)
        return preferences.time_zone_of(account) if account else None


def _log_start(task: Task, account_id: int, now: datetime) -> None:
    queued = (task.request.headers or {}).get(QUEUED_AT) or getattr(task.request, QUEUED_AT, None)
    waited = (now - datetime.fromisoformat(queued)).total_seconds() if queued else -1.0
    redelivered = bool((task.request.delivery_info or {}).get("redelivered"))
    log.info(
        "pass of account %s starts %.1f s after it was queued%s",
        account_id,
        waited,
        " (redelivered: its first delivery was never acknowledged)" if redelivered else "",
    )


def report_of(result: dict[str, Any], email: str) -> CycleReport:
    """The pass's report from the task's result."""
    return CycleReport.from_json({**result, "account": email})
