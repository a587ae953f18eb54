"""Graph's four concurrent requests per mailbox hold across processes through Redis:
separate processes (``slot_holder``) take the slots, as the web process and each
worker's pool processes do. (The Graph client waiting on another process's slots:
tests/connectors/test_microsoft.py.)
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from nudger.connectors.slots import RedisSlots

MAILBOX = "Megan@Contoso.example"
HOLDER = [sys.executable, "-m", "tests.workers.slot_holder"]
ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def holder(
    redis_url: str, count: int, seconds: float = 60, mailbox: str = MAILBOX
) -> Iterator[subprocess.Popen[str]]:
    """A process holding ``count`` slots of the mailbox until the block ends."""
    process = subprocess.Popen(
        [*HOLDER, "hold", redis_url, mailbox, str(count), str(seconds)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "held"
    try:
        yield process
    finally:
        if process.poll() is None:
            process.communicate("", timeout=10)  # closing stdin releases the slots


def most_at_once(spans: list[tuple[float, float]]) -> int:
    edges = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    running = peak = 0
    for _, step in edges:
        running += step
        peak = max(peak, running)
    return peak


def test_processes_together_hold_at_most_four_slots_of_a_mailbox(
    redis_url: str, tmp_path: Path
) -> None:
    outputs = [tmp_path / f"spans-{i}" for i in range(3)]
    hammers = [
        subprocess.Popen([*HOLDER, "hammer", redis_url, MAILBOX, "15", "3", str(out)], cwd=ROOT)
        for out in outputs
    ]
    for process in hammers:
        assert process.wait(timeout=60) == 0
    spans = [
        (float(start), float(end))
        for out in outputs
        for start, end in (line.split() for line in out.read_text().splitlines())
    ]
    assert len(spans) == 3 * 3 * 15
    assert most_at_once(spans) == 4  # nine threads in three processes, never more than four


def test_a_killed_holders_slots_come_back_when_their_hold_expires(redis_url: str) -> None:
    slots = RedisSlots(redis.Redis.from_url(redis_url), MAILBOX, 4)
    with holder(redis_url, 4, seconds=1) as process:
        process.send_signal(signal.SIGKILL)
        process.wait()
        started = time.monotonic()
        slots.release(slots.acquire())
        assert 0.3 < time.monotonic() - started < 3
