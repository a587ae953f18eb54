"""The emulator's in-memory world: mailboxes, calendars, OAuth state, sent mail, faults.

Both provider front-ends (``google_api.py``, ``microsoft_api.py``) serve views of
the same world. Every mutation bumps a global sequence number stored on the event,
which is what sync tokens and delta links are built from. All access goes through
``World.lock`` because the server answers from several threads.
"""

from __future__ import annotations

import itertools
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time
from email.message import EmailMessage
from time import monotonic

from nudger.clock import utcnow


@dataclass
class SandboxAttendee:
    email: str
    name: str
    response: str = "accepted"
    """Google vocabulary: accepted, declined, tentative, needsAction."""
    resource: bool = False
    optional: bool = False


@dataclass
class SandboxEvent:
    """One occurrence. Recurring series are stored expanded, linked by ``series_id``."""

    id: str
    start: datetime
    end: datetime
    organizer: str
    attendees: list[SandboxAttendee] = field(default_factory=list)
    summary: str = ""
    description: str = ""
    all_day: bool = False
    cancelled: bool = False
    event_type: str = "default"
    """Google vocabulary: default, outOfOffice, focusTime, workingLocation."""
    transparent: bool = False
    series_id: str | None = None
    original_start: datetime | None = None
    ical_uid: str = ""
    private_props: dict[str, str] = field(default_factory=dict)
    transaction_id: str | None = None
    deleted: bool = False
    """Removed outright (not just cancelled); still listed to incremental syncs."""
    version: int = 0
    created: datetime = field(default_factory=utcnow)
    updated: datetime = field(default_factory=utcnow)


@dataclass
class Mailbox:
    """One user: their identity, settings, primary calendar and org-chart links."""

    email: str
    name: str
    provider: str
    """"google" or "microsoft": which front-end signs this user in."""
    time_zone: str = "Europe/London"
    windows_time_zone: str = "GMT Standard Time"
    working_days: tuple[int, ...] = (1, 2, 3, 4, 5)
    work_start: time = time(9, 0)
    work_end: time = time(17, 0)
    aliases: tuple[str, ...] = ()
    manager: str | None = None
    direct_reports: list[str] = field(default_factory=list)
    events: dict[str, SandboxEvent] = field(default_factory=dict)
    series_versions: dict[str, int] = field(default_factory=dict)
    """Series edited as a whole (``World.change_series``): the version of that edit."""
    sync_epoch: int = 0
    """Cursors issued before this sequence number answer 410 (see ``expire_cursors``)."""
    directory_forbidden: bool = False
    """The organisation keeps its directory from apps: Graph answers 403 on
    /me/directReports and /me/manager, the People API on listDirectoryPeople."""
    withheld_scopes: set[str] = field(default_factory=set)
    """Scopes this user unticks on the consent screen (the grant comes back without them)."""
    tenant: str = ""
    """Microsoft: the name of the directory (tenant) the user belongs to; empty for the
    sandbox's own tenant."""
    identity: str = ""
    """What the providers' stable user ids (Google ``sub``, Microsoft ``oid``) and the
    emulators' tokens are tied to: the first address unless given. A rename keeps it."""


@dataclass
class SentMessage:
    mailbox: str
    provider: str
    raw: bytes
    """The RFC 5322 message as sent (Google: decoded ``raw``; Graph: rendered MIME)."""
    sent_at: datetime = field(default_factory=utcnow)


@dataclass
class OAuthClient:
    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...] = ()
    """Empty: any redirect URI is accepted (the sandbox is for local use)."""


@dataclass
class Fault:
    """An injected failure: the next ``count`` requests whose path contains ``path``,
    after letting ``skip`` of them through (a failure on the third page, say)."""

    path: str
    status: int
    count: int = 1
    retry_after: int | None = None
    reason: str | None = None
    method: str | None = None
    skip: int = 0
    retry_after_date: bool = False
    """Send ``Retry-After`` as an HTTP-date ``retry_after`` seconds ahead (RFC 9110
    allows either form) instead of a number of seconds."""


@dataclass
class RequestRecord:
    method: str
    path: str
    query: dict[str, list[str]]
    at: float = field(default_factory=monotonic)
    """When the request arrived (``time.monotonic``), to measure waits between calls."""
    fault: int | None = None
    """The status of the injected fault it was answered with, if any."""


class World:
    """Everything the emulator knows. Thread-safe through ``lock``."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._seq = itertools.count(1)
        self.version = 0
        self.mailboxes: dict[str, Mailbox] = {}
        self.people: dict[str, str] = {}
        """Directory: every known address and its display name (colleagues, externals)."""
        self.hire_dates: dict[str, datetime] = {}
        """Graph ``employeeHireDate`` by address (UTC); absent: the directory holds none."""
        self.clients: dict[str, OAuthClient] = {}
        self.sent: list[SentMessage] = []
        self.faults: list[Fault] = []
        self.requests: list[RequestRecord] = []
        self.auth: dict[str, dict] = {}
        """Per-provider OAuth state owned by each front-end (codes, tokens)."""

    # --- identities -----------------------------------------------------------

    def add_mailbox(self, mailbox: Mailbox) -> Mailbox:
        """Add a user; one already holding the address is replaced (the address has moved
        to another user, perhaps of another tenant: the old user's tokens stop working)."""
        with self.lock:
            mailbox.identity = mailbox.identity or _first_identity(mailbox)
            self.mailboxes[mailbox.email.lower()] = mailbox
            self.people.setdefault(mailbox.email.lower(), mailbox.name)
            return mailbox

    def mailbox(self, email: str) -> Mailbox:
        with self.lock:
            return self.mailboxes[email.lower()]

    def user(self, identity: str) -> Mailbox | None:
        """The user with this stable identity; None once they are gone from the world."""
        with self.lock:
            return next((m for m in self.mailboxes.values() if m.identity == identity), None)

    def rename_mailbox(self, email: str, new_email: str) -> Mailbox:
        """Give a user a new primary address; their ids and grants stay. The old address
        stays as an alias, as Google Workspace and Exchange Online keep it."""
        with self.lock:
            if new_email.lower() in self.mailboxes:
                raise ValueError(f"{new_email} already belongs to a mailbox")
            mailbox = self.mailboxes.pop(email.lower())
            mailbox.aliases = (*mailbox.aliases, mailbox.email)
            mailbox.email = new_email.lower()
            self.mailboxes[mailbox.email] = mailbox
            self.people[mailbox.email] = mailbox.name
            return mailbox

    def add_client(self, client_id: str, client_secret: str, *redirect_uris: str) -> OAuthClient:
        with self.lock:
            client = OAuthClient(client_id, client_secret, tuple(redirect_uris))
            self.clients[client_id] = client
            return client

    # --- events -----------------------------------------------------------------

    def next_version(self) -> int:
        with self.lock:
            self.version = next(self._seq)
            return self.version

    def put_event(self, mailbox: Mailbox, event: SandboxEvent) -> SandboxEvent:
        """Insert or replace an event, bumping its version so syncs see it."""
        with self.lock:
            event.version = self.next_version()
            event.updated = utcnow()
            if not event.ical_uid:
                event.ical_uid = f"{event.series_id or event.id}@sandbox.nudger"
            mailbox.events[event.id] = event
            return event

    def mail_invitation(
        self, mailbox: Mailbox, provider: str, event: SandboxEvent, to: list[str], subject: str
    ) -> None:
        """Record the meeting mail a provider sends attendees (both providers mail guests
        themselves; nudger never does)."""
        if not to:
            return
        message = EmailMessage()
        message["From"] = mailbox.email
        message["To"] = ", ".join(to)
        message["Subject"] = f"{subject}: {event.summary}"
        message.set_content(
            f"{event.summary}\n{event.start.isoformat()} - {event.end.isoformat()}\n"
        )
        with self.lock:
            self.sent.append(SentMessage(mailbox.email, provider, bytes(message)))

    def respond(self, mailbox: Mailbox, event_id: str, attendee: str, response: str) -> bool:
        """``attendee`` answers the invitation to ``mailbox``'s event (Google vocabulary);
        False when there is no such live event or attendee. The organizer's copy changes,
        as it does at both providers when the reply arrives."""
        with self.lock:
            event = mailbox.events.get(event_id)
            found = [a for a in (event.attendees if event else []) if a.email.lower() == attendee]
            if event is None or event.deleted or not found:
                return False
            found[0].response = response
            self.put_event(mailbox, event)
            return True

    def delete_event(self, mailbox: Mailbox, event_id: str) -> bool:
        """Mark an event deleted (kept as a tombstone for incremental syncs)."""
        with self.lock:
            event = mailbox.events.get(event_id)
            if event is None or event.deleted:
                return False
            event.deleted = True
            event.cancelled = True
            event.version = self.next_version()
            event.updated = utcnow()
            return True

    def change_series(
        self, mailbox: Mailbox, series_id: str, change: Callable[[SandboxEvent], None]
    ) -> None:
        """Edit a whole series, as an edit of its master: ``change`` is applied to every live
        occurrence, whose own versions stay put (Exchange keeps plain occurrences virtual:
        only the master item changes); the series' version moves instead."""
        with self.lock:
            for event in mailbox.events.values():
                if event.series_id == series_id and not event.deleted:
                    change(event)
                    event.updated = utcnow()
            mailbox.series_versions[series_id] = self.next_version()

    def changed_since(self, mailbox: Mailbox, version: int) -> list[SandboxEvent]:
        with self.lock:
            changed = [e for e in mailbox.events.values() if e.version > version]
            return sorted(changed, key=lambda e: e.version)

    def live_events(self, mailbox: Mailbox) -> list[SandboxEvent]:
        with self.lock:
            live = [e for e in mailbox.events.values() if not e.deleted]
            return sorted(live, key=lambda e: (e.start, e.id))

    def expire_cursors(self, mailbox: Mailbox) -> None:
        """Invalidate every sync token / delta link issued so far for this mailbox."""
        with self.lock:
            mailbox.sync_epoch = self.next_version()

    # --- faults and records -------------------------------------------------------

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.path in path and fault.method in (None, method):
                    if fault.skip > 0:
                        fault.skip -= 1
                        return None
                    fault.count -= 1
                    if fault.count <= 0:
                        self.faults.remove(fault)
                    return fault
            return None

    def record(self, method: str, path: str, query: dict[str, list[str]]) -> RequestRecord:
        with self.lock:
            record = RequestRecord(method, path, query)
            self.requests.append(record)
            return record


def _first_identity(mailbox: Mailbox) -> str:
    """The address, qualified by the tenant outside the sandbox's own: another tenant's user
    with the same address is somebody else."""
    email = mailbox.email.lower()
    return f"{mailbox.tenant}/{email}" if mailbox.tenant else email


def new_token(prefix: str) -> str:
    return f"{prefix}.{secrets.token_urlsafe(24)}"
