"""A generated team on the emulator, with nudger opened on the test's database.

For tests that run whole passes: the owner signs in to Google through the real OAuth
code path, exactly as at sign-up.
"""

from __future__ import annotations

import email
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

from nudger import accounts
from nudger.config import load_settings
from nudger.runtime import Runtime, open_runtime
from nudger.sandbox.orggen import GeneratedOrg
from nudger.sandbox.run import start_sandbox
from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import Mailbox
from tests.connectors.google_helpers import consent


@dataclass
class Team:
    sandbox: Sandbox
    org: GeneratedOrg
    runtime: Runtime

    @property
    def mailbox(self) -> Mailbox:
        """The owner's mailbox in the emulator's world."""
        return self.sandbox.world.mailbox(self.org.owner.email)

    def mails(self) -> list[EmailMessage]:
        """Every email the emulator's mailboxes sent, parsed."""
        return [
            email.message_from_bytes(sent.raw, policy=default)  # type: ignore[misc]
            for sent in self.sandbox.world.sent
        ]

    def connect_owner(self) -> accounts.AccountRef:
        start = accounts.begin_connect(self.runtime, "google", login_hint=self.org.owner.email)
        return accounts.complete_connect(self.runtime, "google", consent(self.sandbox, start.url))


MONDAY = datetime(2025, 3, 3, 9, 30, tzinfo=UTC)
"""09:30 in London on a working day: the generated team's nudges may go out."""


@contextmanager
def generated_team(
    now: datetime,
    *,
    database_url: str,
    data_dir: Path,
    encryption_key: str,
    seed: int = 5,
    **settings: str,
) -> Iterator[Team]:
    sandbox, org = start_sandbox(seed=seed, now=now)
    try:
        runtime = open_runtime(
            load_settings(
                **sandbox.settings(),
                database_url=database_url,
                data_dir=data_dir,
                encryption_keys=encryption_key,
                **settings,
            )
        )
        try:
            yield Team(sandbox, org, runtime)
        finally:
            runtime.db.dispose()
    finally:
        sandbox.stop()
