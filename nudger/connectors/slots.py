"""Request slots per mailbox: at most N requests of one mailbox in flight at once.

Outlook allows four concurrent requests per mailbox per app, counted over all of the
app's processes. Without a broker every request comes from one process, and a
process-local semaphore is enough. With the Redis broker, the web process and every
worker (each prefork child is a process of its own) take slots from one sorted set per
mailbox in that Redis: a holder's member scores its expiry, a Lua script drops expired
members and adds one only while fewer than N remain (atomic on the Redis server, timed
by its clock), and a release removes the member. A holder killed mid-request never
releases; its slot comes back when its expiry passes, ``HOLD_SECONDS`` after it was taken,
longer than any request may take (``graph.TIMEOUT``).
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
import uuid
from typing import Protocol

import redis

from nudger.errors import TransientError

HOLD_SECONDS = 90.0
"""Longer than one attempt may last: a 10 s connect plus a 60 s read."""
POLL_SECONDS = (0.005, 0.1)
"""The first and the longest wait between two tries for a full mailbox's slot."""
KEY_PREFIX = "nudger:slots:"

_ACQUIRE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])) + 1)
return 1
"""


class RequestSlots(Protocol):
    """``acquire`` blocks until a slot is free and returns its token for ``release``."""

    def acquire(self) -> str: ...

    def release(self, token: str) -> None: ...


class LocalSlots:
    """The slots of one mailbox within this process."""

    def __init__(self, limit: int) -> None:
        self._semaphore = threading.BoundedSemaphore(limit)

    def acquire(self) -> str:
        self._semaphore.acquire()
        return ""

    def release(self, token: str) -> None:
        self._semaphore.release()


class RedisSlots:
    """The slots of one mailbox shared by every process using this Redis."""

    def __init__(
        self, client: redis.Redis, mailbox: str, limit: int, *, hold_seconds: float = HOLD_SECONDS
    ) -> None:
        self._client, self._key, self._limit = client, KEY_PREFIX + mailbox.lower(), limit
        self._hold = hold_seconds
        self._script = client.register_script(_ACQUIRE)

    def acquire(self) -> str:
        token = uuid.uuid4().hex
        wait = POLL_SECONDS[0]
        while not self._try(token):
            time.sleep(wait * random.uniform(0.5, 1.5))  # jitter: waiters do not march in step
            wait = min(wait * 2, POLL_SECONDS[1])
        return token

    def _try(self, token: str) -> bool:
        try:
            return bool(self._script(keys=[self._key], args=[self._limit, self._hold, token]))
        except redis.RedisError as exc:
            raise TransientError(f"request slots unavailable: {type(exc).__name__}") from None

    def release(self, token: str) -> None:
        with contextlib.suppress(redis.RedisError):  # else it comes back when its hold expires
            self._client.zrem(self._key, token)

    def holders(self) -> int:
        """Slots taken now (expired holders included until the next acquire drops them)."""
        return int(self._client.zcard(self._key))


_local: dict[str, LocalSlots] = {}
_clients: dict[str, redis.Redis] = {}
_guard = threading.Lock()


def mailbox_slots(mailbox: str, limit: int, redis_url: str | None) -> RequestSlots:
    """The mailbox's slots: shared through ``redis_url`` when given, else this process's."""
    with _guard:
        if redis_url is None:
            return _local.setdefault(mailbox.lower(), LocalSlots(limit))
        if redis_url not in _clients:
            # redis-py's pool notices a fork and reconnects, so one client serves a process.
            _clients[redis_url] = redis.Redis.from_url(redis_url)
        return RedisSlots(_clients[redis_url], mailbox, limit)
