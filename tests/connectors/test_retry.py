"""The retry policy on its own: how long a wait is, and when nudger stops waiting."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from nudger.connectors.retry import RetryPolicy, call_with_retries, parse_retry_after
from nudger.errors import RateLimited, SyncCursorExpired

NOW = datetime(2026, 1, 5, 9, 0, 0, tzinfo=UTC)


def throttled(retry_after: float | None, times: int) -> tuple[list[int], Callable[[], str]]:
    calls: list[int] = []

    def call() -> str:
        calls.append(1)
        if len(calls) <= times:
            raise RateLimited("429", status=429, retry_after=retry_after)
        return "done"

    return calls, call


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("2", 2.0),
        (" 7 ", 7.0),
        (format_datetime(NOW + timedelta(seconds=30), usegmt=True), 30.0),
        ("Mon, 05 Jan 2026 09:00:45 GMT", 45.0),
        (format_datetime(NOW - timedelta(seconds=30), usegmt=True), 0.0),
        ("soon", None),
        (None, None),
    ],
)
def test_retry_after_is_read_as_seconds_or_an_http_date(
    header: str | None, seconds: float | None
) -> None:
    assert parse_retry_after(header, NOW) == seconds


@pytest.mark.parametrize("seed", range(50))
def test_the_wait_is_never_shorter_than_retry_after(seed: int) -> None:
    _, call = throttled(2.0, times=3)
    slept: list[float] = []
    assert call_with_retries(call, sleep=slept.append, rng=random.Random(seed)) == "done"
    assert len(slept) == 3
    assert all(2.0 <= wait <= 2.5 for wait in slept), "jitter goes on top of the header"


def test_a_retry_after_beyond_the_cap_is_not_slept_and_names_the_wait() -> None:
    calls, call = throttled(3600.0, times=1)
    slept: list[float] = []
    with pytest.raises(RateLimited) as raised:
        call_with_retries(call, sleep=slept.append, policy=RetryPolicy(max_retry_after=120))
    assert (len(calls), slept) == (1, [])
    assert "3600s" in str(raised.value)
    assert "120s" in str(raised.value)
    assert raised.value.retry_after == 3600.0


def test_a_410_is_never_retried_as_transient() -> None:
    calls: list[int] = []

    def call() -> None:
        calls.append(1)
        raise SyncCursorExpired("410", status=410)

    with pytest.raises(SyncCursorExpired):
        call_with_retries(call, sleep=lambda _: None)
    assert len(calls) == 1
