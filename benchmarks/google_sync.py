"""Google calendar sync against the emulator: full sync, no-change incremental, bare floor.

Builds a synthetic organisation (``nudger.sandbox.orggen``) at two sizes, serves it from
the emulator in a child process (so its CPU and memory stay out of our measurements),
signs in through the real Google OAuth flow and syncs through the real connector, sync
engine and a SQLite store in a temporary directory. The floor fetches the same pages
with plain httpx and only parses the JSON.

Run by hand from the repository root::

    .venv/bin/python benchmarks/google_sync.py [--events-per-week 200] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import multiprocessing
import pstats
import ssl
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, quote, urlparse

import httpx
from cryptography.fernet import Fernet

from nudger.config import Settings, load_settings
from nudger.connectors import google
from nudger.connectors.base import CalendarReader, Grant, SyncPage, SyncWindow
from nudger.connectors.google_auth import GoogleOAuth
from nudger.runtime import Runtime, open_runtime
from nudger.sandbox.orggen import OrgSpec, generate_org
from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import World
from nudger.store.db import session_scope
from nudger.store.models import Account
from nudger.sync import CalendarSyncResult, sync_account, sync_window

T = TypeVar("T")
REDIRECT = "http://127.0.0.1:8000/oauth/google/callback"
TARGET_RATIO = 2.0
PROFILE_FUNCTIONS = {
    "connector: HTTP + JSON (google._execute)": ("connectors/google.py", "_execute"),
    "connector: payload -> CalendarEvent (_to_page)": ("connectors/google.py", "_to_page"),
    "store: apply_page, all of it": ("store/events.py", "apply_page"),
    "  building ORM rows (_row)": ("store/events.py", "_row"),
    "  unit-of-work INSERTs (Session.flush)": ("orm/session.py", "flush"),
    "  SQL executed (sqlite3 execute)": ("~", "<method 'execute' of 'sqlite3.Cursor' objects>"),
    "store: wipe_calendar": ("store/events.py", "wipe_calendar"),
}


# --- the emulator, in a child process ----------------------------------------------------


@dataclass(frozen=True)
class Size:
    people: int
    events_per_week: int
    months: int


@dataclass(frozen=True)
class EmulatorInfo:
    settings: dict[str, str]
    owner: str
    events: int


def _count_requests(world: World) -> tuple[int, int]:
    """(events.list requests, all API requests) recorded so far."""
    with world.lock:
        records = list(world.requests)
    events = sum(1 for r in records if r.method == "GET" and r.path.endswith("/events"))
    return events, len(records)


def _serve(size: Size, now: datetime, conn: Connection) -> None:
    """Child process: generate the org, serve it, answer request counts until told to stop."""
    world = World()
    org = generate_org(
        world,
        OrgSpec(
            now=now, people=size.people, events_per_week=size.events_per_week, months=size.months
        ),
    )
    with Sandbox(world) as sandbox:
        conn.send(EmulatorInfo(sandbox.settings(), org.owner.email, org.event_count))
        while conn.recv() != "stop":
            conn.send(_count_requests(world))


class Emulator:
    """The sandbox running in a spawned process, queried over a pipe."""

    def __init__(self, size: Size, now: datetime) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(size, now, child), daemon=True)
        self._process.start()
        self.info: EmulatorInfo = self._conn.recv()

    def requests(self) -> tuple[int, int]:
        self._conn.send("count")
        counts: tuple[int, int] = self._conn.recv()
        return counts

    def stop(self) -> None:
        self._conn.send("stop")
        self._process.join(timeout=15)


# --- nudger, as production runs it -------------------------------------------------------


def sign_in(settings: Settings, email: str) -> Grant:
    """The real Google OAuth flow, playing the user at the emulator's consent screen."""
    oauth = GoogleOAuth(settings)
    start = oauth.begin(REDIRECT, login_hint=email)
    verify = ssl.create_default_context(cafile=str(settings.ca_bundle))
    response = httpx.get(start.url, verify=verify)
    if response.status_code != 302:
        raise RuntimeError(f"consent screen answered {response.status_code}: {response.text}")
    query = parse_qs(urlparse(response.headers["location"]).query)
    return oauth.complete(start.pending, {key: values[0] for key, values in query.items()})


def bench_settings(emulator: EmulatorInfo, directory: Path) -> Settings:
    """Settings pointing nudger at the emulator, with a SQLite database in ``directory``."""
    return load_settings(
        **emulator.settings,
        database_url=f"sqlite:///{directory / 'nudger.db'}",
        encryption_keys=Fernet.generate_key().decode(),
        data_dir=directory,
    )


def open_store(emulator: EmulatorInfo, directory: Path) -> tuple[Runtime, int]:
    """A fresh migrated SQLite database with one Google account row."""
    runtime = open_runtime(bench_settings(emulator, directory))
    with session_scope(runtime.db) as session:
        account = Account(provider="google", email=emulator.owner, credentials="-", settings={})
        session.add(account)
        session.flush()
        return runtime, account.id


class TimedReader:
    """The real reader, timing what happens inside it (fetch + conversion) per page."""

    def __init__(self, reader: CalendarReader) -> None:
        self.reader = reader
        self.seconds = 0.0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.reader, name)

    def sync(self, calendar_id: str, cursor: str | None, window: SyncWindow) -> Iterator[SyncPage]:
        pages = self.reader.sync(calendar_id, cursor, window)
        while True:
            started = time.perf_counter()
            page = next(pages, None)
            self.seconds += time.perf_counter() - started
            if page is None:
                return
            yield page


@dataclass(frozen=True)
class SyncRun:
    seconds: float
    reader_seconds: float
    events: int
    events_requests: int
    requests: int
    results: list[CalendarSyncResult]


def run_sync(
    emulator: Emulator, runtime: Runtime, account_id: int, reader: CalendarReader, now: datetime
) -> SyncRun:
    """One ``sync_account`` round, timed, with the emulator's request counts around it."""
    window = sync_window(now, runtime.settings.lookback_days, runtime.settings.lookahead_days)
    timed = TimedReader(reader)
    events_before, all_before = emulator.requests()
    started = time.perf_counter()
    results = sync_account(runtime.db, account_id, timed, now, window)  # type: ignore[arg-type]
    seconds = time.perf_counter() - started
    events_after, all_after = emulator.requests()
    return SyncRun(
        seconds=seconds,
        reader_seconds=timed.seconds,
        events=sum(r.events + r.removed for r in results),
        events_requests=events_after - events_before,
        requests=all_after - all_before,
        results=results,
    )


# --- the floor: plain HTTP and JSON ------------------------------------------------------


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def floor_fetch(settings: Settings, token: str, calendar_ids: list[str], window: SyncWindow) -> int:
    """Fetch every page the full sync fetched, parse the JSON, keep nothing; items seen."""
    base = settings.google_api_endpoint.rstrip("/") + "/calendar/v3/calendars/"
    params: dict[str, str | int] = {
        "singleEvents": "true",
        "showDeleted": "true",
        "maxResults": google.PAGE_SIZE,
        "fields": google.LIST_FIELDS,
        "timeMin": _iso(window.start),
        "timeMax": _iso(window.end),
    }
    verify = ssl.create_default_context(cafile=str(settings.ca_bundle))
    headers = {"Authorization": f"Bearer {token}"}
    items = 0
    with httpx.Client(verify=verify, headers=headers, timeout=60) as client:
        for calendar_id in calendar_ids:
            url = base + quote(calendar_id, safe="") + "/events"
            page_token: str | None = None
            while True:
                query = {**params, "pageToken": page_token} if page_token else params
                body = client.get(url, params=query).raise_for_status().json()
                items += len(body.get("items", ()))
                page_token = body.get("nextPageToken")
                if not page_token:
                    break
    return items


# --- measuring -----------------------------------------------------------------------------


def best_of(repeat: int, run: Callable[[], T], seconds: Callable[[T], float]) -> T:
    """The fastest of ``repeat`` runs (the least disturbed by the rest of the machine)."""
    return min((run() for _ in range(repeat)), key=seconds)


def peak_memory(run: Callable[[], object]) -> int:
    """Peak bytes Python allocated while ``run`` ran (tracemalloc; slows the run down)."""
    gc.collect()
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def timed(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


@dataclass(frozen=True)
class SizeReport:
    size: Size
    generated: int
    full: SyncRun
    incremental: SyncRun
    floor_seconds: float
    full_peak: int
    floor_peak: int


class Bench:
    """One emulated account: fresh stores on demand, one signed-in connector."""

    def __init__(self, size: Size, now: datetime, workdir: Path) -> None:
        self.now, self.workdir, self.runs = now, workdir, 0
        self.emulator = Emulator(size, now)
        self.settings = bench_settings(self.emulator.info, workdir)
        self.grant = sign_in(self.settings, self.emulator.info.owner)
        self.connector = google.connect(
            self.settings, self.grant.credentials, lambda _blob: None, account=self.grant.email
        )

    def fresh_store(self) -> tuple[Runtime, int]:
        self.runs += 1
        directory = self.workdir / f"run{self.runs}"
        directory.mkdir()
        return open_store(self.emulator.info, directory)

    def full_sync(self) -> tuple[SyncRun, Runtime, int]:
        runtime, account_id = self.fresh_store()
        run = run_sync(self.emulator, runtime, account_id, self.connector.calendar, self.now)
        return run, runtime, account_id

    def floor(self, calendar_ids: list[str]) -> int:
        window = sync_window(self.now, self.settings.lookback_days, self.settings.lookahead_days)
        token = json.loads(self.grant.credentials)["token"]
        return floor_fetch(self.settings, token, calendar_ids, window)


def measure(size: Size, now: datetime, repeat: int, workdir: Path) -> SizeReport:
    bench = Bench(size, now, workdir)
    try:
        full, runtime, account_id = best_of(repeat, bench.full_sync, lambda r: r[0].seconds)
        incremental = run_sync(bench.emulator, runtime, account_id, bench.connector.calendar, now)
        calendars = [r.calendar_id for r in full.results]
        assert all(not r.full for r in incremental.results), "incremental round synced in full"
        assert incremental.events_requests == len(calendars), (
            f"incremental sync made {incremental.events_requests} events requests "
            f"for {len(calendars)} calendar(s)"
        )
        floor_items = bench.floor(calendars)
        assert floor_items == full.events, f"floor saw {floor_items} items, sync {full.events}"
        floor_seconds = min(timed(lambda: bench.floor(calendars)) for _ in range(repeat))
        return SizeReport(
            size=size,
            generated=bench.emulator.info.events,
            full=full,
            incremental=incremental,
            floor_seconds=floor_seconds,
            full_peak=peak_memory(bench.full_sync),
            floor_peak=peak_memory(lambda: bench.floor(calendars)),
        )
    finally:
        bench.emulator.stop()


def profile_full_sync(size: Size, now: datetime, workdir: Path) -> pstats.Stats:
    bench = Bench(size, now, workdir)
    try:
        profiler = cProfile.Profile()
        profiler.runcall(bench.full_sync)
        return pstats.Stats(profiler)
    finally:
        bench.emulator.stop()


# --- reporting -----------------------------------------------------------------------------


def _mib(count: int) -> str:
    return f"{count / 2**20:.1f} MiB"


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    for row in (headers, ["-" * w for w in widths], *rows):
        print("  ".join(str(cell).rjust(w) for cell, w in zip(row, widths, strict=True)))


def print_reports(reports: list[SizeReport]) -> None:
    print("\nFull sync (connector + sync engine + SQLite), best of --repeat runs")
    headers = ["events/wk", "generated", "in window", "events req", "all req", "wall s"]
    print_table(
        [*headers, "events/s", "peak"],
        [
            [
                str(r.size.events_per_week),
                str(r.generated),
                str(r.full.events),
                str(r.full.events_requests),
                str(r.full.requests),
                f"{r.full.seconds:.2f}",
                f"{r.full.events / r.full.seconds:,.0f}",
                _mib(r.full_peak),
            ]
            for r in reports
        ],
    )
    print("\nIncremental sync with no changes (asserted: one events request per calendar)")
    print_table(
        ["events/wk", "calendars", "events req", "all req", "wall ms"],
        [
            [
                str(r.size.events_per_week),
                str(len(r.incremental.results)),
                str(r.incremental.events_requests),
                str(r.incremental.requests),
                f"{r.incremental.seconds * 1000:.0f}",
            ]
            for r in reports
        ],
    )
    print("\nFloor (plain httpx + JSON parsing of the same pages) and where the sync's time goes")
    print_table(
        ["events/wk", "floor s", "floor peak", "reader s", "store s", "sync/floor", "target"],
        [
            [
                str(r.size.events_per_week),
                f"{r.floor_seconds:.2f}",
                _mib(r.floor_peak),
                f"{r.full.reader_seconds:.2f}",
                f"{r.full.seconds - r.full.reader_seconds:.2f}",
                f"{r.full.seconds / r.floor_seconds:.2f}x",
                "ok" if r.full.seconds <= TARGET_RATIO * r.floor_seconds else "MISSED",
            ]
            for r in reports
        ],
    )
    print(
        "reader s = inside the connector (HTTP, JSON, conversion); "
        "store s = the rest (sync engine + SQLAlchemy + SQLite)."
    )
    small, large = reports[0], reports[-1]
    if large.full.events > small.full.events:
        growth = large.full_peak / small.full_peak
        scale = large.full.events / small.full.events
        print(f"peak memory x{growth:.2f} for x{scale:.2f} events")


def _cumulative(stats: pstats.Stats, suffix: str, name: str) -> float:
    """Cumulative seconds of the function ``name`` defined in a file ending with ``suffix``."""
    table: dict[tuple[str, int, str], tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
    return sum(
        entry[3]
        for (path, _line, function), entry in table.items()
        if function == name and path.endswith(suffix)
    )


def print_profile(stats: pstats.Stats) -> None:
    total: float = stats.total_tt  # type: ignore[attr-defined]
    print(f"\ncProfile of one full sync ({total:.2f} s under the profiler)")
    print_table(
        ["part", "cumulative s", "share"],
        [
            [label, f"{seconds:.2f}", f"{seconds / total:.0%}"]
            for label, (suffix, name) in PROFILE_FUNCTIONS.items()
            for seconds in [_cumulative(stats, suffix, name)]
        ],
    )
    print("\nTop 10 by own time:")
    stats.sort_stats("tottime").print_stats(10)
    print("Top 10 by cumulative time:")
    stats.sort_stats("cumulative").print_stats(10)
    print("Where store.apply_page spends its time:")
    stats.print_callees("events.py:.*apply_page")


# --- command line ----------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events-per-week", type=int, default=200, help="full size (default 200)")
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs; the best counts")
    parser.add_argument("--profile", action="store_true", help="cProfile one full sync")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    now = datetime.now(UTC).replace(microsecond=0)
    sizes = [
        Size(args.people, max(1, args.events_per_week // 2), args.months),
        Size(args.people, args.events_per_week, args.months),
    ]
    with tempfile.TemporaryDirectory(prefix="nudger-bench-") as tmp:
        reports = []
        for number, size in enumerate(sizes):
            print(f"measuring {size} ...", flush=True)
            workdir = Path(tmp) / f"size{number}"
            workdir.mkdir()
            reports.append(measure(size, now, args.repeat, workdir))
        print_reports(reports)
        if args.profile:
            workdir = Path(tmp) / "profile"
            workdir.mkdir()
            print_profile(profile_full_sync(sizes[-1], now, workdir))


if __name__ == "__main__":
    main()
