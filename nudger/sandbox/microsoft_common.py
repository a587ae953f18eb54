"""Pieces shared by the Microsoft front-end modules: Graph errors, ids, times, bodies.

Handlers raise ``GraphError``; the ``graph_endpoint`` decorator answers it with the
JSON error body Graph uses (``graph_error``). Graph ids are opaque base64 strings in
the real service; here they encode the world's ids reversibly so any event (also one
made by the Google side or the org generator) has a stable Graph id.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Concatenate, ParamSpec, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from tzlocal.windows_tz import win_tz

from nudger.clock import utcnow

GRAPH_PREFIX = "/graph/v1.0"
_EVENT_ID_PREFIX = "AAMkAGSandboxEvent"
_SERIES_ID_PREFIX = "AAMkAGSandboxSeries"
_NAMESPACE = uuid.UUID("6f0e7a52-4c1b-4d8e-9a37-4e0bd0c0ffee")


def graph_error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    """Graph's JSON error: ``{"error": {"code", "message", "innerError": {...}}}``."""
    request_id = str(uuid.uuid4())
    inner = {
        "date": utcnow().strftime("%Y-%m-%dT%H:%M:%S"),
        "request-id": request_id,
        "client-request-id": request_id,
    }
    body = {"error": {"code": code, "message": message, "innerError": inner}}
    all_headers = {"request-id": request_id, "client-request-id": request_id, **(headers or {})}
    return JSONResponse(body, status_code=status, headers=all_headers)


class GraphError(Exception):
    """Raised by handlers; answered as ``graph_error(...)``."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers

    def response(self) -> Response:
        return graph_error(self.status, self.code, self.message, self.headers)


def not_found(message: str = "The specified object was not found in the store.") -> GraphError:
    return GraphError(404, "ErrorItemNotFound", message)


def invalid_request(message: str, code: str = "ErrorInvalidRequest") -> GraphError:
    return GraphError(400, code, message)


S = TypeVar("S")
P = ParamSpec("P")
Handler = Callable[Concatenate[S, Request, P], Awaitable[Response]]


def graph_endpoint(handler: Handler[S, P]) -> Handler[S, P]:
    """Answer a ``GraphError`` raised by ``handler`` with Graph's error body."""

    @functools.wraps(handler)
    async def wrapper(self: S, request: Request, *args: P.args, **kwargs: P.kwargs) -> Response:
        try:
            return await handler(self, request, *args, **kwargs)
        except GraphError as error:
            return error.response()

    return wrapper


async def json_object(request: Request) -> dict[str, Any]:
    """The request's JSON object, or 400 as Graph answers unreadable bodies."""
    raw = await request.body()
    try:
        body = json.loads(raw) if raw.strip() else {}
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid_request("Unable to read JSON request payload.", "BadRequest") from exc
    if not isinstance(body, dict):
        raise invalid_request("Unable to read JSON request payload.", "BadRequest")
    return body


# --- ids ---------------------------------------------------------------------------------


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def _unb64(text: str) -> str | None:
    try:
        return base64.urlsafe_b64decode(text.encode()).decode()
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None


def event_graph_id(event_id: str) -> str:
    return _EVENT_ID_PREFIX + _b64(event_id)


def series_graph_id(series_id: str) -> str:
    return _SERIES_ID_PREFIX + _b64(series_id)


def event_world_id(graph_id: str) -> str | None:
    """The world's event id behind a Graph event id (None: not one of ours)."""
    if not graph_id.startswith(_EVENT_ID_PREFIX):
        return None
    return _unb64(graph_id.removeprefix(_EVENT_ID_PREFIX))


def series_world_id(graph_id: str) -> str | None:
    """The world's series id behind a series master's Graph id (None: not a master's)."""
    if not graph_id.startswith(_SERIES_ID_PREFIX):
        return None
    return _unb64(graph_id.removeprefix(_SERIES_ID_PREFIX))


def directory_id(kind: str, value: str) -> str:
    """A stable GUID for a user, calendar or tenant (Entra object ids are GUIDs)."""
    return str(uuid.uuid5(_NAMESPACE, f"{kind}:{value.lower()}"))


def calendar_id(email: str) -> str:
    return "AAMkAGSandboxCalendar" + _b64(directory_id("calendar", email))


# --- times -------------------------------------------------------------------------------


def zone_named(name: str) -> ZoneInfo | None:
    """A zone from a Windows name ("Pacific Standard Time") or an IANA one."""
    cleaned = name.strip().strip('"')
    if cleaned.upper() in ("UTC", "Z", "COORDINATED UNIVERSAL TIME"):
        return ZoneInfo("UTC")
    try:
        return ZoneInfo(win_tz.get(cleaned, cleaned))
    except (ZoneInfoNotFoundError, ValueError):
        return None


def format_graph_time(value: datetime, zone: ZoneInfo) -> str:
    """Graph's ``dateTime``: naive local time with seven fractional digits."""
    local = value.astimezone(zone)
    return local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond:06d}0"


def date_time_time_zone(value: datetime, zone: ZoneInfo, zone_name: str) -> dict[str, str]:
    return {"dateTime": format_graph_time(value, zone), "timeZone": zone_name}


def parse_date_time_time_zone(value: Any, field: str) -> datetime:
    """A ``dateTimeTimeZone`` object from a request body as an aware datetime."""
    if not isinstance(value, dict) or not isinstance(value.get("dateTime"), str):
        raise invalid_request(f"The property '{field}' must be a dateTimeTimeZone object.")
    zone = zone_named(str(value.get("timeZone") or "UTC"))
    if zone is None:
        raise invalid_request(
            f"A valid TimeZone value must be specified for '{field}'.",
            "TimeZoneNotSupportedException",
        )
    parsed = parse_iso(value["dateTime"], field)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)


def parse_iso(text: str, field: str) -> datetime:
    try:
        return datetime.fromisoformat(_trim_fraction(text.strip().replace("Z", "+00:00")))
    except ValueError as exc:
        raise invalid_request(
            f"The value '{text}' of parameter '{field}' is invalid.", "ErrorInvalidParameter"
        ) from exc


def _trim_fraction(text: str) -> str:
    """Python parses at most six fractional digits; Graph writes seven."""
    head, dot, rest = text.partition(".")
    if not dot:
        return text
    digits = len(rest) - len(rest.lstrip("0123456789"))
    return f"{head}.{rest[: min(digits, 6)]}{rest[digits:]}"


def as_utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def stamp(value: datetime) -> str:
    """``createdDateTime`` style: UTC, seven fractional digits, Z."""
    return format_graph_time(value, ZoneInfo("UTC")) + "Z"
