"""What the sync benchmarks share: the emulator in a child process, a fresh SQLite store per
run, timed ``sync_account`` rounds, the measurements and the tables.

Each provider's script describes itself with a ``Provider`` (how to sign in and connect,
which emulator path is an events request, how to fetch the same pages bare) and calls
``main``.
"""

from __future__ import annotations

import cProfile
import gc
import multiprocessing
import pstats
import ssl
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from nudger.config import Settings, load_settings
from nudger.connectors.base import (
    AccountProfile,
    CalendarInfo,
    CalendarReader,
    Connector,
    CredentialSaver,
    Grant,
    OAuthFlow,
    SyncPage,
    SyncWindow,
)
from nudger.runtime import Runtime, open_runtime
from nudger.sandbox.orggen import OrgSpec, generate_org
from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import World
from nudger.store.db import session_scope
from nudger.store.models import Account
from nudger.sync import CalendarSyncResult, sync_account, sync_window

TARGET_RATIO = 2.0
STORE_PROFILE = {
    "store: apply_page, all of it": ("store/events.py", "apply_page"),
    "  rows as dicts (_event_row, _attendee_row)": (
        "store/events.py",
        "_event_row",
        "_attendee_row",
    ),
    "  SQL executemany (bulk INSERTs)": ("~", "<method 'executemany' of 'sqlite3.Cursor' objects>"),
    "  SQL execute (deletes, id lookups)": ("~", "<method 'execute' of 'sqlite3.Cursor' objects>"),
    "store: wipe_calendar": ("store/events.py", "wipe_calendar"),
}
"""Profile rows: label -> (file suffix, function names whose cumulative times add up)."""


@dataclass(frozen=True)
class Provider:
    name: str
    oauth: Callable[[Settings], OAuthFlow]
    connect: Callable[..., Connector]
    """``connect(settings, credentials, save, account=email)`` of the connector module."""
    access_token: Callable[[Settings, Grant], str]
    """A bearer token for the floor, read from the grant the way the connector would."""
    events_path: str
    """The ending of the emulator path that a page of events is read from."""
    floor_pages: Callable[[httpx.Client, Settings, str, SyncWindow], Iterator[dict[str, Any]]]
    """The parsed pages of a full round of one calendar, fetched bare."""
    items: Callable[[dict[str, Any]], int]
    profile: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Size:
    people: int
    events_per_week: int
    months: int


# --- the emulator, in a child process ----------------------------------------------------


@dataclass(frozen=True)
class EmulatorInfo:
    settings: dict[str, str]
    owner: str
    events: int


def _count_requests(world: World, events_path: str) -> tuple[int, int]:
    """(events requests, all API requests) recorded so far."""
    with world.lock:
        records = list(world.requests)
    events = sum(1 for r in records if r.method == "GET" and r.path.endswith(events_path))
    return events, len(records)


def _serve(provider: str, size: Size, now: datetime, events_path: str, conn: Connection) -> None:
    """Child process: generate the org, serve it, answer request counts until told to stop."""
    world = World()
    spec = OrgSpec(
        now=now,
        provider=provider,
        people=size.people,
        events_per_week=size.events_per_week,
        months=size.months,
    )
    org = generate_org(world, spec)
    with Sandbox(world) as sandbox:
        conn.send(EmulatorInfo(sandbox.settings(), org.owner.email, org.event_count))
        while conn.recv() != "stop":
            conn.send(_count_requests(world, events_path))


class Emulator:
    """The sandbox in a spawned process (its CPU and memory stay out of the measurements)."""

    def __init__(self, provider: Provider, size: Size, now: datetime) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        args = (provider.name, size, now, provider.events_path, child)
        self._process = context.Process(target=_serve, args=args, daemon=True)
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


def tls(settings: Settings) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(settings.ca_bundle))


def sign_in(provider: Provider, settings: Settings, email: str) -> Grant:
    """The provider's real OAuth flow, playing the user at the emulator's consent screen."""
    oauth = provider.oauth(settings)
    start = oauth.begin(f"http://127.0.0.1:8000/oauth/{provider.name}/callback", login_hint=email)
    response = httpx.get(start.url, verify=tls(settings))
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


def open_store(provider: str, emulator: EmulatorInfo, directory: Path) -> tuple[Runtime, int]:
    """A fresh migrated SQLite database with one account row."""
    runtime = open_runtime(bench_settings(emulator, directory))
    with session_scope(runtime.db) as session:
        account = Account(provider=provider, email=emulator.owner, credentials="-", settings={})
        session.add(account)
        session.flush()
        return runtime, account.id


class TimedReader:
    """The real reader, timing what happens inside it (fetch + conversion) per page."""

    def __init__(self, reader: CalendarReader) -> None:
        self.reader = reader
        self.seconds = 0.0

    def profile(self) -> AccountProfile:
        return self.reader.profile()

    def list_calendars(self) -> list[CalendarInfo]:
        return self.reader.list_calendars()

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


class Bench:
    """One emulated account: a signed-in connector, fresh stores on demand, the floor."""

    def __init__(self, provider: Provider, size: Size, now: datetime, workdir: Path) -> None:
        self.provider, self.now, self.workdir, self.runs = provider, now, workdir, 0
        self.emulator = Emulator(provider, size, now)
        self.settings = bench_settings(self.emulator.info, workdir)
        self.window = sync_window(now, self.settings.lookback_days, self.settings.lookahead_days)
        self.grant = sign_in(provider, self.settings, self.emulator.info.owner)
        save: CredentialSaver = lambda _blob: None  # noqa: E731
        self.connector = provider.connect(
            self.settings, self.grant.credentials, save, account=self.grant.email
        )

    def fresh_store(self) -> tuple[Runtime, int]:
        self.runs += 1
        directory = self.workdir / f"run{self.runs}"
        directory.mkdir()
        return open_store(self.provider.name, self.emulator.info, directory)

    def sync(self, runtime: Runtime, account_id: int) -> SyncRun:
        """One ``sync_account`` round, timed, with the emulator's request counts around it."""
        timed = TimedReader(self.connector.calendar)
        events_before, all_before = self.emulator.requests()
        started = time.perf_counter()
        results = sync_account(runtime.db, account_id, timed, self.now, self.window)
        seconds = time.perf_counter() - started
        events_after, all_after = self.emulator.requests()
        return SyncRun(
            seconds=seconds,
            reader_seconds=timed.seconds,
            events=sum(r.events + r.removed for r in results),
            events_requests=events_after - events_before,
            requests=all_after - all_before,
            results=results,
        )

    def full_sync(self) -> tuple[SyncRun, Runtime, int]:
        runtime, account_id = self.fresh_store()
        return self.sync(runtime, account_id), runtime, account_id

    def full_sync_peak(self) -> int:
        runtime, account_id = self.fresh_store()
        return peak_memory(lambda: self.sync(runtime, account_id))

    def floor(self, calendar_ids: list[str]) -> int:
        """Fetch the pages of a full round bare (plain httpx, JSON parsed, nothing kept)."""
        token = self.provider.access_token(self.settings, self.grant)
        headers = {"Authorization": f"Bearer {token}"}
        items = 0
        with httpx.Client(verify=tls(self.settings), headers=headers, timeout=60) as client:
            for calendar_id in calendar_ids:
                for page in self.provider.floor_pages(
                    client, self.settings, calendar_id, self.window
                ):
                    items += self.provider.items(page)
        return items

    def stop(self) -> None:
        self.emulator.stop()


# --- measuring -----------------------------------------------------------------------------


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
    first_seconds: float
    incremental: SyncRun
    floor_seconds: float
    full_peak: int
    floor_peak: int


def measure(
    provider: Provider, size: Size, now: datetime, repeat: int, workdir: Path
) -> SizeReport:
    bench = Bench(provider, size, now, workdir)
    try:
        runs = [bench.full_sync() for _ in range(repeat)]
        full, runtime, account_id = min(runs, key=lambda r: r[0].seconds)
        incremental = bench.sync(runtime, account_id)
        calendars = [r.calendar_id for r in full.results]
        assert all(not r.full for r in incremental.results), "incremental round synced in full"
        assert incremental.events_requests == len(calendars), (
            f"incremental sync made {incremental.events_requests} events requests "
            f"for {len(calendars)} calendar(s)"
        )
        floor_items = bench.floor(calendars)
        assert floor_items == full.events, f"floor saw {floor_items} items, sync {full.events}"
        return SizeReport(
            size=size,
            generated=bench.emulator.info.events,
            full=full,
            first_seconds=runs[0][0].seconds,
            incremental=incremental,
            floor_seconds=min(timed(lambda: bench.floor(calendars)) for _ in range(repeat)),
            full_peak=bench.full_sync_peak(),
            floor_peak=peak_memory(lambda: bench.floor(calendars)),
        )
    finally:
        bench.stop()


def profile_full_sync(provider: Provider, size: Size, now: datetime, workdir: Path) -> pstats.Stats:
    bench = Bench(provider, size, now, workdir)
    try:
        bench.full_sync()  # warm up: the profile is of a steady-state run
        profiler = cProfile.Profile()
        profiler.runcall(bench.full_sync)
        return pstats.Stats(profiler)
    finally:
        bench.stop()


# --- PostgreSQL ----------------------------------------------------------------------------------


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
