"""The ``nudger`` command as users run it: a real process, real settings, the emulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from nudger import accounts, contacts
from nudger.config import load_settings
from nudger.runtime import open_runtime
from nudger.sandbox.orggen import GeneratedOrg
from nudger.sandbox.run import start_sandbox
from nudger.sandbox.server import Sandbox
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


def test_cycle_then_audit_json_follows_the_contract(
    emulator: tuple[Sandbox, GeneratedOrg], env: dict[str, str]
) -> None:
    sandbox, org = emulator
    settings = load_settings(**{k.removeprefix("NUDGER_").lower(): v for k, v in env.items()})
    runtime = open_runtime(settings)
    start = accounts.begin_connect(runtime, "google", login_hint=org.owner.email)
    ref = accounts.complete_connect(runtime, "google", consent(sandbox, start.url))
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


def test_simulate_rejects_a_bad_period(env: dict[str, str]) -> None:
    result = nudger("simulate", "--account", "a@example.com", "--since", "soon", env=env)
    assert result.returncode == 2
    message = " ".join(result.stderr.replace("│", " ").split())
    assert "Invalid value for --since: 'soon': expected a number of days or weeks" in message


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
