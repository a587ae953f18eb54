"""Benchmark: the relationship audit (issue 5). Run by hand, never in the test suite.

1. One account with 10,000 events and 1,000 contacts: the pure analysis pass, and the
   same audit as ``nudger audit`` runs it (events streamed from a SQLite store).
2. The analysis pass over many accounts of 2,000 events each, one account at a time:
   total time and Python peak memory after the first tenth and at the end (memory
   must stay flat as accounts grow).

    .venv/bin/python benchmarks/audit.py [--accounts 1000] [--events 2000]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.fernet import Fernet

from nudger.analysis.audit import audit
from nudger.analysis.model import Owner
from nudger.config import load_settings
from nudger.connectors.base import Attendee, CalendarEvent, CalendarInfo, Response, SyncPage
from nudger.cycle import account_audit
from nudger.resources import resource_dir
from nudger.rules.loader import load_rules
from nudger.runtime import open_runtime
from nudger.store import events as store
from nudger.store.db import session_scope
from nudger.store.models import Account

NOW = datetime(2026, 11, 20, 10, tzinfo=UTC)
OWNER = "owner@bench.example"
RULES = load_rules([resource_dir("config") / "rules.yaml"])


def calendar(seed: int, events: int, contacts: int) -> Iterator[CalendarEvent]:
    """A year of meetings: weekly one-on-ones with a few, groups of 3-8, some all-hands."""
    rng = random.Random(seed)
    people = [f"p{seed}-{i}@bench.example" for i in range(contacts)]
    start = NOW - timedelta(days=365)
    step = timedelta(days=393) / events  # a year back and four weeks ahead
    for n in range(events):
        when = start + step * n
        roll = rng.random()
        if roll < 0.3:
            others = [people[n % min(12, contacts)]]
            series = f"s{seed}-{n % min(12, contacts)}"
        elif roll < 0.95:
            others = rng.sample(people, rng.randint(2, 7))
            series = None
        else:
            others = rng.sample(people, min(contacts, 40))
            series = None
        yield CalendarEvent(
            event_id=f"e{seed}-{n}",
            start=when,
            end=when + timedelta(minutes=30),
            attendees=(
                Attendee(OWNER, "Owner", Response.ACCEPTED, is_self=True),
                *(Attendee(p, None, _response(rng)) for p in others),
                Attendee("room@resource.bench.example", "Room", is_resource=True),
            ),
            cancelled=rng.random() < 0.05,
            series_id=series,
            original_start=when if series else None,
            ical_uid=f"u{seed}-{n}",
        )


def _response(rng: random.Random) -> Response:
    return Response.DECLINED if rng.random() < 0.05 else Response.ACCEPTED


def owner() -> Owner:
    return Owner(emails=frozenset({OWNER}), time_zone="Europe/London")


def single_account(events: int, contacts: int) -> None:
    data = list(calendar(1, events, contacts))
    began = time.perf_counter()
    healths = audit(owner(), data, {}, NOW, RULES.judgement, RULES.roles)
    pure = time.perf_counter() - began
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            database_url=f"sqlite:///{Path(tmp) / 'b.db'}",
            data_dir=tmp,
            encryption_keys=Fernet.generate_key().decode(),
            log_level="WARNING",
        )
        runtime = open_runtime(settings)
        with session_scope(runtime.db) as session:
            account = Account(provider="google", email=OWNER, credentials="-", settings={})
            session.add(account)
            session.flush()
            cal = store.get_or_create_calendar(session, account.id, CalendarInfo(OWNER, "", True))
            store.apply_page(session, cal, account.id, SyncPage(events=tuple(data)))
        began = time.perf_counter()
        stored = account_audit(runtime, OWNER, now=NOW)
        from_store = time.perf_counter() - began
        runtime.db.dispose()
    print(f"single account: {events} events, {len(healths)} contacts")
    print(f"  analysis pass (in memory)        {pure:7.3f} s")
    print(f"  nudger audit (SQLite, streamed)  {from_store:7.3f} s  ({len(stored)} contacts)")


def many_accounts(accounts: int, events: int) -> None:
    """Time the analysis alone (events built beforehand), then its memory with tracemalloc."""
    spent = 0.0
    for seed in range(accounts):
        data = list(calendar(seed, events, 150))
        began = time.perf_counter()
        audit(owner(), data, {}, NOW, RULES.judgement, RULES.roles)
        spent += time.perf_counter() - began
    print(f"{accounts} accounts x {events} events, analysed one at a time:")
    print(f"  analysis {spent:7.1f} s in all, {spent / accounts * 1000:6.1f} ms per account")
    sample = min(accounts, 100)
    checkpoint = max(1, sample // 10)
    tracemalloc.start()
    early_peak = 0
    for seed in range(sample):
        audit(owner(), calendar(seed, events, 150), {}, NOW, RULES.judgement, RULES.roles)
        if seed + 1 == checkpoint:
            early_peak = tracemalloc.get_traced_memory()[1]
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(
        f"  peak Python memory after {checkpoint} accounts {early_peak / 1e6:6.1f} MB, "
        f"after {sample} accounts {peak / 1e6:6.1f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--contacts", type=int, default=1_000)
    parser.add_argument("--accounts", type=int, default=1_000)
    parser.add_argument("--account-events", type=int, default=2_000)
    args = parser.parse_args()
    single_account(args.events, args.contacts)
    many_accounts(args.accounts, args.account_events)


if __name__ == "__main__":
    main()
