"""Control endpoints under ``/_sandbox/``: look into the world and steer it.

For people poking at the demo and for tests. Provider-neutral: only the ``World`` is
read or changed. These paths are neither recorded nor subject to injected faults.

- ``GET /_sandbox/mailboxes``
- ``GET /_sandbox/mailboxes/{email}/events[?tagged=true][&include_deleted=true]``
  (``tagged``: only events carrying a private extended property, i.e. nudger's own)
- ``POST /_sandbox/mailboxes/{email}/expire-cursors``
- ``POST /_sandbox/mailboxes/{email}/rename`` (body ``{"email": new address}``): the
  user keeps their ids and grants; the old address becomes an alias
- ``POST /_sandbox/mailboxes/{email}/events/{event_id}/respond`` (body ``{"attendee":
  address, "response": "accepted"|"declined"|"tentative"|"needsAction"}``): an
  attendee answers the mailbox's invitation, as their reply would update it
- ``GET /_sandbox/sent[?mailbox=...][&provider=...]``
- ``GET|POST|DELETE /_sandbox/faults`` (POST body: path, status, count, retry_after,
  retry_after_date, reason, method, skip)
- ``GET|DELETE /_sandbox/requests[?path_contains=...]`` (each with ``at``, monotonic
  seconds, and ``fault``, the injected status it got, if any)
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from nudger.sandbox.world import Fault, Mailbox, SandboxEvent, SentMessage, World

PREFIX = "/_sandbox"
KEYS = ("attendee", "response")
RESPONSES = ("accepted", "declined", "tentative", "needsAction")


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


class Control:
    def __init__(self, world: World) -> None:
        self.world = world

    def _mailbox(self, request: Request) -> Mailbox | None:
        with self.world.lock:
            return self.world.mailboxes.get(request.path_params["email"].lower())

    async def mailboxes(self, request: Request) -> Response:
        with self.world.lock:
            listed = [_mailbox_json(m) for m in self.world.mailboxes.values()]
        return JSONResponse(listed)

    async def events(self, request: Request) -> Response:
        mailbox = self._mailbox(request)
        if mailbox is None:
            return _error(404, "unknown mailbox")
        tagged = request.query_params.get("tagged", "").lower() in ("1", "true", "yes")
        deleted = request.query_params.get("include_deleted", "").lower() in ("1", "true", "yes")
        with self.world.lock:
            events = sorted(mailbox.events.values(), key=lambda e: (e.start, e.id))
            listed = [
                _event_json(e)
                for e in events
                if (deleted or not e.deleted) and (not tagged or e.private_props)
            ]
        return JSONResponse(listed)

    async def expire_cursors(self, request: Request) -> Response:
        mailbox = self._mailbox(request)
        if mailbox is None:
            return _error(404, "unknown mailbox")
        self.world.expire_cursors(mailbox)
        return JSONResponse({"email": mailbox.email, "sync_epoch": mailbox.sync_epoch})

    async def rename(self, request: Request) -> Response:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            body = None
        new = body.get("email") if isinstance(body, dict) else None
        if not isinstance(new, str) or "@" not in new:
            return _error(400, "email (the new address) is required")
        try:
            mailbox = self.world.rename_mailbox(request.path_params["email"], new)
        except KeyError:
            return _error(404, "unknown mailbox")
        except ValueError as exc:
            return _error(409, str(exc))
        return JSONResponse(_mailbox_json(mailbox))

    async def respond(self, request: Request) -> Response:
        mailbox = self._mailbox(request)
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            body = None
        attendee, answer = (body.get(k) if isinstance(body, dict) else None for k in KEYS)
        if not isinstance(attendee, str) or answer not in RESPONSES:
            return _error(400, f"attendee (an address) and response (one of {RESPONSES})")
        if mailbox is None:
            return _error(404, "unknown mailbox")
        event_id = request.path_params["event_id"]
        if not self.world.respond(mailbox, event_id, attendee.lower(), answer):
            return _error(404, f"no live event {event_id} with attendee {attendee}")
        with self.world.lock:
            return JSONResponse(_event_json(mailbox.events[event_id]))

    async def sent(self, request: Request) -> Response:
        wanted_mailbox = request.query_params.get("mailbox", "").lower()
        wanted_provider = request.query_params.get("provider", "")
        with self.world.lock:
            messages = list(self.world.sent)
        listed = [
            _sent_json(m)
            for m in messages
            if (not wanted_mailbox or m.mailbox.lower() == wanted_mailbox)
            and (not wanted_provider or m.provider == wanted_provider)
        ]
        return JSONResponse(listed)

    async def faults(self, request: Request) -> Response:
        with self.world.lock:
            if request.method == "DELETE":
                self.world.faults.clear()
            listed = [_fault_json(f) for f in self.world.faults]
        return JSONResponse(listed)

    async def add_fault(self, request: Request) -> Response:
        try:
            fault = _parse_fault(json.loads(await request.body() or b"{}"))
        except (ValueError, TypeError) as exc:
            return _error(400, str(exc))
        with self.world.lock:
            self.world.faults.append(fault)
        return JSONResponse(_fault_json(fault), status_code=201)

    async def requests(self, request: Request) -> Response:
        contains = request.query_params.get("path_contains", "")
        with self.world.lock:
            if request.method == "DELETE":
                self.world.requests.clear()
            listed = [
                {"method": r.method, "path": r.path, "query": r.query, "at": r.at, "fault": r.fault}
                for r in self.world.requests
                if contains in r.path
            ]
        return JSONResponse(listed)


def _mailbox_json(mailbox: Mailbox) -> dict[str, Any]:
    return {
        "email": mailbox.email,
        "name": mailbox.name,
        "provider": mailbox.provider,
        "aliases": list(mailbox.aliases),
        "tenant": mailbox.tenant or None,
        "time_zone": mailbox.time_zone,
        "events": sum(1 for e in mailbox.events.values() if not e.deleted),
        "sync_epoch": mailbox.sync_epoch,
        "manager": mailbox.manager,
        "direct_reports": list(mailbox.direct_reports),
    }


def _event_json(event: SandboxEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "summary": event.summary,
        "start": event.start.isoformat(),
        "end": event.end.isoformat(),
        "all_day": event.all_day,
        "organizer": event.organizer,
        "attendees": [
            {"email": a.email, "name": a.name, "response": a.response} for a in event.attendees
        ],
        "cancelled": event.cancelled,
        "deleted": event.deleted,
        "event_type": event.event_type,
        "transparent": event.transparent,
        "series_id": event.series_id,
        "private_props": dict(event.private_props),
        "transaction_id": event.transaction_id,
        "version": event.version,
    }


def _sent_json(message: SentMessage) -> dict[str, Any]:
    headers = email.parser.BytesHeaderParser(policy=email.policy.default).parsebytes(message.raw)
    return {
        "mailbox": message.mailbox,
        "provider": message.provider,
        "sent_at": message.sent_at.isoformat(),
        "subject": str(headers.get("Subject", "")),
        "from": str(headers.get("From", "")),
        "to": [a.strip() for a in str(headers.get("To", "")).split(",") if a.strip()],
        "raw": base64.b64encode(message.raw).decode(),
    }


def _fault_json(fault: Fault) -> dict[str, Any]:
    return {
        "path": fault.path,
        "status": fault.status,
        "count": fault.count,
        "retry_after": fault.retry_after,
        "reason": fault.reason,
        "method": fault.method,
        "skip": fault.skip,
        "retry_after_date": fault.retry_after_date,
    }


def _parse_fault(body: Any) -> Fault:
    if not isinstance(body, dict):
        raise TypeError("the body must be a JSON object")
    path, status = body.get("path"), body.get("status")
    if not isinstance(path, str) or not path:
        raise ValueError("path (a non-empty string) is required")
    if not isinstance(status, int) or not 100 <= status <= 599:
        raise ValueError("status (an HTTP status code) is required")
    count = body.get("count", 1)
    retry_after = body.get("retry_after")
    if not isinstance(count, int) or count < 1:
        raise ValueError("count must be a positive integer")
    if retry_after is not None and not isinstance(retry_after, int):
        raise ValueError("retry_after must be an integer (seconds)")
    skip = body.get("skip", 0)
    if not isinstance(skip, int) or skip < 0:
        raise ValueError("skip must be a whole number of matching requests to let through")
    as_date = body.get("retry_after_date", False)
    if not isinstance(as_date, bool):
        raise ValueError("retry_after_date must be true or false")
    method = body.get("method")
    reason = body.get("reason")
    return Fault(
        path, status, count, retry_after, reason, method.upper() if method else None, skip, as_date
    )


def routes(world: World) -> list[BaseRoute]:
    control = Control(world)
    mailbox = PREFIX + "/mailboxes/{email}"
    return [
        Route(PREFIX + "/mailboxes", control.mailboxes, methods=["GET"]),
        Route(mailbox + "/events", control.events, methods=["GET"]),
        Route(mailbox + "/events/{event_id}/respond", control.respond, methods=["POST"]),
        Route(mailbox + "/expire-cursors", control.expire_cursors, methods=["POST"]),
        Route(mailbox + "/rename", control.rename, methods=["POST"]),
        Route(PREFIX + "/sent", control.sent, methods=["GET"]),
        Route(PREFIX + "/faults", control.faults, methods=["GET", "DELETE"]),
        Route(PREFIX + "/faults", control.add_fault, methods=["POST"]),
        Route(PREFIX + "/requests", control.requests, methods=["GET", "DELETE"]),
    ]
