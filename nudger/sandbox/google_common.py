"""Pieces shared by the Google front-end modules: error bodies, times, request parsing.

Handlers raise ``GoogleError``; the ``google_endpoint`` decorator turns it into the
JSON error body Google APIs answer with (see ``google_error``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Concatenate, ParamSpec, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

CANONICAL_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    412: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
"""google.rpc canonical codes for the HTTP statuses Google maps them to (410 has none)."""

_USAGE_LIMIT_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"}


def google_error(
    status: int,
    reason: str,
    message: str,
    headers: dict[str, str] | None = None,
    *,
    domain: str | None = None,
    location: str | None = None,
) -> Response:
    """A Google API JSON error: ``{"error": {"code", "message", "errors", "status"}}``."""
    detail: dict[str, str] = {
        "domain": domain or ("usageLimits" if reason in _USAGE_LIMIT_REASONS else "global"),
        "reason": reason,
        "message": message,
    }
    if location:
        detail["locationType"] = "header" if location == "Authorization" else "parameter"
        detail["location"] = location
    error: dict[str, Any] = {"code": status, "message": message, "errors": [detail]}
    if status in CANONICAL_STATUS:
        error["status"] = CANONICAL_STATUS[status]
    return JSONResponse({"error": error}, status_code=status, headers=headers)


class GoogleError(Exception):
    """Raised by handlers; answered as ``google_error(...)``."""

    def __init__(
        self,
        status: int,
        reason: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        domain: str | None = None,
        location: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
        self.headers = headers
        self.domain = domain
        self.location = location

    def response(self) -> Response:
        return google_error(
            self.status,
            self.reason,
            self.message,
            self.headers,
            domain=self.domain,
            location=self.location,
        )


def bad_request(message: str, reason: str = "invalid", location: str | None = None) -> GoogleError:
    return GoogleError(400, reason, message, location=location)


S = TypeVar("S")
P = ParamSpec("P")
Handler = Callable[Concatenate[S, Request, P], Awaitable[Response]]


def google_endpoint(handler: Handler[S, P]) -> Handler[S, P]:
    """Answer a ``GoogleError`` raised by ``handler`` with Google's error body."""

    @functools.wraps(handler)
    async def wrapper(self: S, request: Request, *args: P.args, **kwargs: P.kwargs) -> Response:
        try:
            return await handler(self, request, *args, **kwargs)
        except GoogleError as error:
            return error.response()

    return wrapper


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object, or 400 parseError as Google answers malformed bodies."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request("Parse Error", "parseError") from exc
    if not isinstance(body, dict):
        raise bad_request("Invalid JSON payload received. Expected an object.", "parseError")
    return body


# --- times ------------------------------------------------------------------------


def parse_rfc3339(value: str, name: str) -> datetime:
    """An RFC 3339 timestamp with its mandatory offset (400 otherwise)."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise bad_request(
            f"Bad Request: invalid value for {name}: {value!r}", location=name
        ) from exc
    if parsed.tzinfo is None:
        message = f"Bad Request: {name} must be an RFC3339 timestamp with a time zone offset."
        raise bad_request(message, location=name)
    return parsed


def parse_zone(name: str, field: str = "timeZone") -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise bad_request(f"Invalid time zone definition for {field}.", location=field) from exc


def format_datetime(value: datetime, zone: ZoneInfo) -> str:
    """``dateTime`` as Google writes it: seconds precision, offset of ``zone`` (Z for UTC)."""
    local = value.astimezone(zone).replace(microsecond=0)
    text = local.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def format_stamp(value: datetime) -> str:
    """``created`` / ``updated`` style stamps: UTC with milliseconds."""
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_bool(value: str | None, name: str, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    lowered = value.lower()
    if lowered not in ("true", "false"):
        raise bad_request(f"Invalid boolean value for {name}: {value!r}", location=name)
    return lowered == "true"
