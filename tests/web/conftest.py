"""Web fixtures: the emulator, nudger opened on a real database, and test clients.

Every helper goes through real HTTP: sign-up follows the OAuth redirects through the
emulator, and CSRF tokens are read from the pages the server rendered.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from starlette.testclient import TestClient

from nudger.config import load_settings
from nudger.runtime import Runtime, open_runtime
from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import Mailbox, SandboxAttendee, SandboxEvent, World
from nudger.web.app import create_app
from tests.connectors.google_helpers import consent

OWNER = "alex@sandbox.example"
OTHER = "blake@sandbox.example"
NOW = datetime(2026, 3, 4, 10, tzinfo=UTC)
"""A Wednesday morning: the clock the web app is given in these tests."""

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_PROOF = re.compile(r'name="confirm" value="([^"]+)"')


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    world = World()
    world.add_mailbox(Mailbox(OWNER, "Alex Morgan", "google"))
    world.add_mailbox(Mailbox(OTHER, "Blake Jones", "google"))
    with Sandbox(world) as running:
        yield running


def web_runtime(
    sandbox: Sandbox,
    database_url: str,
    base_url: str = "http://testserver",
    secret_key: str = "",
    **overrides: str,
) -> Runtime:
    """nudger on ``database_url`` with every provider at the emulator (``overrides`` win)."""
    settings = load_settings(
        **{**sandbox.settings(), **overrides},
        database_url=database_url,
        encryption_keys=Fernet.generate_key().decode(),
        base_url=base_url,
        secret_key=secret_key,
    )
    return open_runtime(settings)


@pytest.fixture
def runtime(sandbox: Sandbox, database_url: str) -> Iterator[Runtime]:
    opened = web_runtime(sandbox, database_url)
    yield opened
    opened.db.dispose()


def new_client(runtime: Runtime, clock: Callable[[], datetime] = lambda: NOW) -> TestClient:
    """A browser of its own (its own cookie jar) on the app."""
    return TestClient(create_app(runtime, clock=clock), follow_redirects=False)


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with new_client(runtime) as test_client:
        yield test_client


@pytest.fixture
def other_client(runtime: Runtime) -> Iterator[TestClient]:
    with new_client(runtime) as test_client:
        yield test_client


def sign_up(client: TestClient, sandbox: Sandbox, email: str = OWNER) -> str:
    """Connect Google through the emulator; the browser ends signed in, sent to the guided
    start (a new account) or the dashboard (one that had it): the place is returned."""
    start = client.get("/connect/google", params={"login_hint": email})
    assert start.status_code == 302
    done = client.get("/oauth/google/callback", params=consent(sandbox, start.headers["location"]))
    assert done.status_code == 303, done.text
    assert done.headers["location"] in ("/start", "/dashboard")
    return str(done.headers["location"])


def csrf_of(client: TestClient, page: str = "/settings") -> str:
    """The CSRF token as a browser sees it: in a form of a page the server rendered."""
    response = client.get(page)
    assert response.status_code == 200, response.text
    found = _CSRF.search(response.text)
    assert found, "no CSRF field on the page"
    return found.group(1)


def weekly_one_on_ones(
    sandbox: Sandbox,
    owner: str,
    contact: str,
    *,
    stopped: timedelta,
    weeks: int = 30,
    contact_name: str | None = None,
) -> None:
    """Weekly one-on-ones of ``owner`` with ``contact``, the last ``stopped`` before NOW
    (long enough ago, it makes a neglected contact)."""
    mailbox = sandbox.world.mailbox(owner)
    prefix = re.sub(r"[^a-z0-9]", "", contact.split("@")[0].lower())
    last = NOW - stopped
    for week in range(weeks):
        start = last - timedelta(weeks=week)
        event = SandboxEvent(
            id=f"{prefix}{week}",
            start=start,
            end=start + timedelta(minutes=30),
            organizer=owner,
            attendees=[
                SandboxAttendee(owner, "Owner"),
                SandboxAttendee(contact, contact_name or contact.split("@")[0].title()),
            ],
            summary="Catch-up",
        )
        sandbox.world.put_event(mailbox, event)


def proof_of(html: str) -> str:
    found = _PROOF.search(html)
    assert found, "no confirmation proof on the page"
    return found.group(1)
