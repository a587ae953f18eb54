"""A revoked Google grant: the account pauses, its owner is asked once to reconnect,
and every other account carries on."""

from __future__ import annotations

import email.parser
import email.policy
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest

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
from tests.smtp_server import Inbox, smtp_server

OTHER = "sam@sandbox.example"
NOW = datetime.now(UTC)


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with smtp_server() as running:
        yield running


@pytest.fixture
def world(world: World) -> World:
    world.add_mailbox(Mailbox(OTHER, "Sam Lee", "google"))
    for owner in (world.mailbox(GOOGLE_OWNER), world.mailbox(OTHER)):
        add_meeting(world, owner, f"m{owner.email[:3]}", NOW - timedelta(days=3), "kim@example.com")
    return world


@contextmanager
def with_smtp(runtime: Runtime, smtp_url: str) -> Iterator[Runtime]:
    """The same database and emulator, with nudger's service mail going to ``smtp_url``."""
    settings = load_settings(
        **{
            **runtime.settings.model_dump(),
            "encryption_keys": runtime.settings.encryption_keys.get_secret_value(),
            "smtp_url": smtp_url,
            "mail_from": "nudger@ops.example",
        }
    )
    opened = open_runtime(settings)
    yield opened
    opened.db.dispose()


@pytest.fixture
def smtp_runtime(runtime: Runtime, inbox: Inbox) -> Iterator[Runtime]:
    with with_smtp(runtime, f"smtp://127.0.0.1:{inbox.port}") as opened:
        yield opened


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


def test_reconnect_request_waits_rather_than_log_in_without_tls(
    runtime: Runtime, sandbox: Sandbox, inbox: Inbox
) -> None:
    """The operator's SMTP server offers no STARTTLS: the password is never sent, the
    request waits (pending, the reason on its row) for a server that can take it safely."""
    with with_smtp(runtime, f"smtp://ops:pw-123@127.0.0.1:{inbox.port}") as smtp_runtime:
        ref = connect(smtp_runtime, sandbox, GOOGLE_OWNER)
        revoke_at_google(smtp_runtime, ref.id)
        run_cycle(smtp_runtime, now=NOW)
        with session_scope(smtp_runtime.db) as session:
            row = session.query(Nudge).filter(Nudge.kind == "reconnect").one()
            status, error = row.status, row.last_error or ""
    assert inbox.seen_auth == []
    assert inbox.messages == []
    assert status == "pending"
    assert "NUDGER_SMTP_URL" in error
    assert "pw-123" not in error


def test_a_reconnect_email_that_cannot_be_built_fails_alone(
    smtp_runtime: Runtime, sandbox: Sandbox, inbox: Inbox
) -> None:
    """An account row stored by an older version, its address carrying a line break:
    its reconnect email fails with the reason on its row; the other one still goes."""
    broken = connect(smtp_runtime, sandbox, GOOGLE_OWNER)
    fine = connect(smtp_runtime, sandbox, OTHER)
    for ref in (broken, fine):
        revoke_at_google(smtp_runtime, ref.id)
    with session_scope(smtp_runtime.db) as session:
        session.get_one(Account, broken.id).email = f"{GOOGLE_OWNER}\r\nBcc: x@example.net"

    run_cycle(smtp_runtime, now=NOW)

    with session_scope(smtp_runtime.db) as session:
        rows = {r.account_id: r for r in session.query(Nudge).filter(Nudge.kind == "reconnect")}
        failed, sent = rows[broken.id], rows[fine.id]
        assert failed.status == "failed"
        assert (failed.last_error or "").startswith("unexpected error: ValueError")
        assert sent.status == "sent"
    assert [m.rcpt_tos for m in inbox.messages] == [[OTHER]]
