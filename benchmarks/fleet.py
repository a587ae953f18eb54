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
import tempfile
import time
from pathlib import Path

from _common import fresh_database
from _fleet_bench import (
    DATABASE,
    Bench,
    Phase,
    in_process_pass,
    settings_values,
    sign_in_all,
)
from _fleet_queue import QueueRuns
from _fleet_report import report
from _fleet_world import FleetEmulator, FleetSpec

from nudger.clock import utcnow

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEFAULT_BROKER = "redis://127.0.0.1:6379/9"


# --- the command line ------------------------------------------------------------------------


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mailboxes", type=int, default=1000)
    parser.add_argument("--people", type=int, default=43, help="colleagues per mailbox")
    parser.add_argument("--events-per-week", type=int, default=10)
    parser.add_argument("--months", type=int, default=6, help="history (orggen's minimum: 6)")
    parser.add_argument("--steady", type=int, default=1, help="steady in-process passes")
    parser.add_argument("--database-url", default=DEFAULT_SERVER, help="the PostgreSQL server")
    parser.add_argument(
        "--workers",
        default="1,2,4",
        help="worker counts for the steady passes through the queue; empty: in-process only",
    )
    parser.add_argument("--repeat", type=int, default=2, help="steady passes per worker count")
    parser.add_argument("--broker-url", default=DEFAULT_BROKER)
    parser.add_argument("--sign-in-threads", type=int, default=4)
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
    workdir = Path(tempfile.mkdtemp(prefix="nudger-fleet-"))
    print(f"settings, rules and worker logs in {workdir}")
    try:
        with fresh_database(args.database_url, DATABASE) as url:
            bench = Bench(emulator, settings_values(served, url, workdir), workdir)
            try:
                report(bench, run(args, bench))
            finally:
                bench.close()
    finally:
        emulator.stop()


def run(args: argparse.Namespace, bench: Bench) -> list[Phase]:
    signed = sign_in_all(bench.runtime, bench.emulator.served, args.sign_in_threads)
    print(
        f"sign-ins: {signed.accounts} in {signed.seconds:.1f} s, {signed.threads} at a time "
        f"({signed.seconds / signed.accounts * 1000:.0f} ms each)",
        flush=True,
    )
    counts = [int(n) for n in args.workers.split(",") if n.strip()]
    if not counts:
        phases = [bench.measure("in-process, first pass", in_process_pass(bench))]
        return phases + in_process_steady(bench, args.steady)
    runs = QueueRuns(bench, args.broker_url)
    phases = [runs.first_pass()]
    phases += in_process_steady(bench, args.steady)
    phases += runs.steady(counts, args.repeat)
    phases.append(runs.paced(phases))
    return [*phases, runs.sigkill()]


def in_process_steady(bench: Bench, passes: int) -> list[Phase]:
    """The second pass reads back the holds the first booked (new events to its sync);
    the passes after it see no change at all."""
    second = bench.measure("in-process, second pass", in_process_pass(bench))
    return [second] + [
        bench.measure(f"in-process, steady pass {turn + 1}", in_process_pass(bench))
        for turn in range(passes)
    ]


if __name__ == "__main__":
    main()
