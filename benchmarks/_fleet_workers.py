"""Real ``nudger worker`` processes for the fleet benchmark, and passes through the queue.

Each worker is ``nudger worker --concurrency 1`` (Celery's prefork pool: a main process
and one pool child) started in a session of its own, so a SIGKILL takes the whole
worker at once, as a machine dying would. Passes are put on the queue by the code behind
``nudger cycle --enqueue --wait`` (``PassQueue.enqueue_all`` and ``wait``), in this
process, so the time of the enqueue is known exactly.

What a pass did is read back from the account rows (``last_pass_at``: when the pass
started, ``last_pass_status``), the outbox (``nudges``) and the pass leases (``leases``:
the holder names the pool process running the pass).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from _fleet_measure import tree_pids
from sqlalchemy import Engine, text

READY = "ready."
"""What a Celery worker logs once it consumes (``celery@host ready.``)."""
START_TIMEOUT = 60.0


class Workers:
    """``count`` worker processes, logging to ``workdir/worker-N.log``."""

    def __init__(self, env: dict[str, str], count: int, workdir: Path) -> None:
        self.logs = [workdir / f"worker-{n}.log" for n in range(count)]
        command = [str(Path(sys.executable).parent / "nudger"), "worker", "--concurrency", "1"]
        self.processes = [
            subprocess.Popen(
                command,
                env={**os.environ, **env},
                stdout=log.open("w"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            for log in self.logs
        ]
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while not all(READY in log.read_text() for log in self.logs):
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.processes):
                raise RuntimeError(f"a worker did not start; see {self.logs}")
            time.sleep(0.2)

    def pids_of(self, index: int) -> set[int]:
        """Worker ``index``'s processes now: its main process and its pool child."""
        return tree_pids([self.processes[index].pid])

    def pids(self) -> set[int]:
        """Every worker process now: main processes and their pool children."""
        return tree_pids(p.pid for p in self.processes if p.poll() is None)

    def kill(self, index: int) -> float:
        """SIGKILL worker ``index`` and its pool; when (``time.time()``)."""
        process = self.processes[index]
        os.killpg(process.pid, signal.SIGKILL)
        killed = time.time()
        process.wait()
        return killed

    def stop(self) -> None:
        """A warm shutdown (SIGTERM: finish or hand back what they hold), then wait."""
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@contextmanager
def running(env: dict[str, str], count: int, workdir: Path) -> Iterator[Workers]:
    workers = Workers(env, count, workdir)
    try:
        yield workers
    finally:
        workers.stop()


# --- reading back what the passes did ------------------------------------------------------------


@dataclass(frozen=True)
class PassRow:
    account_id: int
    started: datetime | None
    status: str | None


def pass_rows(engine: Engine) -> list[PassRow]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT id, last_pass_at, last_pass_status FROM accounts ORDER BY id")
        )
        return [PassRow(int(r[0]), r[1], r[2]) for r in rows]


def pass_row(engine: Engine, account_id: int) -> PassRow:
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT id, last_pass_at, last_pass_status FROM accounts WHERE id = :id"),
            {"id": account_id},
        ).one()
        return PassRow(int(row[0]), row[1], row[2])


def passed_since(engine: Engine, since: datetime) -> int:
    with engine.connect() as conn:
        count = conn.scalar(
            text("SELECT count(*) FROM accounts WHERE last_pass_at >= :since"), {"since": since}
        )
        return int(count or 0)


def running_pass(engine: Engine, pids: Iterable[int]) -> int | None:
    """The account whose live pass lease one of ``pids`` holds (the holder ends in
    ``:host:pid:random``)."""
    wanted = {str(pid) for pid in pids}
    with engine.connect() as conn:
        leases = conn.execute(
            text(
                "SELECT name, holder FROM leases WHERE name LIKE 'pass:%'"
                " AND expires_at > CURRENT_TIMESTAMP"
            )
        )
        for name, holder in leases:
            if holder.split(":")[-2] in wanted:
                return int(name.removeprefix("pass:"))
    return None


def sending(engine: Engine, pids: Iterable[int]) -> int | None:
    """The account of a nudge one of ``pids`` has claimed and not yet settled: a send in
    flight (the claim's ``claimed_by`` is ``host:pid``)."""
    wanted = {str(pid) for pid in pids}
    with engine.connect() as conn:
        claims = conn.execute(
            text("SELECT account_id, claimed_by FROM nudges WHERE status = 'claimed'")
        )
        for account_id, claimed_by in claims:
            if claimed_by and claimed_by.rsplit(":", 1)[-1] in wanted:
                return int(account_id)
    return None


def outbox_states(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT status, count(*) FROM nudges GROUP BY status"))
        return {str(status): int(count) for status, count in rows}
