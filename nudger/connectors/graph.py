"""A small Microsoft Graph client over httpx: base URL, bearer token, retries, errors, paging.

``map_graph_error`` is the one place where Graph's HTTP failures become nudger's
exceptions. Every request of a mailbox holds one of its four slots (Outlook allows
four concurrent requests per mailbox per app), shared by every process through Redis
when a broker is set (``slots``); a slot is held for one attempt only, never while
waiting out a backoff. A 401 refreshes the access token once and retries
at once. Links from ``@odata.nextLink`` / ``@odata.deltaLink`` are only followed on
the configured Graph host, so the bearer token never leaves it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any, Protocol

import httpx

from nudger.config import Settings
from nudger.connectors import slots
from nudger.connectors.retry import (
    DEFAULT_POLICY,
    RetryPolicy,
    call_with_retries,
    parse_retry_after,
)
from nudger.connectors.tls import tls_context
from nudger.errors import (
    AuthRevoked,
    ConnectorError,
    NotFound,
    RateLimited,
    SyncCursorExpired,
    TransientError,
)

log = logging.getLogger(__name__)

MAX_CONCURRENT_PER_MAILBOX = 4
SYNC_STATE_CODES = frozenset({"syncStateNotFound", "resyncRequired", "syncStateInvalid"})
THROTTLED_STATUSES = frozenset({429, 503, 504})
TIMEOUT = httpx.Timeout(60.0, connect=10.0)
NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""Network failures that happen before the request left: safe to retry even a send."""


class TokenSource(Protocol):
    def access_token(self, *, force_refresh: bool = False) -> str: ...


def mailbox_slots(mailbox: str, settings: Settings) -> slots.RequestSlots:
    """The mailbox's request slots: across processes with a broker, else this process's."""
    return slots.mailbox_slots(mailbox, MAX_CONCURRENT_PER_MAILBOX, settings.broker)


# --- errors -------------------------------------------------------------------------


def map_graph_error(response: httpx.Response) -> ConnectorError:
    """The one place where Graph's HTTP errors become nudger's exceptions."""
    status = response.status_code
    code = _error_code(response)
    message = f"Graph {status} {code or ''}".strip()
    if status == 410:
        if code in SYNC_STATE_CODES or "/delta" in response.request.url.path:
            return SyncCursorExpired(message, status=status)
        return NotFound(message, status=status)
    if status == 404:
        return NotFound(message, status=status)
    if status == 429 or (status in THROTTLED_STATUSES and _retry_after(response) is not None):
        return RateLimited(message, status=status, retry_after=_retry_after(response))
    if status == 401:
        return AuthRevoked(message, status=status)
    if status >= 500:
        return TransientError(message, status=status)
    return ConnectorError(message, status=status)


def _error_code(response: httpx.Response) -> str | None:
    try:
        code = response.json().get("error", {}).get("code")
    except (ValueError, AttributeError):
        return None
    return str(code) if code else None


def _retry_after(response: httpx.Response) -> float | None:
    """Graph sends Retry-After in seconds; an HTTP-date (RFC 9110) is read too."""
    return parse_retry_after(response.headers.get("retry-after"))


# --- the client ------------------------------------------------------------------------


class GraphClient:
    """Graph calls for one mailbox, authorized by its token source."""

    def __init__(
        self,
        settings: Settings,
        tokens: TokenSource,
        mailbox: str,
        *,
        policy: RetryPolicy = DEFAULT_POLICY,
    ) -> None:
        self._base = settings.graph_endpoint.rstrip("/")
        self._tokens = tokens
        self._slots = mailbox_slots(mailbox, settings)
        self._policy = policy
        self._http = httpx.Client(verify=tls_context(settings.ca_bundle), timeout=TIMEOUT)

    def get(
        self,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        return self.call("GET", path, params=params, headers=headers)

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """One idempotent call, retried while transient; the JSON body ({} when empty)."""
        response = call_with_retries(
            lambda: self._once(method, path, params, json, headers), policy=self._policy
        )
        return _json(response)

    def call_once(self, method: str, path: str, *, json: Any = None) -> dict[str, Any]:
        """One attempt, for a change that mails people (an invitation): a transient failure
        goes to the caller, whose own retry reads the state first."""
        return _json(self._once(method, path, None, json, None))

    def pages(
        self,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Each page of a collection, following ``@odata.nextLink`` to the end."""
        body = self.get(path, params=params, headers=headers)
        yield body
        while link := body.get("@odata.nextLink"):
            body = self.get(link, headers=headers)  # the link carries the query
            yield body

    def send(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        """One attempt (a second one after a 401 with a fresh token); errors not mapped."""
        request = self._http.build_request(
            method, self._url(path), params=params, json=json, headers=headers, content=content
        )
        response = self._attempt(request, self._tokens.access_token())
        if response.status_code == 401:
            log.info("Graph refused the access token; refreshing it once")
            response = self._attempt(request, self._tokens.access_token(force_refresh=True))
        return response

    def _attempt(self, request: httpx.Request, token: str) -> httpx.Response:
        request.headers["Authorization"] = f"Bearer {token}"
        slot = self._slots.acquire()
        try:
            return self._http.send(request)
        finally:
            self._slots.release(slot)

    def _once(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        json: Any,
        headers: Mapping[str, str] | None,
    ) -> httpx.Response:
        try:
            response = self.send(method, path, params, json, headers)
        except httpx.TransportError as exc:
            raise TransientError(f"network error talking to Graph: {type(exc).__name__}") from None
        if not response.is_success:
            raise map_graph_error(response)
        return response

    def _url(self, path: str) -> str:
        if not path.startswith(("https://", "http://")):
            return self._base + "/" + path.lstrip("/")
        if not path.startswith(self._base + "/"):
            raise ConnectorError("Graph returned a link to another host; not following it")
        return path

    def close(self) -> None:
        self._http.close()


def _json(response: httpx.Response) -> dict[str, Any]:
    if not response.content:
        return {}
    try:
        body = response.json()
    except ValueError:
        raise TransientError(
            f"Graph answered {response.status_code} with unreadable JSON"
        ) from None
    if not isinstance(body, dict):
        raise TransientError(f"Graph answered {response.status_code} with a non-object body")
    return body
