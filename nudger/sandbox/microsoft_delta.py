"""``calendarView/delta``: rounds of pages, state tokens and their expiry, as Graph has them.

- The first request of a round needs ``startDateTime`` and ``endDateTime`` (400
  otherwise); the window and ``$expand`` are baked into every ``$skiptoken`` /
  ``$deltatoken`` after it and cannot be changed (400 when a later request names a
  different window).
- Pages hold ``Prefer: odata.maxpagesize`` events (default 10, at most 1000), with an
  absolute ``@odata.nextLink`` while more remain; the last page has
  ``@odata.deltaLink``. Paging is keyed on event ids, so changes during a round never
  make a page skip an event (a changed one may come again in the next round).
- A round started from a ``$deltatoken`` returns what changed since that round:
  changed events in full, deleted ones (and ones moved out of the window) as
  ``{"@removed": {"reason": "deleted"}, "id"}``.
- Tokens issued before ``world.expire_cursors(mailbox)`` answer 410
  ``syncStateNotFound``.
- ``Prefer: outlook.timezone`` (Windows or IANA name; default UTC) sets the zone of
  ``start`` / ``end``; it is not baked in, so it must be sent on every page.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

from starlette.datastructures import QueryParams
from starlette.requests import Request

from nudger.sandbox.microsoft_common import (
    GraphError,
    as_utc,
    invalid_request,
    parse_iso,
    zone_named,
)
from nudger.sandbox.microsoft_events import View, event_resource, removed_resource
from nudger.sandbox.world import Mailbox, SandboxEvent, World

DEFAULT_PAGE = 10
MAX_PAGE = 1000
_WINDOW_REQUIRED = (
    "This request requires a time window specified by the query string parameters "
    "StartDateTime and EndDateTime."
)
_PROPERTY_ID = re.compile(r"id\s+eq\s+'([^']*)'", re.IGNORECASE)


@dataclass(frozen=True)
class DeltaState:
    """What a ``$skiptoken`` / ``$deltatoken`` carries."""

    mailbox: str
    start: str
    end: str
    expand: str | None
    since: int
    """Changes after this version (0: a full round)."""
    round_start: int
    """The world version when this round began: the next round's ``since``."""
    after: str | None
    """The last event id served in this round (paging)."""
    issued: int


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_state: DeltaState
    last: bool


# --- request parsing --------------------------------------------------------------------------


def query_param(params: QueryParams, name: str) -> str | None:
    """Graph's query option names are case-insensitive."""
    for key, value in params.items():
        if key.lower() == name.lower():
            return value
    return None


def preferences(request: Request) -> dict[str, str]:
    """``Prefer`` header values by name (``odata.maxpagesize``, ``outlook.timezone``)."""
    found: dict[str, str] = {}
    for header in request.headers.getlist("prefer"):
        for item in header.split(","):
            name, _, value = item.strip().partition("=")
            found[name.strip().lower()] = value.strip().strip('"')
    return found


def view_for(request: Request, expand: str | None) -> View:
    name = preferences(request).get("outlook.timezone", "UTC") or "UTC"
    zone = zone_named(name)
    if zone is None:
        message = (
            "A valid TimeZone value must be specified. The following TimeZone value is not "
            f"supported: '{name}'."
        )
        raise GraphError(400, "TimeZoneNotSupportedException", message)
    return View(zone, name, expanded_properties(expand))


def expanded_properties(expand: str | None) -> frozenset[str] | None:
    """Ids named by ``$expand=singleValueExtendedProperties($filter=id eq '...')``."""
    if not expand or not expand.strip().lower().startswith("singlevalueextendedproperties"):
        return None
    return frozenset(match.lower() for match in _PROPERTY_ID.findall(expand))


def page_size(request: Request) -> int:
    value = preferences(request).get("odata.maxpagesize", "")
    return min(int(value), MAX_PAGE) if value.isdigit() and int(value) > 0 else DEFAULT_PAGE


def round_state(world: World, mailbox: Mailbox, params: QueryParams) -> DeltaState:
    """The state of this request: from its token, or a new full round."""
    skip = query_param(params, "$skiptoken")
    delta = query_param(params, "$deltatoken")
    if skip or delta:
        state = _decode(skip or delta or "", mailbox)
        _check_same_window(params, state)
        if delta:
            state = replace(state, round_start=world.version, after=None)
        return state
    start, end = _window(params)
    return DeltaState(
        mailbox=mailbox.email.lower(),
        start=start.isoformat(),
        end=end.isoformat(),
        expand=query_param(params, "$expand"),
        since=0,
        round_start=world.version,
        after=None,
        issued=world.version,
    )


def _window(params: QueryParams) -> tuple[datetime, datetime]:
    start_text = query_param(params, "startDateTime")
    end_text = query_param(params, "endDateTime")
    if not start_text or not end_text:
        raise invalid_request(_WINDOW_REQUIRED, "ErrorInvalidParameter")
    start = as_utc(parse_iso(start_text, "startDateTime"))
    end = as_utc(parse_iso(end_text, "endDateTime"))
    if end <= start:
        raise invalid_request(
            "The parameter 'EndDateTime' must be after 'StartDateTime'.", "ErrorInvalidParameter"
        )
    return start, end


def _check_same_window(params: QueryParams, state: DeltaState) -> None:
    if query_param(params, "startDateTime") is None and query_param(params, "endDateTime") is None:
        return
    start, end = _window(params)
    if (start.isoformat(), end.isoformat()) != (state.start, state.end):
        message = (
            "The time window of a delta round is fixed by its first request; "
            "startDateTime and endDateTime cannot change in its links."
        )
        raise invalid_request(message, "ErrorInvalidParameter")


# --- tokens -----------------------------------------------------------------------------------


def encode(state: DeltaState) -> str:
    raw = json.dumps(asdict(state), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(token: str, mailbox: Mailbox) -> DeltaState:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        state = DeltaState(**json.loads(raw))
    except (binascii.Error, ValueError, TypeError) as exc:
        raise invalid_request("The delta token is invalid.", "BadRequest") from exc
    if state.mailbox != mailbox.email.lower():
        raise invalid_request("The delta token is invalid.", "BadRequest")
    if state.issued < mailbox.sync_epoch:
        message = "The sync state generation is not valid any more. Start a full sync."
        raise GraphError(410, "syncStateNotFound", message)
    return state


# --- pages ------------------------------------------------------------------------------------


def next_page(world: World, mailbox: Mailbox, state: DeltaState, size: int, view: View) -> Page:
    """The next page of the round described by ``state``."""
    with world.lock:
        candidates = sorted(_candidates(world, mailbox, state), key=lambda e: e.id)
        remaining = [e for e in candidates if state.after is None or e.id > state.after]
        served = remaining[:size]
        items = [_item(e, mailbox, world, state, view) for e in served]
        last = len(remaining) <= size
        after = served[-1].id if served else state.after
        issued = world.version
    if last:
        following = replace(state, since=state.round_start, after=None, issued=issued)
    else:
        following = replace(state, after=after, issued=issued)
    return Page(items, following, last)


def _candidates(world: World, mailbox: Mailbox, state: DeltaState) -> list[SandboxEvent]:
    if state.since == 0:
        return [e for e in world.live_events(mailbox) if _in_window(e, state)]
    return world.changed_since(mailbox, state.since)


def _item(
    event: SandboxEvent, mailbox: Mailbox, world: World, state: DeltaState, view: View
) -> dict[str, Any]:
    if event.deleted or not _in_window(event, state):
        return removed_resource(event)
    return event_resource(event, mailbox, world, view)


def _in_window(event: SandboxEvent, state: DeltaState) -> bool:
    start, end = datetime.fromisoformat(state.start), datetime.fromisoformat(state.end)
    return as_utc(event.start) < end and as_utc(event.end) > start
