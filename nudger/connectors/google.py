"""Google Calendar and Gmail through google-api-python-client.

Google's payloads stop here: ``to_event`` turns them into ``CalendarEvent`` and
``map_google_error`` turns every HTTP failure into nudger's exception tree. One
connector per account, built with its token source; services are built from the
discovery documents shipped in the package (no network), pointed at
``NUDGER_GOOGLE_API_ENDPOINT``.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import logging
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import google_auth_httplib2
import httplib2
from google.auth.exceptions import RefreshError
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import Resource, build
from googleapiclient.errors import HttpError

from nudger.config import Settings
from nudger.connectors.addresses import checked_mailbox, clip, plain_name, same_address
from nudger.connectors.base import (
    HOLD_TAG_KEY,
    AccountProfile,
    Attendee,
    BusyInterval,
    CalendarEvent,
    CalendarInfo,
    Connector,
    CreatedHold,
    CredentialSaver,
    EventKind,
    HoldRequest,
    Invitation,
    Invited,
    OutgoingEmail,
    Response,
    SentEmail,
    SyncPage,
    SyncWindow,
    WorkingHours,
)
from nudger.connectors.google_auth import DIRECTORY_READ, GoogleTokens, map_refresh_error
from nudger.connectors.google_directory import GoogleDirectory
from nudger.connectors.google_schedule import (
    GoogleSchedules,
    busy_intervals,
    free_busy,
    parse_rfc3339,
    rfc3339,
)
from nudger.connectors.retry import call_with_retries, parse_retry_after
from nudger.connectors.tls import ca_bundle_path
from nudger.errors import (
    AuthRevoked,
    ConnectorError,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    SyncCursorExpired,
    TransientError,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

PAGE_SIZE = 2500  # the largest maxResults Google allows
EVENT_FIELDS = (
    "id,status,start,end,eventType,transparency,recurringEventId,originalStartTime,iCalUID,"
    "organizer(email),attendees(email,displayName,responseStatus,self,resource,organizer,optional),"
    "extendedProperties/private"
)
LIST_FIELDS = f"nextPageToken,nextSyncToken,timeZone,items({EVENT_FIELDS})"
RATE_LIMIT_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}
RESPONSES = {
    "accepted": Response.ACCEPTED,
    "declined": Response.DECLINED,
    "tentative": Response.TENTATIVE,
    "needsAction": Response.NEEDS_ACTION,
}
KINDS = {
    "default": EventKind.MEETING,
    "fromGmail": EventKind.MEETING,
    "outOfOffice": EventKind.OUT_OF_OFFICE,
    "focusTime": EventKind.FOCUS_TIME,
    "workingLocation": EventKind.WORKING_LOCATION,
}
NETWORK_ERRORS = (OSError, socket.timeout, ssl.SSLError, httplib2.HttpLib2Error)


# --- errors -------------------------------------------------------------------


def map_google_error(exc: HttpError) -> ConnectorError:
    """The one place where Google's HTTP errors become nudger's exceptions."""
    status = exc.resp.status
    reason = _error_reason(exc)
    message = f"Google API {status} {reason or ''}".strip()
    if status == 410:
        if reason == "fullSyncRequired" or "sync" in (exc.uri or "").lower():
            return SyncCursorExpired(message, status=status)
        return NotFound(message, status=status)
    if status == 404:
        return NotFound(message, status=status)
    if status == 429 or (status == 403 and reason in RATE_LIMIT_REASONS):
        return RateLimited(message, status=status, retry_after=_retry_after(exc))
    if status == 401:
        return AuthRevoked(message, status=status)
    if status >= 500:
        return TransientError(message, status=status, retry_after=_retry_after(exc))
    return ConnectorError(message, status=status)


def _error_reason(exc: HttpError) -> str | None:
    try:
        body = json.loads(exc.content.decode("utf-8"))
        errors = body.get("error", {}).get("errors") or [{}]
        reason = errors[0].get("reason")
        return str(reason) if reason else None
    except (ValueError, AttributeError):
        return None


def _retry_after(exc: HttpError) -> float | None:
    """Seconds or an HTTP-date (RFC 9110); httplib2 lower-cases header names."""
    return parse_retry_after(exc.resp.get("retry-after"))


def _calendar_list_page(api: CalendarApi, token: str | None) -> Any:
    return api.calendar_list.list(pageToken=token, maxResults=250)


def _events_page(api: CalendarApi, token: str | None, params: dict[str, Any]) -> Any:
    return api.events.list(pageToken=token, **params)


def _execute(request: Any, http: Any = None) -> Any:
    """Execute one request (on ``http`` when given), mapping failures; retried by the
    caller when transient."""
    try:
        return request.execute(http=http, num_retries=0)
    except HttpError as exc:
        raise map_google_error(exc) from None
    except RefreshError as exc:  # a 401 made the library refresh, and the grant is gone
        raise map_refresh_error(exc) from None
    except NETWORK_ERRORS as exc:
        raise TransientError(f"network error talking to Google: {type(exc).__name__}") from None


# --- services -----------------------------------------------------------------


_local = threading.local()


def authorized_http(
    settings: Settings, credentials: Credentials, *, shared: bool
) -> google_auth_httplib2.AuthorizedHttp:
    http = shared_http(settings) if shared else _new_http(settings)
    return google_auth_httplib2.AuthorizedHttp(credentials, http=http)


def _new_http(settings: Settings) -> httplib2.Http:
    return httplib2.Http(ca_certs=ca_bundle_path(settings.ca_bundle), timeout=60)


def shared_http(settings: Settings) -> httplib2.Http:
    """The thread's plain HTTP client for this CA bundle, shared by every account's
    Calendar connector (each wraps it with its own credentials): loading the CA file
    into a TLS context costs more than a whole incremental sync, and kept-alive
    connections save a handshake per request. Per thread, because ``httplib2.Http`` is
    not thread-safe. Gmail keeps a client of its own: httplib2 resends a request whose
    kept-alive connection turns out stale, which Calendar's requests (reads, holds with
    deterministic ids) take safely and a ``messages.send`` must never risk."""
    ca_certs = ca_bundle_path(settings.ca_bundle)
    clients: dict[str, httplib2.Http] = _local.__dict__.setdefault("clients", {})
    http = clients.get(ca_certs)
    if http is None:
        http = clients[ca_certs] = _new_http(settings)
    return http


@dataclass(frozen=True)
class CalendarApi:
    """Calendar's resources. Building them from the discovery document costs most of a
    no-change request's CPU (every ``service.events()`` makes each method anew), so they
    are built once per process and endpoint; the requests they make carry no
    credentials and run on their account's authorized client (``_execute``)."""

    calendars: Resource
    calendar_list: Resource
    events: Resource
    freebusy: Resource


@functools.cache
def calendar_api(endpoint: str) -> CalendarApi:
    service = build(
        "calendar",
        "v3",
        http=httplib2.Http(),  # never used: every request runs on an account's own client
        static_discovery=True,
        cache_discovery=False,
        client_options={"api_endpoint": endpoint.rstrip("/") + "/calendar/v3/"},
    )
    return CalendarApi(
        service.calendars(), service.calendarList(), service.events(), service.freebusy()
    )


def gmail_service(settings: Settings, credentials: Credentials) -> Resource:
    endpoint = settings.google_api_endpoint.rstrip("/") + "/"
    return build(
        "gmail",
        "v1",
        http=authorized_http(settings, credentials, shared=False),
        static_discovery=True,
        cache_discovery=False,
        client_options={"api_endpoint": endpoint},
    )


# --- payload conversion ---------------------------------------------------------


def _parse_time(value: dict[str, str], zone: ZoneInfo) -> tuple[datetime, bool]:
    if "dateTime" in value:
        return parse_rfc3339(value["dateTime"]), False
    day = date.fromisoformat(value["date"])
    return datetime.combine(day, time(0), zone).astimezone(UTC), True


def _attendees(item: dict[str, Any], where: str) -> tuple[Attendee, ...]:
    """The invited people whose address is usable (``addresses``); the rest are left out."""
    found = (_attendee(a, where) for a in item.get("attendees", ()) if a.get("email"))
    return tuple(a for a in found if a is not None)


def _attendee(item: dict[str, Any], where: str) -> Attendee | None:
    email = checked_mailbox(item.get("email"), where)
    if email is None:
        return None
    return Attendee(
        email=email,
        name=plain_name(item.get("displayName")),
        response=RESPONSES.get(item.get("responseStatus", ""), Response.NEEDS_ACTION),
        is_resource=bool(item.get("resource")),
        is_self=bool(item.get("self")),
        is_organizer=bool(item.get("organizer")),
        optional=bool(item.get("optional")),
    )


def to_event(item: dict[str, Any], zone: ZoneInfo) -> CalendarEvent | None:
    """A Google event as nudger's ``CalendarEvent``; None for a bare deletion marker."""
    original = item.get("originalStartTime")
    when = item.get("start") or original
    if when is None:
        return None
    start, all_day = _parse_time(when, zone)
    end = _parse_time(item["end"], zone)[0] if "end" in item else start
    private = (item.get("extendedProperties") or {}).get("private") or {}
    where = f"Google event {clip(item['id'])}"
    return CalendarEvent(
        event_id=item["id"],
        start=start,
        end=end,
        attendees=_attendees(item, where),
        all_day=all_day,
        cancelled=item.get("status") == "cancelled",
        kind=KINDS.get(item.get("eventType", "default"), EventKind.OTHER),
        busy=item.get("transparency") != "transparent",
        organizer_email=checked_mailbox((item.get("organizer") or {}).get("email"), where),
        series_id=item.get("recurringEventId"),
        original_start=_parse_time(original, zone)[0] if original else None,
        ical_uid=item.get("iCalUID"),
        hold_contact=checked_mailbox(private.get(HOLD_TAG_KEY), where),
    )


def hold_event_id(key: str) -> str:
    """A deterministic Google event id (base32hex, lower case) from the outbox key."""
    digest = hashlib.sha256(key.encode()).digest()
    return base64.b32hexencode(digest).decode().rstrip("=").lower()


# --- the connector ----------------------------------------------------------------


class AccountRequests:
    """Runs one account's Google API requests on its authorized client, with retries."""

    def __init__(self, settings: Settings, tokens: GoogleTokens) -> None:
        self._settings = settings
        self._tokens = tokens
        self._http: google_auth_httplib2.AuthorizedHttp | None = None

    def run(self, make: Callable[[], Any], *, retry: bool = True) -> Any:
        """Execute the request ``make`` builds (anew for each attempt); retried while
        transient unless ``retry`` is False (a change that mails people: the outbox
        retries it, reading the event first)."""
        credentials = self._tokens.credentials
        if self._http is None:
            self._http = authorized_http(self._settings, credentials, shared=True)
        once = lambda: _execute(make(), self._http)  # noqa: E731
        try:
            return call_with_retries(once) if retry else once()
        finally:
            self._tokens.persist_if_changed()


class GoogleCalendar:
    """CalendarReader, FreeBusyReader and HoldWriter for one Google account."""

    def __init__(self, settings: Settings, requests: AccountRequests, account: str) -> None:
        self._settings = settings
        self._requests = requests
        self._account = account.lower()

    def _call(self, make: Callable[[CalendarApi], Any], *, retry: bool = True) -> Any:
        api = calendar_api(self._settings.google_api_endpoint)
        return self._requests.run(lambda: make(api), retry=retry)

    def profile(self) -> AccountProfile:
        primary = self._call(lambda api: api.calendars.get(calendarId="primary"))
        zone = primary.get("timeZone") or "UTC"
        # No name: the primary calendar's summary is the user's address unless renamed
        # (then it names a calendar, not a person). The ID token's name, kept at
        # sign-up, stays (see google_auth).
        return AccountProfile(
            email=checked_mailbox(primary.get("id"), "Google profile") or self._account,
            name=None,
            time_zone=zone,
            working_hours=WorkingHours(time_zone=zone),  # Google exposes no working hours API
        )

    def list_calendars(self) -> list[CalendarInfo]:
        calendars: list[CalendarInfo] = []
        token: str | None = None
        while True:
            page = self._call(functools.partial(_calendar_list_page, token=token))
            calendars += [
                CalendarInfo(
                    c["id"], c.get("summary", c["id"]), bool(c.get("primary")), c.get("timeZone")
                )
                for c in page.get("items", [])
            ]
            token = page.get("nextPageToken")
            if not token:
                return calendars

    def sync(self, calendar_id: str, cursor: str | None, window: SyncWindow) -> Iterator[SyncPage]:
        """Full round without a cursor, incremental with one; pages until no nextPageToken."""
        params: dict[str, Any] = {
            "calendarId": calendar_id,
            "singleEvents": True,
            "showDeleted": True,
            "maxResults": PAGE_SIZE,
            "fields": LIST_FIELDS,
        }
        if cursor:
            params["syncToken"] = cursor
        else:
            params.update(timeMin=rfc3339(window.start), timeMax=rfc3339(window.end))
        page_token: str | None = None
        while True:
            body = self._call(functools.partial(_events_page, token=page_token, params=params))
            yield _to_page(body, full=cursor is None)
            page_token = body.get("nextPageToken")
            if not page_token:
                return

    def busy(self, window: SyncWindow) -> list[BusyInterval]:
        calendar: dict[str, Any] = next(
            iter(free_busy(self._call, ["primary"], window).values()), {}
        )
        return list(busy_intervals(calendar))

    def create_hold(self, hold: HoldRequest) -> CreatedHold:
        event_id = hold_event_id(hold.key)
        body = _hold_body(hold, event_id)
        send = "all" if hold.invite_contact else "none"  # a retry meets 409: no second mail
        try:
            created = self._call(
                lambda api: api.events.insert(calendarId="primary", body=body, sendUpdates=send)
            )
        except ConnectorError as exc:
            if exc.status != 409:
                raise
            # An earlier attempt already created it: the id is ours, so this is success.
            created = self._call(lambda api: api.events.get(calendarId="primary", eventId=event_id))
        return CreatedHold(event_id=created["id"], web_link=created.get("htmlLink"))

    def delete_hold(self, event_id: str) -> None:
        try:
            self._call(
                lambda api: api.events.delete(
                    calendarId="primary", eventId=event_id, sendUpdates="none"
                )
            )
        except NotFound:
            log.info("hold %s was already gone", event_id)

    def invite(self, event_id: str, invitation: Invitation) -> Invited:
        """``events.patch`` with ``sendUpdates=all`` (Google mails every guest). A patch
        overwrites the whole attendees array, so the current one is read first; a contact
        already on it means an earlier attempt went through, and nothing is sent again."""
        current = self._call(lambda api: api.events.get(calendarId="primary", eventId=event_id))
        if current.get("status") == "cancelled":  # a deleted event still answers get
            raise NotFound(f"event {event_id} was deleted")
        attendees = list(current.get("attendees") or [])
        if any(same_address(a.get("email"), invitation.contact_email) for a in attendees):
            return Invited(event_id, already=True)
        body = _invitation_body(attendees, invitation)
        self._call(
            lambda api: api.events.patch(
                calendarId="primary", eventId=event_id, body=body, sendUpdates="all"
            ),
            retry=False,
        )
        return Invited(event_id)


def _invitation_body(attendees: list[dict[str, Any]], invitation: Invitation) -> dict[str, Any]:
    guest = {"email": invitation.contact_email, "displayName": invitation.contact_name or ""}
    return {
        "summary": invitation.title,
        "description": invitation.description,
        "visibility": "default",  # the hold was private; a shared meeting is not
        "attendees": [*attendees, guest],
    }


def _to_page(body: dict[str, Any], *, full: bool) -> SyncPage:
    zone = ZoneInfo(body.get("timeZone") or "UTC")
    events: list[CalendarEvent] = []
    removed: list[str] = []
    for item in body.get("items", []):
        event = to_event(item, zone)
        if event is None:
            removed.append(item["id"])
        else:
            events.append(event)
    return SyncPage(tuple(events), tuple(removed), body.get("nextSyncToken"), full)


def _hold_body(hold: HoldRequest, event_id: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": event_id,
        "summary": hold.title,
        "description": hold.description,
        "start": {"dateTime": rfc3339(hold.start), "timeZone": hold.time_zone},
        "end": {"dateTime": rfc3339(hold.end), "timeZone": hold.time_zone},
        "visibility": "private",
        "transparency": "opaque",
        "reminders": {"useDefault": True},
        "extendedProperties": {"private": {HOLD_TAG_KEY: hold.contact_email}},
    }
    if hold.invite_contact:
        body.update(attendees=[{"email": hold.contact_email}], visibility="default")
    return body


class GmailSender:
    """MailSender through ``users.messages.send``: one attempt, never an automatic resend."""

    def __init__(self, settings: Settings, tokens: GoogleTokens) -> None:
        self._settings = settings
        self._tokens = tokens

    def send(self, email: OutgoingEmail) -> SentEmail:
        raw = base64.urlsafe_b64encode(email.mime).decode()
        service = gmail_service(self._settings, self._tokens.credentials)
        request = service.users().messages().send(userId="me", body={"raw": raw})
        try:
            result = request.execute(num_retries=0)
        except HttpError as exc:
            raise _send_error(map_google_error(exc)) from None
        except RefreshError as exc:  # refused before sending
            raise map_refresh_error(exc) from None
        except (ConnectionRefusedError, socket.gaierror) as exc:
            raise TransientError(f"Gmail unreachable: {type(exc).__name__}") from None
        except NETWORK_ERRORS as exc:
            raise OutcomeUnknown(f"Gmail send outcome unknown: {type(exc).__name__}") from None
        finally:
            self._tokens.persist_if_changed()
        return SentEmail(provider_message_id=result.get("id"))


def _send_error(error: ConnectorError) -> ConnectorError:
    """A 5xx on send may have delivered the mail: its outcome is unknown, not transient."""
    if isinstance(error, TransientError) and not isinstance(error, RateLimited):
        return OutcomeUnknown(f"Gmail send outcome unknown ({error})", status=error.status)
    return error


def connect(
    settings: Settings, credentials: str, save: CredentialSaver, *, account: str
) -> Connector:
    tokens = GoogleTokens(settings, credentials, save, account=account)
    requests = AccountRequests(settings, tokens)
    calendar = GoogleCalendar(settings, requests, account)
    directory = (
        GoogleDirectory(settings.google_people_endpoint, requests.run, account)
        if tokens.granted(DIRECTORY_READ)
        else None
    )
    return Connector(
        provider="google",
        calendar=calendar,
        free_busy=calendar,
        holds=calendar,
        mail=GmailSender(settings, tokens),
        directory=directory,
        schedules=GoogleSchedules(calendar._call, account),
    )
