"""APScheduler jobs for ``nudger serve``: a full cycle for every account, periodically.

Every job is idempotent (outbox keys, sync cursors), so a second process running
the same schedule is harmless; the database leader lease that keeps it to one
active scheduler arrives with the service work (issue 6).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler

from nudger.cycle import run_cycle
from nudger.runtime import Runtime

log = logging.getLogger(__name__)

CYCLE_MINUTES = 15


def start_scheduler(runtime: Runtime) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.add_job(
        lambda: run_cycle(runtime),
        "interval",
        minutes=CYCLE_MINUTES,
        id="cycle",
        next_run_time=datetime.now(UTC),
        max_instances=1,
        coalesce=True,
    )
    scheduler.start()
    log.info("scheduler started: a cycle every %d minutes", CYCLE_MINUTES)
    return scheduler
