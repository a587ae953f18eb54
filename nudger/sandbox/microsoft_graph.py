"""Graph v1.0 under ``GRAPH_PREFIX``: the user, the org chart, the calendar and sendMail.

Every call needs a bearer token from ``microsoft_identity`` holding one of the
permissions the real method accepts (401 ``InvalidAuthenticationToken`` / 403
``ErrorAccessDenied`` or, for the directory, ``Authorization_RequestDenied``).
Only ``/me/...`` is served, with one calendar (the default). Delta rounds are in
``microsoft_delta``, event resources in ``microsoft_events``, series masters and
exceptions in ``microsoft_series``, whole-event reads (by id, calendarView, instances) in
``microsoft_views``.

``POST /me/events`` with a ``transactionId`` already used in the mailbox answers the
existing event instead of making a duplicate. ``POST /me/sendMail`` takes the JSON
message or a base64 MIME message (``Content-Type: text/plain``) and records the
RFC 5322 bytes in ``world.sent``.
"""

from __future__ import annotations

import base64
import binascii
import email.message
import email.parser
import email.policy
import email.utils
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from nudger.sandbox import microsoft_delta as delta
from nudger.sandbox import microsoft_views as views
from nudger.sandbox.microsoft_common import (
    GRAPH_PREFIX,
    GraphError,
    calendar_id,
    event_world_id,
    graph_endpoint,
    invalid_request,
    json_object,
    not_found,
    series_world_id,
)
from nudger.sandbox.microsoft_events import View, apply_changes, event_resource, new_event
from nudger.sandbox.microsoft_schedule import schedule_response, working_hours
from nudger.sandbox.microsoft_tokens import authenticate, user_id
from nudger.sandbox.world import Mailbox, SandboxEvent, SentMessage, World

USER_READ = frozenset(
    {"user.read", "user.readwrite", "user.readbasic.all", "user.read.all", "directory.read.all"}
)
DIRECTORY_READ = USER_READ
SETTINGS_READ = frozenset({"mailboxsettings.read", "mailboxsettings.readwrite"})
CALENDAR_READ = frozenset({"calendars.readbasic", "calendars.read", "calendars.readwrite"})
CALENDAR_WRITE = frozenset({"calendars.readwrite"})
MAIL_SEND = frozenset({"mail.send"})


def user_resource(world: World, email: str) -> dict[str, Any]:
    with world.lock:
        name = world.people.get(email.lower(), email)
        mailbox = world.mailboxes.get(email.lower())
    return {
        "@odata.type": "#microsoft.graph.user",
        "id": user_id(mailbox.identity if mailbox else email),
        "displayName": name,
        "mail": email,
        "userPrincipalName": email,
        "businessPhones": [],
        "givenName": name.split(" ")[0],
        "surname": name.split(" ")[-1] if " " in name else None,
        "jobTitle": None,
        "officeLocation": None,
        "preferredLanguage": "en-GB",
    }


def _context(request: Request, what: str) -> str:
    return f"{request.url.scheme}://{request.url.netloc}{GRAPH_PREFIX}/$metadata#{what}"


class Graph:
    def __init__(self, world: World) -> None:
        self.world = world

    def _me(self, request: Request, accepted: frozenset[str]) -> Mailbox:
        return authenticate(self.world, request, accepted)

    # --- the user and the directory ---------------------------------------------------------

    @graph_endpoint
    async def me(self, request: Request) -> Response:
        mailbox = self._me(request, USER_READ)
        body = {"@odata.context": _context(request, "users/$entity")}
        body.update(user_resource(self.world, mailbox.email))
        return JSONResponse(body)

    @graph_endpoint
    async def mailbox_settings(self, request: Request) -> Response:
        mailbox = self._me(request, SETTINGS_READ)
        return JSONResponse(
            {
                "@odata.context": _context(request, "users('me')/mailboxSettings"),
                "timeZone": mailbox.windows_time_zone,
                "dateFormat": "dd/MM/yyyy",
                "timeFormat": "HH:mm",
                "userPurpose": "user",
                "workingHours": working_hours(mailbox),
                "automaticRepliesSetting": {"status": "disabled"},
                "language": {"locale": "en-GB", "displayName": "English (United Kingdom)"},
            }
        )

    @graph_endpoint
    async def manager(self, request: Request) -> Response:
        mailbox = self._directory(request)
        if not mailbox.manager:
            message = (
                "Resource 'manager' does not exist or one of its queried reference-property "
                "objects are not present."
            )
            raise GraphError(404, "Request_ResourceNotFound", message)
        return JSONResponse(user_resource(self.world, mailbox.manager))

    @graph_endpoint
    async def direct_reports(self, request: Request) -> Response:
        mailbox = self._directory(request)
        reports = [user_resource(self.world, email) for email in mailbox.direct_reports]
        return JSONResponse(
            {"@odata.context": _context(request, "directoryObjects"), "value": reports}
        )

    def _directory(self, request: Request) -> Mailbox:
        mailbox = authenticate(self.world, request, DIRECTORY_READ, "Authorization_RequestDenied")
        if mailbox.directory_forbidden:
            message = "Insufficient privileges to complete the operation."
            raise GraphError(403, "Authorization_RequestDenied", message)
        return mailbox

    # --- calendars --------------------------------------------------------------------------

    @graph_endpoint
    async def calendars(self, request: Request) -> Response:
        mailbox = self._me(request, CALENDAR_READ)
        listed = [_calendar_resource(mailbox)]
        return JSONResponse({"@odata.context": _context(request, "calendars"), "value": listed})

    @graph_endpoint
    async def calendar_view_delta(self, request: Request) -> Response:
        mailbox = self._me(request, CALENDAR_READ)
        self._check_calendar(request, mailbox)
        state = delta.round_state(self.world, mailbox, request.query_params)
        view = delta.view_for(request, state.expand)
        size = delta.page_size(request)
        page = delta.next_page(self.world, mailbox, state, size, view)
        link_name = "@odata.deltaLink" if page.last else "@odata.nextLink"
        token_name = "$deltatoken" if page.last else "$skiptoken"
        link = f"{request.url.scheme}://{request.url.netloc}{request.url.path}"
        body = {
            "@odata.context": _context(request, "Collection(event)"),
            link_name: f"{link}?{token_name}={delta.encode(page.next_state)}",
            "value": page.items,
        }
        applied = f'odata.maxpagesize={size}, outlook.timezone="{view.zone_name}"'
        return JSONResponse(body, headers={"Preference-Applied": applied})

    def _check_calendar(self, request: Request, mailbox: Mailbox) -> None:
        wanted = request.path_params.get("calendar_id")
        if wanted is not None and wanted != calendar_id(mailbox.email):
            raise not_found()

    @graph_endpoint
    async def get_schedule(self, request: Request) -> Response:
        asker = self._me(request, CALENDAR_READ)
        body = await json_object(request)
        view = delta.view_for(request, None)
        return JSONResponse(schedule_response(self.world, body, view, asker))

    # --- events -----------------------------------------------------------------------------

    @graph_endpoint
    async def create_event(self, request: Request) -> Response:
        mailbox = self._me(request, CALENDAR_WRITE)
        self._check_calendar(request, mailbox)
        body = await json_object(request)
        with self.world.lock:
            existing = _by_transaction(mailbox, body.get("transactionId"))
            event = existing or self.world.put_event(mailbox, new_event(mailbox, body))
            if existing is None:  # "the server sends invitations to all the attendees"
                self._invite(mailbox, event, _guests(mailbox, event), "Invitation")
        return self._event_response(request, mailbox, event, 201)

    @graph_endpoint
    async def get_event(self, request: Request) -> Response:
        """Any event whole: a single one, an occurrence, an exception or a series master."""
        mailbox = self._me(request, CALENDAR_READ)
        view = delta.view_for(request, delta.query_param(request.query_params, "$expand"))
        found = views.event_by_id(self.world, mailbox, request.path_params["event_id"], view)
        body = {"@odata.context": _context(request, "users('me')/events/$entity")}
        body.update(found)
        return JSONResponse(body)

    @graph_endpoint
    async def calendar_view(self, request: Request) -> Response:
        mailbox = self._me(request, CALENDAR_READ)
        self._check_calendar(request, mailbox)
        listing = views.listing_of(request, mailbox, None)
        return views.listing_response(request, self.world, mailbox, listing)

    @graph_endpoint
    async def instances(self, request: Request) -> Response:
        """A series master's occurrences and exceptions; any other id answers 404."""
        mailbox = self._me(request, CALENDAR_READ)
        series = series_world_id(request.path_params["event_id"]) or ""
        listing = views.listing_of(request, mailbox, series)
        return views.listing_response(request, self.world, mailbox, listing)

    @graph_endpoint
    async def update_event(self, request: Request) -> Response:
        mailbox = self._me(request, CALENDAR_WRITE)
        body = await json_object(request)
        with self.world.lock:
            event = self._event(request, mailbox)
            before = _guests(mailbox, event)
            apply_changes(event, body)
            self.world.put_event(mailbox, event)
            self._mail_update(mailbox, event, before, others=set(body) - {"attendees"})
        return self._event_response(request, mailbox, event, 200)

    def _mail_update(
        self, mailbox: Mailbox, event: SandboxEvent, before: list[str], others: set[str]
    ) -> None:
        """Graph: "an event update that includes only the attendees property ... sends a
        meeting update to only the attendees that have changed" (event-update docs). Here:
        new attendees get the request; the others an update only when more changed."""
        now = _guests(mailbox, event)
        added = [a for a in now if a.lower() not in {b.lower() for b in before}]
        self._invite(mailbox, event, added, "Invitation")
        if others:
            kept = [a for a in now if a not in added]
            self._invite(mailbox, event, kept, "Updated invitation")

    def _invite(self, mailbox: Mailbox, event: SandboxEvent, to: list[str], subject: str) -> None:
        if event.organizer.lower() == mailbox.email.lower():  # only the organizer invites
            self.world.mail_invitation(mailbox, "microsoft", event, to, subject)

    @graph_endpoint
    async def delete_event(self, request: Request) -> Response:
        mailbox = self._me(request, CALENDAR_WRITE)
        event = self._event(request, mailbox)
        self.world.delete_event(mailbox, event.id)
        return Response(status_code=204)

    def _event(self, request: Request, mailbox: Mailbox) -> SandboxEvent:
        world_id = event_world_id(request.path_params["event_id"])
        with self.world.lock:
            event = mailbox.events.get(world_id or "")
        if event is None or event.deleted:
            raise not_found()
        return event

    def _event_response(
        self, request: Request, mailbox: Mailbox, event: SandboxEvent, status: int
    ) -> Response:
        expand = delta.query_param(request.query_params, "$expand")
        view: View = delta.view_for(request, expand)
        body = {"@odata.context": _context(request, "users('me')/events/$entity")}
        body.update(event_resource(event, mailbox, self.world, view))
        return JSONResponse(body, status_code=status)

    # --- mail -------------------------------------------------------------------------------

    @graph_endpoint
    async def send_mail(self, request: Request) -> Response:
        mailbox = self._me(request, MAIL_SEND)
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type == "text/plain":
            raw = _mime_from_base64(await request.body())
        else:
            raw = _mime_from_json(mailbox, await json_object(request))
        _check_recipients(raw)
        with self.world.lock:
            self.world.sent.append(SentMessage(mailbox.email, "microsoft", raw))
        return Response(status_code=202)


def _calendar_resource(mailbox: Mailbox) -> dict[str, Any]:
    return {
        "id": calendar_id(mailbox.email),
        "name": "Calendar",
        "color": "auto",
        "hexColor": "",
        "isDefaultCalendar": True,
        "changeKey": "sandbox",
        "canShare": True,
        "canViewPrivateItems": True,
        "canEdit": True,
        "allowedOnlineMeetingProviders": ["teamsForBusiness"],
        "defaultOnlineMeetingProvider": "teamsForBusiness",
        "isTallyingResponses": True,
        "isRemovable": False,
        "owner": {"name": mailbox.name, "address": mailbox.email},
    }


def _guests(mailbox: Mailbox, event: SandboxEvent) -> list[str]:
    """Who a meeting request goes to: every attendee but the mailbox and rooms."""
    return [a.email for a in event.attendees if a.email.lower() != mailbox.email and not a.resource]


def _by_transaction(mailbox: Mailbox, transaction_id: Any) -> SandboxEvent | None:
    if not isinstance(transaction_id, str) or not transaction_id:
        return None
    for event in mailbox.events.values():
        if event.transaction_id == transaction_id and not event.deleted:
            return event
    return None


def _mime_from_base64(content: bytes) -> bytes:
    try:
        raw = base64.b64decode(b"".join(content.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        message = "Invalid base64 string for MIME content."
        raise invalid_request(message, "ErrorMimeContentInvalidBase64String") from exc
    if not raw.strip():
        raise invalid_request("The MIME content is empty.", "ErrorMimeContentInvalid")
    return raw


def _mime_from_json(mailbox: Mailbox, body: dict[str, Any]) -> bytes:
    message = body.get("message")
    if not isinstance(message, dict):
        raise invalid_request("Empty Payload. JSON content expected.", "ErrorInvalidParameter")
    mime = email.message.EmailMessage(policy=email.policy.SMTP)
    mime["From"] = email.utils.formataddr((mailbox.name, mailbox.email))
    for header, key in (("To", "toRecipients"), ("Cc", "ccRecipients"), ("Reply-To", "replyTo")):
        if addresses := _recipients(message, key):
            mime[header] = ", ".join(addresses)
    mime["Subject"] = str(message.get("subject") or "")
    mime["Date"] = email.utils.formatdate(usegmt=True)
    mime["Message-ID"] = email.utils.make_msgid(domain="sandbox.outlook.test")
    for extra in message.get("internetMessageHeaders") or []:
        if isinstance(extra, dict) and str(extra.get("name", "")).lower().startswith("x-"):
            mime[str(extra["name"])] = str(extra.get("value", ""))
    _set_body(mime, message.get("body"))
    bcc = _recipients(message, "bccRecipients")
    if bcc:
        mime["Bcc"] = ", ".join(bcc)
    return mime.as_bytes()


def _set_body(mime: email.message.EmailMessage, body: Any) -> None:
    content = str(body.get("content") or "") if isinstance(body, dict) else ""
    kind = str(body.get("contentType", "text")).lower() if isinstance(body, dict) else "text"
    mime.set_content(content, subtype="html" if kind == "html" else "plain")


def _recipients(message: dict[str, Any], key: str) -> list[str]:
    listed = message.get(key) or []
    if not isinstance(listed, list):
        raise invalid_request(
            f"The property '{key}' must be a collection.", "ErrorInvalidRecipients"
        )
    rendered = []
    for item in listed:
        address = item.get("emailAddress") if isinstance(item, dict) else None
        if not isinstance(address, dict) or not address.get("address"):
            message_text = "At least one recipient is not valid."
            raise invalid_request(message_text, "ErrorInvalidRecipients")
        rendered.append(
            email.utils.formataddr((str(address.get("name") or ""), address["address"]))
        )
    return rendered


def _check_recipients(raw: bytes) -> None:
    headers = email.parser.BytesHeaderParser(policy=email.policy.default).parsebytes(raw)
    if not any(headers.get(name) for name in ("To", "Cc", "Bcc")):
        message = "At least one recipient is required, but none were found."
        raise invalid_request(message, "ErrorInvalidRecipients")


def routes(world: World) -> list[BaseRoute]:
    graph = Graph(world)
    me = GRAPH_PREFIX + "/me"
    calendar = me + "/calendars/{calendar_id}"
    event = me + "/events/{event_id}"
    return [
        Route(me, graph.me, methods=["GET"]),
        Route(me + "/mailboxSettings", graph.mailbox_settings, methods=["GET"]),
        Route(me + "/manager", graph.manager, methods=["GET"]),
        Route(me + "/directReports", graph.direct_reports, methods=["GET"]),
        Route(me + "/calendars", graph.calendars, methods=["GET"]),
        Route(me + "/calendarView", graph.calendar_view, methods=["GET"]),
        Route(calendar + "/calendarView", graph.calendar_view, methods=["GET"]),
        Route(me + "/calendarView/delta", graph.calendar_view_delta, methods=["GET"]),
        Route(calendar + "/calendarView/delta", graph.calendar_view_delta, methods=["GET"]),
        Route(me + "/calendar/getSchedule", graph.get_schedule, methods=["POST"]),
        Route(me + "/events", graph.create_event, methods=["POST"]),
        Route(me + "/calendar/events", graph.create_event, methods=["POST"]),
        Route(calendar + "/events", graph.create_event, methods=["POST"]),
        Route(event, graph.get_event, methods=["GET"]),
        Route(event + "/instances", graph.instances, methods=["GET"]),
        Route(event, graph.update_event, methods=["PATCH"]),
        Route(event, graph.delete_event, methods=["DELETE"]),
        Route(me + "/sendMail", graph.send_mail, methods=["POST"]),
    ]
