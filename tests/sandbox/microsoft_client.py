"""Clients of the emulator's Microsoft front-end, built the way nudger builds them.

The real libraries: ``msal.ConfidentialClientApplication`` (over a ``requests``
session trusting the sandbox CA, ``instance_discovery=False``) for sign-in, plain
``httpx`` for Graph.
"""

from __future__ import annotations

import html
import re
import ssl
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import msal
import requests

from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import SandboxEvent, World

MICROSOFT_USER = "grace@sandbox-microsoft.test"
"""The Microsoft mailbox of the ``world`` fixture (conftest)."""
CALLBACK = "https://nudger.test/oauth/microsoft/callback"
READ, WRITE, SEND = "Calendars.Read", "Calendars.ReadWrite", "Mail.Send"
USER_READ, SETTINGS = "User.Read", "MailboxSettings.Read"
ALL_SCOPES = [USER_READ, SETTINGS, WRITE, SEND]
MONDAY = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def tls(sandbox: Sandbox) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(sandbox.certs.ca_cert))


def make_app(
    sandbox: Sandbox, cache: msal.TokenCache | None = None, tenant: str | None = None
) -> msal.ConfidentialClientApplication:
    """An msal app on the sandbox tenant, or on ``tenant`` (e.g. "organizations")."""
    settings = sandbox.settings()
    if tenant:
        settings["microsoft_authority"] = f"{sandbox.base_url}/{tenant}"
    session = requests.Session()
    session.verify = settings["ca_bundle"]
    session.trust_env = False  # else REQUESTS_CA_BUNDLE in the environment wins over verify
    return msal.ConfidentialClientApplication(
        settings["microsoft_client_id"],
        client_credential=settings["microsoft_client_secret"],
        authority=settings["microsoft_authority"],
        instance_discovery=False,
        http_client=session,
        token_cache=cache or msal.SerializableTokenCache(),
    )


def start_flow(
    app: msal.ConfidentialClientApplication, scopes: list[str] | None = None, **extra: Any
) -> dict[str, Any]:
    """``initiate_auth_code_flow`` as nudger calls it (form_post, login_hint)."""
    extra.setdefault("login_hint", MICROSOFT_USER)
    extra.setdefault("response_mode", "form_post")
    return dict(app.initiate_auth_code_flow(scopes or ALL_SCOPES, redirect_uri=CALLBACK, **extra))


def authorize(sandbox: Sandbox, url: str) -> dict[str, str]:
    """Follow an authorization URL like a browser would; what reaches the callback."""
    response = httpx.get(url, verify=tls(sandbox))
    if response.status_code == 302:
        query = urlparse(response.headers["location"]).query
        return {k: v[0] for k, v in parse_qs(query).items()}
    assert response.status_code == 200, response.text
    assert f'action="{CALLBACK}"' in response.text
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)" />', response.text)
    return {name: html.unescape(value) for name, value in fields}


def sign_in(
    sandbox: Sandbox, scopes: list[str] | None = None, app: Any = None, **extra: Any
) -> tuple[msal.ConfidentialClientApplication, dict[str, Any]]:
    """A full auth-code round with PKCE; the app (holding the cache) and msal's result."""
    app = app or make_app(sandbox)
    flow = start_flow(app, scopes, **extra)
    result = app.acquire_token_by_auth_code_flow(flow, authorize(sandbox, flow["auth_uri"]))
    assert "access_token" in result, result
    return app, result


def access_token(sandbox: Sandbox, scopes: list[str] | None = None) -> str:
    return str(sign_in(sandbox, scopes)[1]["access_token"])


def post_token(sandbox: Sandbox, **form: str) -> httpx.Response:
    settings = sandbox.settings()
    form.setdefault("client_id", settings["microsoft_client_id"])
    form.setdefault("client_secret", settings["microsoft_client_secret"])
    url = settings["microsoft_authority"] + "/oauth2/v2.0/token"
    return httpx.post(url, data=form, verify=tls(sandbox))


def graph(sandbox: Sandbox, token: str | None = None) -> httpx.Client:
    """An httpx client on the Graph endpoint, authorized with ``token`` if given."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    base = sandbox.settings()["graph_endpoint"]
    return httpx.Client(base_url=base, headers=headers, verify=tls(sandbox))


def add_event(world: World, event_id: str, start: datetime, **fields: Any) -> SandboxEvent:
    mailbox = world.mailbox(MICROSOFT_USER)
    end = fields.pop("end", start + timedelta(hours=1))
    event = SandboxEvent(event_id, start, end, fields.pop("organizer", MICROSOFT_USER), **fields)
    return world.put_event(mailbox, event)


def delta_round(
    client: httpx.Client, first: str, **headers: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Follow ``@odata.nextLink`` from ``first`` to the page with ``@odata.deltaLink``."""
    pages = [_get_ok(client, first, headers)]
    while "@odata.nextLink" in pages[-1]:
        pages.append(_get_ok(client, pages[-1]["@odata.nextLink"], headers))
    return [item for page in pages for item in page["value"]], pages


def _get_ok(client: httpx.Client, url: str, headers: dict[str, str]) -> dict[str, Any]:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


WINDOW = "startDateTime=2025-03-01T00:00:00Z&endDateTime=2025-04-01T00:00:00Z"
DELTA = "/me/calendarView/delta?" + WINDOW
