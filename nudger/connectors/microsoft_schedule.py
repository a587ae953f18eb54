"""Free/busy, working hours and time zones of people in the owner's tenant, through
``POST /me/calendar/getSchedule``.

One request reads at most ``MAX_SCHEDULES`` mailboxes (Graph's documented limit, 20) over
at most 62 days (``schedules.MAX_WINDOW``); times come back in UTC
(``Prefer: outlook.timezone="UTC"``, also Graph's default). Each person's working hours
carry a Windows zone name, mapped to IANA with CLDR's table (``microsoft_payloads``).
Calendars.ReadWrite, which nudger already asks for, covers it (the least privileged
permission is Calendars.ReadBasic).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nudger.connectors.base import ContactSchedule, SyncWindow
from nudger.connectors.graph import GraphClient
from nudger.connectors.microsoft_payloads import UTC_VIEW, contact_schedule, graph_time
from nudger.connectors.schedules import read_schedules

MAX_SCHEDULES = 20
INTERVAL_MINUTES = 30


def get_schedule(
    graph: GraphClient, addresses: Sequence[str], window: SyncWindow
) -> list[dict[str, Any]]:
    """The ``scheduleInformation`` of each address (Graph answers in request order)."""
    body = {
        "schedules": list(addresses),
        "startTime": graph_time(window.start, "UTC"),
        "endTime": graph_time(window.end, "UTC"),
        "availabilityViewInterval": INTERVAL_MINUTES,
    }
    headers = {"Prefer": UTC_VIEW}
    result = graph.call("POST", "/me/calendar/getSchedule", json=body, headers=headers)
    return list(result.get("value") or [])


class GraphSchedules:
    """ScheduleReader for one Microsoft 365 account."""

    def __init__(self, graph: GraphClient, account: str) -> None:
        self._graph = graph
        self._account = account.lower()

    def schedules(self, emails: Sequence[str], window: SyncWindow) -> list[ContactSchedule]:
        return read_schedules(emails, window, self._account, MAX_SCHEDULES, self._ask)

    def _ask(self, batch: Sequence[str], window: SyncWindow) -> dict[str, ContactSchedule]:
        found = (contact_schedule(item) for item in get_schedule(self._graph, batch, window))
        return {schedule.email: schedule for schedule in found if schedule.email in batch}
