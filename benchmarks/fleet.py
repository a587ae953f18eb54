"""The fleet benchmark: many light accounts on PostgreSQL, passed in-process and by workers.

Set-up: ``--mailboxes`` synthetic organisations (``_fleet_world``: light calendars,
alternately Google and Microsoft) served by one emulator in a child process; a fresh
PostgreSQL database; every account connected through the real OAuth code path
(``accounts.begin_connect`` / ``complete_connect``, the emulator's consent screen).

Measured, each as wall time, accounts per minute and the CPU of nudger, the emulator and
the PostgreSQL backends of the benchmark's database:

- the in-process baseline: ``run_cycle`` in this process, a first pass (full syncs,
  decisions, deliveries) and ``--steady`` passes with nothing changed;
- with ``--workers``: real ``nudger worker`` processes, a pass over every account
  enqueued by ``nudger cycle --enqueue --wait``, at each worker count (see
  ``_fleet_workers``), queue latency from the account rows, and the SIGKILL run.

Run by hand from the repository root, never in the suite::

    .venv/bin/python benchmarks/fleet.py [--mailboxes 1000] [--steady 2]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
        [--workers 1,2,4] [--broker-url redis://127.0.0.1:6379/9] [--no-in-process]
"""

from __future__ import annotations

import argparse
import ssl
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
from _fleet_measure import (
    CpuMeter,
    DbStats,
    Sampler,
    backend_pids,
    db_stats,
    machine_busy,
    settle,
)
from _fleet_world import FleetEmulator, FleetSpec, Recorded, Served
from cryptography.fernet import Fernet
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from nudger import accounts
from nudger.clock import utcnow
from nudger.config import Settings, load_settings
from nudger.cycle import run_cycle
from nudger.runtime import Runtime, open_runtime

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
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


@contextmanager
def fresh_database(server_url: str, name: str) -> Iterator[str]:
    """A new, empty PostgreSQL database beside the one ``server_url`` names; dropped after."""
    server = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


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


def sign_in_all(runtime: Runtime, served: Served) -> SignIns:
    """Every owner through the real OAuth code path, one after another, as a browser would:
    start, the emulator's consent screen, the callback."""
    started = time.perf_counter()
    tls = ssl.create_default_context(cafile=str(runtime.settings.ca_bundle))
    with httpx.Client(verify=tls) as browser:
        for provider, email in served.owners:
            start = accounts.begin_connect(runtime, provider, login_hint=email)
            consent = browser.get(start.url)
            if consent.status_code != 302:
                raise RuntimeError(f"consent for {email} answered {consent.status_code}")
            query = parse_qs(urlparse(consent.headers["location"]).query)
            accounts.complete_connect(runtime, provider, {k: v[0] for k, v in query.items()})
    return SignIns(len(served.owners), time.perf_counter() - started)


# --- measuring a run over the fleet -------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    passed: int
    failed: int
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Phase:
    """One measured run over the fleet."""

    name: str
    outcome: Outcome
    seconds: float
    nudger_cpu: float
    emulator_cpu: float
    postgres_cpu: float
    machine_cpu: float
    """Busy CPU-seconds of the whole machine (other helpers' processes included)."""
    transactions: int
    statements: int | None
    """SQL statements nudger sent (counted in-process only)."""
    emails: int
    holds: int
    requests: int

    @property
    def per_minute(self) -> float:
        return (self.outcome.passed + self.outcome.failed) / self.seconds * 60

    def per_account_ms(self, cpu: float) -> float:
        return cpu / max(1, self.outcome.passed + self.outcome.failed) * 1000


class Bench:
    """The running fleet: emulator, database, the settings both nudger and workers use."""

    def __init__(self, emulator: FleetEmulator, values: dict[str, str], server: Engine) -> None:
        self.emulator = emulator
        self.values = values
        self.server = server
        self.runtime = open_runtime(load_settings(**values))
        self.statements = 0
        event.listen(self.runtime.db.engine, "before_cursor_execute", self._count)

    def _count(self, *args: object) -> None:
        self.statements += 1

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    def measure(
        self, name: str, run: Callable[[], Outcome], nudger_pids: Callable[[], set[int]]
    ) -> Phase:
        """Run ``run`` and measure it; ``nudger_pids`` names the processes doing nudger's
        work besides this one (the workers), sampled while it runs."""
        before = _Snapshot.take(self)
        nudger = CpuMeter(nudger_pids())
        postgres = CpuMeter(backend_pids(self.server, DATABASE))

        def sample() -> None:
            nudger.sample(nudger_pids())
            postgres.sample(backend_pids(self.server, DATABASE))

        with Sampler(sample):
            outcome = run()
        settle()
        after = _Snapshot.take(self)
        own_cpu = after.own_cpu - before.own_cpu
        return Phase(
            name=name,
            outcome=outcome,
            seconds=after.wall - before.wall - 1.0,  # less the settling second
            nudger_cpu=own_cpu + nudger.seconds(),
            emulator_cpu=after.recorded.cpu_seconds - before.recorded.cpu_seconds,
            postgres_cpu=postgres.seconds(),
            machine_cpu=after.busy - before.busy,
            transactions=after.db.transactions - before.db.transactions,
            statements=after.statements - before.statements,
            emails=after.recorded.emails - before.recorded.emails,
            holds=after.recorded.holds - before.recorded.holds,
            requests=after.recorded.requests - before.recorded.requests,
        )


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
        return cls(
            wall=time.perf_counter(),
            own_cpu=time.process_time(),
            busy=machine_busy()[0],
            db=db_stats(bench.server, DATABASE),
            recorded=bench.emulator.recorded(),
            statements=bench.statements,
        )


def in_process_pass(bench: Bench) -> Callable[[], Outcome]:
    def run() -> Outcome:
        reports = run_cycle(bench.runtime, now=utcnow())
        failed = [r for r in reports if r.error]
        notes = tuple(sorted({r.error or "" for r in failed}))[:3]
        return Outcome(len(reports) - len(failed), len(failed), notes)

    return run


# --- the report ------------------------------------------------------------------------------


def print_phases(phases: list[Phase]) -> None:
    headers = [
        *("run", "accounts ok/failed", "wall s", "accounts/min"),
        *("nudger CPU ms/acct", "emulator CPU ms/acct", "PG CPU ms/acct", "machine busy"),
        *("PG xacts/acct", "statements/acct", "requests/acct", "emails", "holds"),
    ]
    print("| " + " | ".join(headers) + " |")
    print("|" + " --- |" * len(headers))
    for p in phases:
        count = max(1, p.outcome.passed + p.outcome.failed)
        cells = [
            p.name,
            f"{p.outcome.passed}/{p.outcome.failed}",
            f"{p.seconds:.1f}",
            f"{p.per_minute:,.0f}",
            f"{p.per_account_ms(p.nudger_cpu):.0f}",
            f"{p.per_account_ms(p.emulator_cpu):.0f}",
            f"{p.per_account_ms(p.postgres_cpu):.0f}",
            f"{p.machine_cpu / p.seconds / 2:.0%}",
            f"{p.transactions / count:.1f}",
            f"{p.statements / count:.0f}" if p.statements else "-",
            f"{p.requests / count:.1f}",
            str(p.emails),
            str(p.holds),
        ]
        print("| " + " | ".join(cells) + " |")
    for p in phases:
        for note in p.outcome.notes:
            print(f"  {p.name}: {note}")


# --- the command line ------------------------------------------------------------------------


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mailboxes", type=int, default=1000)
    parser.add_argument("--people", type=int, default=40, help="colleagues per mailbox")
    parser.add_argument("--events-per-week", type=int, default=10)
    parser.add_argument("--months", type=int, default=6, help="history (orggen's minimum: 6)")
    parser.add_argument("--steady", type=int, default=2, help="steady in-process passes")
    parser.add_argument("--database-url", default=DEFAULT_SERVER, help="the PostgreSQL server")
    return parser.parse_args()


def main() -> None:
    args = arguments()
    spec = FleetSpec(args.mailboxes, utcnow(), args.people, args.events_per_week, args.months)
    started = time.perf_counter()
    emulator = FleetEmulator(spec)
    served = emulator.served
    print(
        f"emulator: {len(served.owners)} mailboxes, {served.events:,} events "
        f"({served.events / len(served.owners):.0f} per mailbox), generated in "
        f"{served.seconds:.1f} s, serving after {time.perf_counter() - started:.1f} s"
    )
    server = create_engine(args.database_url, isolation_level="AUTOCOMMIT")
    try:
        with (
            tempfile.TemporaryDirectory(prefix="nudger-fleet-") as tmp,
            fresh_database(args.database_url, DATABASE) as url,
        ):
            run(args, Bench(emulator, settings_values(served, url, Path(tmp)), server))
    finally:
        server.dispose()
        emulator.stop()


def run(args: argparse.Namespace, bench: Bench) -> None:
    signed = sign_in_all(bench.runtime, bench.emulator.served)
    print(
        f"sign-ins: {signed.accounts} in {signed.seconds:.1f} s "
        f"({signed.seconds / signed.accounts * 1000:.0f} ms each)"
    )
    phases = [bench.measure("in-process, first pass", in_process_pass(bench), set)]
    for turn in range(args.steady):
        name = f"in-process, steady pass {turn + 1}"
        phases.append(bench.measure(name, in_process_pass(bench), set))
    print_phases(phases)
    bench.runtime.db.dispose()


if __name__ == "__main__":
    main()
