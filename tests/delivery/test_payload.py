"""The outbox payload's one codec: what decide writes is what delivery reads, rows
stored before the codec read as delivery always read them, and a value of the wrong
type is refused with the row and the key named."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from nudger.cycle import run_cycle
from nudger.delivery import outbox
from nudger.delivery.payload import DigestEntry, NudgePayload, PayloadError, readable
from nudger.store.db import session_scope
from nudger.store.models import Account, Nudge
from tests.team import MONDAY, Team

WHERE = "nudge 7: payload"

# Rows as versions before the codec stored them (cycle.py, web/actions.py, reconnect.py).
OLD_EMAIL_ROW = {
    "template": "neglected",
    "contact_name": "Sam Lee",
    "status": "neglected",
    "role": "peer",
    "hold_minutes": 30,
    "hold_horizon_days": 10,
    "group": ["sam@example.com", "kim@example.com"],
    "last_interaction": "2025-01-06T10:00:00+00:00",
    "cadence_days": 14.0,
}
OLD_BOOK_ROW = {
    "template": "hold",
    "contact_name": None,
    "status": "",
    "hold_minutes": 30,
    "hold_horizon_days": 10,
}
OLD_DIGEST_ROW = {
    **OLD_EMAIL_ROW,
    "items": [
        {
            "contact_email": "sam@example.com",
            "contact_name": "Sam Lee",
            "status": "neglected",
            "role": None,
            "reasons": ["You last met on 6 January."],
        }
    ],
    "counts_by_role": {"peer": {"neglected": 1, "healthy": 2}},
}


def test_a_payload_reads_back_as_it_was_written() -> None:
    payload = NudgePayload(
        template="digest",
        contact_name="Sam Lee",
        status="neglected",
        role="peer",
        hold_minutes=45,
        hold_horizon_days=5,
        invite_contact=True,
        group=("sam@example.com", "kim@example.com"),
        last_interaction=datetime(2025, 1, 6, 10, tzinfo=UTC),
        cadence_days=14.5,
        items=(DigestEntry("sam@example.com", "Sam", "neglected", "peer", ("a reason",)),),
        counts_by_role={"peer": {"neglected": 1}},
    )
    assert NudgePayload.from_json(payload.to_json(), where=WHERE) == payload


@pytest.mark.parametrize("stored", [OLD_EMAIL_ROW, OLD_DIGEST_ROW])
def test_the_stored_shape_is_the_one_rows_always_had(stored: dict[str, object]) -> None:
    assert NudgePayload.from_json(stored, where=WHERE).to_json() == stored


def test_a_booked_hold_now_states_its_role_too() -> None:
    """The link's hold left ``role`` out; it is written (as null) now, read the same."""
    book = NudgePayload.from_json(OLD_BOOK_ROW, where=WHERE)
    assert book.to_json() == {**OLD_BOOK_ROW, "role": None}


def test_a_row_stored_before_the_codec_reads_as_delivery_always_read_it() -> None:
    digest = NudgePayload.from_json(OLD_DIGEST_ROW, where=WHERE)
    assert digest.last_interaction == datetime(2025, 1, 6, 10, tzinfo=UTC)
    assert digest.group == ("sam@example.com", "kim@example.com")
    assert digest.items[0].reasons == ("You last met on 6 January.",)
    assert digest.counts_by_role == {"peer": {"neglected": 1, "healthy": 2}}
    # A reconnect request stored {}; a row without hold settings books 30 minutes
    # within 10 days, as delivery's own defaults did.
    empty = NudgePayload.from_json({}, where=WHERE)
    assert (empty.template, empty.status, empty.hold_minutes, empty.hold_horizon_days) == (
        None,
        "",
        30,
        10,
    )
    assert empty.invite_contact is False


@pytest.mark.parametrize(
    ("stored", "named"),
    [
        ({"hold_minutes": "30"}, "nudge 7: payload: hold_minutes: expected a whole number"),
        ({"hold_horizon_days": True}, "hold_horizon_days: expected a whole number"),
        ({"group": "sam@example.com"}, "group: expected a list of text"),
        ({"last_interaction": "2025-01-06T10:00:00"}, "last_interaction: '2025-01-06T10:00:00'"),
        ({"last_interaction": "yesterday"}, "last_interaction: Invalid isoformat"),
        ({"contact_name": 7}, "contact_name: expected text, got int"),
        ({"items": [{"status": "neglected"}]}, "nudge 7: payload: items[0]: contact_email"),
        ({"items": {"a": 1}}, "items: expected a list"),
        ({"counts_by_role": {"peer": {"neglected": "1"}}}, "counts_by_role: expected a whole"),
    ],
)
def test_a_value_of_the_wrong_type_is_refused_naming_the_row_and_key(
    stored: dict[str, object], named: str
) -> None:
    with pytest.raises(PayloadError, match=named.replace("[", r"\[").replace("]", r"\]")):
        NudgePayload.from_json(stored, where=WHERE)


def test_readers_of_the_history_take_the_defaults_for_an_unreadable_row() -> None:
    assert readable({"group": 3}, where=WHERE) == NudgePayload()


# --- through a pass -----------------------------------------------------------------------


def test_a_row_with_a_mistyped_payload_fails_alone_naming_the_key(team: Team) -> None:
    """Stored as no version of nudger wrote it: the row fails with the key in its error,
    the account's other nudges still go, and the pass weighs the row without it."""
    with session_scope(team.runtime.db) as session:
        owner = session.scalars(select(Account.id)).one()
        outbox.enqueue(session, owner, [_hold("bad@example.com")], MONDAY)
        session.execute(
            Nudge.__table__.update()
            .where(Nudge.contact_email == "bad@example.com")
            .values(payload={"hold_minutes": "thirty"})
        )

    [report] = run_cycle(team.runtime, now=MONDAY)

    assert report.error is None
    with session_scope(team.runtime.db) as session:
        rows = list(session.scalars(select(Nudge)))
        [bad] = [n for n in rows if n.contact_email == "bad@example.com"]
        assert bad.status == "failed"
        assert f"nudge {bad.id}: payload: hold_minutes" in (bad.last_error or "")
        assert any(n.status == "sent" for n in rows if n.id != bad.id)


def _hold(contact: str) -> outbox.NewNudge:
    return outbox.NewNudge(
        key=f"test:hold:{contact}",
        contact_email=contact,
        kind="hold",
        rule="test",
        payload=NudgePayload(template="hold"),
        evidence=["planted by the test"],
        priority=10_000,
    )
