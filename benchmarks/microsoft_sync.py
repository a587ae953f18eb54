"""Microsoft 365 calendar sync against the emulator: full delta round, no-change round, floor.

Builds the same synthetic organisation as ``google_sync.py`` in a Microsoft mailbox at two
sizes, serves it from the emulator in a child process, signs in with real msal
(authorization code with PKCE) and syncs through the real Graph client, calendarView
delta connector, sync engine and a SQLite store in a temporary directory. The floor
fetches the same delta pages (same window, same ``Prefer`` page size) with plain httpx
and only parses the JSON.

Run by hand from the repository root::

    .venv/bin/python benchmarks/microsoft_sync.py [--events-per-week 200] [--profile]
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
from _common import Provider
from _report import main

from nudger.config import Settings
from nudger.connectors import microsoft
from nudger.connectors.base import Grant, SyncWindow
from nudger.connectors.microsoft_auth import MicrosoftOAuth, MicrosoftTokens
from nudger.connectors.microsoft_payloads import utc_query_time


def access_token(settings: Settings, grant: Grant) -> str:
    """From the grant's msal token cache, silently, as the connector gets its own."""
    tokens = MicrosoftTokens(settings, grant.credentials, lambda _blob: None, account=grant.email)
    return tokens.access_token()


def floor_pages(
    client: httpx.Client, settings: Settings, calendar_id: str, window: SyncWindow
) -> Iterator[dict[str, Any]]:
    """``calendarView/delta`` with the connector's window and page size, to the deltaLink."""
    headers = {"Prefer": f"odata.maxpagesize={microsoft.PAGE_SIZE}, {microsoft.UTC_VIEW}"}
    url = f"{settings.graph_endpoint.rstrip('/')}/me/calendars/{calendar_id}/calendarView/delta"
    params: dict[str, str] | None = {
        "startDateTime": utc_query_time(window.start),
        "endDateTime": utc_query_time(window.end),
    }
    while True:
        response = client.get(url, params=params, headers=headers).raise_for_status()
        body: dict[str, Any] = response.json()
        yield body
        url, params = body.get("@odata.nextLink", ""), None  # the link carries the query
        if not url:
            return


MICROSOFT = Provider(
    name="microsoft",
    oauth=MicrosoftOAuth,
    connect=microsoft.connect,
    access_token=access_token,
    events_path="/calendarView/delta",
    floor_pages=floor_pages,
    # Series masters come whole in the delta (issue 10) but are the series, not events:
    # the connector keeps them to fill their bare occurrences and counts no event for them.
    items=lambda page: sum(1 for i in page.get("value", ()) if i.get("type") != "seriesMaster"),
    profile={
        "connector: HTTP + JSON (GraphClient.get)": ("connectors/graph.py", "get"),
        "  msal silent token (access_token)": ("connectors/microsoft_auth.py", "access_token"),
        "connector: payload -> CalendarEvent (_page)": ("connectors/microsoft.py", "_page"),
    },
)

if __name__ == "__main__":
    main(MICROSOFT, __doc__.split("\n")[0])
