"""A revoked Google grant: the account pauses, its owner is asked once to reconnect,
and every other account carries on."""

from __future__ import annotations

import email.parser
import email.policy
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from nudger import accounts
from nudger.config import load_settings
from nudger.connectors.registry import provider
from nudger.cycle import run_cycle
from nudger.runtime import Runtime, open_runtime
from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import Mailbox, World
from nudger.store.db import session_scope
from nudger.store.models import Account, Nudge
from tests.connectors.conftest import GOOGLE_OWNER
from tests.connectors.google_helpers import add_meeting, consent

OTHER = "sam@sandbox.example"
NOW = datetime.now(UTC)


class Inbox:
    """An SMTP server that keeps what it receives (aiosmtpd handler protocol)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.messages: list[Envelope] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with socket.socket() as probe:  # aiosmtpd cannot start on port 0
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Inbox(port)
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler
    controller.stop()


@pytest.fixture
def world(world: World) -> World:
    world.add_mailbox(Mailbox(OTHER, "Sam Lee", "google"))
    for owner in (world.mailbox(GOOGLE_OWNER), world.mailbox(OTHER)):
        add_meeting(world, owner, f"m{owner.email[:3]}", NOW - timedelta(days=3), "kim@example.com")
    return world


@pytest.fixture
def smtp_runtime(runtime: Runtime, inbox: Inbox) -> Iterator[Runtime]:
    settings = load_settings(
        **{
            **runtime.settings.model_dump(),
            "encryption_keys": runtime.settings.encryption_keys.get_secret_value(),
            "smtp_url": f"smtp://127.0.0.1:{inbox.port}",
            "mail_from": "nudger@ops.example",
        }
    )
    opened = open_runtime(settings)
    yield opened
    opened.db.dispose()


def connect(runtime: Runtime, sandbox: Sandbox, email: str) -> accounts.AccountRef:
    start = accounts.begin_connect(runtime, "google", login_hint=email)
    return accounts.complete_connect(runtime, "google", consent(sandbox, start.url))


def revoke_at_google(runtime: Runtime, account_id: int) -> None:
    """The user removes nudger from their Google account's third-party access."""
    with session_scope(runtime.db) as session:
        blob = runtime.cipher.decrypt(session.get_one(Account, account_id).credentials)
    provider("google").oauth(runtime.settings).revoke(blob)


def status_of(runtime: Runtime, account_id: int) -> str:
    with session_scope(runtime.db) as session:
        return session.get_one(Account, account_id).status


def reconnect_rows(runtime: Runtime) -> list[tuple[str, str]]:
    with session_scope(runtime.db) as session:
        rows = session.query(Nudge).filter(Nudge.kind == "reconnect").all()
        return [(r.status, r.key) for r in rows]


def test_revoked_account_pauses_and_asks_once(
    smtp_runtime: Runtime, sandbox: Sandbox, inbox: Inbox
) -> None:
    revoked = connect(smtp_runtime, sandbox, GOOGLE_OWNER)
    healthy = connect(smtp_runtime, sandbox, OTHER)
    revoke_at_google(smtp_runtime, revoked.id)

    reports = {r.account: r for r in run_cycle(smtp_runtime, now=NOW)}
    assert reports[GOOGLE_OWNER].error is not None
    assert "reconnect" in reports[GOOGLE_OWNER].error
    assert reports[OTHER].error is None
    assert reports[OTHER].events_synced == 1
    assert status_of(smtp_runtime, revoked.id) == "reconnect"
    assert status_of(smtp_runtime, healthy.id) == "active"

    [envelope] = inbox.messages
    assert envelope.rcpt_tos == [GOOGLE_OWNER]
    message = email.parser.BytesParser(policy=email.policy.default).parsebytes(
        envelope.original_content or b""
    )
    assert message["From"] == "nudger@ops.example"
    assert "reconnect" in str(message["Subject"])
    text = message.get_body(preferencelist=("plain",))
    assert text is not None
    assert "/connect/google?login_hint=" in text.get_content()

    requests_before = len(sandbox.world.requests)
    [later] = run_cycle(smtp_runtime, account=GOOGLE_OWNER, now=NOW + timedelta(hours=1))
    assert later.error == "skipped: account reconnect"
    assert len(sandbox.world.requests) == requests_before  # no calls for a paused account
    assert len(inbox.messages) == 1


def test_reconnecting_resumes_and_drops_an_unsent_request(
    runtime: Runtime, sandbox: Sandbox
) -> None:
    ref = connect(runtime, sandbox, GOOGLE_OWNER)  # no SMTP configured: the request waits
    revoke_at_google(runtime, ref.id)
    run_cycle(runtime, now=NOW)
    assert [status for status, _ in reconnect_rows(runtime)] == ["pending"]

    connect(runtime, sandbox, GOOGLE_OWNER)
    assert status_of(runtime, ref.id) == "active"
    assert [status for status, _ in reconnect_rows(runtime)] == ["suppressed"]
    [report] = run_cycle(runtime, now=NOW)
    assert report.error is None
