"""A small fleet for the worker tests: several owners on one emulator, all connected
through the real OAuth code path, and ``nudger worker`` processes run against it.

The emulator runs in the test's process; workers are separate processes (the CLI, as
an operator starts them) that reach it over HTTPS, the database and the local Redis.
"""

from __future__ import annotations

import email
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import select

from nudger import accounts, contacts
from nudger.clock import utcnow
from nudger.config import Settings, load_settings
from nudger.runtime import Runtime, open_runtime
from nudger.sandbox.orggen import GeneratedOrg, OrgSpec, generate_org, minimum_people
from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import World
from nudger.store.db import session_scope
from nudger.store.models import Account, Nudge
from tests.connectors.google_helpers import consent

NUDGER = str(Path(sys.executable).parent / "nudger")
USER_ROLES = ("direct_report", "manager", "mentor")
RULES = """
policies:
  quiet_hours: {start: "00:00", end: "00:00"}
  quiet_days: []
"""
"""Emails may go at any hour, so the tests do not depend on the wall clock."""


@dataclass
class Fleet:
    sandbox: Sandbox
    orgs: list[GeneratedOrg]
    runtime: Runtime
    env: dict[str, str]
    folder: Path
    workers: list[WorkerProcess] = field(default_factory=list)
    commands: list[subprocess.Popen[str]] = field(default_factory=list)
    """Commands started in the background: killed at the end if still running (a test
    that failed while one waited must not leave it waiting for ever)."""

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    def account_ids(self) -> dict[str, int]:
        return {ref.email: ref.id for ref in accounts.list_accounts(self.runtime)}

    def start_worker(self, name: str, concurrency: int = 1, **env: str) -> WorkerProcess:
        worker = WorkerProcess(name, {**self.env, **env}, self.folder, concurrency)
        self.workers.append(worker)
        return worker

    def nudger(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """The ``nudger`` command as an operator runs it, against this fleet."""
        env = {**os.environ, **self.env}
        return subprocess.run(
            [NUDGER, *args], env=env, capture_output=True, text=True, timeout=timeout
        )

    def nudger_in_background(self, *args: str) -> subprocess.Popen[str]:
        env = {**os.environ, **self.env}
        command = subprocess.Popen(
            [NUDGER, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.commands.append(command)
        return command

    def passes(self) -> dict[str, tuple[str | None, datetime | None, datetime | None]]:
        """Each account's last pass: (status, started, queued since)."""
        with session_scope(self.runtime.db) as session:
            return {
                a.email: (a.last_pass_status, a.last_pass_at, a.enqueued_at)
                for a in session.scalars(select(Account))
            }

    def sent_keys(self) -> Counter[str]:
        """How many times the emulator accepted a message for each outbox key."""
        return Counter(
            str(email.message_from_bytes(sent.raw)["X-Nudger-Key"])
            for sent in self.sandbox.world.sent
        )

    def hold_ids(self) -> Counter[str]:
        """Live events nudger booked (tagged with a private property), by event id."""
        return Counter(
            event.id
            for org in self.orgs
            for event in self.sandbox.world.mailboxes[org.owner.email].events.values()
            if event.private_props and not event.deleted
        )

    def outbox(self) -> Counter[str]:
        with session_scope(self.runtime.db) as session:
            return Counter(session.scalars(select(Nudge.status)))


@contextmanager
def fleet(
    database_url: str, redis_url: str, folder: Path, owners: int, **settings: str
) -> Iterator[Fleet]:
    """``owners`` small generated teams on one started emulator, each owner connected."""
    world = World()
    orgs = [generate_org(world, _spec(i)) for i in range(owners)]
    sandbox = Sandbox(world).start()
    try:
        rules = folder / "rules.yaml"
        rules.write_text(RULES)
        values = {
            **sandbox.settings(),
            "database_url": database_url,
            "data_dir": str(folder / "data"),
            "encryption_keys": Fernet.generate_key().decode(),
            "rules_file": str(rules),
            "broker_url": redis_url,
            "log_level": "INFO",
            **settings,
        }
        runtime = open_runtime(load_settings(**values))
        env = {f"NUDGER_{key.upper()}": value for key, value in values.items()}
        scene = Fleet(sandbox, orgs, runtime, env, folder)
        try:
            for org in orgs:
                _connect(runtime, sandbox, org)
            yield scene
        finally:
            for command in scene.commands:
                if command.poll() is None:
                    command.kill()
                    command.wait()
            for worker in scene.workers:
                worker.stop()
            runtime.db.dispose()
    finally:
        sandbox.stop()


def _spec(index: int) -> OrgSpec:
    """A light calendar (6 months, 8 events a week): a pass takes a fraction of a second."""
    return OrgSpec(
        now=utcnow(),
        seed=index + 1,
        owner_email=f"owner{index}@northwind.example",
        owner_name=f"Owner {index}",
        people=minimum_people(),
        months=6,
        events_per_week=8,
    )


def _connect(runtime: Runtime, sandbox: Sandbox, org: GeneratedOrg) -> None:
    start = accounts.begin_connect(runtime, "google", login_hint=org.owner.email)
    ref = accounts.complete_connect(runtime, "google", consent(sandbox, start.url))
    for person in org.expectations:  # Google has no org chart: the user enters roles
        if person.role in USER_ROLES:
            contacts.set_role(runtime, ref.id, person.email, person.role, name=person.name)


class WorkerProcess:
    """``nudger worker`` in a session of its own, so a kill reaches its pool processes."""

    def __init__(self, name: str, env: dict[str, str], folder: Path, concurrency: int) -> None:
        self.name = name
        self.log = folder / f"worker-{name}.log"
        self._output = self.log.open("w")
        self.process = subprocess.Popen(
            [NUDGER, "worker", "--concurrency", str(concurrency)],
            env={**os.environ, **env},
            stdout=self._output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while " ready." not in self.log.read_text():
            assert self.process.poll() is None, f"worker {self.name} died:\n{self.log.read_text()}"
            assert time.monotonic() < deadline, f"worker {self.name} not ready:\n{self.output()}"
            time.sleep(0.1)

    def output(self) -> str:
        return self.log.read_text()

    def kill(self) -> float:
        """SIGKILL the worker and its pool at once (power loss); when, on the wall clock."""
        os.killpg(self.process.pid, signal.SIGKILL)
        killed = time.time()
        self.process.wait(timeout=10)
        return killed

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # a warm shutdown
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self._output.close()
