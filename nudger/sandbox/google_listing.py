"""``events.list``: filters, paging and sync tokens, with the traps Google documents.

- Pages are deliberately uneven: the first page of a round holds two thirds of
  ``maxResults``, the next one a full page, every third page none at all, all with
  ``nextPageToken`` while more remain. Only a missing ``nextPageToken`` ends paging.
- ``nextSyncToken`` comes on the last page only. It records the query's window,
  ``showDeleted`` and private-property filter, applied again implicitly to the
  incremental round as Google does.
- Page tokens are bound to the query that produced them (400 otherwise).
- A sync token issued before ``mailbox.sync_epoch`` (or not one of ours) is 410
  ``fullSyncRequired``.
- Cancelled instances of a recurring series (cancelled or deleted occurrences) are
  listed bare, as cancelled exceptions: in incremental rounds always, in full lists
  only with ``showDeleted=true`` (the default is false). Other deleted events are
  bare too; a cancelled one-off keeps its details only where ``showDeleted`` is set
  (Calendar v3 reference: ``Event.status``, ``events.list`` ``showDeleted``).
- Only ``singleEvents=true`` is served: the world stores occurrences expanded, so the
  emulator cannot produce recurring masters (400 with an explanation otherwise).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.datastructures import QueryParams

from nudger.sandbox.google_common import (
    GoogleError,
    bad_request,
    parse_bool,
    parse_rfc3339,
    parse_zone,
)
from nudger.sandbox.google_events import cancelled_instance_json, deleted_json, event_json
from nudger.sandbox.world import Mailbox, SandboxEvent, World

DEFAULT_PAGE = 250
MAX_PAGE = 2500
NOT_WITH_SYNC_TOKEN = (
    "timeMin",
    "timeMax",
    "orderBy",
    "updatedMin",
    "q",
    "iCalUID",
    "privateExtendedProperty",
    "sharedExtendedProperty",
)
_NOT_BOUND = {"pageToken", "maxResults", "alt", "prettyPrint", "fields", "key", "quotaUser"}
FULL_SYNC_MESSAGE = "Sync token is no longer valid, a full sync is required."


@dataclass(frozen=True)
class SyncState:
    """What a sync token carries: where the last round ended and its implicit filters."""

    mailbox: str
    version: int
    time_min: str | None
    time_max: str | None
    show_deleted: bool
    private: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class EventQuery:
    time_min: datetime | None
    time_max: datetime | None
    show_deleted: bool
    order_by: str | None
    updated_min: datetime | None
    ical_uid: str | None
    text: str | None
    private: tuple[tuple[str, str], ...]
    event_types: tuple[str, ...]
    max_results: int
    zone: ZoneInfo
    fingerprint: str
    sync: SyncState | None


def parse_query(params: QueryParams, mailbox: Mailbox) -> EventQuery:
    """Validate an ``events.list`` query the way Google does (400 on misuse)."""
    if params.get("syncToken"):
        clashing = [name for name in NOT_WITH_SYNC_TOKEN if name in params]
        if clashing:
            raise bad_request(f"The syncToken parameter cannot be combined with {clashing[0]}.")
    order_by = params.get("orderBy") or None
    single = parse_bool(params.get("singleEvents"), "singleEvents")
    _check_order(order_by, single)
    if not single:
        raise bad_request(
            "The nudger sandbox only supports singleEvents=true: recurring series are stored "
            "expanded, so recurring masters cannot be returned.",
            location="singleEvents",
        )
    time_min, time_max = _window(params)
    sync = decode_sync(params["syncToken"], mailbox) if params.get("syncToken") else None
    return EventQuery(
        time_min=time_min,
        time_max=time_max,
        show_deleted=parse_bool(params.get("showDeleted"), "showDeleted"),
        order_by=order_by,
        updated_min=_optional_time(params, "updatedMin"),
        ical_uid=params.get("iCalUID") or None,
        text=(params.get("q") or "").lower() or None,
        private=_properties(params.getlist("privateExtendedProperty")),
        event_types=tuple(params.getlist("eventTypes")),
        max_results=_max_results(params.get("maxResults")),
        zone=parse_zone(params.get("timeZone") or mailbox.time_zone),
        fingerprint=_fingerprint(params, mailbox),
        sync=sync,
    )


def _check_order(order_by: str | None, single: bool) -> None:
    if order_by not in (None, "startTime", "updated"):
        raise bad_request(f"Invalid value for orderBy: {order_by!r}", location="orderBy")
    if order_by == "startTime" and not single:
        raise bad_request("The requested ordering is not available for the particular query.")


def _window(params: QueryParams) -> tuple[datetime | None, datetime | None]:
    time_min = _optional_time(params, "timeMin")
    time_max = _optional_time(params, "timeMax")
    if time_min and time_max and time_max <= time_min:
        raise GoogleError(
            400,
            "timeRangeEmpty",
            "The specified time range is empty.",
            domain="calendar",
            location="timeMax",
        )
    return time_min, time_max


def _optional_time(params: QueryParams, name: str) -> datetime | None:
    value = params.get(name)
    return parse_rfc3339(value, name) if value else None


def _properties(values: list[str]) -> tuple[tuple[str, str], ...]:
    pairs = []
    for value in values:
        key, sep, item = value.partition("=")
        if not sep or not key:
            raise bad_request(f"Invalid privateExtendedProperty: {value!r}")
        pairs.append((key, item))
    return tuple(sorted(pairs))


def _max_results(value: str | None) -> int:
    if not value:
        return DEFAULT_PAGE
    try:
        number = int(value)
    except ValueError as exc:
        raise bad_request(
            f"Invalid value for maxResults: {value!r}", location="maxResults"
        ) from exc
    if number < 1:
        raise bad_request(f"Invalid value for maxResults: {value!r}", location="maxResults")
    return min(number, MAX_PAGE)


def _fingerprint(params: QueryParams, mailbox: Mailbox) -> str:
    bound = sorted((k, v) for k, v in params.multi_items() if k not in _NOT_BOUND)
    return hashlib.sha256(json.dumps([mailbox.email, bound]).encode()).hexdigest()[:24]


# --- tokens -----------------------------------------------------------------------------


def _encode(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def _decode(token: str) -> dict[str, Any] | None:
    try:
        payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    return payload if isinstance(payload, dict) else None


def decode_sync(token: str, mailbox: Mailbox) -> SyncState:
    """The state a sync token carries; 410 ``fullSyncRequired`` if it is not valid now."""
    state = _sync_state(_decode(token) or {})
    if state is None or state.mailbox != mailbox.email or state.version < mailbox.sync_epoch:
        raise GoogleError(
            410, "fullSyncRequired", FULL_SYNC_MESSAGE, domain="calendar", location="syncToken"
        )
    return state


def _sync_state(payload: dict[str, Any]) -> SyncState | None:
    try:
        return SyncState(
            mailbox=str(payload["mailbox"]),
            version=int(payload["version"]),
            time_min=payload["time_min"],
            time_max=payload["time_max"],
            show_deleted=bool(payload["show_deleted"]),
            private=tuple((str(k), str(v)) for k, v in payload["private"]),
        )
    except (KeyError, TypeError, ValueError):
        return None


@dataclass(frozen=True)
class _Cursor:
    fingerprint: str
    key: tuple[str, str] | None
    page: int
    as_of: int


def _decode_page(token: str, query: EventQuery) -> _Cursor:
    payload = _decode(token) or {}
    if payload.get("f") != query.fingerprint:
        message = "Invalid page token: it does not belong to this query."
        raise bad_request(message, location="pageToken")
    try:
        key = (str(payload["k"][0]), str(payload["k"][1])) if payload["k"] else None
        return _Cursor(query.fingerprint, key, int(payload["n"]), int(payload["a"]))
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise bad_request("Invalid page token.", location="pageToken") from exc


def page_limit(max_results: int, page: int) -> int:
    """Deliberately uneven pages: 2/3 of a page, a full page, an empty page, repeat."""
    if page % 3 == 2:
        return 0
    if page % 3 == 0:
        return max(1, max_results * 2 // 3)
    return max_results


# --- the listing -------------------------------------------------------------------------


def list_page(world: World, mailbox: Mailbox, query: EventQuery, page_token: str | None) -> dict:
    """One page of ``events.list`` (without the collection's header fields)."""
    with world.lock:
        if page_token:
            cursor = _decode_page(page_token, query)
        else:
            cursor = _Cursor(query.fingerprint, None, 0, world.version)
        key = _version_key if query.sync or query.order_by == "updated" else _start_key
        matching = sorted(((key(e), e) for e in _candidates(world, mailbox, query)), key=_first)
        remaining = [(k, e) for k, e in matching if cursor.key is None or k > cursor.key]
        chunk = remaining[: page_limit(query.max_results, cursor.page)]
        items = [_item(e, mailbox, query) for _, e in chunk]
        if len(remaining) > len(chunk):
            last = chunk[-1][0] if chunk else cursor.key
            following = _Cursor(cursor.fingerprint, last, cursor.page + 1, cursor.as_of)
            return {"items": items, "nextPageToken": _encode_cursor(following)}
        return {"items": items, "nextSyncToken": _sync_token(mailbox, query, cursor.as_of)}


def _first(pair: tuple[tuple[str, str], SandboxEvent]) -> tuple[str, str]:
    return pair[0]


def _encode_cursor(cursor: _Cursor) -> str:
    payload = {"f": cursor.fingerprint, "k": cursor.key, "n": cursor.page, "a": cursor.as_of}
    return _encode(payload)


def _sync_token(mailbox: Mailbox, query: EventQuery, as_of: int) -> str:
    if query.sync:
        state = SyncState(**{**asdict(query.sync), "version": as_of})
    else:
        state = SyncState(
            mailbox.email,
            as_of,
            query.time_min.isoformat() if query.time_min else None,
            query.time_max.isoformat() if query.time_max else None,
            query.show_deleted,
            query.private,
        )
    return _encode(asdict(state))


def _start_key(event: SandboxEvent) -> tuple[str, str]:
    return (event.start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f"), event.id)


def _version_key(event: SandboxEvent) -> tuple[str, str]:
    return (f"{event.version:015d}", event.id)


def _item(event: SandboxEvent, mailbox: Mailbox, query: EventQuery) -> dict[str, Any]:
    if event.series_id and (event.cancelled or event.deleted):
        return cancelled_instance_json(event, query.zone)
    if event.deleted or (event.cancelled and not _shows_deleted(query)):
        return deleted_json(event)
    return event_json(event, mailbox, query.zone)


def _shows_deleted(query: EventQuery) -> bool:
    """``showDeleted`` of this request, or of the round that issued its sync token."""
    return query.show_deleted or (query.sync is not None and query.sync.show_deleted)


def _candidates(world: World, mailbox: Mailbox, query: EventQuery) -> list[SandboxEvent]:
    if query.sync:
        changed = world.changed_since(mailbox, query.sync.version)
        return [e for e in changed if _in_sync_scope(e, query.sync)]
    return [e for e in mailbox.events.values() if _matches_full(e, query)]


def _in_sync_scope(event: SandboxEvent, sync: SyncState) -> bool:
    time_min = datetime.fromisoformat(sync.time_min) if sync.time_min else None
    time_max = datetime.fromisoformat(sync.time_max) if sync.time_max else None
    return _overlaps(event, time_min, time_max) and _has_properties(event, sync.private)


def _matches_full(event: SandboxEvent, query: EventQuery) -> bool:
    recently_updated = query.updated_min is not None and event.updated >= query.updated_min
    cancelled_instance = event.deleted and event.series_id is not None and query.show_deleted
    if event.deleted and not (recently_updated or cancelled_instance):
        return False
    if event.cancelled and not (query.show_deleted or recently_updated):
        return False
    checks: list[Callable[[], bool]] = [
        lambda: _overlaps(event, query.time_min, query.time_max),
        lambda: _has_properties(event, query.private),
        lambda: query.updated_min is None or recently_updated,
        lambda: query.ical_uid is None or event.ical_uid == query.ical_uid,
        lambda: not query.event_types or event.event_type in query.event_types,
        lambda: query.text is None or query.text in _searchable(event),
    ]
    return all(check() for check in checks)


def _overlaps(event: SandboxEvent, time_min: datetime | None, time_max: datetime | None) -> bool:
    return (time_min is None or event.end > time_min) and (
        time_max is None or event.start < time_max
    )


def _has_properties(event: SandboxEvent, wanted: tuple[tuple[str, str], ...]) -> bool:
    return all(event.private_props.get(key) == value for key, value in wanted)


def _searchable(event: SandboxEvent) -> str:
    people = " ".join(f"{a.email} {a.name}" for a in event.attendees)
    return f"{event.summary} {event.description} {people}".lower()
