"""The judgement benchmark: what a user would have received over the last N mornings.

For each provider and seed: a synthetic organisation (``nudger.sandbox.orggen``) served by
the emulator, the owner connected through the real OAuth flow, one dry-run cycle to sync
through the real connector, roles set as a user would set them, then ``nudger simulate``'s
own code replays the mornings, once with the shipped rules and once with the weekly budgets
lifted (a user rules file, ``NUDGER_RULES_FILE``). The nudges are scored against the
generator's ground truth (``benchmarks/_scoring.py``). It measures; it never tunes.

    .venv/bin/python benchmarks/judgement.py [--seeds 7,11,23] [--days 180] [--json] [--verbose]
"""

from __future__ import annotations

import argparse
import json
import ssl
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
from _scoring import DEADLINES, Score, median, nudges_from_json, offenders_by_kind, score
from cryptography.fernet import Fernet

from nudger import accounts, contacts
from nudger.config import Settings, load_settings
from nudger.cycle import account_audit, run_cycle
from nudger.runtime import Runtime, open_runtime
from nudger.sandbox.orggen import GeneratedOrg, OrgSpec, generate_org
from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import World
from nudger.simulate import simulate

NOW = datetime(2026, 11, 23, 10, tzinfo=UTC)
"""A Monday morning: the replay's last morning (fixed, so runs compare)."""
PROVIDERS = ("google", "microsoft")
USER_ROLES = {
    "google": ("direct_report", "manager", "mentor", "peer"),
    "microsoft": ("mentor", "peer"),  # reports and manager come from the Graph directory
}
LIFTED_RULES = "policies: {weekly_budget: 1000, weekly_hold_budget: 1000}\n"
BUDGETS = ("default", "lifted")


@dataclass(frozen=True)
class Run:
    provider: str
    seed: int
    budgets: str
    score: Score
    seconds: float
    wrong_at_now: list[tuple[str, str, str]]
    """(pattern, expected, actual) for planted contacts the audit at ``now`` gets wrong."""

    @property
    def name(self) -> str:
        return f"{self.provider} seed {self.seed}, {self.budgets} budgets"


# --- connecting and replaying --------------------------------------------------------------------


def consent(url: str, ca_bundle: Path) -> dict[str, str]:
    """Play the user at the emulator's consent screen: follow the authorize URL to the callback."""
    response = httpx.get(url, verify=ssl.create_default_context(cafile=str(ca_bundle)))
    if response.status_code != 302:
        raise RuntimeError(f"consent screen answered {response.status_code}: {response.text}")
    query = parse_qs(urlparse(response.headers["location"]).query)
    return {key: values[0] for key, values in query.items()}


@contextmanager
def connected(provider: str, seed: int, workdir: Path) -> Iterator[tuple[Runtime, GeneratedOrg]]:
    """The generated org on a running emulator, its owner connected and synced."""
    world = World()
    org = generate_org(world, OrgSpec(now=NOW, seed=seed, provider=provider))
    with Sandbox(world) as sandbox:
        settings = load_settings(
            **sandbox.settings(),
            database_url=f"sqlite:///{workdir / 'nudger.db'}",
            encryption_keys=Fernet.generate_key().decode(),
            data_dir=workdir,
        )
        runtime = open_runtime(settings)
        try:
            start = accounts.begin_connect(runtime, provider, login_hint=org.owner.email)
            params = consent(start.url, Path(str(settings.ca_bundle)))
            ref = accounts.complete_connect(runtime, provider, params)
            set_roles(runtime, ref.id, org)
            run_cycle(runtime, account=ref.email, now=NOW, dry_run=True)
            yield runtime, org
        finally:
            runtime.db.dispose()


def set_roles(runtime: Runtime, account_id: int, org: GeneratedOrg) -> None:
    for person in org.expectations:
        if person.role in USER_ROLES[org.owner.provider]:
            contacts.set_role(runtime, account_id, person.email, person.role, name=person.name)


def with_rules(settings: Settings, budgets: str, workdir: Path) -> Settings:
    if budgets == "default":
        return settings
    path = workdir / "lifted-rules.yaml"
    path.write_text(LIFTED_RULES)
    return settings.model_copy(update={"rules_file": path})


def replay(runtime: Runtime, org: GeneratedOrg, days: int) -> list[dict[str, Any]]:
    fired = simulate(runtime, org.owner.email, timedelta(days=days), now=NOW)
    return [f.to_json() for f in fired]


def wrong_at_now(runtime: Runtime, org: GeneratedOrg) -> list[tuple[str, str, str]]:
    statuses = {h.email: str(h.status) for h in account_audit(runtime, org.owner.email, now=NOW)}
    return [
        (e.pattern, e.expected_status, statuses.get(e.email, "absent"))
        for e in org.expectations
        if statuses.get(e.email) != e.expected_status
    ]


def run_seed(provider: str, seed: int, days: int) -> list[Run]:
    runs = []
    with tempfile.TemporaryDirectory(prefix="nudger-judgement-") as tmp:
        workdir = Path(tmp)
        started = time.perf_counter()
        with connected(provider, seed, workdir) as (base, org):
            connect_seconds = time.perf_counter() - started
            wrong = wrong_at_now(base, org)
            for budgets in BUDGETS:
                started = time.perf_counter()
                runtime = open_runtime(with_rules(base.settings, budgets, workdir))
                rows = replay(runtime, org, days)
                runtime.db.dispose()
                nudges = nudges_from_json(rows, org.owner.time_zone)
                result = score(nudges, org.relationships, NOW - timedelta(days=days), NOW)
                seconds = connect_seconds + time.perf_counter() - started
                runs.append(Run(provider, seed, budgets, result, seconds, wrong))
    return runs


# --- reporting -------------------------------------------------------------------------------


def figure(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def rows_of(s: Score) -> list[tuple[str, str]]:
    latencies = s.repair_latencies
    repair = (
        f"{figure(median(latencies), 1)} / {figure(max(latencies, default=None), 1)}"
        f" ({s.repairs_never_nudged} never)"
    )
    kinds = ", ".join(f"{k} {n}" for k, n in offenders_by_kind(s.offenders).most_common())
    return [
        ("nudges (legitimate)", f"{s.nudges} ({s.legitimate})"),
        ("precision", figure(s.precision)),
        ("recall (troubles caught in time / due)", f"{figure(s.recall)} ({s.caught}/{s.cases})"),
        ("repair latency, days: median / max", repair),
        ("emails per week", figure(s.emails / s.weeks)),
        ("holds per week", figure(s.holds / s.weeks)),
        ("most emails about one person in 30 days", str(s.most_emails_one_person_30d)),
        ("nudges while within rhythm", str(len(s.offenders))),
        ("  by relationship kind", kinds or "-"),
    ]


def pooled(runs: list[Run]) -> Score:
    scores = [r.score for r in runs]
    return Score(
        nudges=sum(s.nudges for s in scores),
        legitimate=sum(s.legitimate for s in scores),
        cases=sum(s.cases for s in scores),
        caught=sum(s.caught for s in scores),
        repair_latencies=[x for s in scores for x in s.repair_latencies],
        repairs_never_nudged=sum(s.repairs_never_nudged for s in scores),
        emails=sum(s.emails for s in scores),
        holds=sum(s.holds for s in scores),
        weeks=sum(s.weeks for s in scores),
        most_emails_one_person_30d=max(s.most_emails_one_person_30d for s in scores),
        offenders=[o for s in scores for o in s.offenders],
    )


def table(title: str, columns: list[tuple[str, Score]]) -> str:
    header = ["", *(name for name, _ in columns)]
    body = [[label] for label, _ in rows_of(columns[0][1])]
    for _, s in columns:
        for line, (_, value) in zip(body, rows_of(s), strict=True):
            line.append(value)
    lines = [f"### {title}", "", "| " + " | ".join(header) + " |"]
    lines.append("| --- |" + " ---: |" * len(columns))
    lines += ["| " + " | ".join(line) + " |" for line in body]
    return "\n".join(lines) + "\n"


def missed_text(run: Run) -> str:
    lines = [f"#### Troubles not caught in time: {run.name}"]
    for case, latency in run.score.missed:
        first = "never nudged" if latency is None else f"first nudge after {latency:.1f} days"
        who = ", ".join(case.who)
        lines.append(f"- {case.kind} {who} since {case.since:%Y-%m-%d}: {case.what}; {first}")
    return "\n".join(lines) + "\n"


def offenders_text(run: Run) -> str:
    lines = [f"#### Nudges while within rhythm: {run.name}"]
    for o in sorted(run.score.offenders, key=lambda o: (o.relationship_kind, o.nudge.moment)):
        n = o.nudge
        lines.append(
            f"- {o.relationship_kind} {n.contact} {n.day} {n.kind} {n.status}: "
            + "; ".join(n.evidence)
        )
    return "\n".join(lines) + "\n"


def as_json(runs: list[Run]) -> list[dict[str, Any]]:
    return [
        {
            "provider": r.provider,
            "seed": r.seed,
            "budgets": r.budgets,
            "seconds": round(r.seconds, 1),
            **dict(rows_of(r.score)),
            "wrong_at_now": r.wrong_at_now,
        }
        for r in runs
    ]


def report(runs: list[Run], verbose: bool) -> str:
    parts = []
    for provider in PROVIDERS:
        mine = [r for r in runs if r.provider == provider]
        for budgets in BUDGETS:
            chosen = [r for r in mine if r.budgets == budgets]
            columns = [(f"seed {r.seed}", r.score) for r in chosen]
            columns.append(("pooled", pooled(chosen)))
            parts.append(table(f"{provider}, {budgets} budgets", columns))
        for r in mine[::2]:
            wrong = ", ".join(f"{p} (expected {e}, got {a})" for p, e, a in r.wrong_at_now)
            parts.append(f"Status at now, {provider} seed {r.seed}: {wrong or 'all as planted'}\n")
    if verbose:
        parts += [missed_text(r) + "\n" + offenders_text(r) for r in runs]
    return "\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="7,11,23", help="comma-separated org seeds")
    parser.add_argument("--days", type=int, default=180, help="mornings to replay")
    parser.add_argument("--json", action="store_true", help="one JSON object per run")
    parser.add_argument("--verbose", action="store_true", help="list every unwarranted nudge")
    args = parser.parse_args()
    started = time.perf_counter()
    seeds = [int(s) for s in args.seeds.split(",")]
    runs = [r for p in PROVIDERS for seed in seeds for r in run_seed(p, seed, args.days)]
    if args.json:
        print(json.dumps(as_json(runs), indent=2))
        return
    print(f"Judgement benchmark: {args.days} mornings to {NOW.isoformat()}, seeds {seeds}")
    deadlines = ", ".join(f"{k} {v.days} days" for k, v in DEADLINES.items())
    print(f"Caught in time: first nudge within {deadlines} of the trouble's start.\n")
    print(report(runs, args.verbose))
    print(f"Wall time: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
