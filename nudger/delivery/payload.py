"""What an outbox row carries for delivery: ``Nudge.payload``, typed, with one codec.

Written by the decide step (``nudger.passes.decide_step``) and by the web's "book" link,
read by delivery, the engine's history and the dashboard. Stored as the JSON object
rows have always held, and every key is optional, so rows written before this codec
read as they did: an absent key takes the default delivery has always used.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from nudger.errors import NudgerError

log = logging.getLogger(__name__)

T = TypeVar("T")


class PayloadError(NudgerError):
    """A stored payload with a value of the wrong type; names the row and the key."""


@dataclass(frozen=True)
class DigestEntry:
    """One suggestion of a weekly digest."""

    contact_email: str
    contact_name: str | None = None
    status: str = ""
    role: str | None = None
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class NudgePayload:
    template: str | None = None
    """The email template; None: the row's kind names it."""
    contact_name: str | None = None
    status: str = ""
    role: str | None = None
    hold_minutes: int = 30
    hold_horizon_days: int = 10
    invite_contact: bool = False
    group: tuple[str, ...] = ()
    """Everyone a group nudge is about (empty: the row's contact alone)."""
    last_interaction: datetime | None = None
    cadence_days: float | None = None
    items: tuple[DigestEntry, ...] = ()
    """A digest's suggestions."""
    counts_by_role: dict[str, dict[str, int]] = field(default_factory=dict)
    """A digest's health table: role → status → contacts."""
    invite: str = "offer"
    """The rule's ``action.invite`` (off, offer, propose): which invite links go out."""
    invite_event_id: str | None = None
    """An invitation into this existing event of the owner's (a hold nudger booked)."""
    invite_start: datetime | None = None
    """An invitation to a new event at this time (a proposed slot), ``hold_minutes`` long."""
    step: str = ""
    """A daily step's small step (``nudger.rules.daily``)."""

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "template": self.template,
            "contact_name": self.contact_name,
            "status": self.status,
            "role": self.role,
            "hold_minutes": self.hold_minutes,
            "hold_horizon_days": self.hold_horizon_days,
        }
        optional: dict[str, Any] = {
            "invite_contact": self.invite_contact or None,
            "group": list(self.group) or None,
            "last_interaction": self.last_interaction and self.last_interaction.isoformat(),
            "cadence_days": self.cadence_days,
            "items": [_entry_json(e) for e in self.items] or None,
            "counts_by_role": self.counts_by_role or None,
            "invite": None if self.invite == "offer" else self.invite,
            "invite_event_id": self.invite_event_id,
            "invite_start": self.invite_start and self.invite_start.isoformat(),
            "step": self.step or None,
        }
        return data | {k: v for k, v in optional.items() if v is not None}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None, *, where: str) -> NudgePayload:
        """Read a stored payload; a value of the wrong type raises ``PayloadError``."""
        read = _Reader(data or {}, where)
        return cls(
            template=read.optional("template", _text),
            contact_name=read.optional("contact_name", _text),
            status=read.optional("status", _text) or "",
            role=read.optional("role", _text),
            hold_minutes=read.optional("hold_minutes", _whole) or cls.hold_minutes,
            hold_horizon_days=read.optional("hold_horizon_days", _whole) or cls.hold_horizon_days,
            invite_contact=read.optional("invite_contact", _flag) or False,
            group=read.optional("group", _strings) or (),
            last_interaction=read.optional("last_interaction", _moment),
            cadence_days=read.optional("cadence_days", _number),
            items=tuple(_entry(item, f"{where}: items[{n}]") for n, item in read.items()),
            counts_by_role=read.optional("counts_by_role", _counts) or {},
            invite=read.optional("invite", _text) or "offer",
            invite_event_id=read.optional("invite_event_id", _text),
            invite_start=read.optional("invite_start", _moment),
            step=read.optional("step", _text) or "",
        )


def readable(data: Mapping[str, Any] | None, *, where: str) -> NudgePayload:
    """For readers that must not fail over one bad row (the history, the dashboard):
    the payload, or the defaults with a warning."""
    try:
        return NudgePayload.from_json(data, where=where)
    except PayloadError as exc:
        log.warning("unreadable payload, defaults used: %s", exc)
        return NudgePayload()


def _entry_json(entry: DigestEntry) -> dict[str, Any]:
    return {
        "contact_email": entry.contact_email,
        "contact_name": entry.contact_name,
        "status": entry.status,
        "role": entry.role,
        "reasons": list(entry.reasons),
    }


def _entry(data: object, where: str) -> DigestEntry:
    if not isinstance(data, Mapping):
        raise PayloadError(f"{where}: expected an object, got {type(data).__name__}")
    read = _Reader(data, where)
    email = read.optional("contact_email", _text)
    if not email:
        raise PayloadError(f"{where}: contact_email is missing")
    return DigestEntry(
        contact_email=email,
        contact_name=read.optional("contact_name", _text),
        status=read.optional("status", _text) or "",
        role=read.optional("role", _text),
        reasons=read.optional("reasons", _strings) or (),
    )


class _Reader:
    """Reads keys of one stored object; every error names the row and the key."""

    def __init__(self, data: Mapping[str, Any], where: str) -> None:
        self._data, self._where = data, where

    def optional(self, key: str, convert: Callable[[Any], T]) -> T | None:
        value = self._data.get(key)
        if value is None:
            return None
        try:
            return convert(value)
        except (TypeError, ValueError) as exc:
            raise PayloadError(f"{self._where}: {key}: {exc}") from None

    def items(self) -> list[tuple[int, object]]:
        value = self._data.get("items") or []
        if not isinstance(value, list):
            raise PayloadError(f"{self._where}: items: expected a list")
        return list(enumerate(value))


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {type(value).__name__}")
    return value


def _whole(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected a whole number, got {value!r}")
    return value


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a number, got {value!r}")
    return float(value)


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected true or false, got {value!r}")
    return value


def _strings(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError("expected a list of text")
    return tuple(value)


def _moment(value: object) -> datetime:
    if not isinstance(value, str):
        raise TypeError(f"expected an ISO 8601 time, got {type(value).__name__}")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone")
    return moment


def _counts(value: object) -> dict[str, dict[str, int]]:
    if not isinstance(value, dict):
        raise TypeError("expected an object of roles")
    return {
        str(role): {str(s): _whole(n) for s, n in _object(c).items()} for role, c in value.items()
    }


def _object(value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"expected an object, got {type(value).__name__}")
    return value
