"""Outlook on Microsoft 365 through Graph v1.0 over plain HTTP (``graph.GraphClient``).

Graph's payloads stop in ``microsoft_payloads``; HTTP failures are mapped in
``graph.map_graph_error`` and msal's in ``microsoft_auth.map_msal_error``. One
connector per account, built with its token source.

Sync uses ``calendarView/delta`` on the window of the round's first request (Graph
bakes it into the links, so the engine's periodic full resync is what moves it
forward). Delta cannot ``$expand`` extended properties, so the few events that may
be nudger's holds (organized by the owner, made with a transactionId) are read
once more to find the hold tag. Delta sends the plain occurrences of a series bare:
``microsoft_series`` completes them from their master (from the round, or read once per
series at its end) and each page passes the masters on, so stored occurrences follow a
master that changes later.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx

from nudger.config import Settings
from nudger.connectors.addresses import checked_mailbox, plain_name
from nudger.connectors.base import (
    AccountProfile,
    BusyInterval,
    CalendarEvent,
    CalendarInfo,
    Connector,
    CreatedHold,
    CredentialSaver,
    HoldRequest,
    Invitation,
    Invited,
    OutgoingEmail,
    Person,
    SentEmail,
    SeriesMaster,
    SyncPage,
    SyncWindow,
)
from nudger.connectors.graph import NOT_SENT_ERRORS, GraphClient, map_graph_error
from nudger.connectors.microsoft_auth import DIRECTORY_READ, HIRE_DATES_READ, MicrosoftTokens
from nudger.connectors.microsoft_payloads import (
    HOLD_PROPERTY_ID,
    UTC_VIEW,
    Viewpoint,
    busy_interval,
    hold_body,
    hold_tag,
    iana_zone,
    invitation_body,
    invited,
    may_be_hold,
    person,
    removed_id,
    to_event,
    utc_query_time,
    working_hours,
)
from nudger.connectors.microsoft_schedule import GraphSchedules, get_schedule
from nudger.connectors.microsoft_series import SeriesRound, is_bare, is_master
from nudger.errors import ConnectorError, NotFound, OutcomeUnknown, RateLimited, TransientError

log = logging.getLogger(__name__)

PAGE_SIZE = 100
HOLD_EXPAND = f"singleValueExtendedProperties($filter=id eq '{HOLD_PROPERTY_ID}')"


class MicrosoftCalendar:
    """CalendarReader, FreeBusyReader and HoldWriter for one Microsoft 365 account."""

    def __init__(self, graph: GraphClient, account: str, *, page_size: int = PAGE_SIZE) -> None:
        self._graph = graph
        self._account = account.lower()
        self._page_size = page_size

    @cached_property
    def _mailbox_settings(self) -> dict[str, Any]:
        return self._graph.get("/me/mailboxSettings")

    @cached_property
    def _owner(self) -> Viewpoint:
        zone = iana_zone(self._mailbox_settings.get("timeZone"))
        return Viewpoint(frozenset({self._account}), ZoneInfo(zone))

    def profile(self) -> AccountProfile:
        me = self._graph.get("/me")
        zone = iana_zone(self._mailbox_settings.get("timeZone"))
        address = checked_mailbox(me.get("mail") or me.get("userPrincipalName"), "Graph /me")
        return AccountProfile(
            email=address or self._account,
            name=plain_name(me.get("displayName")),
            time_zone=zone,
            working_hours=working_hours(self._mailbox_settings, zone),
        )

    def list_calendars(self) -> list[CalendarInfo]:
        return [
            CalendarInfo(c["id"], c.get("name") or c["id"], bool(c.get("isDefaultCalendar")))
            for page in self._graph.pages("/me/calendars")
            for c in page.get("value", [])
        ]

    def sync(self, calendar_id: str, cursor: str | None, window: SyncWindow) -> Iterator[SyncPage]:
        """A full round from the window without a cursor, the changes since it with one."""
        headers = {"Prefer": f"odata.maxpagesize={self._page_size}, {UTC_VIEW}"}
        if cursor:
            first, params = cursor, None
        else:
            first = f"/me/calendars/{calendar_id}/calendarView/delta"
            params = {
                "startDateTime": utc_query_time(window.start),
                "endDateTime": utc_query_time(window.end),
            }
        series = SeriesRound(lambda: self._owner)
        for body in self._graph.pages(first, params=params, headers=headers):
            page = self._page(body, series, full=cursor is None)
            yield self._with_missing_masters(page, series) if page.cursor else page

    def _page(self, body: dict[str, Any], series: SeriesRound, *, full: bool) -> SyncPage:
        events: list[CalendarEvent] = []
        removed: list[str] = []
        masters: list[SeriesMaster] = []
        for item in body.get("value", []):
            gone = removed_id(item)
            if gone is not None:
                removed.append(gone)
            elif is_master(item):
                master, ready = series.master(item)
                masters.append(master)
                events.extend(ready)
            elif is_bare(item):
                filled = series.occurrence(item)  # None: waits for its master
                if filled is not None:
                    events.append(filled)
            else:
                events.append(self._whole(item))
        cursor = body.get("@odata.deltaLink")
        return SyncPage(tuple(events), tuple(removed), cursor, full, tuple(masters))

    def _whole(self, item: dict[str, Any]) -> CalendarEvent:
        event = to_event(item, self._owner, self._hold_contact(item))
        return replace(event, follows_series=True) if item.get("type") == "occurrence" else event

    def _with_missing_masters(self, page: SyncPage, series: SeriesRound) -> SyncPage:
        """The round's last page, plus the occurrences whose master was not in the round:
        each such master is read once."""
        events, masters = list(page.events), list(page.series)
        for master_id in series.missing():
            try:
                item = self._graph.get(f"/me/events/{master_id}", headers={"Prefer": UTC_VIEW})
            except NotFound:
                dropped = series.forget(master_id)
                log.info("series master gone; %d occurrences left for the next round", dropped)
                continue
            master, ready = series.master(item)
            masters.append(master)
            events.extend(ready)
        return replace(page, events=tuple(events), series=tuple(masters))

    def _hold_contact(self, item: dict[str, Any]) -> str | None:
        if not may_be_hold(item):
            return None
        try:
            tagged = self._graph.get(
                f"/me/events/{item['id']}", params={"$select": "id", "$expand": HOLD_EXPAND}
            )
        except NotFound:
            return None  # deleted since the page was served; the next round removes it
        return hold_tag(tagged)

    def busy(self, window: SyncWindow) -> list[BusyInterval]:
        """The owner's busy time from ``getSchedule`` (tentative counts, free does not)."""
        schedule = next(iter(get_schedule(self._graph, [self._account], window)), {})
        if "error" in schedule:
            code = (schedule["error"] or {}).get("responseCode")
            raise ConnectorError(f"Graph getSchedule failed for the owner: {code}")
        intervals = (busy_interval(item) for item in schedule.get("scheduleItems", []))
        return [interval for interval in intervals if interval is not None]

    def create_hold(self, hold: HoldRequest) -> CreatedHold:
        """Idempotent through the transactionId, so retries (ours or the outbox's) are safe."""
        created = self._graph.call("POST", "/me/events", json=hold_body(hold))
        return CreatedHold(event_id=created["id"], web_link=created.get("webLink"))

    def delete_hold(self, event_id: str) -> None:
        try:
            self._graph.call("DELETE", f"/me/events/{event_id}")
        except NotFound:
            log.info("hold %s was already gone", event_id)

    def invite(self, event_id: str, invitation: Invitation) -> Invited:
        """``PATCH /me/events/{id}`` with the attendees: Graph sends the meeting request
        itself (an update that adds attendees mails the ones that changed). The current
        attendees are read first: the contact already on them means an earlier attempt
        went through, and nothing is sent again."""
        path = f"/me/events/{event_id}"
        current = self._graph.get(path, params={"$select": "attendees,isCancelled"})
        if current.get("isCancelled"):
            raise NotFound(f"event {event_id} was cancelled")
        attendees = list(current.get("attendees") or [])
        if any(invited(a, invitation.contact_email) for a in attendees):
            return Invited(event_id, already=True)
        self._graph.call_once("PATCH", path, json=invitation_body(attendees, invitation))
        return Invited(event_id)


class GraphMailSender:
    """MailSender through ``/me/sendMail`` (MIME): one attempt, never an automatic resend."""

    def __init__(self, graph: GraphClient) -> None:
        self._graph = graph

    def send(self, email: OutgoingEmail) -> SentEmail:
        content = base64.b64encode(email.mime)
        headers = {"Content-Type": "text/plain"}
        try:
            response = self._graph.send("POST", "/me/sendMail", headers=headers, content=content)
        except NOT_SENT_ERRORS as exc:
            raise TransientError(f"Graph unreachable: {type(exc).__name__}") from None
        except httpx.TransportError as exc:
            raise OutcomeUnknown(f"Graph sendMail outcome unknown: {type(exc).__name__}") from None
        if not response.is_success:
            raise _send_error(response)
        return SentEmail(provider_message_id=None)  # 202 with an empty body: Graph gives no id


def _send_error(response: httpx.Response) -> ConnectorError:
    """429 was refused (send later); a 5xx may have delivered the mail: outcome unknown."""
    error = map_graph_error(response)
    if response.status_code == 429 and isinstance(error, RateLimited):
        return error
    if response.status_code >= 500:
        return OutcomeUnknown(f"Graph sendMail outcome unknown ({error})", status=error.status)
    return error


class GraphDirectory:
    """DirectoryReader from the org chart; a tenant that forbids it just has no directory."""

    def __init__(self, graph: GraphClient) -> None:
        self._graph = graph

    def direct_reports(self) -> list[Person]:
        try:
            pages = list(self._graph.pages("/me/directReports"))
        except ConnectorError as exc:
            if exc.status != 403:
                raise
            log.info("the tenant does not let nudger read the org chart (403)")
            return []
        found = (person(item) for page in pages for item in page.get("value", []))
        return [p for p in found if p is not None]

    def manager(self) -> Person | None:
        try:
            return person(self._graph.get("/me/manager"))
        except NotFound:
            return None
        except ConnectorError as exc:
            if exc.status != 403:
                raise
            return None


class GraphHireDates:
    """HireDateReader from ``GET /users/{upn}?$select=employeeHireDate`` (User.Read.All)."""

    def __init__(self, graph: GraphClient) -> None:
        self._graph = graph

    def hire_date(self, email: str) -> date | None:
        path = f"/users/{quote(email, safe='@')}"
        user = self._graph.get(path, params={"$select": "employeeHireDate"})
        return hire_date_of(user.get("employeeHireDate"))


def hire_date_of(value: object) -> date | None:
    """The date of a DateTimeOffset hire date: HR systems write midnight, in UTC or in the
    company's zone (``2021-06-11T22:00:00Z`` for 12 June in Paris), so the nearest
    midnight names the day."""
    if not isinstance(value, str) or not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment.astimezone(UTC) + timedelta(hours=12)).date()


def connect(
    settings: Settings, credentials: str, save: CredentialSaver, *, account: str
) -> Connector:
    tokens = MicrosoftTokens(settings, credentials, save, account=account)
    graph = GraphClient(settings, tokens, account)
    calendar = MicrosoftCalendar(graph, account)
    return Connector(
        provider="microsoft",
        calendar=calendar,
        free_busy=calendar,
        holds=calendar,
        mail=GraphMailSender(graph),
        directory=GraphDirectory(graph) if DIRECTORY_READ in tokens.granted_scopes else None,
        hire_dates=_hire_dates(settings, tokens, graph),
        schedules=GraphSchedules(graph, account),
    )


def _hire_dates(
    settings: Settings, tokens: MicrosoftTokens, graph: GraphClient
) -> GraphHireDates | None:
    """Only when the operator turned hire dates on and the user's grant holds the scope."""
    if settings.microsoft_hire_dates and HIRE_DATES_READ in tokens.granted_scopes:
        return GraphHireDates(graph)
    return None
