"""The ``nudger`` command as users run it: a real process, real settings, the emulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import click
import pytest
import typer
from cryptography.fernet import Fernet

from nudger import accounts, contacts
from nudger.cli import MAX_LISTED_ACCOUNTS, app
from nudger.config import load_settings
from nudger.runtime import Runtime, open_runtime
from nudger.sandbox.orggen import GeneratedOrg
from nudger.sandbox.run import start_sandbox
from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import Mailbox
from tests.connectors.google_helpers import consent

NUDGER = str(Path(sys.executable).parent / "nudger")
CONTRACT_KEYS = {
    "email",
    "name",
    "status",
    "last_interaction",
    "next_meeting",
    "cadence_days",
    "strength",
    "reasons",
}


def nudger(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [NUDGER, *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def emulator() -> Iterator[tuple[Sandbox, GeneratedOrg]]:
    sandbox, org = start_sandbox(seed=11, now=datetime.now(UTC))
    yield sandbox, org
    sandbox.stop()


@pytest.fixture
def env(emulator: tuple[Sandbox, GeneratedOrg], tmp_path: Path) -> dict[str, str]:
    sandbox, _ = emulator
    values = {
        **sandbox.settings(),
        "data_dir": str(tmp_path / "data"),
        "encryption_keys": Fernet.generate_key().decode(),
        "log_level": "WARNING",
    }
    return {f"NUDGER_{key.upper()}": value for key, value in values.items()}


def test_rules_check_accepts_the_shipped_rules(env: dict[str, str]) -> None:
    result = nudger("rules", "check", env=env)
    assert result.returncode == 0, result.stderr
    assert "ok:" in result.stdout


def test_rules_check_names_the_file_rule_and_key(env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "mine.yaml"
    bad.write_text(
        "rules:\n  - name: neglected\n    when: {status: [neglected]}\n"
        "    action: {kind: telegram, template: neglected}\n    priority: 1\n"
    )
    result = nudger("rules", "check", str(bad), env=env)
    assert result.returncode == 2
    message = " ".join(result.stderr.split())
    assert "mine.yaml" in message
    assert 'rule "neglected"' in message
    assert "action.kind" in message


def runtime_of(env: dict[str, str]) -> Runtime:
    """The runtime the command sees with ``env``, for connecting accounts before it runs."""
    return open_runtime(
        load_settings(**{k.removeprefix("NUDGER_").lower(): v for k, v in env.items()})
    )


def connect(runtime: Runtime, sandbox: Sandbox, email: str) -> accounts.AccountRef:
    start = accounts.begin_connect(runtime, "google", login_hint=email)
    return accounts.complete_connect(runtime, "google", consent(sandbox, start.url))


def test_cycle_then_audit_json_follows_the_contract(
    emulator: tuple[Sandbox, GeneratedOrg], env: dict[str, str]
) -> None:
    sandbox, org = emulator
    runtime = runtime_of(env)
    ref = connect(runtime, sandbox, org.owner.email)
    for person in org.expectations:  # Google has no org chart: the user enters roles
        if person.role in ("direct_report", "manager", "mentor"):
            contacts.set_role(runtime, ref.id, person.email, person.role, name=person.name)
    runtime.db.dispose()

    cycle = nudger("cycle", "--account", org.owner.email, "--dry-run", env=env)
    assert cycle.returncode == 0, cycle.stdout + cycle.stderr
    assert "events synced" in cycle.stdout

    result = nudger("audit", "--account", org.owner.email, "--json", env=env)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert rows
    for row in rows:
        assert set(row) >= CONTRACT_KEYS
        assert isinstance(row["reasons"], list)
        assert isinstance(row["strength"], int | float)
    by_email = {row["email"]: row for row in rows}
    for expected in org.expectations:
        assert by_email[expected.email]["status"] == expected.expected_status


def test_unknown_account_is_a_clear_error(env: dict[str, str]) -> None:
    result = nudger("audit", "--account", "nobody@example.com", env=env)
    assert result.returncode == 2
    assert "no connected account nobody@example.com" in result.stderr
    assert "No account is connected yet." in result.stderr


@pytest.mark.parametrize("command", [("cycle",), ("accounts", "list")])
def test_no_account_yet_says_how_to_connect_one(
    env: dict[str, str], command: tuple[str, ...]
) -> None:
    no_app = {name: value for name, value in env.items() if not name.endswith("_CLIENT_ID")}
    result = nudger(*command, env={**no_app, "NUDGER_BASE_URL": "http://127.0.0.1:8765"})
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""  # scripts reading the list still get an empty one
    assert result.stderr.splitlines() == [
        "No account is connected yet.",
        'Connect one: run "nudger serve" and sign up at http://127.0.0.1:8765',
        "  (first set NUDGER_GOOGLE_CLIENT_ID or NUDGER_MICROSOFT_CLIENT_ID",
        '  and its secret: see "Connecting real accounts" in the README)',
        "Or try nudger on a synthetic team first: nudger serve --sandbox",
    ]


def test_with_a_client_id_set_the_hint_only_says_where_to_sign_up(env: dict[str, str]) -> None:
    assert env["NUDGER_GOOGLE_CLIENT_ID"]  # the emulator's app
    result = nudger("accounts", "list", env=env)
    assert "NUDGER_MICROSOFT_CLIENT_ID" not in result.stderr
    assert 'run "nudger serve" and sign up at http://127.0.0.1:8000' in result.stderr


@pytest.mark.parametrize(
    "command",
    [
        ("audit", "--account", "nobody@example.com"),
        ("simulate", "--account", "nobody@example.com"),
        ("cycle", "--account", "nobody@example.com"),
        ("accounts", "remove", "nobody@example.com"),
    ],
)
def test_an_unknown_account_lists_the_connected_ones(
    emulator: tuple[Sandbox, GeneratedOrg], env: dict[str, str], command: tuple[str, ...]
) -> None:
    sandbox, org = emulator
    runtime = runtime_of(env)
    connect(runtime, sandbox, org.owner.email)
    runtime.db.dispose()

    result = nudger(*command, env=env)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "error: no connected account nobody@example.com",
        "Connected accounts:",
        f"  {org.owner.email}",
    ]


def test_among_many_accounts_an_unknown_one_gets_the_closest(
    emulator: tuple[Sandbox, GeneratedOrg], env: dict[str, str]
) -> None:
    sandbox, _ = emulator
    runtime = runtime_of(env)
    for n in range(MAX_LISTED_ACCOUNTS + 1):
        email = f"member{n:02d}@sandbox-cli.test"
        sandbox.world.add_mailbox(Mailbox(email, f"Member {n}", "google"))
        connect(runtime, sandbox, email)
    runtime.db.dispose()

    result = nudger("audit", "--account", "membr07@sandbox-cli.test", env=env)
    assert result.returncode == 2
    hint = result.stderr.splitlines()[1:]
    assert hint == [
        f"Did you mean member07@sandbox-cli.test? {MAX_LISTED_ACCOUNTS + 1} accounts are "
        'connected: "nudger accounts list" lists them.'
    ]


def test_version_is_the_installed_package_version(env: dict[str, str]) -> None:
    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    result = nudger("--version", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"nudger {project['project']['version']}\n"


def _command_paths(command: click.Command, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [path]
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            paths += _command_paths(sub, (*path, name))
    return paths


@pytest.mark.parametrize(
    "path", _command_paths(typer.main.get_command(app)), ids=lambda p: " ".join(p) or "nudger"
)
def test_help_reads_as_plain_text(env: dict[str, str], path: tuple[str, ...]) -> None:
    """Docstrings become help as they are: reST markup such as ``x`` shows up literally."""
    result = nudger(*path, "--help", env=env)
    assert result.returncode == 0, result.stderr
    assert "Usage: nudger" in result.stdout
    assert "`" not in result.stdout, result.stdout
    description = result.stdout.split("Usage:")[1].splitlines()[1:3]
    assert any(line.strip() for line in description), f"{path} has no description"


def test_simulate_rejects_a_bad_period(env: dict[str, str]) -> None:
    result = nudger("simulate", "--account", "a@example.com", "--since", "soon", env=env)
    assert result.returncode == 2
    message = " ".join(result.stderr.replace("│", " ").split())
    assert "Invalid value for --since: 'soon': expected a number of days or weeks" in message


def test_simulate_rejects_a_bad_crunch_date(env: dict[str, str]) -> None:
    result = nudger("simulate", "--account", "a@example.com", "--crunch-until", "15 Jan", env=env)
    assert result.returncode == 2
    message = " ".join(result.stderr.replace("│", " ").split())
    assert "Invalid value for --crunch-until: '15 Jan': expected a date like 2026-01-15" in message


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("postgres://nudger:s3cret@db.example/nudger", "write postgresql+psycopg://"),
        ("postgresql+psycopg2://nudger:s3cret@db.example/nudger", "write postgresql+psycopg://"),
        ("not-a-url", "not a database URL; e.g. postgresql+psycopg://"),
    ],
)
def test_an_unusable_database_url_is_one_clear_line(tmp_path: Path, url: str, says: str) -> None:
    """SQLAlchemy knows no ``postgres`` dialect and psycopg2 is not installed: say what to
    write instead, without a traceback and without echoing the password."""
    env = {"NUDGER_DATA_DIR": str(tmp_path), "NUDGER_DATABASE_URL": url}
    result = nudger("accounts", "list", env=env)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "error: invalid settings: NUDGER_DATABASE_URL: " in result.stderr
    assert says in result.stderr
    assert "s3cret" not in result.stderr


@pytest.mark.parametrize("command", [("cycle", "--enqueue"), ("worker",)])
def test_workers_without_a_broker_say_what_to_set(
    env: dict[str, str], command: tuple[str, ...]
) -> None:
    result = nudger(*command, env=env)
    assert result.returncode == 2
    assert "NUDGER_BROKER_URL must be set" in result.stderr


def test_a_broker_that_is_not_redis_is_refused(env: dict[str, str]) -> None:
    result = nudger("status", env={**env, "NUDGER_BROKER_URL": "amqp://guest@rabbit//"})
    assert result.returncode == 2
    assert "NUDGER_BROKER_URL" in result.stderr
    assert "guest" not in result.stderr  # the URL may hold a password: never echoed


def test_status_without_a_broker_reports_the_passes_in_process(env: dict[str, str]) -> None:
    result = nudger("status", "--json", env=env)
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert status["broker"] is False
    assert status["queue_depth"] is None
    assert status["accounts"] == 0
    assert status["failing_accounts"] == []
    plain = nudger("status", env=env)
    assert "no broker: passes run in-process" in plain.stdout
