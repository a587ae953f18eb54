"""The steady state: what one account's pass costs nudger when little or nothing changed.

The demo organisation's generator (``nudger.sandbox.orggen``, 300 people, 200 events a
week: about 11,000 events in the sync window) is served by the emulator in a child
process; the owner connects through the real OAuth code path (``accounts``) and every
pass is ``run_account_pass``, as ``nudger cycle`` and the scheduler run it (sync,
analyse and decide, deliver). Measured, as nudger's own CPU (``time.process_time`` of
this process; the emulator's CPU is another process's) and wall time:

- the first pass (a full sync), against the bare-fetch floor of the same pages
  (plain httpx + JSON, as ``google_sync.py`` and ``microsoft_sync.py`` fetch it);
- passes with nothing changed on the calendar, 15 minutes apart;
- passes after one event changed (an attendee's answer flipped, in the emulator).

Run by hand from the repository root::

    .venv/bin/python benchmarks/steady_pass.py [--provider google|microsoft|both]
        [--passes 20] [--database-url postgresql+psycopg://...] [--profile no-change]
"""

from __future__ import annotations

import argparse
import cProfile
import multiprocessing
import pstats
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path

import httpx
from _common import Provider, fresh_database, sign_in, tls
from _report import print_table
from cryptography.fernet import Fernet
from google_sync import GOOGLE
from judgement import consent
from microsoft_sync import MICROSOFT
from sqlalchemy import select
from sqlalchemy.engine import make_url

from nudger import accounts
from nudger.config import Settings, load_settings
from nudger.cycle import CycleReport, run_account_pass
from nudger.runtime import Runtime, open_runtime
from nudger.sandbox.orggen import OrgSpec, generate_org
from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import World
from nudger.store.db import session_scope
from nudger.store.models import Calendar
from nudger.sync import sync_window

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
"""A Monday, 09:00 in the owner's zone (London): passes run through the working day."""
STEP = timedelta(minutes=15)
"""The scheduler's cadence: each measured pass is 15 minutes after the previous one."""
PROVIDERS = {"google": GOOGLE, "microsoft": MICROSOFT}


# --- the emulator, in a child process --------------------------------------------------------


@dataclass(frozen=True)
class Served:
    settings: dict[str, str]
    owner: str
    events: int


def _flip_one(world: World, owner: str, turn: int) -> str:
    """Flip one contact's answer on a past meeting of the last fortnight: one changed event."""
    mailbox = world.mailbox(owner)
    recent = [
        e
        for e in world.live_events(mailbox)
        if NOW - timedelta(days=14) < e.end <= NOW and not e.all_day and e.event_type == "default"
        if any(not a.resource and a.email != owner for a in e.attendees)
    ]
    event = recent[turn * 7 % len(recent)]
    contact = next(a for a in event.attendees if not a.resource and a.email != owner)
    answer = "declined" if contact.response != "declined" else "accepted"
    flipped = [replace(a, response=answer) if a is contact else a for a in event.attendees]
    world.put_event(mailbox, replace(event, attendees=flipped))
    return event.id


def _serve(provider: str, conn: Connection) -> None:
    """Child process: generate the org, serve it, change one event when told, until stopped."""
    world = World()
    spec = OrgSpec(now=NOW, provider=provider, people=300, events_per_week=200, months=12)
    org = generate_org(world, spec)
    with Sandbox(world) as sandbox:
        conn.send(Served(sandbox.settings(), org.owner.email, org.event_count))
        turn = 0
        while (command := conn.recv()) != "stop":
            assert command == "change", command
            conn.send(_flip_one(world, org.owner.email, turn))
            turn += 1


class Emulator:
    def __init__(self, provider: str) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(provider, child), daemon=True)
        self._process.start()
        self.served: Served = self._conn.recv()

    def change_one_event(self) -> str:
        self._conn.send("change")
        changed: str = self._conn.recv()
        return changed

    def stop(self) -> None:
        self._conn.send("stop")
        self._process.join(timeout=15)


# --- databases ---------------------------------------------------------------------------------


@contextmanager
def database(url: str | None, workdir: Path) -> Iterator[str]:
    """SQLite in ``workdir``, or a fresh PostgreSQL database beside the one named by ``url``."""
    if not url:
        yield f"sqlite:///{workdir / 'nudger.db'}"
        return
    with fresh_database(url, f"{make_url(url).database}_bench") as fresh:
        yield fresh


# --- measuring -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cost:
    cpu: float
    wall: float
    analysis: str
    """How the decide step had its audit: skipped, stored, partial or full."""


def measured(run: Callable[[], CycleReport]) -> Cost:
    cpu, wall = time.process_time(), time.perf_counter()
    report = run()
    return Cost(time.process_time() - cpu, time.perf_counter() - wall, report.analysis)


@dataclass(frozen=True)
class Report:
    provider: str
    backend: str
    events: int
    first: Cost
    floor: float
    no_change: list[Cost]
    one_event: list[Cost]
    new_day: list[Cost]


class Account:
    """The owner connected through ``accounts`` (the real OAuth path), passes by id."""

    def __init__(self, runtime: Runtime, provider: str, owner: str) -> None:
        start = accounts.begin_connect(runtime, provider, login_hint=owner)
        params = consent(start.url, Path(str(runtime.settings.ca_bundle)))
        self.runtime, self.id = runtime, accounts.complete_connect(runtime, provider, params).id
        self.now = NOW

    def next_pass(self, step: timedelta = STEP) -> Cost:
        self.now += step
        now = self.now

        def run() -> CycleReport:
            report = run_account_pass(self.runtime, self.id, now=now)
            assert report.error is None, report.error
            return report

        return measured(run)


def floor_seconds(
    provider: Provider, settings: Settings, owner: str, calendars: list[str], repeat: int
) -> float:
    """The bare fetch of a full round's pages (best of ``repeat``)."""
    grant = sign_in(provider, settings, owner)
    token = provider.access_token(settings, grant)
    window = sync_window(NOW, settings.lookback_days, settings.lookahead_days)
    best = float("inf")
    for _ in range(repeat):
        headers = {"Authorization": f"Bearer {token}"}
        started = time.perf_counter()
        with httpx.Client(verify=tls(settings), headers=headers, timeout=60) as client:
            for calendar_id in calendars:
                for _page in provider.floor_pages(client, settings, calendar_id, window):
                    pass
        best = min(best, time.perf_counter() - started)
    return best


def measure(provider: str, passes: int, url: str | None, profile: str | None) -> Report:
    emulator = Emulator(provider)
    try:
        with (
            tempfile.TemporaryDirectory(prefix="nudger-steady-") as tmp,
            database(url, Path(tmp)) as database_url,
        ):
            settings = load_settings(
                **emulator.served.settings,
                database_url=database_url,
                encryption_keys=Fernet.generate_key().decode(),
                data_dir=Path(tmp),
                log_level="WARNING",
            )
            runtime = open_runtime(settings)
            try:
                return _passes(provider, emulator, runtime, passes, profile)
            finally:
                runtime.db.dispose()
    finally:
        emulator.stop()


def _passes(
    provider: str, emulator: Emulator, runtime: Runtime, passes: int, profile: str | None
) -> Report:
    owner = emulator.served.owner
    account = Account(runtime, provider, owner)
    first = _profiled(account.next_pass) if profile == "first" else account.next_pass()
    account.next_pass()  # the first steady pass after the first may still deliver
    no_change = [account.next_pass() for _ in range(passes)]
    one_event = []
    for _ in range(passes):
        emulator.change_one_event()
        one_event.append(account.next_pass())
    new_day = [account.next_pass(_next_morning(account.now)) for _ in range(3)]
    if profile in ("no-change", "one-event"):
        _profile(account, emulator, profile)
    floor = floor_seconds(PROVIDERS[provider], runtime.settings, owner, _calendars(runtime), 3)
    backend = runtime.settings.database_url.split(":")[0].split("+")[0]
    events = emulator.served.events
    return Report(provider, backend, events, first, floor, no_change, one_event, new_day)


def _next_morning(now: datetime) -> timedelta:
    """From ``now`` to 09:00 the next day (the day's first pass: everything analysed)."""
    return datetime.combine(now.date() + timedelta(days=1), NOW.timetz()) - now


def _calendars(runtime: Runtime) -> list[str]:
    with session_scope(runtime.db) as session:
        return list(session.scalars(select(Calendar.provider_calendar_id)))


def _profile(account: Account, emulator: Emulator, which: str) -> None:
    if which == "one-event":
        emulator.change_one_event()
    print(f"\ncProfile of one {which} pass ({account.runtime.settings.database_url.split(':')[0]})")
    _profiled(account.next_pass)


def _profiled(run: Callable[[], Cost]) -> Cost:
    """``run`` under cProfile, its cumulative profile printed (the cost is profiled too)."""
    profiler = cProfile.Profile()
    cost = profiler.runcall(run)
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
    return cost


# --- the table ---------------------------------------------------------------------------------


def _ms(costs: list[Cost], attr: str) -> str:
    values = [getattr(c, attr) * 1000 for c in costs]
    return f"{min(values):.0f} / {statistics.median(values):.0f} / {max(values):.0f}"


def _how(costs: list[Cost]) -> str:
    return ", ".join(f"{n} {how}" for how, n in sorted(Counter(c.analysis for c in costs).items()))


def print_reports(reports: list[Report], passes: int) -> None:
    print(f"\nnudger's CPU and wall time per pass, ms: min / median / max over {passes} passes")
    headers = ["", *(f"{r.provider} {r.backend}" for r in reports)]
    rows = [
        ["events generated", *(f"{r.events:,}" for r in reports)],
        ["first pass: CPU s", *(f"{r.first.cpu:.2f}" for r in reports)],
        ["first pass: wall s", *(f"{r.first.wall:.2f}" for r in reports)],
        ["bare-fetch floor s", *(f"{r.floor:.2f}" for r in reports)],
        ["first pass / floor", *(f"{r.first.wall / r.floor:.2f}x" for r in reports)],
        ["no change: CPU ms", *(_ms(r.no_change, "cpu") for r in reports)],
        ["no change: wall ms", *(_ms(r.no_change, "wall") for r in reports)],
        ["one event: CPU ms", *(_ms(r.one_event, "cpu") for r in reports)],
        ["one event: wall ms", *(_ms(r.one_event, "wall") for r in reports)],
        ["new day: CPU ms", *(_ms(r.new_day, "cpu") for r in reports)],
        ["new day: wall ms", *(_ms(r.new_day, "wall") for r in reports)],
        ["analysis, no change", *(_how(r.no_change) for r in reports)],
        ["analysis, one event", *(_how(r.one_event) for r in reports)],
        ["analysis, new day", *(_how(r.new_day) for r in reports)],
    ]
    print_table(headers, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--provider", choices=["google", "microsoft", "both"], default="both")
    parser.add_argument("--passes", type=int, default=20)
    parser.add_argument("--database-url", help="a PostgreSQL database to make a scratch one beside")
    parser.add_argument("--profile", choices=["first", "no-change", "one-event"])
    args = parser.parse_args()
    names = ["google", "microsoft"] if args.provider == "both" else [args.provider]
    reports = [measure(name, args.passes, args.database_url, args.profile) for name in names]
    print_reports(reports, args.passes)


if __name__ == "__main__":
    main()
