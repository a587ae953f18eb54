"""Graph reads that send every event whole: by id, ``calendarView`` and ``instances``.

- ``GET /me/events/{id}``: a single event, an occurrence or exception of a series, or a
  series master (``microsoft_series``); 404 ``ErrorItemNotFound`` for anything else.
- ``GET /me/calendarView`` lists single events, occurrences and exceptions in the window,
  each whole (microsoft-graph-docs issue #22197 "Delta docs aren't full": calendarView and
  events/{id} return full events); never series masters.
- ``GET /me/events/{id}/instances`` lists the occurrences and exceptions of one series
  master in the window; deleted occurrences are not listed (microsoft-graph-docs issue
  #2963 "Deleted appointments/occurrencies of a series were not listed").

Both listings need ``startDateTime`` and ``endDateTime`` (400 otherwise), run by start
time and page like delta: ``Prefer: odata.maxpagesize`` (default 10), an absolute
``@odata.nextLink`` carrying a ``$skiptoken`` while more remain.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from nudger.sandbox import microsoft_delta as delta
from nudger.sandbox.microsoft_common import (
    GRAPH_PREFIX,
    as_utc,
    event_world_id,
    invalid_request,
    not_found,
    series_world_id,
)
from nudger.sandbox.microsoft_events import View, event_resource
from nudger.sandbox.microsoft_series import (
    Series,
    master_resource,
    occurrence_resource,
    series_index,
)
from nudger.sandbox.world import Mailbox, SandboxEvent, World


@dataclass(frozen=True)
class Listing:
    """What a listing's ``$skiptoken`` carries."""

    mailbox: str
    start: str
    end: str
    series: str | None
    """The series whose instances are listed (None: the calendar view)."""
    offset: int = 0


def event_by_id(world: World, mailbox: Mailbox, graph_id: str, view: View) -> dict[str, Any]:
    """Any event of the mailbox by Graph id, whole; 404 as Graph answers unknown ids."""
    with world.lock:
        series_id = series_world_id(graph_id)
        if series_id is not None:
            series = series_index(mailbox).get(series_id)
            if series is None or not series.live:
                raise not_found()
            return master_resource(series, mailbox, world, view)
        event = mailbox.events.get(event_world_id(graph_id) or "")
        if event is None or event.deleted:
            raise not_found()
        return _whole(event, series_index(mailbox), mailbox, world, view)


def listing_of(request: Request, mailbox: Mailbox, series: str | None) -> Listing:
    """The listing a request asks for: from its ``$skiptoken``, or a new one."""
    token = delta.query_param(request.query_params, "$skiptoken")
    if token:
        return _decode(token, mailbox, series)
    start, end = delta.window_of(request.query_params)
    return Listing(mailbox.email.lower(), start.isoformat(), end.isoformat(), series)


def listing_response(
    request: Request, world: World, mailbox: Mailbox, listing: Listing
) -> Response:
    view = delta.view_for(request, None)
    size = delta.page_size(request)
    with world.lock:
        events = _listed(world, mailbox, listing)
        index = series_index(mailbox)
        page = events[listing.offset : listing.offset + size]
        items = [_whole(event, index, mailbox, world, view) for event in page]
    context = f"{request.url.scheme}://{request.url.netloc}{GRAPH_PREFIX}/$metadata"
    body: dict[str, Any] = {"@odata.context": f"{context}#Collection(event)", "value": items}
    if listing.offset + size < len(events):
        following = replace(listing, offset=listing.offset + size)
        here = f"{request.url.scheme}://{request.url.netloc}{request.url.path}"
        body["@odata.nextLink"] = f"{here}?$skiptoken={_encode(following)}"
    return JSONResponse(body)


def _listed(world: World, mailbox: Mailbox, listing: Listing) -> list[SandboxEvent]:
    if listing.series is not None and series_index(mailbox).get(listing.series) is None:
        raise not_found()
    start, end = datetime.fromisoformat(listing.start), datetime.fromisoformat(listing.end)
    return [
        event
        for event in world.live_events(mailbox)
        if as_utc(event.start) < end and as_utc(event.end) > start
        if listing.series is None or event.series_id == listing.series
    ]


def _whole(
    event: SandboxEvent, index: dict[str, Series], mailbox: Mailbox, world: World, view: View
) -> dict[str, Any]:
    series = index.get(event.series_id or "")
    if series is None:
        return event_resource(event, mailbox, world, view)
    return occurrence_resource(event, series, mailbox, world, view, bare=False)


def _encode(listing: Listing) -> str:
    raw = json.dumps(asdict(listing), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(token: str, mailbox: Mailbox, series: str | None) -> Listing:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        listing = Listing(**json.loads(raw))
    except (binascii.Error, ValueError, TypeError) as exc:
        raise invalid_request("The skip token is invalid.", "BadRequest") from exc
    if listing.mailbox != mailbox.email.lower() or listing.series != series:
        raise invalid_request("The skip token is invalid.", "BadRequest")
    return listing
