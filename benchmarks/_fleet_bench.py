"""The fleet benchmark's bench: set-up (database, settings, sign-ins) and the measuring of
one run over the fleet (``Bench.measure`` → ``Phase``)."""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
from _fleet_measure import (
    CpuMeter,
    DbStats,
    Outcome,
    Sampler,
    backend_pids,
    db_stats,
    machine_busy,
    named_pids,
    settle,
)
from _fleet_world import FleetEmulator, Recorded, Served
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, event
from sqlalchemy.engine import make_url

from nudger import accounts
from nudger.clock import utcnow
from nudger.config import load_settings
from nudger.cycle import run_cycle
from nudger.runtime import Runtime, open_runtime

DATABASE = "fleet_bench"
RULES = """\
# The fleet benchmark's rules: sends at any hour and day (the benchmark runs whenever it
# is run) and no weekly budget (a pass after the rupture has a repair to send even if
# the first pass spent the week's).
policies:
  quiet_hours: {start: "00:00", end: "00:00"}
  quiet_days: []
  weekly_budget: 1000
  weekly_hold_budget: 1000
"""


# --- set-up ------------------------------------------------------------------------------------


def settings_values(served: Served, database_url: str, workdir: Path) -> dict[str, str]:
    """Every setting nudger needs here, as strings: for ``load_settings`` in this process
    and, as ``NUDGER_*`` variables, for the worker processes."""
    rules = workdir / "rules.yaml"
    rules.write_text(RULES)
    return {
        **served.settings,
        "database_url": database_url,
        "encryption_keys": Fernet.generate_key().decode(),
        "data_dir": str(workdir),
        "base_url": "http://127.0.0.1:8000",
        "rules_file": str(rules),
        "log_level": "WARNING",
    }


def environment(values: dict[str, str]) -> dict[str, str]:
    return {f"NUDGER_{key.upper()}": value for key, value in values.items()}


@dataclass(frozen=True)
class SignIns:
    accounts: int
    seconds: float
    threads: int


def sign_in_all(runtime: Runtime, served: Served, threads: int) -> SignIns:
    """Every owner through the real OAuth code path, ``threads`` at a time, as browsers
    would: start, the emulator's consent screen, the callback."""
    started = time.perf_counter()
    tls = ssl.create_default_context(cafile=str(runtime.settings.ca_bundle))
    with httpx.Client(verify=tls) as browser, ThreadPoolExecutor(threads) as pool:
        done = pool.map(lambda owner: _sign_in(runtime, browser, *owner), served.owners)
        count = len(list(done))
    return SignIns(count, time.perf_counter() - started, threads)


def _sign_in(runtime: Runtime, browser: httpx.Client, provider: str, email: str) -> int:
    start = accounts.begin_connect(runtime, provider, login_hint=email)
    consent = browser.get(start.url)
    if consent.status_code != 302:
        raise RuntimeError(f"consent for {email} answered {consent.status_code}")
    query = parse_qs(urlparse(consent.headers["location"]).query)
    return accounts.complete_connect(runtime, provider, {k: v[0] for k, v in query.items()}).id


# --- measuring a run over the fleet -------------------------------------------------------------


@dataclass(frozen=True)
class Phase:
    """One measured run over the fleet."""

    name: str
    outcome: Outcome
    seconds: float
    nudger_cpu: float
    """This process's CPU in-process; the worker processes' with workers."""
    harness_cpu: float | None
    """This process's CPU with workers (queueing, waiting for reports, measuring)."""
    emulator_cpu: float
    postgres_cpu: float
    """The PostgreSQL backends serving the benchmark's database."""
    redis_cpu: float
    """The Redis server (shared with other users of this machine's Redis)."""
    machine_cpu: float
    """Busy CPU-seconds of the whole machine (other helpers' processes included)..."""
    span: float
    """...over this many seconds (the run, the measuring and a settling second)."""
    transactions: int
    statements: int | None
    """SQL statements nudger sent (counted in-process only)."""
    emails: int
    holds: int
    requests: int
    by_api: dict[str, int]
    duplicates: tuple[int, int]
    """(emails, holds) duplicated, over everything the emulator has recorded so far."""

    @property
    def accounts(self) -> int:
        return self.outcome.passed + self.outcome.failed + self.outcome.skipped

    @property
    def per_minute(self) -> float:
        return self.accounts / self.seconds * 60

    def per_account_ms(self, cpu: float) -> float:
        return cpu / max(1, self.accounts) * 1000

    def line(self) -> str:
        o = self.outcome
        return (
            f"{self.name}: {o.passed}/{o.failed}/{o.skipped} passed/failed/skipped in "
            f"{self.seconds:.1f} s ({self.per_minute:,.0f}/min); CPU ms/account: nudger "
            f"{self.per_account_ms(self.nudger_cpu):.0f}, emulator "
            f"{self.per_account_ms(self.emulator_cpu):.0f}, PostgreSQL "
            f"{self.per_account_ms(self.postgres_cpu):.0f}, others "
            f"{self.per_account_ms(self.others_cpu):.0f}; {self.emails} emails, "
            f"{self.holds} holds"
        )

    @property
    def others_cpu(self) -> float:
        """Busy CPU not accounted for: other processes on this shared machine."""
        ours = self.nudger_cpu + (self.harness_cpu or 0) + self.emulator_cpu
        return max(0.0, self.machine_cpu - ours - self.postgres_cpu - self.redis_cpu)


class Bench:
    """The running fleet: emulator, database, the settings both nudger and workers use."""

    def __init__(self, emulator: FleetEmulator, values: dict[str, str], workdir: Path) -> None:
        self.emulator = emulator
        self.values = values
        self.workdir = workdir
        url = make_url(values["database_url"])
        self.server = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        self.reader = create_engine(url)
        """The harness's own reads of the rows, apart from nudger's engine."""
        self.runtime = open_runtime(load_settings(**values))
        """In-process nudger, with no broker: as one ``nudger serve`` runs passes today."""
        self.statements = 0
        event.listen(self.runtime.db.engine, "before_cursor_execute", self._count)

    def _count(self, *args: object) -> None:
        self.statements += 1

    def close(self) -> None:
        self.runtime.db.dispose()
        self.reader.dispose()
        self.server.dispose()

    def measure(
        self, name: str, run: Callable[[], Outcome], workers: Callable[[], set[int]] | None = None
    ) -> Phase:
        """Run ``run`` and measure it; ``workers`` names the processes doing nudger's work
        when it is not this one, sampled while it runs."""
        nudger = CpuMeter(workers() if workers else ())
        postgres = CpuMeter(backend_pids(self.server, DATABASE))
        redis = CpuMeter(named_pids("redis-server"))

        def sample() -> None:
            nudger.sample(workers() if workers else ())
            postgres.sample(backend_pids(self.server, DATABASE))
            redis.sample(named_pids("redis-server"))

        before = _Snapshot.take(self)
        with Sampler(sample):
            outcome = run()
        wall = time.perf_counter()
        settle()
        after = _Snapshot.take(self)
        own = after.own_cpu - before.own_cpu
        phase = Phase(
            name=name,
            outcome=outcome,
            seconds=wall - before.wall,
            nudger_cpu=nudger.seconds() if workers else own,
            harness_cpu=own if workers else None,
            emulator_cpu=after.recorded.cpu_seconds - before.recorded.cpu_seconds,
            postgres_cpu=postgres.seconds(),
            redis_cpu=redis.seconds(),
            machine_cpu=after.busy - before.busy,
            span=after.wall - before.wall,
            transactions=after.db.transactions - before.db.transactions,
            statements=None if workers else after.statements - before.statements,
            emails=after.recorded.emails - before.recorded.emails,
            holds=after.recorded.holds - before.recorded.holds,
            requests=after.recorded.requests - before.recorded.requests,
            by_api={
                api: n - before.recorded.by_api.get(api, 0)
                for api, n in after.recorded.by_api.items()
            },
            duplicates=(after.recorded.duplicate_emails, after.recorded.duplicate_holds),
        )
        print(phase.line(), flush=True)  # at once: a run cut short keeps what it measured
        return phase


@dataclass(frozen=True)
class _Snapshot:
    wall: float
    own_cpu: float
    busy: float
    db: DbStats
    recorded: Recorded
    statements: int

    @classmethod
    def take(cls, bench: Bench) -> _Snapshot:
        recorded = bench.emulator.recorded()
        return cls(
            own_cpu=time.process_time(),
            busy=machine_busy()[0],
            db=db_stats(bench.server, DATABASE),
            recorded=recorded,
            statements=bench.statements,
            wall=time.perf_counter(),
        )


def in_process_pass(bench: Bench) -> Callable[[], Outcome]:
    def run() -> Outcome:
        reports = run_cycle(bench.runtime, now=utcnow())
        failed = [r for r in reports if r.error]
        notes = tuple(sorted({r.error or "" for r in failed}))[:3]
        return Outcome(len(reports) - len(failed), len(failed), notes=notes)

    return run
