"""What ``nudger status`` and /healthz report about the passes: the queue's depth, the
oldest due account not yet queued, the last pass, and the accounts whose last pass failed.

The queue's depth is the length of its Redis list (messages not yet taken by a worker);
without a broker it is None, and everything else still comes from the accounts' rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis

from nudger.clock import utcnow
from nudger.runtime import Runtime
from nudger.store import pass_status
from nudger.store.db import session_scope


@dataclass(frozen=True)
class PassStatus:
    broker: bool
    queue_depth: int | None
    """Passes waiting for a worker; None without a broker (or when Redis did not answer)."""
    overview: pass_status.PassOverview
    now: datetime

    def to_json(self) -> dict[str, Any]:
        o = self.overview
        return {
            "broker": self.broker,
            "queue_depth": self.queue_depth,
            "accounts": o.accounts,
            "queued_or_running": o.queued,
            "oldest_due": _iso(o.oldest_due),
            "oldest_due_seconds": _age(self.now, o.oldest_due),
            "last_pass_at": _iso(o.last_pass_at),
            "failing_accounts": [
                {"email": f.email, "error": f.error, "at": _iso(f.at)} for f in o.failing
            ],
        }

    def to_health_json(self) -> dict[str, Any]:
        """/healthz, which anyone may read: the same, but failing accounts only counted."""
        data = self.to_json()
        data["failing_accounts"] = len(self.overview.failing)
        return {"status": "ok", **data}


def pass_status_now(runtime: Runtime) -> PassStatus:
    now = utcnow()
    with session_scope(runtime.db) as session:
        overview = pass_status.overview(session, now)
    broker = runtime.settings.broker
    return PassStatus(broker is not None, queue_depth(broker), overview, now)


def queue_depth(broker: str | None) -> int | None:
    if broker is None:
        return None
    from nudger.workers.app import QUEUE  # Celery is imported only where a broker is set

    client = redis.Redis.from_url(broker, socket_timeout=2, socket_connect_timeout=2)
    try:
        return int(client.llen(QUEUE))
    except redis.RedisError:
        return None
    finally:
        client.close()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _age(now: datetime, value: datetime | None) -> float | None:
    return round((now - value).total_seconds(), 1) if value else None
