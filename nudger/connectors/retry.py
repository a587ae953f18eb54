"""Bounded retries with exponential backoff and full jitter, honouring Retry-After.

Only ``TransientError`` (and its ``RateLimited`` child) is retried; anything the
provider called permanent goes straight up. Sends that have no idempotency key
must not come through here (their unknown outcomes raise ``OutcomeUnknown``,
which is not transient).

The call that failed is the one retried (a page keeps its page token or link), so a
throttled page never restarts its round. When the provider said when to come back
(``Retry-After``, in seconds or as an HTTP-date), the wait is that long plus jitter,
never less. A wait longer than ``max_retry_after`` (120 s) is not slept inside a
pass: ``RateLimited`` goes up naming the wait, the account's pass ends there, and
the next pass resumes from the cursor saved by the last complete round.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

from nudger.errors import RateLimited, TransientError

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 120.0
    """A Retry-After longer than this is not waited out in a pass; ``RateLimited`` goes up."""


DEFAULT_POLICY = RetryPolicy()


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delay-seconds or an HTTP-date
    (RFC 9110 10.2.3); None when absent or unreadable, 0 for a date already past."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        seconds = None
    if seconds is not None and math.isfinite(seconds):
        return max(0.0, seconds)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # HTTP-dates are GMT; the "-0000" form parses naive
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


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
                raise _too_long(exc, policy) from exc
            log.info(
                "transient provider error (status=%s), retry %d in %.2fs",
                exc.status,
                attempt + 1,
                delay,
            )
            sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def _too_long(exc: TransientError, policy: RetryPolicy) -> RateLimited:
    message = (
        f"rate limited: the provider asked to wait {exc.retry_after:.0f}s ({exc}), more than "
        f"the {policy.max_retry_after:.0f}s a pass waits; the next pass resumes from the "
        "saved sync cursor"
    )
    return RateLimited(message, status=exc.status, retry_after=exc.retry_after)


def _delay_for(
    exc: TransientError, attempt: int, policy: RetryPolicy, rng: random.Random
) -> float | None:
    if exc.retry_after is not None:
        if exc.retry_after > policy.max_retry_after:
            return None
        return exc.retry_after + rng.uniform(0, policy.base_delay)  # jitter only on top
    return backoff_delay(attempt, policy, rng)
