"""The connector boundary: provider-free dataclasses and one protocol per capability.

Google and Microsoft payloads are converted into these types inside the provider
module; nothing above it sees a vendor dict. Every datetime is timezone-aware (UTC
for event times).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from typing import Protocol, runtime_checkable

HOLD_TAG_KEY = "nudgerHold"
"""Private extended-property key that marks nudger's own holds (value: the contact)."""


class Response(StrEnum):
    """An attendee's answer to an invitation, normalised across providers."""

    ACCEPTED = "accepted"
    TENTATIVE = "tentative"
    DECLINED = "declined"
    NEEDS_ACTION = "needs_action"
    ORGANIZER = "organizer"


class EventKind(StrEnum):
    """What an event is, beyond a meeting. Only ``MEETING`` can be an interaction."""

    MEETING = "meeting"
    OUT_OF_OFFICE = "out_of_office"
    FOCUS_TIME = "focus_time"
    WORKING_LOCATION = "working_location"
    OTHER = "other"


@dataclass(frozen=True)
class Attendee:
    email: str
    name: str | None = None
    response: Response = Response.NEEDS_ACTION
    is_resource: bool = False
    is_self: bool = False
    is_organizer: bool = False
    optional: bool = False


@dataclass(frozen=True)
class CalendarEvent:
    """One occurrence on one calendar (recurring series arrive expanded)."""

    event_id: str
    start: datetime
    end: datetime
    attendees: tuple[Attendee, ...] = ()
    all_day: bool = False
    cancelled: bool = False
    kind: EventKind = EventKind.MEETING
    busy: bool = True
    organizer_email: str | None = None
    series_id: str | None = None
    original_start: datetime | None = None
    ical_uid: str | None = None
    hold_contact: str | None = None
    """Set on nudger's own holds: the contact the hold is for."""
    follows_series: bool = False
    """An occurrence whose details are its series' (not an exception): when the series
    changes (``SyncPage.series``), the change applies to it."""

    @property
    def is_hold(self) -> bool:
        return self.hold_contact is not None


@dataclass(frozen=True)
class SeriesMaster:
    """What the plain occurrences of a recurring series share, from its series master.

    ``template`` carries the shared details (attendees, organizer, kind, busy, cancelled);
    its times are the series' first occurrence's and its id is the series id.
    """

    series_id: str
    template: CalendarEvent


@dataclass(frozen=True)
class CalendarInfo:
    calendar_id: str
    name: str
    primary: bool
    time_zone: str | None = None


@dataclass(frozen=True)
class SyncWindow:
    start: datetime
    end: datetime


@dataclass(frozen=True)
class SyncPage:
    """One page of a sync round. ``cursor`` is set on the last page only."""

    events: tuple[CalendarEvent, ...] = ()
    removed_ids: tuple[str, ...] = ()
    cursor: str | None = None
    full: bool = False
    """True when this round started without a cursor (the calendar is being rebuilt)."""
    series: tuple[SeriesMaster, ...] = ()
    """Series masters seen in this round: stored occurrences that follow them take their
    details (a master can change without its occurrences being sent again)."""


@dataclass(frozen=True)
class WorkingHours:
    """Working days (ISO weekday numbers, Monday=1) and hours in ``time_zone``."""

    time_zone: str
    days: tuple[int, ...] = (1, 2, 3, 4, 5)
    start: time = time(9, 0)
    end: time = time(17, 0)


@dataclass(frozen=True)
class AccountProfile:
    email: str
    name: str | None
    time_zone: str | None
    working_hours: WorkingHours | None = None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Person:
    email: str
    name: str | None = None


@dataclass(frozen=True)
class BusyInterval:
    start: datetime
    end: datetime
    out_of_office: bool = False


@dataclass(frozen=True)
class ContactSchedule:
    """What a provider reveals about another person's calendar: free/busy, and where the
    provider tells (Graph ``getSchedule``), their working hours and time zone."""

    email: str
    busy: tuple[BusyInterval, ...] = ()
    """``out_of_office=True`` where the provider says oof."""
    working_hours: WorkingHours | None = None
    """None where the provider does not reveal them."""
    time_zone: str | None = None
    """An IANA name; None where unknown (never guessed)."""
    available: bool = True
    """False: the provider refused (unknown user, no access, other tenant), or the address is
    outside the owner's organisation and was never sent."""


@dataclass(frozen=True)
class HoldRequest:
    """A "relationship time" block on the owner's calendar only."""

    key: str
    """Deterministic idempotency key (outbox key); becomes the provider event id/transactionId."""
    contact_email: str
    title: str
    description: str
    start: datetime
    end: datetime
    time_zone: str
    invite_contact: bool = False


@dataclass(frozen=True)
class CreatedHold:
    event_id: str
    web_link: str | None = None


@dataclass(frozen=True)
class Invitation:
    """The contact invited into a hold (or a new event): what the invitation says.

    A hold's own title and description are written for the owner (and carry the owner's
    one-click links), so inviting replaces both with these."""

    contact_email: str
    contact_name: str | None
    title: str
    description: str


@dataclass(frozen=True)
class Invited:
    event_id: str
    already: bool = False
    """The contact was an attendee before this call (a retry): nothing was sent."""


@dataclass(frozen=True)
class OutgoingEmail:
    """A finished message. Both Gmail (``raw``) and Graph (MIME ``sendMail``) take it as is."""

    sender: str
    to: str
    subject: str
    message_id: str
    mime: bytes
    """The complete RFC 5322 message (multipart/alternative)."""


@dataclass(frozen=True)
class SentEmail:
    provider_message_id: str | None


@dataclass(frozen=True)
class AuthStart:
    """What the web layer needs to start OAuth; ``pending`` stays server-side."""

    url: str
    state: str
    pending: Mapping[str, str]


@dataclass(frozen=True)
class Grant:
    """The outcome of a completed OAuth callback."""

    email: str
    """The user's current address: for display and mail; it can change."""
    name: str | None
    subject: str
    """The provider's stable id of the user (Google ``sub``, Microsoft ``tid:oid``) from
    the ID token: what accounts are matched on."""
    credentials: str
    """Provider-specific credential blob (JSON); encrypted before it is stored."""
    scopes: tuple[str, ...]


CredentialSaver = Callable[[str], None]
"""Called with the new credential blob whenever a refresh changed it."""


# --- capabilities -------------------------------------------------------------


@runtime_checkable
class OAuthFlow(Protocol):
    def begin(self, redirect_uri: str, *, login_hint: str | None = None) -> AuthStart: ...

    def complete(self, pending: Mapping[str, str], params: Mapping[str, str]) -> Grant: ...

    def revoke(self, credentials: str) -> None: ...

    def stored_subject(self, credentials: str) -> str | None:
        """The user id stored credentials belong to, where they tell (None otherwise)."""
        ...


@runtime_checkable
class CalendarReader(Protocol):
    def profile(self) -> AccountProfile: ...

    def list_calendars(self) -> list[CalendarInfo]: ...

    def sync(self, calendar_id: str, cursor: str | None, window: SyncWindow) -> Iterator[SyncPage]:
        """Pages of one round; raises ``SyncCursorExpired`` when the cursor is stale."""
        ...


@runtime_checkable
class FreeBusyReader(Protocol):
    def busy(self, window: SyncWindow) -> list[BusyInterval]: ...


@runtime_checkable
class ScheduleReader(Protocol):
    def schedules(self, emails: Sequence[str], window: SyncWindow) -> list[ContactSchedule]:
        """One schedule per address, in order; only the owner's own organisation is asked."""
        ...


@runtime_checkable
class HoldWriter(Protocol):
    def create_hold(self, hold: HoldRequest) -> CreatedHold: ...

    def delete_hold(self, event_id: str) -> None: ...

    def invite(self, event_id: str, invitation: Invitation) -> Invited:
        """Add the contact to the owner's event and send the invitation, once: a contact
        already invited is left alone. ``NotFound`` when the event is gone."""
        ...


@runtime_checkable
class MailSender(Protocol):
    def send(self, email: OutgoingEmail) -> SentEmail: ...


@runtime_checkable
class DirectoryReader(Protocol):
    def direct_reports(self) -> list[Person]: ...

    def manager(self) -> Person | None: ...


@runtime_checkable
class HireDateReader(Protocol):
    def hire_date(self, email: str) -> date | None:
        """A colleague's hire date from the directory; None where it holds none."""
        ...


@dataclass(frozen=True)
class Connector:
    """The capabilities of one connected account, built per account."""

    provider: str
    calendar: CalendarReader
    free_busy: FreeBusyReader
    holds: HoldWriter
    mail: MailSender
    directory: DirectoryReader | None = None
    hire_dates: HireDateReader | None = None
    """Only where the provider has them and the grant allows (Microsoft, opt-in)."""
    schedules: ScheduleReader | None = None
