"""What a nudge email sent by a real cycle says: it greets the owner by the name their
provider gave at sign-up, else by the local part of their address (never "Hi there"),
and it says each thing once.

Sign-ups go through the emulator's real OAuth flows: Google puts ``name`` in the ID token
only when the profile scope is asked for, Microsoft always (msal asks for ``profile``).
"""

from __future__ import annotations

import email
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from email.policy import default

import pytest

from nudger import accounts
from nudger.cycle import run_cycle
from nudger.runtime import Runtime
from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import Mailbox, World
from nudger.wording import greeting_name
from tests.connectors.google_helpers import consent
from tests.delivery.test_email import repeated
from tests.web.conftest import NOW, web_runtime, weekly_one_on_ones

NAMED_GOOGLE = "alex@sandbox.example"
UNNAMED_GOOGLE = "sam.rivera@sandbox.example"
NAMED_MICROSOFT = "grace@contoso.example"
CONTACT = "kim.lee@partner.example"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    world = World()
    world.add_mailbox(Mailbox(NAMED_GOOGLE, "Alex Morgan", "google"))
    world.add_mailbox(Mailbox(UNNAMED_GOOGLE, "", "google"))
    world.add_mailbox(Mailbox(NAMED_MICROSOFT, "Grace Hopper", "microsoft"))
    with Sandbox(world) as running:
        yield running


@pytest.fixture
def runtime(sandbox: Sandbox, database_url: str) -> Iterator[Runtime]:
    opened = web_runtime(sandbox, database_url)
    yield opened
    opened.db.dispose()


def connect(runtime: Runtime, sandbox: Sandbox, provider: str, address: str) -> str | None:
    """Sign up through the emulator; the name nudger stored for the account."""
    start = accounts.begin_connect(runtime, provider, login_hint=address)
    return accounts.complete_connect(runtime, provider, consent(sandbox, start.url)).name


def nudge_email_to(runtime: Runtime, sandbox: Sandbox, owner: str) -> EmailMessage:
    """The nudge email a lapsed weekly one-on-one makes the cycle send ``owner``."""
    weekly_one_on_ones(sandbox, owner, CONTACT, stopped=timedelta(days=60))
    [report] = run_cycle(runtime, account=owner, now=NOW)
    assert report.error is None
    [sent] = [s for s in sandbox.world.sent if s.mailbox == owner]
    message = email.message_from_bytes(sent.raw, policy=default)
    assert isinstance(message, EmailMessage)
    return message


def text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content()).replace("\r\n", "\n")


@pytest.mark.parametrize(
    ("provider", "address", "name", "greeting"),
    [
        ("google", NAMED_GOOGLE, "Alex Morgan", "Alex"),
        ("google", UNNAMED_GOOGLE, None, "sam.rivera"),
        ("microsoft", NAMED_MICROSOFT, "Grace Hopper", "Grace"),
    ],
    ids=["google-id-token-name", "no-name-the-address", "microsoft-id-token-name"],
)
def test_emails_greet_the_owner_by_the_name_the_provider_gave(
    runtime: Runtime,
    sandbox: Sandbox,
    provider: str,
    address: str,
    name: str | None,
    greeting: str,
) -> None:
    assert connect(runtime, sandbox, provider, address) == name

    message = nudge_email_to(runtime, sandbox, address)

    assert text_of(message).startswith(f"Hi {greeting},\n")
    assert message["From"].addresses[0].display_name == (name or "")


def test_a_real_nudge_email_says_each_thing_once(runtime: Runtime, sandbox: Sandbox) -> None:
    connect(runtime, sandbox, "google", NAMED_GOOGLE)

    message = nudge_email_to(runtime, sandbox, NAMED_GOOGLE)

    html = message.get_body(preferencelist=("html",))
    assert html is not None
    for part in (text_of(message), str(html.get_content())):
        assert "Why now" in part
        assert repeated(part) == []
        assert part.lower().count("last met") == 1, part


@pytest.mark.parametrize(
    ("name", "greeting"),
    [
        ("Alex Morgan", "Alex"),
        ("  Priya  ", "Priya"),
        (None, "alex.morgan"),
        ("", "alex.morgan"),
        ("   ", "alex.morgan"),
        ("alex.morgan@example.com", "alex.morgan"),
    ],
)
def test_the_greeting_is_a_first_name_or_the_local_part(name: str | None, greeting: str) -> None:
    assert greeting_name(name, "alex.morgan@example.com") == greeting
