"""The Celery app, built from the settings: Redis as broker and result store.

How a pass survives its worker dying, with these settings (Celery 5.4+, kombu's Redis
transport, the prefork pool):

- ``task_acks_late``: a message is acknowledged when its task returns, not when it
  starts, so until then it stays in Redis' ``unacked`` hash (indexed by delivery time in
  ``unacked_index``).
- The pool child running a pass is killed (OOM killer, SIGKILL): the worker's main
  process sees ``WorkerLostError``. By default it would *acknowledge* the message anyway
  (Celery's docs: the child's death by signal acks even with ``acks_late``, so a task
  that kills its process is not retried forever); ``task_reject_on_worker_lost`` makes it
  reject with requeue instead, and the pass goes back on the queue at once.
- The whole worker is killed (SIGKILL, power loss): nobody nacks. A warm shutdown
  (SIGTERM) would have put its unacked messages back (``restore_at_shutdown``); after a
  kill they wait in ``unacked`` until a live worker's periodic sweep (``restore_visible``)
  finds them older than ``visibility_timeout`` and requeues them. Redis' default timeout
  is an hour; ``NUDGER_BROKER_VISIBILITY_TIMEOUT`` (120 s) shortens it, and the sweep runs
  every ``unacked_restore_interval`` seconds with no throttling (kombu otherwise scans only
  every tenth sweep: up to 100 s more). So a killed worker's pass restarts elsewhere
  within timeout + sweep seconds, measured in tests/workers/test_worker_lost.py.
- A pass still running after ``visibility_timeout`` is redelivered too, while it runs:
  that copy finds the account's pass lease renewed by the first and skips.
- ``worker_prefetch_multiplier=1``: a worker reserves one message per pool process, so
  a killed worker holds (and delays) as few passes as possible.
"""

from __future__ import annotations

from datetime import timedelta

from celery import Celery

from nudger.config import Settings
from nudger.errors import ConfigError

QUEUE = "nudger.passes"
PASS_TASK = "nudger.account_pass"
RESULTS_KEPT = timedelta(days=1)
MAX_SWEEP_SECONDS = 10


def broker_url(settings: Settings) -> str:
    if settings.broker is None:
        raise ConfigError(
            "NUDGER_BROKER_URL must be set (e.g. redis://127.0.0.1:6379/0) to use workers"
        )
    return settings.broker


def create_app(settings: Settings) -> Celery:
    url = broker_url(settings)
    app = Celery("nudger", broker=url, backend=url, include=["nudger.workers.tasks"])
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_transport_options=transport_options(settings),
        task_default_queue=QUEUE,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_expires=RESULTS_KEPT,
        broker_connection_retry_on_startup=True,
        # A pass whose message can no longer be acknowledged (the broker connection was
        # lost) will be redelivered anyway: stop it rather than run two copies.
        worker_cancel_long_running_tasks_on_connection_loss=True,
        worker_hijack_root_logger=False,
    )
    return app


def transport_options(settings: Settings) -> dict[str, int]:
    timeout = settings.broker_visibility_timeout
    return {
        "visibility_timeout": timeout,
        "unacked_restore_interval": max(1, min(MAX_SWEEP_SECONDS, timeout // 10)),
        "unacked_restore_throttle": 1,
    }
