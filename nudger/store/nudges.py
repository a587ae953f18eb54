"""Queries over outbox rows for the rest of nudger: an account's history, the
dashboard's lists, holds the user may have deleted, reconnect requests.

Claiming and finishing rows (the outbox's state machine) stays in
``nudger.delivery.outbox``; what is read or bulk-changed elsewhere is here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from nudger.store.models import Nudge

UPCOMING = ("pending", "claimed")
DONE = ("sent", "in_doubt", "failed", "suppressed", "declined")


def account_nudges(session: Session, account_id: int) -> list[Nudge]:
    """Every row of the account: the history the engine weighs."""
    return list(session.scalars(select(Nudge).where(Nudge.account_id == account_id)))


def engine_history(session: Session, account_id: int) -> list[Nudge]:
    """The rows the rules engine weighs: all but invitations, which are the owner's own
    step (what they lead to shows on the calendar: a meeting, then an interaction)."""
    mine = select(Nudge).where(Nudge.account_id == account_id, Nudge.kind != "invite")
    return list(session.scalars(mine))


def by_key(session: Session, account_id: int, key: str) -> Nudge | None:
    """The account's row decided under ``key`` (keys are unique), if any."""
    query = select(Nudge).where(Nudge.account_id == account_id, Nudge.key == key)
    return session.scalars(query).first()


def kind_of(session: Session, nudge_id: int) -> str | None:
    return session.scalar(select(Nudge.kind).where(Nudge.id == nudge_id))


def upcoming(session: Session, account_id: int) -> list[Nudge]:
    """Rows not acted on yet, oldest first."""
    mine = select(Nudge).where(Nudge.account_id == account_id)
    return list(session.scalars(mine.where(Nudge.status.in_(UPCOMING)).order_by(Nudge.id)))


def booked_holds(session: Session, account_id: int) -> list[Nudge]:
    """Holds the provider took (they carry its event id), oldest first."""
    query = select(Nudge).where(
        Nudge.account_id == account_id, Nudge.kind == "hold", Nudge.provider_ref.is_not(None)
    )
    return list(session.scalars(query.order_by(Nudge.id)))


def latest_hold(session: Session, account_id: int, contact: str) -> Nudge | None:
    """The newest hold the provider took for ``contact`` (booked, or since deleted)."""
    query = select(Nudge).where(
        Nudge.account_id == account_id,
        Nudge.kind == "hold",
        Nudge.contact_email == contact,
        Nudge.provider_ref.is_not(None),
    )
    return session.scalars(query.order_by(Nudge.id.desc()).limit(1)).first()


def finished(session: Session, account_id: int, limit: int) -> list[Nudge]:
    """Rows acted on, the latest ``limit`` first."""
    query = select(Nudge).where(Nudge.account_id == account_id, Nudge.status.in_(DONE))
    order = (Nudge.updated_at.desc(), Nudge.id.desc())
    return list(session.scalars(query.order_by(*order).limit(limit)))


def sent_holds(
    session: Session, account_id: int, *, since: datetime, before: datetime
) -> list[tuple[int, str]]:
    """(row id, provider event id) of the holds booked between ``since`` and ``before``."""
    rows = session.execute(
        select(Nudge.id, Nudge.provider_ref).where(
            Nudge.account_id == account_id,
            Nudge.kind == "hold",
            Nudge.status == "sent",
            Nudge.provider_ref.is_not(None),
            Nudge.sent_at >= since,
            Nudge.sent_at < before,
        )
    )
    return [(nudge_id, ref) for nudge_id, ref in rows if ref is not None]


def mark_declined(session: Session, nudge_ids: Sequence[int], now: datetime) -> None:
    """Sent holds the user deleted: a "no, thanks"."""
    session.execute(
        update(Nudge)
        .where(Nudge.id.in_(nudge_ids), Nudge.status == "sent")
        .values(status="declined", updated_at=now)
        .execution_options(synchronize_session=False)
    )


def pending_of_kind(session: Session, kind: str) -> list[int]:
    """Pending rows of one kind, every account's."""
    query = select(Nudge.id).where(Nudge.kind == kind, Nudge.status == "pending")
    return list(session.scalars(query))


def suppress_pending(
    session: Session, account_id: int, kind: str, reason: str, now: datetime
) -> None:
    """The account's pending rows of ``kind`` are no longer wanted."""
    session.execute(
        update(Nudge)
        .where(Nudge.account_id == account_id, Nudge.kind == kind, Nudge.status == "pending")
        .values(status="suppressed", last_error=reason, updated_at=now)
        .execution_options(synchronize_session=False)
    )
