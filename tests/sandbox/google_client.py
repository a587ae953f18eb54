"""Clients of the emulator's Google front-end, built the way nudger builds them.

The real libraries throughout: google-auth-oauthlib ``Flow`` with PKCE for sign-in,
google-api-python-client over ``httplib2`` for Calendar and Gmail.
"""

from __future__ import annotations

import json
import ssl
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import google_auth_httplib2
import httplib2
import httpx
import pytest
from google.oauth2.credentials import Credentials
from google_auth_oauthlib.flow import Flow
from googleapiclient.discovery import Resource, build
from googleapiclient.errors import HttpError

from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import SandboxEvent, World

AUTH = "https://www.googleapis.com/auth/"
READ, EVENTS, SEND = AUTH + "calendar.readonly", AUTH + "calendar.events", AUTH + "gmail.send"
USERINFO_EMAIL = AUTH + "userinfo.email"
CALLBACK = "https://nudger.test/oauth/google/callback"
GOOGLE_USER = "ada@sandbox-google.test"
"""The Google mailbox of the ``world`` fixture (conftest)."""
MONDAY = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def tls(sandbox: Sandbox) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(sandbox.certs.ca_cert))


def make_flow(sandbox: Sandbox, scopes: list[str]) -> Flow:
    settings = sandbox.settings()
    config = {
        "web": {
            "client_id": settings["google_client_id"],
            "client_secret": settings["google_client_secret"],
            "auth_uri": settings["google_auth_uri"],
            "token_uri": settings["google_token_uri"],
        }
    }
    return Flow.from_client_config(
        config, scopes=scopes, redirect_uri=CALLBACK, autogenerate_code_verifier=True
    )


def consent(sandbox: Sandbox, flow: Flow, **params: str) -> dict[str, str]:
    """Follow the authorization URL like a browser would; the callback's query."""
    url, _ = flow.authorization_url(access_type="offline", **params)
    response = httpx.get(url, verify=tls(sandbox))
    assert response.status_code == 302, response.text
    return {k: v[0] for k, v in parse_qs(urlparse(response.headers["location"]).query).items()}


def connect(sandbox: Sandbox, scopes: list[str], **params: str) -> Credentials:
    flow = make_flow(sandbox, scopes)
    flow.fetch_token(
        code=consent(sandbox, flow, **params)["code"], verify=str(sandbox.certs.ca_cert)
    )
    return flow.credentials


def post_token(sandbox: Sandbox, **form: str) -> httpx.Response:
    settings = sandbox.settings()
    auth = (settings["google_client_id"], settings["google_client_secret"])
    url = settings["google_token_uri"]
    return httpx.post(url, data=form, auth=auth, verify=tls(sandbox))


def service(sandbox: Sandbox, credentials: Credentials, api: str = "calendar") -> Resource:
    http = httplib2.Http(ca_certs=str(sandbox.certs.ca_cert))
    endpoint = sandbox.base_url + ("/calendar/v3/" if api == "calendar" else "/")
    return build(
        api,
        "v3" if api == "calendar" else "v1",
        http=google_auth_httplib2.AuthorizedHttp(credentials, http=http),
        static_discovery=True,
        client_options={"api_endpoint": endpoint},
    )


def calendar(sandbox: Sandbox, scopes: list[str] | None = None) -> Resource:
    return service(sandbox, connect(sandbox, scopes or [READ, EVENTS]))


def add_event(world: World, event_id: str, start: datetime, **fields: Any) -> SandboxEvent:
    mailbox = world.mailbox(GOOGLE_USER)
    end = fields.pop("end", start + timedelta(hours=1))
    event = SandboxEvent(event_id, start, end, fields.pop("organizer", GOOGLE_USER), **fields)
    return world.put_event(mailbox, event)


def error_of(exc: pytest.ExceptionInfo[HttpError]) -> dict[str, Any]:
    return json.loads(exc.value.content)["error"]


def list_all(cal: Resource, **params: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every item across pages, plus the raw pages."""
    pages = [cal.events().list(calendarId="primary", singleEvents=True, **params).execute()]
    while "nextPageToken" in pages[-1]:
        token = pages[-1]["nextPageToken"]
        request = cal.events().list(
            calendarId="primary", singleEvents=True, pageToken=token, **params
        )
        pages.append(request.execute())
    return [item for page in pages for item in page["items"]], pages


def body(summary: str, start: datetime, **extra: Any) -> dict[str, Any]:
    end = start + timedelta(minutes=30)
    times = {"start": {"dateTime": start.isoformat()}, "end": {"dateTime": end.isoformat()}}
    return {"summary": summary, **times, **extra}
