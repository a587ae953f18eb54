"""Calendar v3 on the emulator: calendar list, calendars, settings, events, freeBusy.

Every mailbox has one calendar, its primary, whose id is the mailbox address
(``primary`` is an alias). Scopes are checked as the discovery document lists them
per method. ``sendUpdates=all|externalOnly`` records the invitation emails Google
would send in ``world.sent`` (``none``, the default, sends nothing); attendees'
own sandbox calendars are not updated. Listing rules: see ``google_listing``.
"""

from __future__ import annotations

import dataclasses
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from nudger.clock import utcnow
from nudger.sandbox import google_tokens
from nudger.sandbox.google_common import (
    GoogleError,
    bad_request,
    format_datetime,
    format_stamp,
    google_endpoint,
    json_body,
    parse_bool,
    parse_rfc3339,
    parse_zone,
)
from nudger.sandbox.google_events import (
    blank_event,
    check_client_id,
    event_from_body,
    event_json,
    new_event_id,
)
from nudger.sandbox.google_listing import list_page, parse_query
from nudger.sandbox.world import Mailbox, SandboxEvent, World

PREFIX = "/calendar/v3"
_CAL = "https://www.googleapis.com/auth/calendar"


def _scopes(*suffixes: str) -> frozenset[str]:
    return frozenset(_CAL + suffix for suffix in suffixes)


READ_EVENTS = _scopes("", ".readonly", ".events", ".events.readonly", ".events.owned")
WRITE_EVENTS = _scopes("", ".events", ".events.owned")
FREE_BUSY = _scopes("", ".readonly", ".freebusy", ".events.freebusy")
CALENDAR_LIST = _scopes("", ".readonly", ".calendarlist", ".calendarlist.readonly")
CALENDARS = _scopes("", ".readonly", ".calendars", ".calendars.readonly")
SETTINGS = _scopes("", ".readonly", ".settings", ".settings.readonly")
MAX_CALENDARS = 50
DEFAULT_REMINDERS = [{"method": "popup", "minutes": 10}]


class GoogleCalendar:
    def __init__(self, world: World) -> None:
        self.world = world

    def _user(self, request: Request, scopes: frozenset[str]) -> Mailbox:
        return google_tokens.authenticate(self.world, request, scopes)

    def _calendar(self, request: Request, scopes: frozenset[str]) -> Mailbox:
        mailbox = self._user(request, scopes)
        if request.path_params["calendar_id"] not in ("primary", mailbox.email):
            raise GoogleError(404, "notFound", "Not Found")
        return mailbox

    # --- calendars and settings ------------------------------------------------------------

    @google_endpoint
    async def calendar_list(self, request: Request) -> Response:
        mailbox = self._user(request, CALENDAR_LIST)
        if request.query_params.get("pageToken"):
            raise bad_request("Invalid page token.", location="pageToken")
        unchanged = bool(request.query_params.get("syncToken"))
        body = {
            "kind": "calendar#calendarList",
            "etag": f'"{mailbox.sync_epoch}"',
            "nextSyncToken": f"sandbox-calendar-list-{mailbox.sync_epoch}",
            "items": [] if unchanged else [_list_entry(mailbox)],
        }
        return JSONResponse(body)

    @google_endpoint
    async def get_calendar(self, request: Request) -> Response:
        mailbox = self._calendar(request, CALENDARS)
        return JSONResponse(
            {
                "kind": "calendar#calendar",
                "etag": f'"{mailbox.sync_epoch}"',
                "id": mailbox.email,
                "summary": mailbox.email,
                "timeZone": mailbox.time_zone,
                "conferenceProperties": {"allowedConferenceSolutionTypes": ["hangoutsMeet"]},
            }
        )

    @google_endpoint
    async def get_setting(self, request: Request) -> Response:
        mailbox = self._user(request, SETTINGS)
        if request.path_params["setting"] != "timezone":
            raise GoogleError(404, "notFound", "Not Found")
        body = {"kind": "calendar#setting", "etag": '"0"', "id": "timezone"}
        return JSONResponse({**body, "value": mailbox.time_zone})

    # --- events ---------------------------------------------------------------------------

    @google_endpoint
    async def list_events(self, request: Request) -> Response:
        mailbox = self._calendar(request, READ_EVENTS)
        query = parse_query(request.query_params, mailbox)
        page = list_page(self.world, mailbox, query, request.query_params.get("pageToken"))
        header = {
            "kind": "calendar#events",
            "etag": f'"{self.world.version}"',
            "summary": mailbox.email,
            "updated": format_stamp(utcnow()),
            "timeZone": mailbox.time_zone,
            "accessRole": "owner",
            "defaultReminders": DEFAULT_REMINDERS,
        }
        return JSONResponse({**header, **page})

    @google_endpoint
    async def get_event(self, request: Request) -> Response:
        mailbox = self._calendar(request, READ_EVENTS)
        with self.world.lock:
            event = self._existing(mailbox, request, allow_deleted=True)
            return self._event_response(event, mailbox, request)

    @google_endpoint
    async def insert_event(self, request: Request) -> Response:
        mailbox = self._calendar(request, WRITE_EVENTS)
        body = await json_body(request)
        send = _send_updates(request)
        with self.world.lock:
            event_id = check_client_id(body["id"]) if "id" in body else new_event_id()
            if event_id in mailbox.events:
                raise GoogleError(409, "duplicate", "The requested identifier already exists.")
            event = event_from_body(body, mailbox, blank_event(event_id, mailbox))
            stored = self.world.put_event(mailbox, event)
            self._notify(mailbox, stored, send, "Invitation")
            return self._event_response(stored, mailbox, request)

    @google_endpoint
    async def patch_event(self, request: Request) -> Response:
        return await self._change(request, patch=True)

    @google_endpoint
    async def update_event(self, request: Request) -> Response:
        return await self._change(request, patch=False)

    async def _change(self, request: Request, *, patch: bool) -> Response:
        mailbox = self._calendar(request, WRITE_EVENTS)
        body = await json_body(request)
        send = _send_updates(request)
        with self.world.lock:
            current = self._existing(mailbox, request)
            before = {a.email.lower() for a in current.attendees}
            base = current if patch else _reset(current, mailbox)
            event = event_from_body(body, mailbox, base, patch=patch)
            stored = self.world.put_event(mailbox, event)
            # A guest added by this change is invited; the others hear of an update.
            added = dataclasses.replace(
                stored, attendees=[a for a in stored.attendees if a.email.lower() not in before]
            )
            kept = dataclasses.replace(
                stored, attendees=[a for a in stored.attendees if a.email.lower() in before]
            )
            self._notify(mailbox, added, send, "Invitation")
            self._notify(mailbox, kept, send, "Updated invitation")
            return self._event_response(stored, mailbox, request)

    @google_endpoint
    async def delete_event(self, request: Request) -> Response:
        mailbox = self._calendar(request, WRITE_EVENTS)
        send = _send_updates(request)
        with self.world.lock:
            event = self._existing(mailbox, request)
            self.world.delete_event(mailbox, event.id)
            self._notify(mailbox, event, send, "Cancelled event")
        return Response(status_code=204)

    def _existing(
        self, mailbox: Mailbox, request: Request, *, allow_deleted: bool = False
    ) -> SandboxEvent:
        event = mailbox.events.get(request.path_params["event_id"])
        if event is None:
            raise GoogleError(404, "notFound", "Not Found")
        if (event.deleted or event.cancelled) and not allow_deleted:
            raise GoogleError(410, "deleted", "Resource has been deleted")
        return event

    def _event_response(self, event: SandboxEvent, mailbox: Mailbox, request: Request) -> Response:
        zone = parse_zone(request.query_params.get("timeZone") or mailbox.time_zone)
        return JSONResponse(event_json(event, mailbox, zone))

    def _notify(self, mailbox: Mailbox, event: SandboxEvent, send: str, subject: str) -> None:
        domain = mailbox.email.rpartition("@")[2]
        recipients = [
            a.email
            for a in event.attendees
            if a.email.lower() != mailbox.email and not a.resource
            if send == "all" or (send == "externalOnly" and not a.email.endswith("@" + domain))
        ]
        if send != "none":
            self.world.mail_invitation(mailbox, "google", event, recipients, subject)

    # --- free/busy --------------------------------------------------------------------------

    @google_endpoint
    async def free_busy(self, request: Request) -> Response:
        mailbox = self._user(request, FREE_BUSY)
        body = await json_body(request)
        start, end = (_required_time(body, name) for name in ("timeMin", "timeMax"))
        if end <= start:
            raise GoogleError(
                400, "timeRangeEmpty", "The specified time range is empty.", domain="calendar"
            )
        zone = parse_zone(body.get("timeZone") or "UTC")
        cap = _expansion_max(body)
        calendars: dict[str, Any] = {}
        with self.world.lock:
            for index, item in enumerate(body.get("items") or []):
                calendar_id = str(item.get("id", "")) if isinstance(item, dict) else ""
                if index >= cap:
                    calendars[calendar_id] = _calendar_error("tooManyCalendarsRequested")
                    continue
                owner = (
                    mailbox if calendar_id == "primary" else self._colleague(mailbox, calendar_id)
                )
                calendars[calendar_id] = _busy(owner, start, end, zone)
        return JSONResponse(
            {
                "kind": "calendar#freeBusy",
                "timeMin": format_stamp(start),
                "timeMax": format_stamp(end),
                "calendars": calendars,
            }
        )

    def _colleague(self, asker: Mailbox, email: str) -> Mailbox | None:
        """A Google user of the asker's own domain (Workspace shares free/busy inside the
        organisation by default); anyone else is not found."""
        mailbox = self.world.mailboxes.get(email.lower())
        if mailbox is None or mailbox.provider != "google":
            return None
        return mailbox if _domain(mailbox.email) == _domain(asker.email) else None


# --- helpers ------------------------------------------------------------------------------


def _list_entry(mailbox: Mailbox) -> dict[str, Any]:
    return {
        "kind": "calendar#calendarListEntry",
        "etag": f'"{mailbox.sync_epoch}"',
        "id": mailbox.email,
        "summary": mailbox.email,
        "timeZone": mailbox.time_zone,
        "colorId": "14",
        "backgroundColor": "#9fe1e7",
        "foregroundColor": "#000000",
        "selected": True,
        "accessRole": "owner",
        "defaultReminders": DEFAULT_REMINDERS,
        "primary": True,
    }


def _send_updates(request: Request) -> str:
    params = request.query_params
    value = params.get("sendUpdates")
    if value is None:
        return "all" if parse_bool(params.get("sendNotifications"), "sendNotifications") else "none"
    if value not in ("all", "externalOnly", "none"):
        raise bad_request(f"Invalid value for sendUpdates: {value!r}", location="sendUpdates")
    return value


def _reset(current: SandboxEvent, mailbox: Mailbox) -> SandboxEvent:
    """The base of a full update: only what an update cannot change is kept."""
    return dataclasses.replace(
        blank_event(current.id, mailbox),
        organizer=current.organizer,
        created=current.created,
        series_id=current.series_id,
        original_start=current.original_start,
        ical_uid=current.ical_uid,
        event_type=current.event_type,
        version=current.version,
    )


def _required_time(body: dict[str, Any], name: str) -> Any:
    if not body.get(name):
        raise GoogleError(400, "required", f"Missing {name} parameter.", location=name)
    return parse_rfc3339(str(body[name]), name)


def _domain(address: str) -> str:
    return address.rpartition("@")[2].lower()


def _expansion_max(body: dict[str, Any]) -> int:
    """``calendarExpansionMax``: "Maximum value is 50" (Calendar v3 freebusy reference);
    calendars past it get ``tooManyCalendarsRequested``."""
    value = body.get("calendarExpansionMax", MAX_CALENDARS)
    if not isinstance(value, int) or not 0 < value <= MAX_CALENDARS:
        raise bad_request(
            "Invalid value for calendarExpansionMax.", location="calendarExpansionMax"
        )
    return value


def _calendar_error(reason: str) -> dict[str, Any]:
    return {"errors": [{"domain": "global", "reason": reason}], "busy": []}


def _busy(owner: Mailbox | None, start: Any, end: Any, zone: ZoneInfo) -> dict[str, Any]:
    if owner is None:
        return _calendar_error("notFound")
    intervals = sorted(
        (max(e.start, start), min(e.end, end))
        for e in owner.events.values()
        if _blocks(e, owner) and e.end > start and e.start < end
    )
    merged: list[list[Any]] = []
    for begin, finish in intervals:
        if merged and begin <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], finish)
        else:
            merged.append([begin, finish])
    busy = [{"start": format_datetime(b, zone), "end": format_datetime(f, zone)} for b, f in merged]
    return {"busy": busy}


def _blocks(event: SandboxEvent, owner: Mailbox) -> bool:
    if event.deleted or event.cancelled or event.transparent:
        return False
    if event.event_type == "workingLocation":
        return False
    own = [a for a in event.attendees if a.email.lower() == owner.email]
    return not (own and own[0].response == "declined")


def routes(world: World) -> list[BaseRoute]:
    api = GoogleCalendar(world)
    events = PREFIX + "/calendars/{calendar_id}/events"
    event = events + "/{event_id}"
    return [
        Route(PREFIX + "/users/me/calendarList", api.calendar_list, methods=["GET"]),
        Route(PREFIX + "/users/me/settings/{setting}", api.get_setting, methods=["GET"]),
        Route(PREFIX + "/calendars/{calendar_id}", api.get_calendar, methods=["GET"]),
        Route(events, api.list_events, methods=["GET"]),
        Route(events, api.insert_event, methods=["POST"]),
        Route(event, api.get_event, methods=["GET"]),
        Route(event, api.patch_event, methods=["PATCH"]),
        Route(event, api.update_event, methods=["PUT"]),
        Route(event, api.delete_event, methods=["DELETE"]),
        Route(PREFIX + "/freeBusy", api.free_busy, methods=["POST"]),
    ]
