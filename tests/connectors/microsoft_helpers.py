"""Small builders for Microsoft connector tests: a Microsoft mailbox, sign-in, events."""

from __future__ import annotations

import ssl
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlparse

import httpx

from nudger.config import Settings
from nudger.connectors import microsoft
from nudger.connectors.base import Connector, Grant
from nudger.connectors.microsoft_auth import MicrosoftOAuth
from nudger.runtime import Runtime
from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import Mailbox, SandboxAttendee, SandboxEvent, World
from nudger.store.db import session_scope
from nudger.store.models import Account

MS_OWNER = "grace@contoso.example"
REDIRECT = "http://127.0.0.1:8000/oauth/microsoft/callback"


def add_owner(world: World, **fields: object) -> Mailbox:
    """The Microsoft mailbox the tests sign in as (the conftest world holds only Google)."""
    mailbox = Mailbox(MS_OWNER, "Grace Hopper", "microsoft", **fields)  # type: ignore[arg-type]
    return world.add_mailbox(mailbox)


def stored_account(runtime: Runtime) -> int:
    """The owner's account row, as a connector's sync writes under it (no real tokens)."""
    with session_scope(runtime.db) as session:
        account = Account(provider="microsoft", email=MS_OWNER, credentials="-", settings={})
        session.add(account)
        session.flush()
        return account.id


def fill(world: World, owner: Mailbox, count: int, now: datetime) -> None:
    """``count`` one-on-ones with one contact, three hours apart, from 300 days before now."""
    for i in range(count):
        start = now - timedelta(days=300) + timedelta(hours=3 * i)
        add_meeting(world, owner, f"evt{i:05d}", start, "priya@example.com")


def tls(sandbox: Sandbox) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(sandbox.certs.ca_cert))


def consent(sandbox: Sandbox, url: str) -> dict[str, str]:
    """Play the user at the consent screen: follow the authorize URL to the callback."""
    response = httpx.get(url, verify=tls(sandbox))
    assert response.status_code == 302, response.text
    query = parse_qs(urlparse(response.headers["location"]).query)
    return {key: values[0] for key, values in query.items()}


def sign_in(settings: Settings, sandbox: Sandbox, email: str = MS_OWNER) -> Grant:
    oauth = MicrosoftOAuth(settings)
    start = oauth.begin(REDIRECT, login_hint=email)
    return oauth.complete(start.pending, consent(sandbox, start.url))


def connected(
    settings: Settings, sandbox: Sandbox, saved: list[str], email: str = MS_OWNER
) -> Connector:
    grant = sign_in(settings, sandbox, email)
    return microsoft.connect(settings, grant.credentials, saved.append, account=email)


def control(sandbox: Sandbox, action: str, email: str = MS_OWNER) -> None:
    """The emulator's token controls: revoke-refresh-tokens, expire-access-tokens."""
    url = f"{sandbox.base_url}/_sandbox/microsoft/users/{email}/{action}"
    response = httpx.post(url, verify=tls(sandbox))
    assert response.status_code == 200, response.text


def add_meeting(
    world: World, mailbox: Mailbox, event_id: str, start: datetime, *others: str, **fields: object
) -> SandboxEvent:
    attendees = [SandboxAttendee(mailbox.email, mailbox.name)]
    attendees += [SandboxAttendee(other, other.split("@")[0].title()) for other in others]
    fields.setdefault("organizer", mailbox.email)
    end = fields.pop("end", start + timedelta(minutes=30))
    event = SandboxEvent(
        id=event_id,
        start=start,
        end=end,  # type: ignore[arg-type]
        attendees=attendees,
        summary="Meeting",
        **fields,  # type: ignore[arg-type]
    )
    return world.put_event(mailbox, event)


def graph_requests(world: World, suffix: str, method: str = "GET") -> int:
    return sum(1 for r in world.requests if r.path.endswith(suffix) and r.method == method)
