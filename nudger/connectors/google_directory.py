"""DirectoryReader for Google Workspace: the People API's domain directory.

Google Calendar has no org chart. Where the user granted the optional
``directory.readonly`` scope (``NUDGER_GOOGLE_DIRECTORY``), ``people.listDirectoryPeople``
lists the domain's profiles; a profile's ``relations`` name its manager (``type:
manager``) only where the Workspace admin recorded one. The relation's ``person`` is free
text: an address, or a name that must match exactly one profile. So the manager is the
owner's own relation, and the direct reports are the profiles whose manager is the owner.
A consumer account (it cannot grant the scope), a refused scope or an admin who keeps
the directory from apps ("External Directory Sharing", 403) just means no org chart.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httplib2
from googleapiclient.discovery import Resource, build

from nudger.connectors.addresses import checked_mailbox, plain_name
from nudger.connectors.base import Person
from nudger.errors import ConnectorError

log = logging.getLogger(__name__)

READ_MASK = "names,emailAddresses,relations"
PAGE_SIZE = 1000
"""The most Google serves in one page."""
MAX_PAGES = 50
"""Read at most 50,000 profiles: a bigger domain's org chart is left partly unread."""
NO_DIRECTORY = (400, 403)
"""403: the scope is missing or the admin keeps the directory from apps; 400: an account
without a Workspace directory, should one ever hold the scope."""


@dataclass(frozen=True)
class Profile:
    """One directory profile: who they are and the manager the admin recorded."""

    person: Person
    manager: str | None
    """The relation's text as given: an address or a name."""


@functools.cache
def people_api(endpoint: str) -> Resource:
    """The People API's ``people`` resource, built once per process and endpoint (its
    requests run on each account's own authorized client)."""
    service = build(
        "people",
        "v1",
        http=httplib2.Http(),  # never used: every request runs on an account's own client
        static_discovery=True,
        cache_discovery=False,
        client_options={"api_endpoint": endpoint.rstrip("/") + "/"},
    )
    return service.people()


class GoogleDirectory:
    """The owner's manager and direct reports from the Workspace directory, read once."""

    def __init__(self, endpoint: str, run: Callable[[Callable[[], Any]], Any], account: str):
        """``run`` executes a request on the account's authorized client (``google.py``)."""
        self._endpoint = endpoint
        self._run = run
        self._account = account.lower()

    def direct_reports(self) -> list[Person]:
        profiles = self._profiles
        return [p.person for p in profiles if _resolve(p.manager, profiles) == self._account]

    def manager(self) -> Person | None:
        profiles = self._profiles
        mine = next((p for p in profiles if p.person.email == self._account), None)
        address = _resolve(mine.manager if mine else None, profiles)
        return next((p.person for p in profiles if p.person.email == address), None)

    @functools.cached_property
    def _profiles(self) -> tuple[Profile, ...]:
        """The whole directory, read on first use (a pass asks for reports and manager)."""
        try:
            return tuple(self._read())
        except ConnectorError as exc:
            if exc.status not in NO_DIRECTORY:
                raise
            log.info("no Workspace directory for this account (%s)", exc.status)
            return ()

    def _read(self) -> Iterator[Profile]:
        token: str | None = None
        for _ in range(MAX_PAGES):
            body = self._page(token)
            yield from (p for p in map(_profile, body.get("people") or []) if p is not None)
            token = body.get("nextPageToken")
            if not token:
                return
        log.warning("directory over %d profiles; the rest is not read", PAGE_SIZE * MAX_PAGES)

    def _page(self, token: str | None) -> dict[str, Any]:
        people = people_api(self._endpoint)
        result: dict[str, Any] = self._run(
            lambda: people.listDirectoryPeople(
                readMask=READ_MASK,
                sources=["DIRECTORY_SOURCE_TYPE_DOMAIN_PROFILE"],
                pageSize=PAGE_SIZE,
                pageToken=token,
            )
        )
        return result


def _profile(item: Any) -> Profile | None:
    """A directory entry with a usable primary address; anything else is left out."""
    if not isinstance(item, dict):
        return None
    address = checked_mailbox(_first(item.get("emailAddresses"), "value"), "Google directory")
    if address is None:
        return None
    name = plain_name(_first(item.get("names"), "displayName"))
    managers = [r for r in item.get("relations") or [] if isinstance(r, dict)]
    manager = next((r.get("person") for r in managers if r.get("type") == "manager"), None)
    return Profile(Person(address, name), manager if isinstance(manager, str) else None)


def _first(values: Any, key: str) -> Any:
    """``key`` of the primary entry of a People list field (else the first)."""
    if not isinstance(values, list):
        return None
    entries = [v for v in values if isinstance(v, dict)]
    primary = [v for v in entries if (v.get("metadata") or {}).get("primary")]
    return (primary or entries or [{}])[0].get(key)


def _resolve(manager: str | None, profiles: tuple[Profile, ...]) -> str | None:
    """The manager's address: the text itself when it is one, else the one profile with
    exactly that name (a name two people share names nobody)."""
    if not manager:
        return None
    address = checked_mailbox(manager, "Google directory manager") if "@" in manager else None
    if address:
        return address
    named = [p.person.email for p in profiles if p.person.name == plain_name(manager)]
    return named[0] if len(named) == 1 else None
