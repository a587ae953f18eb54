"""The sync benchmarks' command line and tables (the measuring is in ``_common``)."""

from __future__ import annotations

import argparse
import pstats
import tempfile
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _common import STORE_PROFILE, TARGET_RATIO, Provider, Size, SizeReport, measure
from _common import profile_full_sync as profile_run


def _mib(count: int) -> str:
    return f"{count / 2**20:.1f} MiB"


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=True)]
    for row in (headers, ["-" * w for w in widths], *rows):
        print("  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)))


def print_full(reports: list[SizeReport]) -> None:
    print("\nFull sync (connector + sync engine + SQLite); best of --repeat runs, and the first")
    print_table(
        [
            *("events/wk", "generated", "in window", "events req", "all req"),
            *("best s", "first s", "events/s", "peak"),
        ],
        [
            [
                str(r.size.events_per_week),
                str(r.generated),
                str(r.full.events),
                str(r.full.events_requests),
                str(r.full.requests),
                f"{r.full.seconds:.2f}",
                f"{r.first_seconds:.2f}",
                f"{r.full.events / r.full.seconds:,.0f}",
                _mib(r.full_peak),
            ]
            for r in reports
        ],
    )


def print_incremental(reports: list[SizeReport]) -> None:
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


def print_floor(reports: list[SizeReport]) -> None:
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


def _cumulative(stats: pstats.Stats, suffix: str, *names: str) -> float:
    """Cumulative seconds of the functions ``names`` defined in a file ending with ``suffix``."""
    table: dict[tuple[str, int, str], tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
    return sum(
        entry[3]
        for (path, _line, function), entry in table.items()
        if function in names and path.endswith(suffix)
    )


def print_profile(provider: Provider, stats: pstats.Stats) -> None:
    total: float = stats.total_tt  # type: ignore[attr-defined]
    print(f"\ncProfile of one full sync, after a warm-up run ({total:.2f} s under the profiler)")
    parts = {**provider.profile, **STORE_PROFILE}
    print_table(
        ["part", "cumulative s", "share"],
        [
            [label, f"{seconds:.2f}", f"{seconds / total:.0%}"]
            for label, where in parts.items()
            for seconds in [_cumulative(stats, *where)]
        ],
    )
    print("\nTop 15 by own time:")
    stats.sort_stats("tottime").print_stats(15)


def parse_args(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--events-per-week",
        type=int,
        default=200,
        help="the larger size (default 200: ~11,000 events in the window); half of it too",
    )
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs; the best counts")
    parser.add_argument("--profile", action="store_true", help="cProfile one full sync")
    return parser.parse_args()


def main(provider: Provider, description: str) -> None:
    args = parse_args(description)
    # msal's advice to the app's redirect design, printed once per sign-in; not a finding here
    warnings.filterwarnings("ignore", message="response_mode='form_post' is recommended")
    now = datetime.now(UTC).replace(microsecond=0)
    sizes = [
        Size(args.people, max(1, args.events_per_week // 2), args.months),
        Size(args.people, args.events_per_week, args.months),
    ]
    with tempfile.TemporaryDirectory(prefix=f"nudger-bench-{provider.name}-") as tmp:
        reports = []
        for number, size in enumerate(sizes):
            print(f"measuring {provider.name} {size} ...", flush=True)
            workdir = Path(tmp) / f"size{number}"
            workdir.mkdir()
            reports.append(measure(provider, size, now, args.repeat, workdir))
        print_full(reports)
        print_incremental(reports)
        print_floor(reports)
        if args.profile:
            workdir = Path(tmp) / "profile"
            workdir.mkdir()
            print_profile(provider, profile_run(provider, sizes[-1], now, workdir))
