"""SQLAlchemy 2.x models: accounts, calendars, events, contacts and the outbox.

Only what the product needs is stored: attendee addresses, names, response
statuses and times. Event titles, descriptions and mail bodies never reach the
database. Credentials and OAuth state are stored encrypted (``nudger.crypto``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from nudger.clock import utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no zone, so we add it back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} given; nudger stores UTC only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (
        UniqueConstraint("provider", "email"),
        UniqueConstraint("provider", "subject", name="uq_accounts_provider_subject"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str | None] = mapped_column(String(200))
    """The provider's stable id of the user (Microsoft ``tid:oid``, Google ``sub``).

    Accounts are matched on it; ``email`` is for display and mail only, since a
    user's address can change. Null for accounts connected before it was recorded
    until their next sign-in."""
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Bumped on sign-out and deletion: cookies signed under an older epoch are refused."""
    email: Mapped[str] = mapped_column(String(320), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    time_zone: Mapped[str | None] = mapped_column(String(64))
    working_hours: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """{"days": [1..7], "start": "09:00", "end": "17:00", "time_zone": "..."} from the provider."""
    aliases: Mapped[str] = mapped_column(Text, default="")
    """The owner's other addresses, space-separated: never contacts."""
    status: Mapped[str] = mapped_column(String(20), default="active")
    """active, reconnect (grant revoked: the user must sign in again) or paused."""
    credentials: Mapped[str] = mapped_column(Text)
    """Provider credential blob, encrypted (Fernet token)."""
    scopes: Mapped[str] = mapped_column(Text, default="")
    reconnect_notified_at: Mapped[datetime | None]
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    profile_synced_at: Mapped[datetime | None]
    """When the provider's profile and directory were last read (at most daily)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    last_pass_at: Mapped[datetime | None]
    """When the last pass that ran (not one skipped) started."""
    last_pass_status: Mapped[str | None] = mapped_column(String(20))
    """ok or failed."""
    last_pass_error: Mapped[str | None] = mapped_column(Text)
    next_due_at: Mapped[datetime | None]
    """When the next pass is due: the account's slot in the sync period (jittered by id)."""
    enqueued_at: Mapped[datetime | None]
    """A pass waits on the worker queue or runs since then; cleared when it ends."""
    schedules_read_at: Mapped[datetime | None]
    """When colleagues' working hours and zones were last read (at most daily)."""
    schedules_error: Mapped[str | None] = mapped_column(Text)
    """Why that read failed, if it did (it never fails the pass)."""

    calendars: Mapped[list[Calendar]] = relationship(
        back_populates="account", cascade="all, delete-orphan", passive_deletes=True
    )
    contacts: Mapped[list[Contact]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )
    nudges: Mapped[list[Nudge]] = relationship(cascade="all, delete-orphan", passive_deletes=True)
    analysis_state: Mapped[AnalysisState | None] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )


class Calendar(Base):
    __tablename__ = "calendars"
    __table_args__ = (UniqueConstraint("account_id", "provider_calendar_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    provider_calendar_id: Mapped[str] = mapped_column(String(500))
    name: Mapped[str] = mapped_column(String(500), default="")
    primary: Mapped[bool] = mapped_column(Boolean, default=False)
    time_zone: Mapped[str | None] = mapped_column(String(64))
    cursor: Mapped[str | None] = mapped_column(Text)
    """Google syncToken or Graph deltaLink, saved only after a round's last page."""
    cursor_window_start: Mapped[datetime | None]
    cursor_window_end: Mapped[datetime | None]
    cursor_saved_at: Mapped[datetime | None]
    full_synced_at: Mapped[datetime | None]

    account: Mapped[Account] = relationship(back_populates="calendars")


class Event(Base):
    """One occurrence (recurring series are stored expanded, linked by ``series_id``)."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("calendar_id", "provider_event_id"),
        Index("ix_events_account_start", "account_id", "start"),
        # Re-analysing a few contacts reads their events' series and copies by these.
        Index("ix_events_account_series", "account_id", "series_id"),
        Index("ix_events_account_uid", "account_id", "ical_uid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    calendar_id: Mapped[int] = mapped_column(ForeignKey("calendars.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    provider_event_id: Mapped[str] = mapped_column(String(1024))
    start: Mapped[datetime]
    end: Mapped[datetime]
    all_day: Mapped[bool] = mapped_column(Boolean, default=False)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    kind: Mapped[str] = mapped_column(String(20), default="meeting")
    busy: Mapped[bool] = mapped_column(Boolean, default=True)
    organizer_email: Mapped[str | None] = mapped_column(String(320))
    series_id: Mapped[str | None] = mapped_column(String(1024))
    original_start: Mapped[datetime | None]
    ical_uid: Mapped[str | None] = mapped_column(String(1024))
    hold_contact: Mapped[str | None] = mapped_column(String(320))
    """Set on nudger's own holds: whom the hold is for."""
    follows_series: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """A plain occurrence of a series (not an exception): it takes its series' changes."""

    attendees: Mapped[list[EventAttendee]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="EventAttendee.id"
    )


class EventAttendee(Base):
    __tablename__ = "event_attendees"
    __table_args__ = (
        # Re-analysing one contact reads only their events, within their account: the
        # same colleague sits in many accounts' calendars.
        Index("ix_event_attendees_account_email", "account_id", "email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(Integer)
    """The event's account (copied, for the index)."""
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str | None] = mapped_column(String(200))
    response: Mapped[str] = mapped_column(String(20))
    is_resource: Mapped[bool] = mapped_column(Boolean, default=False)
    is_self: Mapped[bool] = mapped_column(Boolean, default=False)
    is_organizer: Mapped[bool] = mapped_column(Boolean, default=False)
    optional: Mapped[bool] = mapped_column(Boolean, default=False)


class Contact(Base):
    """The user's own knowledge of one contact; analysis results are not stored."""

    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("account_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(20))
    """direct_report, manager, mentor, peer, external or key."""
    role_source: Mapped[str | None] = mapped_column(String(20))
    """user or directory: a role the user set is never overwritten by the directory."""
    cadence_override_days: Mapped[int | None] = mapped_column(Integer)
    snoozed_until: Mapped[datetime | None]
    muted: Mapped[bool] = mapped_column(Boolean, default=False)
    talked_at: Mapped[datetime | None]
    """When the user last said "we already talked": restarts the nudge ladder."""
    # What the provider told about a key person, for moments (``passes.moments_step``):
    hire_date: Mapped[date | None]
    """The directory's hire date (Microsoft ``employeeHireDate``); the date only."""
    hire_date_read_at: Mapped[datetime | None]
    hire_date_error: Mapped[str | None] = mapped_column(Text)
    """Why the last read failed (None: it worked)."""
    absence_start: Mapped[datetime | None]
    """The latest long out-of-office their free/busy showed..."""
    absence_end: Mapped[datetime | None]
    absence_days: Mapped[int | None] = mapped_column(Integer)
    """...and the working days of theirs it covered."""
    schedule_read_at: Mapped[datetime | None]
    schedule_error: Mapped[str | None] = mapped_column(Text)


class ContactScheduleRow(Base):
    """What the provider revealed about a colleague's schedule: their zone and working
    hours (metadata only; busy time is read live when it is needed)."""

    __tablename__ = "contact_schedules"
    __table_args__ = (UniqueConstraint("account_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320))
    time_zone: Mapped[str | None] = mapped_column(String(64))
    """IANA; None when the provider does not reveal it (Google)."""
    working_hours: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """``store.hours`` shape, with ``time_zone``."""
    available: Mapped[bool] = mapped_column(Boolean, default=True)
    """False: the provider refused to show this person's schedule."""
    read_at: Mapped[datetime]


class Nudge(Base):
    """The outbox: one row per decision, claimed by a conditional UPDATE before acting."""

    __tablename__ = "nudges"
    __table_args__ = (Index("ix_nudges_account_status", "account_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(500), unique=True)
    contact_email: Mapped[str] = mapped_column(String(320))
    kind: Mapped[str] = mapped_column(String(20))
    """email, hold, digest or reconnect."""
    rule: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    """pending, claimed, sent, failed, in_doubt, suppressed or declined (hold deleted)."""
    priority: Mapped[int] = mapped_column(Integer, default=0)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    evidence: Mapped[list[str]] = mapped_column(JSON, default=list)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    provider_ref: Mapped[str | None] = mapped_column(String(1024))
    """The provider's id for what was done: message id or hold event id."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AnalysisState(Base):
    """What an account's last decision rested on, so a pass with nothing new skips it.

    Sync bumps ``events_version`` and notes the contacts whose events it wrote or
    removed (``touched``; ``touched_all`` when it cannot tell, e.g. a full resync or
    an out-of-office change). The decide step stores what it analysed and decided:
    the versions and keys it was computed from, the audit and the outcome.
    """

    __tablename__ = "analysis_state"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    events_version: Mapped[int] = mapped_column(Integer, default=0)
    touched: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Contacts (lowercase addresses) whose events changed since ``analysed_version``."""
    touched_all: Mapped[bool] = mapped_column(Boolean, default=False)
    analysed_version: Mapped[int | None] = mapped_column(Integer)
    """The ``events_version`` the stored audit reflects; None: nothing stored yet."""
    analysis_key: Mapped[str | None] = mapped_column(String(64))
    """Digest of everything else the audit depends on (settings, contacts, rules, day)."""
    decision_key: Mapped[str | None] = mapped_column(String(64))
    """Digest of the engine's other inputs: the outbox, snoozes and mutes, the rules."""
    valid_until: Mapped[datetime | None]
    """When the engine's answer may change on its own (a snooze or cooldown ends)."""
    audit: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The audit as analysis left it (``nudger.analysis.codec``), with the days away."""
    outcome: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    decided_at: Mapped[datetime | None]


class OAuthPending(Base):
    """Server-side OAuth state (PKCE verifier, redirect URI), single-use, encrypted."""

    __tablename__ = "oauth_pending"

    state: Mapped[str] = mapped_column(String(200), primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class Meta(Base):
    """Small facts about the database itself, e.g. the encryption-key canary."""

    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Lease(Base):
    """A named leader lease: exactly one scheduler per database holds ``scheduler``."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime]
