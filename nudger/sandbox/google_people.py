"""People API v1 on the emulator: ``people.listDirectoryPeople``, the Workspace directory.

What Google documents and this models:
- the ``directory.readonly`` scope is required (403 ``insufficientPermissions`` without);
- ``readMask`` and ``sources`` are required (400); ``pageSize`` is 1-1000, 100 by default;
- a ``pageToken`` only works with the same other parameters as the call that gave it
  (400 otherwise);
- only Workspace users have a directory: a consumer (gmail.com) account cannot grant
  the scope at all (``google_oauth`` leaves it out of the consent);
- a Workspace admin who turned off "External Directory Sharing" gets the user a 403
  ``PERMISSION_DENIED`` on every directory call (``Mailbox.directory_forbidden``);
- a domain profile's ``relations`` carry its manager (``type: manager``) only where the
  domain's admin recorded one; ``person`` is what the admin typed, here the manager's
  address.

The directory is the world's Google users of the caller's domain and everyone the world
knows by name in that domain (``World.people``), ordered by address.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from nudger.sandbox import google_tokens
from nudger.sandbox.google_common import GoogleError, bad_request, google_endpoint
from nudger.sandbox.world import Mailbox, World

DIRECTORY_READ = frozenset({"https://www.googleapis.com/auth/directory.readonly"})
PATH = "/v1/people:listDirectoryPeople"
DEFAULT_PAGE, MAX_PAGE = 100, 1000
PROFILE_SOURCE = "DIRECTORY_SOURCE_TYPE_DOMAIN_PROFILE"
SOURCES = {PROFILE_SOURCE, "DIRECTORY_SOURCE_TYPE_DOMAIN_CONTACT"}
CONSUMER_DOMAINS = {"gmail.com", "googlemail.com"}
FIELDS = {"names", "emailAddresses", "relations", "metadata"}
"""The readMask fields the emulator fills; Google accepts more (they come back empty here)."""


class People:
    def __init__(self, world: World) -> None:
        self.world = world

    @google_endpoint
    async def list_directory_people(self, request: Request) -> Response:
        caller = google_tokens.authenticate(self.world, request, DIRECTORY_READ)
        query = _Query.of(request)
        domain = _domain(caller.email)
        if caller.directory_forbidden:
            message = "The caller does not have permission"
            raise GoogleError(403, "forbidden", message)
        entries = self._directory(domain) if PROFILE_SOURCE in query.sources else []
        start = query.offset()
        page = entries[start : start + query.page_size]
        body: dict[str, Any] = {"people": [_person(entry, query.fields) for entry in page]}
        if start + query.page_size < len(entries):
            body["nextPageToken"] = query.token_for(start + query.page_size)
        return JSONResponse(body)

    def _directory(self, domain: str) -> list[_Entry]:
        """Every known person of ``domain``, by address, with their manager."""
        with self.world.lock:
            names = {e: n for e, n in self.world.people.items() if _domain(e) == domain}
            for mailbox in self.world.mailboxes.values():
                if mailbox.provider == "google" and _domain(mailbox.email) == domain:
                    names[mailbox.email] = mailbox.name
            managers = _managers(list(self.world.mailboxes.values()))
        return [_Entry(email, names[email], managers.get(email)) for email in sorted(names)]


@dataclass(frozen=True)
class _Entry:
    email: str
    name: str
    manager: str | None


def _managers(mailboxes: list[Mailbox]) -> dict[str, str]:
    """Each person's manager as the admin recorded it: a mailbox's own manager, and the
    mailbox as the manager of each of its direct reports."""
    found: dict[str, str] = {}
    for mailbox in mailboxes:
        if mailbox.manager:
            found[mailbox.email] = mailbox.manager
        for report in mailbox.direct_reports:
            found.setdefault(report.lower(), mailbox.email)
    return found


def _person(entry: _Entry, fields: frozenset[str]) -> dict[str, Any]:
    email = entry.email
    digest = hashlib.sha256(email.encode()).hexdigest()
    person: dict[str, Any] = {
        "resourceName": "people/" + digest[:21],
        "etag": "%Eg" + digest[21:33],
    }
    source = {"type": "DOMAIN_PROFILE", "id": person["resourceName"][7:]}
    if "names" in fields:
        person["names"] = [
            {"metadata": {"primary": True, "source": source}, "displayName": entry.name}
        ]
    if "emailAddresses" in fields:
        person["emailAddresses"] = [
            {"metadata": {"primary": True, "source": source}, "value": email}
        ]
    if "relations" in fields and entry.manager:
        relation = {"person": entry.manager, "type": "manager", "formattedType": "Manager"}
        person["relations"] = [{"metadata": {"source": source}, **relation}]
    return person


class _Query:
    """The parameters of one call, checked as Google checks them."""

    def __init__(self, fields: frozenset[str], sources: tuple[str, ...], size: int, token: str):
        self.fields, self.sources, self.page_size, self._token = fields, sources, size, token

    @classmethod
    def of(cls, request: Request) -> _Query:
        params = request.query_params
        mask = params.get("readMask", "")
        if not mask:
            raise bad_request("readMask is required", "invalidArgument", "readMask")
        sources = tuple(params.getlist("sources"))
        if not sources:
            raise bad_request("sources is required", "invalidArgument", "sources")
        if not set(sources) <= SOURCES:
            raise bad_request(f"Invalid value at 'sources': {sources}", "invalidArgument")
        size = _page_size(params.get("pageSize", "0"))
        fields = frozenset(field.strip() for field in mask.split(","))
        return cls(fields, sources, size, params.get("pageToken", ""))

    def _key(self) -> str:
        shape = [sorted(self.fields), sorted(self.sources), self.page_size]
        return hashlib.sha256(json.dumps(shape).encode()).hexdigest()[:16]

    def token_for(self, offset: int) -> str:
        raw = json.dumps({"o": offset, "k": self._key()}).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def offset(self) -> int:
        if not self._token:
            return 0
        try:
            data = json.loads(base64.urlsafe_b64decode(self._token + "=" * (-len(self._token) % 4)))
            offset, key = int(data["o"]), str(data["k"])
        except (ValueError, KeyError, TypeError) as exc:
            raise bad_request("Request contains an invalid argument.", "invalidArgument") from exc
        if key != self._key():
            message = "Parameters provided with a page token must match the first call."
            raise bad_request(message, "invalidArgument", "pageToken")
        return offset


def _page_size(value: str) -> int:
    try:
        size = int(value)
    except ValueError:
        raise bad_request("Invalid value at 'page_size'", "invalidArgument", "pageSize") from None
    if size == 0:
        return DEFAULT_PAGE
    if not 1 <= size <= MAX_PAGE:
        raise bad_request("pageSize must be between 1 and 1000", "invalidArgument", "pageSize")
    return size


def is_consumer(email: str) -> bool:
    return _domain(email) in CONSUMER_DOMAINS


def _domain(email: str) -> str:
    return email.rpartition("@")[2].lower()


def routes(world: World) -> list[BaseRoute]:
    return [Route(PATH, People(world).list_directory_people, methods=["GET"])]
