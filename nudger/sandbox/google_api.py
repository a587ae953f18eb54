"""The emulator's Google front-end: OAuth, Calendar v3, People and Gmail ``messages.send``.

Paths mirror Google's under one host: ``/o/oauth2/v2/auth``, ``/token``,
``/revoke`` (``google_oauth``), ``/calendar/v3/...`` (``google_calendar``, listing
rules in ``google_listing``), ``/v1/people:listDirectoryPeople`` (``google_people``)
and ``/gmail/v1/users/{userId}/messages/send`` (here, plus
the ``/upload/...`` form google-api-python-client uses when given a media body).
Errors use Google's JSON error body (``google_error``).

Limitations: ``events.list`` serves ``singleEvents=true`` only (the world stores
recurring series expanded); events cannot be inserted with ``recurrence``; only the
primary calendar exists; resumable uploads are refused; ``visibility``, ``location``,
conference data and reminders overrides are accepted but not stored.
"""

from __future__ import annotations

import base64
import binascii
import email.parser
import email.policy
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from nudger.sandbox import google_calendar, google_oauth, google_people, google_tokens
from nudger.sandbox.google_common import (
    GoogleError,
    bad_request,
    google_endpoint,
    google_error,
    json_body,
)
from nudger.sandbox.sign_in_page import SignInPages
from nudger.sandbox.world import Mailbox, SentMessage, World

__all__ = ["google_error", "routes"]

_MAIL = "https://www.googleapis.com/auth/gmail."
GMAIL_SEND = frozenset(
    {
        _MAIL + "send",
        _MAIL + "compose",
        _MAIL + "modify",
        _MAIL + "addons.current.action.compose",
        "https://mail.google.com/",
    }
)
SEND_PATH = "/gmail/v1/users/{user_id}/messages/send"
_RAW_REQUIRED = (
    "'raw' RFC822 payload message string or uploading message via /upload/* URL required"
)


class Gmail:
    def __init__(self, world: World) -> None:
        self.world = world

    @google_endpoint
    async def send(self, request: Request) -> Response:
        mailbox = self._sender(request)
        body = await json_body(request)
        raw = body.get("raw")
        if not raw or not isinstance(raw, str):
            raise GoogleError(400, "invalidArgument", _RAW_REQUIRED)
        return self._store(mailbox, _decode_raw(raw), body.get("threadId"))

    @google_endpoint
    async def upload(self, request: Request) -> Response:
        mailbox = self._sender(request)
        kind = request.query_params.get("uploadType")
        content = await request.body()
        if kind == "media":
            return self._store(mailbox, content, None)
        if kind == "multipart":
            metadata, message = _split_multipart(request.headers.get("content-type", ""), content)
            return self._store(mailbox, message, metadata.get("threadId"))
        raise bad_request(
            f"The sandbox does not support uploadType={kind!r}.", location="uploadType"
        )

    def _sender(self, request: Request) -> Mailbox:
        mailbox = google_tokens.authenticate(self.world, request, GMAIL_SEND)
        user_id = request.path_params["user_id"].lower()
        if user_id not in ("me", mailbox.email, *(a.lower() for a in mailbox.aliases)):
            raise GoogleError(403, "forbidden", f"Delegation denied for {mailbox.email}")
        return mailbox

    def _store(self, mailbox: Mailbox, raw: bytes, thread_id: Any) -> Response:
        _check_headers(raw)
        with self.world.lock:
            self.world.sent.append(SentMessage(mailbox.email, "google", raw))
            message_id = f"{0x18C0000000000000 + len(self.world.sent):x}"
        thread = thread_id if isinstance(thread_id, str) and thread_id else message_id
        return JSONResponse({"id": message_id, "threadId": thread, "labelIds": ["SENT"]})


def _decode_raw(raw: str) -> bytes:
    text = raw.strip().replace("-", "+").replace("_", "/")
    try:
        decoded = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise GoogleError(400, "invalidArgument", "Invalid value for ByteString: raw") from exc
    if not decoded.strip():
        raise GoogleError(400, "invalidArgument", _RAW_REQUIRED)
    return decoded


def _check_headers(raw: bytes) -> None:
    message = email.parser.BytesHeaderParser(policy=email.policy.default).parsebytes(raw)
    if not message.get("From"):
        raise GoogleError(400, "invalidArgument", "Invalid From header")
    if not any(message.get(name) for name in ("To", "Cc", "Bcc")):
        raise GoogleError(400, "invalidArgument", "Recipient address required")


def _split_multipart(content_type: str, content: bytes) -> tuple[dict[str, Any], bytes]:
    """The JSON metadata and the message of a ``multipart/related`` upload."""
    header = email.parser.HeaderParser().parsestr(f"Content-Type: {content_type}\r\n\r\n")
    boundary = header.get_param("boundary")
    if header.get_content_type() != "multipart/related" or not isinstance(boundary, str):
        raise bad_request("A multipart upload needs Content-Type multipart/related.")
    parts = [_part_body(p) for p in content.split(b"--" + boundary.encode())[1:-1]]
    if len(parts) != 2:
        raise bad_request("A multipart upload needs a metadata part and a media part.")
    try:
        metadata = json.loads(parts[0] or b"{}")
    except ValueError as exc:
        raise bad_request("Invalid JSON in the metadata part.", "parseError") from exc
    return (metadata if isinstance(metadata, dict) else {}), parts[1]


def _part_body(part: bytes) -> bytes:
    """A MIME part's body: after its headers, without the CRLF before the delimiter."""
    part = part.removeprefix(b"\r\n").removeprefix(b"\n")
    ends = [(part.find(sep), sep) for sep in (b"\r\n\r\n", b"\n\n") if sep in part]
    if ends:
        index, separator = min(ends)
        return part[index + len(separator) :].removesuffix(b"\n").removesuffix(b"\r")
    return b""


def routes(world: World, pages: SignInPages | None = None) -> list[BaseRoute]:
    gmail = Gmail(world)
    return [
        *google_oauth.routes(world, pages),
        *google_calendar.routes(world),
        *google_people.routes(world),
        Route(SEND_PATH, gmail.send, methods=["POST"]),
        Route("/upload" + SEND_PATH, gmail.upload, methods=["POST"]),
    ]
