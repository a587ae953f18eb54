"""Google Calendar sync against the emulator: full sync, no-change incremental, bare floor.

Builds a synthetic organisation (``nudger.sandbox.orggen``, recurring series included) at
two sizes, serves it from the emulator in a child process, signs in through the real
Google OAuth flow and syncs through the real connector (google-api-python-client), sync
engine and a SQLite store in a temporary directory. The floor fetches the same pages
with plain httpx and only parses the JSON.

Run by hand from the repository root::

    .venv/bin/python benchmarks/google_sync.py [--events-per-week 200] [--profile]
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
from _common import Provider
from _report import main

from nudger.config import Settings
from nudger.connectors import google
from nudger.connectors.base import Grant, SyncWindow
from nudger.connectors.google_auth import GoogleOAuth


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def access_token(_settings: Settings, grant: Grant) -> str:
    return str(json.loads(grant.credentials)["token"])


def floor_pages(
    client: httpx.Client, settings: Settings, calendar_id: str, window: SyncWindow
) -> Iterator[dict[str, Any]]:
    """``events.list`` with the connector's query, following ``nextPageToken``."""
    url = f"{settings.google_api_endpoint.rstrip('/')}/calendar/v3/calendars/"
    url += quote(calendar_id, safe="") + "/events"
    params: dict[str, str | int] = {
        "singleEvents": "true",
        "showDeleted": "true",
        "maxResults": google.PAGE_SIZE,
        "fields": google.LIST_FIELDS,
        "timeMin": _iso(window.start),
        "timeMax": _iso(window.end),
    }
    page_token: str | None = None
    while True:
        query = {**params, "pageToken": page_token} if page_token else params
        body: dict[str, Any] = client.get(url, params=query).raise_for_status().json()
        yield body
        page_token = body.get("nextPageToken")
        if not page_token:
            return


GOOGLE = Provider(
    name="google",
    oauth=GoogleOAuth,
    connect=google.connect,
    access_token=access_token,
    events_path="/events",
    floor_pages=floor_pages,
    items=lambda page: len(page.get("items", ())),
    profile={
        "connector: HTTP + JSON (google._execute)": ("connectors/google.py", "_execute"),
        "connector: payload -> CalendarEvent (_to_page)": ("connectors/google.py", "_to_page"),
    },
)

if __name__ == "__main__":
    main(GOOGLE, __doc__.split("\n")[0])
