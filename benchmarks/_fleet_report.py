"""The fleet benchmark's tables, printed as Markdown (ready for ``benchmarks/README.md``)."""

from __future__ import annotations

from _fleet_bench import Bench, Phase
from _fleet_workers import pass_rows

CORES = 2


def table(headers: list[str], rows: list[list[str]]) -> None:
    print()
    print("| " + " | ".join(headers) + " |")
    print("| --- |" + " ---: |" * (len(headers) - 1))
    for row in rows:
        print("| " + " | ".join(row) + " |")


def _throughput(phases: list[Phase]) -> None:
    table(
        [
            *("run", "passed / failed / skipped", "wall s", "accounts/min"),
            *("PG transactions/account", "SQL statements/account", "API requests/account"),
            *("emails", "holds"),
        ],
        [
            [
                p.name,
                f"{p.outcome.passed} / {p.outcome.failed} / {p.outcome.skipped}",
                f"{p.seconds:.1f}",
                f"{p.per_minute:,.0f}",
                f"{p.transactions / max(1, p.accounts):.1f}",
                f"{p.statements / max(1, p.accounts):.0f}" if p.statements else "-",
                f"{p.requests / max(1, p.accounts):.1f}",
                str(p.emails),
                str(p.holds),
            ]
            for p in phases
        ],
    )


def _cpu(phases: list[Phase]) -> None:
    """Where the machine's CPU went, per account passed, and the machine's busy share."""
    print("\nCPU per account (ms), and how busy the machine's 2 cores were")
    table(
        [
            *("run", "nudger", "harness", "emulator", "PostgreSQL", "Redis", "others"),
            *("machine busy", "emulator share of busy"),
        ],
        [
            [
                p.name,
                *(
                    f"{p.per_account_ms(cpu):.0f}" if cpu is not None else "-"
                    for cpu in (
                        p.nudger_cpu,
                        p.harness_cpu,
                        p.emulator_cpu,
                        p.postgres_cpu,
                        p.redis_cpu,
                        p.others_cpu,
                    )
                ),
                f"{p.machine_cpu / p.span / CORES:.0%}",
                f"{p.emulator_cpu / max(p.machine_cpu, 1e-9):.0%}",
            ]
            for p in phases
        ],
    )


def _requests(phases: list[Phase], owners: tuple[tuple[str, str], ...]) -> None:
    """API requests per account of each provider: what the provider quotas meet."""
    google = max(1, sum(1 for provider, _ in owners if provider == "google"))
    microsoft = max(1, len(owners) - google)
    print("\nAPI requests per account of each provider (as the emulator recorded them)")
    table(
        ["run", "Google API", "Google OAuth", "Graph", "Microsoft OAuth"],
        [
            [
                p.name,
                *(
                    f"{p.by_api.get(api, 0) / per:.2f}"
                    for api, per in (
                        ("google", google),
                        ("google-oauth", google),
                        ("graph", microsoft),
                        ("microsoft-oauth", microsoft),
                    )
                ),
            ]
            for p in phases
        ],
    )


def _latency(phases: list[Phase]) -> None:
    rows = [
        [p.name, str(latency.count), *latency.cells()]
        for p in phases
        if (latency := p.outcome.latency) and latency.count
    ]
    if rows:
        print("\nQueue latency: seconds from enqueue to the pass's start (account rows)")
        table(["run", "passes", "min", "median", "p95", "max"], rows)


def _scaling(phases: list[Phase]) -> None:
    best: dict[int, float] = {}
    for p in phases:
        if "workers, steady" in p.name:
            count = int(p.name.split()[0])
            best[count] = max(best.get(count, 0.0), p.per_minute)
    if 1 not in best:
        return
    print("\nScaling, best steady pass of each worker count against one worker:")
    for count, rate in sorted(best.items()):
        print(f"- {count} workers: {rate:,.0f} accounts/min, {rate / best[1]:.2f}x")


def _sigkill(bench: Bench, phases: list[Phase]) -> None:
    killed = [p for p in phases if p.outcome.redelivery]
    for p in killed:
        again = p.outcome.redelivery
        assert again is not None
        rows = pass_rows(bench.reader)
        late = [r.account_id for r in rows if not r.started or r.started < again.queued_at]
        not_ok = [r.account_id for r in rows if r.status != "ok"]
        print(f"\nSIGKILL run ({p.name}):")
        print(f"- killed in the middle of account {again.account_id}'s pass")
        print(f"- that pass restarted on the other worker {again.restarted_after:.1f} s later")
        print(f"- and was recorded done {again.passed_after:.1f} s after the kill")
        print(f"- accounts with no pass since the run was queued: {len(late)}")
        print(f"- accounts whose last pass did not end ok: {len(not_ok)} {not_ok[:10]}")
        after, before = dict(p.outcome.outbox), dict(p.outcome.outbox_before)
        sent = after.get("sent", 0) - before.get("sent", 0)
        print(f"- emails / holds the emulator received in the run: {p.emails} / {p.holds}")
        print(f"- outbox rows that became sent in the run: {sent}")
        print(f"- duplicates over the whole benchmark (emails, holds): {p.duplicates}")
        print(f"- outbox rows by state after the run: {after}")
        if after.get("claimed"):
            print(
                "  (a claimed row is a send the kill cut short: it stays claimed until the "
                "10-minute claim TTL, then becomes in_doubt, never resent)"
            )


def report(bench: Bench, phases: list[Phase]) -> None:
    _throughput(phases)
    _cpu(phases)
    _requests(phases, bench.emulator.served.owners)
    _latency(phases)
    _scaling(phases)
    _sigkill(bench, phases)
    estimate(phases, bench.emulator.served.owners)
    for p in phases:
        for note in p.outcome.notes:
            print(f"  {p.name}: {note}")


FLEET = 100_000
PERIOD_MINUTES = 15
GOOGLE_PROJECT_PER_MINUTE = 10_000
"""Calendar API's default quota per project and minute (Google's usage limits page)."""
GRAPH_MAILBOX_PER_10_MINUTES = 10_000
"""Outlook resources on Graph: requests per app and mailbox in 10 minutes."""
BUSY_TARGET = 0.6
"""Plan cores for 60% busy: room for first passes, day turnovers and bursts."""


def estimate(phases: list[Phase], owners: tuple[tuple[str, str], ...]) -> None:
    """The machines for ``FLEET`` accounts, on paper, from the best steady worker pass."""
    steady = [p for p in phases if "workers, steady" in p.name]
    if not steady:
        return
    p = max(steady, key=lambda phase: phase.per_minute)
    per_second = FLEET / (PERIOD_MINUTES * 60)
    google = sum(1 for provider, _ in owners if provider == "google") / max(1, len(owners))
    google_req = p.by_api.get("google", 0) / max(1, google * p.accounts)
    graph_req = p.by_api.get("graph", 0) / max(1, (1 - google) * p.accounts)
    print(f"\nEstimate for {FLEET:,} accounts every {PERIOD_MINUTES} min, from '{p.name}':")
    print(f"- passes per second: {per_second:.0f}")
    for label, cpu in (("worker", p.nudger_cpu), ("PostgreSQL", p.postgres_cpu)):
        cores = per_second * cpu / max(1, p.accounts)
        print(f"- {label} CPU: {cores:.1f} cores busy, {cores / BUSY_TARGET:.1f} planned")
    print(f"- PostgreSQL transactions/s: {per_second * p.transactions / max(1, p.accounts):,.0f}")
    per_minute = FLEET * google * google_req / PERIOD_MINUTES
    print(
        f"- Google Calendar API: {per_minute:,.0f} requests/min for the project "
        f"({per_minute / GOOGLE_PROJECT_PER_MINUTE:.0%} of the default quota)"
    )
    per_mailbox = graph_req * 10 / PERIOD_MINUTES
    print(
        f"- Graph: {per_mailbox:.1f} requests per mailbox in 10 min "
        f"({per_mailbox / GRAPH_MAILBOX_PER_10_MINUTES:.2%} of the per-mailbox limit)"
    )
