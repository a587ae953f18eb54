"""Bounded retries with exponential backoff and full jitter, honouring Retry-After.

Only ``TransientError`` (and its ``RateLimited`` child) is retried; anything the
provider called permanent goes straight up. Sends that have no idempotency key
must not come through here (their unknown outcomes raise ``OutcomeUnknown``,
which is not transient).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from nudger.errors import TransientError

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 120.0
    """A Retry-After longer than this is not waited out in-process; the error goes up."""


DEFAULT_POLICY = RetryPolicy()


def backoff_delay(attempt: int, policy: RetryPolicy, rng: random.Random) -> float:
    """Full jitter: uniform between 0 and the capped exponential bound."""
    return rng.uniform(0, min(policy.max_delay, policy.base_delay * 2**attempt))


def call_with_retries(
    call: Callable[[], T],
    *,
    policy: RetryPolicy = DEFAULT_POLICY,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> T:
    """Run ``call``, retrying transient failures at most ``policy.attempts`` times in all."""
    rng = rng or random.Random()
    for attempt in range(policy.attempts):
        try:
            return call()
        except TransientError as exc:
            if attempt == policy.attempts - 1:
                raise
            delay = _delay_for(exc, attempt, policy, rng)
            if delay is None:
                raise
            log.info(
                "transient provider error (status=%s), retry %d in %.2fs",
                exc.status,
                attempt + 1,
                delay,
            )
            sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def _delay_for(
    exc: TransientError, attempt: int, policy: RetryPolicy, rng: random.Random
) -> float | None:
    if exc.retry_after is not None:
        if exc.retry_after > policy.max_retry_after:
            return None
        return exc.retry_after + rng.uniform(0, policy.base_delay)
    return backoff_delay(attempt, policy, rng)
