"""The fleet benchmark's runs through the worker queue: a pass over every account at once,
passes paced below capacity (queue latency with no backlog), and the SIGKILL run.

Each returns an ``Outcome`` for ``Bench.measure``; latencies are read from the account
rows (``last_pass_at`` is when a pass started) against when the pass was queued.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import redis
from _fleet_bench import Bench, Phase, environment
from _fleet_measure import Latency, Outcome, Redelivery
from _fleet_workers import (
    Workers,
    outbox_states,
    pass_row,
    pass_rows,
    passed_since,
    running,
    running_pass,
    sending,
)
from sqlalchemy import Engine

from nudger.clock import utcnow
from nudger.config import load_settings
from nudger.passes.account_pass import CycleReport
from nudger.runtime import open_runtime
from nudger.workers.app import QUEUE
from nudger.workers.enqueue import PassQueue, Queued

POLL = 0.2
STALL = 300.0
"""Seconds without a pass, beyond a redelivery's wait (visibility timeout and sweep)."""
UNACKED = "unacked"
"""kombu's Redis hash of delivered, unacknowledged messages."""
CATCH_SEND = 60.0
"""How long the SIGKILL run tries to catch worker 0 in the middle of a send."""


def outcome_of(
    reports: list[CycleReport],
    latency: Latency,
    redelivery: Redelivery | None = None,
    outbox: tuple[tuple[str, int], ...] = (),
    outbox_before: tuple[tuple[str, int], ...] = (),
) -> Outcome:
    failed = [r for r in reports if r.error]
    skipped = [r for r in reports if not r.error and r.skipped]
    notes = tuple(sorted({r.error or "" for r in failed}))[:3]
    passed = len(reports) - len(failed) - len(skipped)
    return Outcome(
        passed, len(failed), len(skipped), latency, notes, redelivery, outbox, outbox_before
    )


def latency_since(engine: Engine, queued: dict[int, datetime]) -> Latency:
    rows = pass_rows(engine)
    waits = [
        (row.started - queued[row.account_id]).total_seconds()
        for row in rows
        if row.started and row.account_id in queued and row.started >= queued[row.account_id]
    ]
    return Latency.of(waits) if waits else Latency(0, 0, 0, 0, 0)


class LostQueue(RuntimeError):
    """Passes stopped while none waits in Redis: the queue is gone (a process sharing the
    machine's Redis flushed the benchmark's database)."""


class Line:
    """The queue, the account rows and the broker's keys: sends passes and waits for them,
    noticing a queue that was lost instead of waiting for ever."""

    def __init__(self, queue: PassQueue, engine: Engine, broker_url: str) -> None:
        self.queue, self.engine = queue, engine
        self.broker = redis.Redis.from_url(broker_url)

    def wait(self, queued: list[Queued], since: datetime) -> list[CycleReport]:
        """``PassQueue.wait`` (as ``cycle --enqueue --wait``), watched from here."""
        reports: list[CycleReport] = []
        waiter = threading.Thread(
            target=lambda: reports.extend(self.queue.wait(queued, lambda report: None)),
            daemon=True,
        )
        waiter.start()
        self._until(lambda: not waiter.is_alive(), since)
        return reports

    def until_passed(self, count: float, since: datetime) -> None:
        self._until(lambda: passed_since(self.engine, since) >= count, since)

    def _until(self, done: Callable[[], bool], since: datetime) -> None:
        last, moved = -1, time.monotonic()
        while not done():
            time.sleep(POLL)
            passed = passed_since(self.engine, since)
            if passed != last:
                last, moved = passed, time.monotonic()
            elif time.monotonic() - moved > STALL and self._empty():
                raise LostQueue(f"no pass for {STALL:.0f} s and nothing queued or unacked")

    def _empty(self) -> bool:
        return self.broker.llen(QUEUE) == 0 and self.broker.hlen(UNACKED) == 0


def all_at_once(line: Line) -> Callable[[], Outcome]:
    """``nudger cycle --enqueue --wait``: every account queued at once, every report waited."""

    def run() -> Outcome:
        now = utcnow()
        queued = line.queue.enqueue_all(now)
        reports = line.wait(queued, now)
        latency = latency_since(line.engine, {q.account_id: now for q in queued})
        return outcome_of(reports, latency=latency)

    return run


def paced(line: Line, per_second: float) -> Callable[[], Outcome]:
    """Every account queued one by one at ``per_second``, as the scheduler spreads them over
    its period: the latency of a queue that keeps up, not of a backlog."""

    def run() -> Outcome:
        ids = [row.account_id for row in pass_rows(line.engine)]
        first, started, sent, queued = utcnow(), time.monotonic(), {}, []
        for index, account_id in enumerate(ids):
            time.sleep(max(0.0, started + index / per_second - time.monotonic()))
            now = utcnow()
            task = line.queue.send(account_id, now, morning_only=False)
            sent[account_id] = now
            queued.append(Queued(account_id, str(account_id), task))
        reports = line.wait(queued, first)
        return outcome_of(reports, latency=latency_since(line.engine, sent))

    return run


def with_a_kill(line: Line, workers: Workers, at_fraction: float = 0.5) -> Callable[[], Outcome]:
    """Every account queued at once; once ``at_fraction`` of them passed, worker 0 (main
    process and pool child) is SIGKILLed in the middle of an account's pass."""

    def run() -> Outcome:
        engine = line.engine
        before = tuple(sorted(outbox_states(engine).items()))
        now = utcnow()
        queued = line.queue.enqueue_all(now)
        line.until_passed(len(queued) * at_fraction, now)
        account_id, killed_at = _kill_mid_pass(engine, workers, now)
        print(f"SIGKILLed worker 0 during account {account_id}'s pass", flush=True)
        watch = _Watch(engine, account_id, killed_at)
        reports = line.wait(queued, now)
        latency = latency_since(engine, {q.account_id: now for q in queued})
        states = tuple(sorted(outbox_states(engine).items()))
        redelivery = watch.result(now)
        return outcome_of(reports, latency, redelivery, states, before)

    return run


def _kill_mid_pass(engine: Engine, workers: Workers, queued_at: datetime) -> tuple[int, datetime]:
    """Kill worker 0 in the middle of a send (a nudge it has claimed and not settled) if
    one is caught within ``CATCH_SEND`` seconds, else while it holds the pass lease of an
    account whose pass of this run is not recorded yet; that account, and when."""
    deadline = time.monotonic() + CATCH_SEND
    while time.monotonic() < deadline:
        if (account_id := sending(engine, workers.pids_of(0))) is not None:
            print(f"worker 0 caught sending for account {account_id}", flush=True)
            return account_id, datetime.fromtimestamp(workers.kill(0), UTC)
        time.sleep(0.005)
    while True:
        account_id = running_pass(engine, workers.pids_of(0))
        if account_id is not None:
            started = pass_row(engine, account_id).started
            if started is None or started < queued_at:
                return account_id, datetime.fromtimestamp(workers.kill(0), UTC)
        time.sleep(0.01)


class _Watch:
    """Polls one account's row until a pass started after the kill is recorded on it."""

    def __init__(self, engine: Engine, account_id: int, killed_at: datetime) -> None:
        self.engine, self.account_id, self.killed_at = engine, account_id, killed_at
        self._seen: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while self._started() is None:
            if self._stop.wait(POLL):
                return
        self._seen = time.time()

    def _started(self) -> datetime | None:
        row = pass_row(self.engine, self.account_id)
        return row.started if row.started and row.started > self.killed_at else None

    def result(self, queued_at: datetime) -> Redelivery | None:
        """Once every report is in; None if the killed pass had been recorded already (the
        kill landed between its last write and the release of its lease)."""
        self._thread.join(timeout=5)
        self._stop.set()
        started = self._started()
        if started is None or self._seen is None:
            return None
        return Redelivery(
            queued_at,
            self.account_id,
            self.killed_at,
            (started - self.killed_at) / timedelta(seconds=1),
            self._seen - self.killed_at.timestamp(),
        )


class QueueRuns:
    """The runs through the queue, each with freshly started workers, on one bench."""

    def __init__(self, bench: Bench, broker_url: str) -> None:
        self.bench = bench
        values = {**bench.values, "broker_url": broker_url}
        self.env = environment(values)
        redis.Redis.from_url(broker_url).flushdb()  # the benchmark's own Redis database
        queue = PassQueue(open_runtime(load_settings(**values)))
        self.line = Line(queue, bench.reader, broker_url)

    def _run(self, name: str, count: int, run: Callable[[Workers], Callable[[], Outcome]]) -> Phase:
        with running(self.env, count, self.bench.workdir) as workers:
            return self.bench.measure(name, run(workers), workers.pids)

    def first_pass(self) -> Phase:
        return self._run("2 workers, first pass", 2, lambda w: all_at_once(self.line))

    def steady(self, counts: list[int], repeat: int) -> list[Phase]:
        return [
            self._run(f"{n} workers, steady pass {turn + 1}", n, lambda w: all_at_once(self.line))
            for n in counts
            for turn in range(repeat)
        ]

    def paced(self, phases: list[Phase]) -> Phase:
        """Two workers fed at half the rate two workers reached in a steady pass."""
        two = [p for p in phases if p.name.startswith("2 workers, steady")]
        per_second = max(p.per_minute for p in two) / 60 / 2 if two else 5.0
        name = f"2 workers, paced at {per_second * 60:,.0f}/min"
        return self._run(name, 2, lambda w: paced(self.line, per_second))

    def sigkill(self) -> Phase:
        """Each owner's recent one-on-ones with one report cancelled (a repair to send),
        then a pass over all with 2 workers, one SIGKILLed halfway."""
        ruptured = self.bench.emulator.rupture()
        print(f"ruptured: {ruptured} one-on-ones cancelled", flush=True)
        return self._run("2 workers, one SIGKILLed", 2, lambda w: with_a_kill(self.line, w))
