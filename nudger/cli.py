"""The ``nudger`` command.

Its help is read in a terminal: docstrings of commands are plain sentences (no reST
markup), which ``tests/test_cli.py`` checks for every command.
"""

from __future__ import annotations

import difflib
import importlib.metadata
import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from nudger.errors import NudgerError, UnknownAccount

if TYPE_CHECKING:
    from nudger.config import Settings
    from nudger.runtime import Runtime

PING_SECONDS = 5.0
"""How long `nudger worker --ping` waits for an answer."""

HELP = (
    "nudger keeps a busy manager's professional relationships from quietly eroding: it reads "
    "your calendar, notices whom you are drifting away from and whose one-on-ones lapsed, and "
    "nudges you by email or with a hold on your calendar. Try it offline: nudger demo."
)
MAX_LISTED_ACCOUNTS = 10
"""An unknown --account lists the connected accounts up to this many, else the closest one."""

app = typer.Typer(no_args_is_help=True, add_completion=False, help=HELP)
accounts_app = typer.Typer(no_args_is_help=True, help="Connected accounts.")
rules_app = typer.Typer(no_args_is_help=True, help="Rules files.")
keys_app = typer.Typer(no_args_is_help=True, help="Encryption keys.")
app.add_typer(accounts_app, name="accounts")
app.add_typer(rules_app, name="rules")
app.add_typer(keys_app, name="keys")
console = Console()
err = Console(stderr=True)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app()
    except NudgerError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)  # one line
        if isinstance(exc, UnknownAccount):
            err.print(_accounts_to_choose_from(exc.email), markup=False, soft_wrap=True)
        sys.exit(2)


def _show_version(wanted: bool) -> None:
    if wanted:
        typer.echo(f"nudger {importlib.metadata.version('nudger')}")
        raise typer.Exit()


@app.callback()
def _global_options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    pass


def connect_hint(settings: Settings) -> str:
    """What to do when no account is connected yet."""
    lines = [
        "No account is connected yet.",
        f'Connect one: run "nudger serve" and sign up at {settings.public_url}',
    ]
    if not (settings.google_client_id or settings.microsoft_client_id):
        lines.append("  (first set NUDGER_GOOGLE_CLIENT_ID or NUDGER_MICROSOFT_CLIENT_ID")
        lines.append('  and its secret: see "Connecting real accounts" in the README)')
    lines.append("Or try nudger on a synthetic team first: nudger serve --sandbox")
    return "\n".join(lines)


def _accounts_to_choose_from(unknown: str) -> str:
    from nudger.accounts import list_accounts
    from nudger.runtime import open_runtime

    runtime = open_runtime()
    emails = [ref.email for ref in list_accounts(runtime)]
    if not emails:
        return connect_hint(runtime.settings)
    if len(emails) <= MAX_LISTED_ACCOUNTS:
        return "\n  ".join(["Connected accounts:", *emails])
    closest = difflib.get_close_matches(unknown.lower(), emails, n=1)
    maybe = f"Did you mean {closest[0]}? " if closest else ""
    return f'{maybe}{len(emails)} accounts are connected: "nudger accounts list" lists them.'


@app.command()
def demo(
    output: Annotated[Path, typer.Option(help="Folder for the sent emails (.eml, .html).")] = Path(
        "demo-output"
    ),
    seed: Annotated[int, typer.Option(help="Seed of the synthetic organisation.")] = 7,
) -> None:
    """Run the whole product offline against the bundled emulator and a synthetic team."""
    from nudger.demo import run_demo

    run_demo(console, output=output, seed=seed)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    sandbox: Annotated[bool, typer.Option(help="Point every provider at the emulator.")] = False,
) -> None:
    """Web app plus scheduler."""
    from nudger.web.serve import run_server

    run_server(console, host=host, port=port, sandbox=sandbox)


@app.command()
def cycle(
    account: Annotated[str | None, typer.Option(metavar="EMAIL", help="Only this account.")] = None,
    dry_run: Annotated[bool, typer.Option(help="Decide, but send and book nothing.")] = False,
    enqueue: Annotated[
        bool, typer.Option(help="Put one pass per account on the worker queue instead.")
    ] = False,
    wait: Annotated[
        bool, typer.Option(help="With --enqueue: wait for every pass and print its report.")
    ] = False,
) -> None:
    """One pass of sync, analysis, rules and delivery, then exit."""
    from nudger.runtime import open_runtime

    if wait and not enqueue:
        raise typer.BadParameter("--wait needs --enqueue", param_hint="--wait")
    if enqueue:
        if dry_run:
            raise typer.BadParameter("a dry run runs here, not on workers", param_hint="--dry-run")
        _enqueue_cycle(open_runtime(), account, wait)
        return
    from nudger.cycle import run_cycle

    runtime = open_runtime()
    reports = run_cycle(runtime, account=account, dry_run=dry_run, progress=console)
    if not reports:
        err.print(connect_hint(runtime.settings), markup=False, soft_wrap=True)
    for report in reports:
        console.print(report.summary())
    if any(r.error for r in reports):
        sys.exit(1)


def _enqueue_cycle(runtime: Runtime, account: str | None, wait: bool) -> None:
    from nudger.clock import utcnow
    from nudger.workers.app import broker_url
    from nudger.workers.enqueue import PassQueue

    broker_url(runtime.settings)  # a clear error before Celery starts without a broker
    queue = PassQueue(runtime)
    queued = queue.enqueue_all(utcnow(), account)
    console.print(f"queued {len(queued)} passes")
    if not wait:
        return
    reports = queue.wait(queued, lambda report: console.print(report.summary()))
    if any(r.error for r in reports):
        sys.exit(1)


@app.command()
def worker(
    concurrency: Annotated[
        int, typer.Option(min=1, help="Passes run at once (pool processes).")
    ] = 2,
    ping: Annotated[
        bool,
        typer.Option(
            "--ping",
            help="Start nothing: exit 0 if a worker on this host answers (a health check).",
        ),
    ] = False,
) -> None:
    """A Celery worker running passes from the queue (needs NUDGER_BROKER_URL)."""
    from nudger.runtime import open_runtime
    from nudger.workers.app import create_app

    if ping:
        _ping_local_worker()
        return
    runtime = open_runtime()  # migrated and keys checked once, before the pool forks
    runtime.db.dispose()
    create_app(runtime.settings).worker_main(worker_argv(concurrency))


def _ping_local_worker() -> None:
    """Asks the workers over the broker and waits for one named for this host (the
    container's own): a worker that stopped consuming does not answer."""
    import socket

    from nudger.config import load_settings
    from nudger.workers.app import create_app

    replies = create_app(load_settings()).control.ping(timeout=PING_SECONDS)
    mine = [
        name for reply in replies for name in reply if name.endswith(f"@{socket.gethostname()}")
    ]
    if not mine:
        typer.echo(
            f"no worker on {socket.gethostname()} answered within {PING_SECONDS} s", err=True
        )
        raise typer.Exit(1)
    typer.echo(f"{', '.join(sorted(mine))}: ok")


def worker_argv(concurrency: int) -> list[str]:
    import os

    from nudger.workers.app import QUEUE

    return [
        "worker",
        "--pool=prefork",
        f"--concurrency={concurrency}",
        f"--queues={QUEUE}",
        f"--hostname=nudger-{os.getpid()}@%h",
        "--loglevel=INFO",
        # No worker-to-worker chatter: passes need none, and start-up is a second faster.
        "--without-mingle",
        "--without-gossip",
    ]


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON object.")] = False,
) -> None:
    """Queue depth, the oldest due account, the last pass and the failing accounts."""
    from nudger.reporting import print_pass_status
    from nudger.runtime import open_runtime
    from nudger.workers.status import pass_status_now

    current = pass_status_now(open_runtime())
    if as_json:
        typer.echo(json.dumps(current.to_json(), indent=2))
    else:
        print_pass_status(console, current)


@app.command()
def audit(
    account: Annotated[str, typer.Option(metavar="EMAIL", help="The account's address.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """The relationship audit of one account."""
    from nudger.cycle import account_audit
    from nudger.reporting import audit_json, print_audit
    from nudger.runtime import open_runtime

    healths = account_audit(open_runtime(), account)
    if as_json:
        typer.echo(json.dumps(audit_json(healths), indent=2))
    else:
        print_audit(console, healths)


@app.command()
def simulate(
    account: Annotated[str, typer.Option(metavar="EMAIL", help="The account's address.")],
    since: Annotated[str, typer.Option(help="How far back to replay: 180d, 26w.")] = "180d",
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
    daily_step: Annotated[
        bool,
        typer.Option(
            "--daily-step", help="Replay with the daily step on, whatever the settings say."
        ),
    ] = False,
    crunch_until: Annotated[
        str | None,
        typer.Option(
            metavar="DATE",
            help="Replay as if busy until DATE (2026-01-15): what a crunch would have sent.",
        ),
    ] = None,
) -> None:
    """Replay past days: the nudges the rules would have fired, and why. Sends nothing."""
    from nudger.reporting import print_simulation
    from nudger.runtime import open_runtime
    from nudger.simulate import parse_day, parse_span, simulate

    try:
        span = parse_span(since)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--since") from None
    try:
        until = None if crunch_until is None else parse_day(crunch_until)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--crunch-until") from None
    fired = simulate(open_runtime(), account, span, daily_step=daily_step, crunch_until=until)
    if as_json:
        typer.echo(json.dumps([f.to_json() for f in fired], indent=2))
    else:
        print_simulation(console, fired, since)


@accounts_app.command("list")
def accounts_list() -> None:
    """List connected accounts."""
    from nudger.accounts import list_accounts
    from nudger.runtime import open_runtime

    runtime = open_runtime()
    refs = list_accounts(runtime)
    if not refs:
        err.print(connect_hint(runtime.settings), markup=False, soft_wrap=True)
    for ref in refs:
        console.print(f"{ref.email}\t{ref.provider}\t{ref.status}")


@accounts_app.command("remove")
def accounts_remove(
    email: Annotated[str, typer.Argument(metavar="EMAIL", help="The account's address.")],
) -> None:
    """Revoke the account's tokens at the provider and delete all of its rows."""
    from nudger.accounts import remove_account
    from nudger.runtime import open_runtime

    ref = remove_account(open_runtime(), email)
    console.print(f"removed {ref.email} ({ref.provider}); its grant was revoked")


@rules_app.command("check")
def rules_check(
    file: Annotated[
        Path | None, typer.Argument(metavar="FILE", help="Your rules file (YAML) to check too.")
    ] = None,
) -> None:
    """Validate the shipped rules and, if given, a user rules file merged over them."""
    from nudger.rules.loader import load_rules
    from nudger.rules.paths import rule_paths

    rules = load_rules(rule_paths(file))
    console.print(f"ok: {len(rules.rules)} rules")


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Re-encrypt stored credentials under the newest key of NUDGER_ENCRYPTION_KEYS."""
    from nudger.runtime import open_runtime
    from nudger.store.db import reencrypt_all, session_scope

    runtime = open_runtime()
    with session_scope(runtime.db) as session:
        count = reencrypt_all(session, runtime.cipher)
    console.print(f"re-encrypted {count} values under the newest key")


@app.command("sandbox")
def sandbox_cmd(
    port: Annotated[int, typer.Option(help="Port for the emulator.")] = 8443,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic organisation.")] = 7,
) -> None:
    """Run the Google/Microsoft emulator with a synthetic team, in the foreground."""
    from nudger.sandbox.run import run_foreground

    run_foreground(console, port=port, seed=seed)
