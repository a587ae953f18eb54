"""``nudger demo``: the whole product, offline, against the emulator and a synthetic team.

Nothing here is scripted output: the demo connects a sandbox Google account through
the same OAuth code path as a real sign-up, then runs the same cycle the scheduler
runs, and prints what the emulator received.
"""

from __future__ import annotations

import email.parser
import email.policy
import ssl
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

import httpx
from cryptography.fernet import Fernet
from rich.console import Console
from rich.table import Table

from nudger import accounts, contacts, preferences
from nudger.analysis.audit import ContactHealth
from nudger.config import load_settings
from nudger.cycle import account_audit, run_cycle
from nudger.passes.analyse import account_ruleset, analyse, rules_in_force
from nudger.passes.decide_step import owner_morning, past_nudge
from nudger.reporting import print_audit
from nudger.rules.crunch import Crunch, in_force
from nudger.rules.daily import daily_decision
from nudger.rules.engine import Decision, decide
from nudger.runtime import Runtime, open_runtime
from nudger.sandbox.orggen import GeneratedOrg, generate_org, plant_moments
from nudger.sandbox.run import MICROSOFT_OWNER, start_sandbox
from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import SandboxEvent
from nudger.store import nudges as nudge_store
from nudger.store.db import session_scope
from nudger.store.models import Account

USER_ROLES = ("direct_report", "manager", "mentor")
"""Roles a Google user enters in settings (Google has no org-chart API)."""
DIRECTORY_ROLES = ("direct_report", "manager")
"""Roles Microsoft 365 reads from the org chart; its users enter only the rest."""
MOMENTS_BUDGET = 5
"""The Microsoft 365 user's weekly email budget: its week holds a work anniversary and a
welcome back (``plant_moments``) besides the thank-you and the year since."""


@dataclass(frozen=True)
class DemoResult:
    emails: list[Path]
    holds: list[SandboxEvent]
    seconds: float
    org: GeneratedOrg | None = None
    audit: tuple[ContactHealth, ...] = ()
    microsoft_org: GeneratedOrg | None = None
    microsoft_audit: tuple[ContactHealth, ...] = ()
    crunch: tuple[CrunchPreview, ...] = ()
    """Per organisation, what a two-week crunch would hold back this morning."""
    daily_steps: tuple[Decision | None, ...] = ()
    """Per organisation, the opt-in daily step the next quiet working morning would send."""


def demo_clock(zone: str, real_now: datetime | None = None) -> datetime:
    """The latest weekday 10:00 in the owner's zone: nudges go out in the morning."""
    local = (real_now or datetime.now(UTC)).astimezone(ZoneInfo(zone))
    day = local.date() if local.hour >= 10 else local.date() - timedelta(days=1)
    while day.isoweekday() > 5:
        day -= timedelta(days=1)
    return datetime(day.year, day.month, day.day, 10, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def run_demo(console: Console, *, output: Path, seed: int) -> DemoResult:
    started = time.monotonic()
    now = demo_clock("Europe/London")
    with tempfile.TemporaryDirectory(prefix="nudger-demo-") as tmp:
        sandbox, google_org = start_sandbox(seed=seed, now=now)
        microsoft_org = generate_org(
            sandbox.world, replace(MICROSOFT_OWNER, now=now, seed=seed + 1)
        )
        plant_moments(sandbox.world, microsoft_org, now)
        try:
            console.rule("[bold]nudger demo")
            console.print(
                f"Emulator on {sandbox.base_url}; clock set to "
                f"{now.astimezone(ZoneInfo('Europe/London')):%A %d %B %Y %H:%M %Z}"
            )
            runtime = _demo_runtime(sandbox, Path(tmp))
            audits = [
                _run_owner(console, runtime, sandbox, org, now)
                for org in (google_org, microsoft_org)
            ]
            result = _show_deliveries(console, sandbox, output, started)
            result = replace(
                result,
                org=google_org,
                audit=audits[0][0],
                microsoft_org=microsoft_org,
                microsoft_audit=audits[1][0],
                crunch=(audits[0][1], audits[1][1]),
                daily_steps=(audits[0][2], audits[1][2]),
            )
            runtime.db.dispose()
        finally:
            sandbox.stop()
    console.print(f"Done in {result.seconds:.1f}s.")
    return result


def _run_owner(
    console: Console, runtime: Runtime, sandbox: Sandbox, org: GeneratedOrg, now: datetime
) -> tuple[tuple[ContactHealth, ...], CrunchPreview, Decision | None]:
    """Sign one sandbox user up, run the scheduler's cycle for them, print their audit."""
    label = "Google" if org.owner.provider == "google" else "Microsoft 365"
    console.rule(f"{org.owner.name} <{org.owner.email}>, {label}")
    console.print(f"{org.event_count} events in the emulated calendar")
    ref = connect_through_oauth(runtime, sandbox, org.owner.provider, org.owner.email)
    console.print(f"Connected through {label} OAuth (authorization code, PKCE, offline access)")
    _enter_user_settings(console, runtime, ref.id, org)
    for report in run_cycle(runtime, account=ref.email, now=now, progress=console):
        console.print(report.summary())
    healths = account_audit(runtime, ref.email, now=now)
    print_audit(console, healths, now)
    preview = crunch_preview(runtime, ref.id, now)
    _print_crunch_dial(console, preview)
    step = daily_step_preview(runtime, ref.id, next_working_morning(now))
    _print_daily_step(console, step)
    return tuple(healths), preview, step


def next_working_morning(now: datetime) -> datetime:
    """The same hour on the next Monday-to-Friday day."""
    later = now + timedelta(days=1)
    while later.isoweekday() > 5:
        later += timedelta(days=1)
    return later


def daily_step_preview(runtime: Runtime, account_id: int, morning: datetime) -> Decision | None:
    """The opt-in daily step on the demo account: whom a quiet ``morning`` would name,
    with what has been sent so far (rotation, cooldowns)."""
    base = account_ruleset(runtime, account_id, rules_in_force(runtime))
    daily = base.policies.model_copy(update={"daily_step": True})
    rules = base.model_copy(update={"policies": daily})
    with session_scope(runtime.db) as session:
        account = session.get_one(Account, account_id)
        prefs = contacts.prefs_of(session, account_id)
        history = [past_nudge(n) for n in nudge_store.engine_history(session, account_id)]
        day = owner_morning(session, account, rules, morning)
    healths = analyse(runtime, account_id, rules, morning)
    if day is None:
        return None
    return daily_decision(account_id, healths, prefs, history, [], rules, morning, day)


def _print_daily_step(console: Console, step: Decision | None) -> None:
    if step is None:
        console.print("One small step a day (opt-in): nobody fits the next working morning.")
        return
    console.print(
        f"One small step a day (opt-in, off here): on the next working morning without "
        f"another nudge, one email would name {step.contact_name or step.contact_email}: "
        f"{step.step}",
        markup=False,
    )


@dataclass(frozen=True)
class CrunchPreview:
    """This morning's decisions from a blank outbox, and those a crunch would let out."""

    until: date
    factor: float
    decided: tuple[Decision, ...]
    kept: tuple[Decision, ...]

    @property
    def held(self) -> tuple[Decision, ...]:
        kept = {d.key for d in self.kept}
        return tuple(d for d in self.decided if d.key not in kept)


def crunch_preview(runtime: Runtime, account_id: int, now: datetime) -> CrunchPreview:
    """The crunch dial on the demo account: what "busy for two weeks" would hold back."""
    base = account_ruleset(runtime, account_id, rules_in_force(runtime))
    with session_scope(runtime.db) as session:
        account = session.get_one(Account, account_id)
        zone = preferences.time_zone_of(account)
        prefs = contacts.prefs_of(session, account_id)
    until = now.astimezone(ZoneInfo(zone)).date() + timedelta(days=14)
    runs = []
    for rules in (base, in_force(base, Crunch(until), now, zone)):
        healths = analyse(runtime, account_id, rules, now)
        runs.append(tuple(decide(account_id, healths, prefs, [], rules, now, zone)))
    return CrunchPreview(until, base.policies.crunch_factor, runs[0], runs[1])


def _print_crunch_dial(console: Console, preview: CrunchPreview) -> None:
    held = ", ".join(f"{d.contact_name or d.contact_email} ({d.rule})" for d in preview.held)
    console.print(
        f"Crunch dial: busy until {preview.until:%a %d %b}? Rhythms would stretch "
        f"{preview.factor:g}x and, of this morning's {len(preview.decided)} nudges, "
        f"{len(preview.kept)} would still go out (repairs and direct reports' one-on-ones). "
        f"Held back: {held or 'none'}.",
        markup=False,
    )


def _demo_runtime(sandbox: Sandbox, folder: Path) -> Runtime:
    settings = load_settings(
        **sandbox.settings(),
        google_directory=True,  # the demo's Workspace directory has the org chart
        data_dir=folder,
        database_url=f"sqlite:///{folder / 'demo.db'}",
        encryption_keys=Fernet.generate_key().decode(),
        base_url="http://127.0.0.1:8000",
        log_level="WARNING",
        microsoft_hire_dates=True,  # the demo's tenant consents: work anniversaries show
    )
    return open_runtime(settings)


def connect_through_oauth(
    runtime: Runtime, sandbox: Sandbox, provider: str, login_hint: str
) -> accounts.AccountRef:
    """Sign up as a person would: start OAuth, consent at the (emulated) provider, call back."""
    start = accounts.begin_connect(runtime, provider, login_hint=login_hint)
    consent = httpx.get(start.url, verify=ssl.create_default_context(cafile=sandbox.certs.ca_cert))
    callback = urlparse(consent.headers["location"])
    params = {key: values[0] for key, values in parse_qs(callback.query).items()}
    return accounts.complete_connect(runtime, provider, params)


def _enter_user_settings(
    console: Console, runtime: Runtime, account_id: int, org: GeneratedOrg
) -> None:
    # Both providers' sandboxes have an org chart (Graph, and the Workspace directory).
    from_directory = runtime.settings.google_directory or org.owner.provider == "microsoft"
    for role in USER_ROLES:
        if from_directory and role in DIRECTORY_ROLES:
            continue
        people = [e for e in org.expectations if e.role == role]
        for person in people:
            contacts.set_role(runtime, account_id, person.email, role, name=person.name)
        if people:
            console.print(
                f"Settings, {role.replace('_', ' ')}s: " + ", ".join(p.name for p in people)
            )
    if from_directory:
        set_budget(runtime, account_id, MOMENTS_BUDGET)
        console.print(f"Settings, weekly nudge budget: {MOMENTS_BUDGET} emails")


def set_budget(runtime: Runtime, account_id: int, budget: int) -> None:
    """The account's weekly email budget, as the settings page saves it."""
    chosen = preferences.AccountPreferences(weekly_budget=budget)
    with session_scope(runtime.db) as session:
        account = session.get_one(Account, account_id)
        account.settings = preferences.merged(account.settings, chosen)


def _show_deliveries(
    console: Console, sandbox: Sandbox, output: Path, started: float
) -> DemoResult:
    output.mkdir(parents=True, exist_ok=True)
    paths = [_save_email(output, i, sent.raw) for i, sent in enumerate(sandbox.world.sent, 1)]
    console.rule(f"{len(paths)} nudge emails sent (saved in {output}/)")
    for path in paths:
        console.print(f"  {path.with_suffix('').name}")
    holds = [
        (mailbox, e)
        for mailbox in sandbox.world.mailboxes.values()
        for e in mailbox.events.values()
        if e.private_props and not e.deleted
    ]
    console.rule(f"{len(holds)} relationship-time holds booked")
    table = Table("on the calendar of", "when", "title")
    for mailbox, hold in sorted(holds, key=lambda held: (held[0].name, held[1].start)):
        local = hold.start.astimezone(ZoneInfo(mailbox.time_zone))
        table.add_row(mailbox.name, f"{local:%a %d %b %H:%M %Z}", hold.summary)
    console.print(table)
    return DemoResult(paths, [hold for _, hold in holds], time.monotonic() - started)


def _save_email(folder: Path, index: int, raw: bytes) -> Path:
    message = email.parser.BytesParser(policy=email.policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    slug = "".join(c if c.isalnum() else "-" for c in str(message["Subject"]).lower())[:60].strip(
        "-"
    )
    eml = folder / f"{index:02d}-{slug}.eml"
    eml.write_bytes(raw)
    html = message.get_body(preferencelist=("html",))
    if html is not None:
        eml.with_suffix(".html").write_text(html.get_content())
    return eml
