"""A separate process taking Graph request slots of one mailbox from Redis.

``python -m tests.workers.slot_holder hold URL MAILBOX COUNT HOLD_SECONDS``: takes COUNT
slots, prints ``held``, and releases them when its standard input closes (unless it is
killed first). ``... hammer URL MAILBOX ROUNDS THREADS OUTPUT``: THREADS threads each take
a slot ROUNDS times, holding it 20 ms, and write when they held it to OUTPUT.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import redis

from nudger.connectors.slots import RedisSlots

LIMIT = 4
HELD_FOR = 0.02


def hold(url: str, mailbox: str, count: int, seconds: float) -> None:
    slots = RedisSlots(redis.Redis.from_url(url), mailbox, LIMIT, hold_seconds=seconds)
    tokens = [slots.acquire() for _ in range(count)]
    print("held", flush=True)
    sys.stdin.read()
    for token in tokens:
        slots.release(token)


def hammer(url: str, mailbox: str, rounds: int, threads: int, output: Path) -> None:
    slots = RedisSlots(redis.Redis.from_url(url), mailbox, LIMIT)
    spans: list[tuple[float, float]] = []

    def work() -> None:
        for _ in range(rounds):
            token = slots.acquire()
            start = time.time()
            time.sleep(HELD_FOR)
            spans.append((start, time.time()))
            slots.release(token)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    output.write_text("".join(f"{start} {end}\n" for start, end in spans))


if __name__ == "__main__":
    mode, url, mailbox, *rest = sys.argv[1:]
    if mode == "hold":
        hold(url, mailbox, int(rest[0]), float(rest[1]))
    else:
        hammer(url, mailbox, int(rest[0]), int(rest[1]), Path(rest[2]))
