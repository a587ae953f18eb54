"""The worker tests need the machine's Redis (``.ci/run`` starts it): each test gets
database 5 flushed. Without Redis they are skipped, unless ``NUDGER_REQUIRE_REDIS=1``
(CI) makes that a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import redis

REDIS_URL = os.environ.get("NUDGER_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")
REQUIRE_REDIS = os.environ.get("NUDGER_REQUIRE_REDIS") == "1"
"""Read at import: the suite's autouse fixture clears every NUDGER_ variable."""


@pytest.fixture
def redis_url() -> Iterator[str]:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        if REQUIRE_REDIS:
            pytest.fail(f"NUDGER_REQUIRE_REDIS=1 but Redis at {REDIS_URL} is unreachable: {exc}")
        pytest.skip(f"no Redis at {REDIS_URL}")
    client.flushdb()
    try:
        yield REDIS_URL
    finally:
        client.flushdb()
        client.close()
