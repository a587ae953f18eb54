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
  changed events, deleted ones (and ones moved out of the window) as
  ``{"@removed": {"reason": "deleted"}, "id"}``.
- Recurring series (``microsoft_series``): plain occurrences come bare, exceptions whole,
  and the series master whole, once per round, when its own times are in the window; an
  edit of the whole series (or of one of its occurrences) brings the master back in the
  next incremental round. Masters' ids sort after events', so a master comes on a later
  page than its occurrences.
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
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

from starlette.datastructures import QueryParams
from starlette.requests import Request

from nudger.sandbox.microsoft_common import (
    GraphError,
    as_utc,
    event_graph_id,
    invalid_request,
    parse_iso,
    zone_named,
)
from nudger.sandbox.microsoft_events import View, event_resource, removed_resource
from nudger.sandbox.microsoft_series import (
    Series,
    master_resource,
    occurrence_resource,
    removed_master,
    series_index,
)
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
    """The last Graph id served in this round (paging)."""
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
    start, end = window_of(params)
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


def window_of(params: QueryParams) -> tuple[datetime, datetime]:
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
    start, end = window_of(params)
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

Render = Callable[[], dict[str, Any]]


def next_page(world: World, mailbox: Mailbox, state: DeltaState, size: int, view: View) -> Page:
    """The next page of the round described by ``state``."""
    with world.lock:
        entries = sorted(_entries(world, mailbox, state, view), key=lambda entry: entry[0])
        remaining = [e for e in entries if state.after is None or e[0] > state.after]
        served = remaining[:size]
        items = [render() for _, render in served]
        last = len(remaining) <= size
        after = served[-1][0] if served else state.after
        issued = world.version
    if last:
        following = replace(state, since=state.round_start, after=None, issued=issued)
    else:
        following = replace(state, after=after, issued=issued)
    return Page(items, following, last)


def _entries(
    world: World, mailbox: Mailbox, state: DeltaState, view: View
) -> list[tuple[str, Render]]:
    """This round's items as (Graph id, how to render it): pages are cut on the Graph id."""
    index = series_index(mailbox)
    events = (
        [e for e in world.live_events(mailbox) if _in_window(e, state)]
        if state.since == 0
        else world.changed_since(mailbox, state.since)
    )
    found = [
        (event_graph_id(e.id), _event_item(e, index, mailbox, world, state, view)) for e in events
    ]
    masters = [s for s in index.values() if s.version > state.since]
    found += [
        (s.graph_id, _master_item(s, mailbox, world, view)) for s in masters if _listed(s, state)
    ]
    return found


def _event_item(
    event: SandboxEvent,
    index: dict[str, Series],
    mailbox: Mailbox,
    world: World,
    state: DeltaState,
    view: View,
) -> Render:
    if event.deleted or not _in_window(event, state):
        return lambda: removed_resource(event)
    series = index.get(event.series_id or "")
    if series is None:
        return lambda: event_resource(event, mailbox, world, view)
    return lambda: occurrence_resource(event, series, mailbox, world, view, bare=True)


def _master_item(series: Series, mailbox: Mailbox, world: World, view: View) -> Render:
    if not series.live:
        return lambda: removed_master(series)
    return lambda: master_resource(series, mailbox, world, view)


def _listed(series: Series, state: DeltaState) -> bool:
    """A master is in the view when its own times (the first occurrence's) are; a series
    whose every occurrence is gone is listed (as removed) in incremental rounds only."""
    if not series.live:
        return state.since > 0
    return _overlaps(series.start, series.end, state)


def _in_window(event: SandboxEvent, state: DeltaState) -> bool:
    return _overlaps(event.start, event.end, state)


def _overlaps(start: datetime, end: datetime, state: DeltaState) -> bool:
    first, last = datetime.fromisoformat(state.start), datetime.fromisoformat(state.end)
    return as_utc(start) < last and as_utc(end) > first
