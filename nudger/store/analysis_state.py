"""An account's analysis state: what changed since its audit, and what the audit was.

Two writers, one row per account. The sync notes every change it writes
(``note_changes``: the events version goes up, the contacts concerned are remembered);
the decide step reads the row (``load``) and stores what it analysed and decided
(``save``). Passes of one account never overlap, so the row needs no locking.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nudger.store.models import AnalysisState, Nudge

MAX_TOUCHED = 500
"""More contacts than this changed at once: re-analyse everyone, keep no list."""


@dataclass(frozen=True)
class Stored:
    """The row as the decide step reads it."""

    events_version: int
    touched: frozenset[str]
    touched_all: bool
    analysed_version: int | None
    analysis_key: str | None
    decision_key: str | None
    valid_until: datetime | None
    audit: Mapping[str, Any] | None
    outcome: Mapping[str, Any] | None
    decided_at: datetime | None


@dataclass(frozen=True)
class Decided:
    """What the decide step saves: the keys its inputs had, its outcome, and when the
    engine's answer may change on its own."""

    decision_key: str
    valid_until: datetime | None
    outcome: Mapping[str, Any]
    at: datetime


@dataclass(frozen=True)
class Analysed:
    """An audit to keep: the events version and the key it was computed from."""

    events_version: int
    analysis_key: str
    audit: Mapping[str, Any]


NOTHING = Stored(0, frozenset(), True, None, None, None, None, None, None, None)


def _row(session: Session, account_id: int) -> AnalysisState:
    row = session.get(AnalysisState, account_id)
    if row is None:
        row = AnalysisState(account_id=account_id, events_version=0, touched=[], touched_all=False)
        session.add(row)
    return row


def note_changes(
    session: Session, account_id: int, contacts: Iterable[str], *, everything: bool = False
) -> None:
    """Events of the account were written or removed; ``contacts`` are the people in them
    (before and after), ``everything`` when the change reaches every contact."""
    row = _row(session, account_id)
    row.events_version = (row.events_version or 0) + 1
    touched = set(row.touched or ()) | {c.lower() for c in contacts}
    if everything or row.touched_all or len(touched) > MAX_TOUCHED:
        row.touched_all, touched = True, set()
    row.touched = sorted(touched)


def load(session: Session, account_id: int) -> Stored:
    row = session.get(AnalysisState, account_id)
    if row is None:
        return NOTHING
    return Stored(
        events_version=row.events_version,
        touched=frozenset(row.touched or ()),
        touched_all=row.touched_all,
        analysed_version=row.analysed_version,
        analysis_key=row.analysis_key,
        decision_key=row.decision_key,
        valid_until=row.valid_until,
        audit=row.audit,
        outcome=row.outcome,
        decided_at=row.decided_at,
    )


def save(
    session: Session, account_id: int, decided: Decided, analysed: Analysed | None, read: Stored
) -> None:
    """Store a decision, and the audit it was made on when it is new (``analysed``);
    what the sync noted after ``read`` was taken stays noted."""
    row = _row(session, account_id)
    row.decision_key, row.valid_until = decided.decision_key, decided.valid_until
    row.outcome, row.decided_at = dict(decided.outcome), decided.at
    if analysed is None:
        return
    if row.events_version == read.events_version:
        row.touched, row.touched_all = [], False
    row.analysed_version, row.analysis_key = analysed.events_version, analysed.analysis_key
    row.audit = dict(analysed.audit)


def outbox_mark(session: Session, account_id: int) -> str:
    """The account's outbox in one digest: it changes whenever a row is added or removed
    or changes state (counted per state, so even a change at an equal time shows)."""
    rows = session.execute(
        select(Nudge.status, func.count(Nudge.id), func.max(Nudge.id), func.max(Nudge.updated_at))
        .where(Nudge.account_id == account_id)
        .group_by(Nudge.status)
        .order_by(Nudge.status)
    ).all()
    text = ";".join(f"{status}={count}/{last}/{changed}" for status, count, last, changed in rows)
    return hashlib.sha256(text.encode()).hexdigest()
