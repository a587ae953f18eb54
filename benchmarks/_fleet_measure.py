"""What the fleet benchmark reads while it runs: CPU from ``/proc`` and PostgreSQL's
statistics for the benchmark's own database.

CPU is read per process tree (a Celery worker is a parent and its pool children), for
the whole machine (``/proc/stat``: other helpers' processes run here too, so the machine
figure is context, not nudger's) and for the PostgreSQL backends serving the benchmark's
database (``pg_stat_activity``). Linux only, as the machine is.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, text

TICK = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            line = stat.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return line[line.rindex(")") + 2 :].split()  # fields from the 3rd (state) on


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) of one live process; 0 once it is gone."""
    fields = _stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / TICK if fields else 0.0


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat_fields(int(entry))):
            tree.setdefault(int(fields[1]), []).append(int(entry))
    return tree


def tree_pids(roots: Iterable[int]) -> set[int]:
    """The processes under ``roots`` (included), as they are now."""
    tree, found, todo = _children(), set(), list(roots)
    while todo:
        pid = todo.pop()
        found.add(pid)
        todo.extend(tree.get(pid, []))
    return found


class CpuMeter:
    """CPU used by a changing set of processes since the meter was made. A process first
    seen by a later ``sample`` started since, and counts from zero; one that ends between
    two samples loses what it used after the earlier one, so sample often."""

    def __init__(self, pids: Iterable[int]) -> None:
        self._first = {pid: process_cpu(pid) for pid in pids}
        self._last = dict(self._first)

    def sample(self, pids: Iterable[int]) -> None:
        for pid in pids:
            seconds = process_cpu(pid)
            self._first.setdefault(pid, 0.0)
            if seconds:
                self._last[pid] = seconds

    def seconds(self) -> float:
        return sum(self._last.get(pid, first) - first for pid, first in self._first.items())


class Sampler:
    """Calls ``sample`` every ``period`` seconds in a thread, while in the ``with`` block."""

    def __init__(self, sample: Callable[[], None], period: float = 0.5) -> None:
        self._sample, self._period = sample, period
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self._period):
            self._sample()

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()


def machine_busy() -> tuple[float, float]:
    """(busy CPU seconds, all CPU seconds) of the whole machine since boot."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / TICK, sum(values) / TICK


@dataclass(frozen=True)
class DbStats:
    transactions: int
    rows_read: int
    rows_written: int


def db_stats(engine: Engine, database: str) -> DbStats:
    """PostgreSQL's counters for one database (they lag by up to half a second)."""
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT xact_commit + xact_rollback, tup_returned + tup_fetched,"
                " tup_inserted + tup_updated + tup_deleted FROM pg_stat_database"
                " WHERE datname = :name"
            ),
            {"name": database},
        ).one()
    return DbStats(int(row[0]), int(row[1]), int(row[2]))


def backend_pids(engine: Engine, database: str) -> list[int]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT pid FROM pg_stat_activity WHERE datname = :name"), {"name": database}
        )
        return [int(pid) for (pid,) in rows]


def settle() -> None:
    """Let PostgreSQL's statistics collector catch up before reading counters."""
    time.sleep(1.0)


@dataclass(frozen=True)
class Latency:
    """Seconds from enqueue to a pass's start, over the passes of one run."""

    count: int
    least: float
    median: float
    p95: float
    most: float

    @classmethod
    def of(cls, seconds: list[float]) -> Latency:
        ordered = sorted(seconds)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        return cls(len(ordered), ordered[0], statistics.median(ordered), p95, ordered[-1])

    def cells(self) -> list[str]:
        return [f"{v:.3f}" for v in (self.least, self.median, self.p95, self.most)]


@dataclass(frozen=True)
class Redelivery:
    queued_at: datetime
    """When the run's passes were queued."""
    account_id: int
    killed_at: datetime
    restarted_after: float
    """Seconds from the SIGKILL to the start of the account's pass on another worker."""
    passed_after: float
    """Seconds from the SIGKILL until the account's row showed that pass done."""


@dataclass(frozen=True)
class Outcome:
    passed: int
    failed: int
    skipped: int = 0
    latency: Latency | None = None
    notes: tuple[str, ...] = ()
    redelivery: Redelivery | None = None
    outbox: tuple[tuple[str, int], ...] = ()
    """Outbox rows by state after the run..."""
    outbox_before: tuple[tuple[str, int], ...] = ()
    """...and before it."""


def named_pids(name: str) -> list[int]:
    """Processes whose command name is ``name`` (``/proc/PID/comm``)."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/comm") as comm:
                if comm.read().strip() == name:
                    found.append(int(entry))
        except (FileNotFoundError, NotADirectoryError, ProcessLookupError):
            continue
    return found
