"""Small builders for Google connector tests: sign in through the real flow, add events."""

from __future__ import annotations

import ssl
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlparse

import httpx

from nudger.config import Settings
from nudger.connectors import google
from nudger.connectors.base import Connector, Grant
from nudger.connectors.google_auth import GoogleOAuth
from nudger.sandbox import google_tokens
from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import Mailbox, SandboxAttendee, SandboxEvent, World

REDIRECT = "http://127.0.0.1:8000/oauth/google/callback"


def consent(sandbox: Sandbox, url: str) -> dict[str, str]:
    """Play the user at the consent screen: follow the authorize URL to the callback."""
    response = httpx.get(url, verify=ssl.create_default_context(cafile=sandbox.certs.ca_cert))
    assert response.status_code == 302, response.text
    query = parse_qs(urlparse(response.headers["location"]).query)
    return {key: values[0] for key, values in query.items()}


def sign_in(settings: Settings, sandbox: Sandbox, email: str) -> Grant:
    oauth = GoogleOAuth(settings)
    start = oauth.begin(REDIRECT, login_hint=email)
    return oauth.complete(start.pending, consent(sandbox, start.url))


def connected(settings: Settings, sandbox: Sandbox, email: str, saved: list[str]) -> Connector:
    grant = sign_in(settings, sandbox, email)
    return google.connect(settings, grant.credentials, saved.append, account=email)


def add_meeting(
    world: World, mailbox: Mailbox, event_id: str, start: datetime, *others: str, **fields: object
) -> SandboxEvent:
    attendees = [SandboxAttendee(mailbox.email, mailbox.name)]
    attendees += [SandboxAttendee(other, other.split("@")[0].title()) for other in others]
    event = SandboxEvent(
        id=event_id,
        start=start,
        end=start + timedelta(minutes=30),
        organizer=mailbox.email,
        attendees=attendees,
        summary="Meeting",
        **fields,  # type: ignore[arg-type]
    )
    return world.put_event(mailbox, event)


def issued_refresh_token_works(sandbox: Sandbox, code: str) -> bool:
    """Whether the refresh token Google issued for ``code`` still gets access tokens (a
    dead one answers ``invalid_grant``, as Google does after a revoke)."""
    with sandbox.world.lock:
        issued = google_tokens.codes(sandbox.world)[code].issued
    [refresh] = [token for token in issued if token.startswith("1//")]
    settings = sandbox.settings()
    response = httpx.post(
        settings["google_token_uri"],
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh,
            "client_id": settings["google_client_id"],
            "client_secret": settings["google_client_secret"],
        },
        verify=ssl.create_default_context(cafile=sandbox.certs.ca_cert),
    )
    if response.status_code != 200:
        assert response.json()["error"] == "invalid_grant", response.text
    return response.status_code == 200
