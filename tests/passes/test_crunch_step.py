"""The decide step under a crunch stored on the account: a fading peer is left alone, a
direct report's missing one-on-one still goes out, and when the date comes everything is
back with nothing else changed (the stored answer does not outlive the crunch)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from nudger import contacts
from nudger.connectors.base import SyncPage
from nudger.passes.decide_step import decide_step
from nudger.runtime import Runtime
from nudger.store import nudges as nudge_store
from nudger.store.db import session_scope
from nudger.store.models import Account
from tests.passes.test_steady_state import ANN, BOB, CAT, ME, NOW, meeting, weekly, write

DAN = "dan@corp.example"
ENDS = datetime(2024, 6, 19, 22, 0, tzinfo=UTC)  # 20 June begins in Paris


def queued_about(runtime: Runtime, account_id: int) -> set[str]:
    with session_scope(runtime.db) as session:
        return {n.contact_email for n in nudge_store.account_nudges(session, account_id)}


def busy_until(runtime: Runtime, account_id: int, until: str) -> None:
    with session_scope(runtime.db) as session:
        row = session.get_one(Account, account_id)
        row.settings = {**row.settings, "crunch": {"until": until, "factor": None}}


@pytest.fixture
def team(runtime: Runtime) -> int:
    """Ann neglected, Dan (a peer) fading, Cat a direct report met only in groups."""
    with session_scope(runtime.db) as session:
        row = Account(
            provider="google", email=ME, credentials="-", settings={}, time_zone="Europe/Paris"
        )
        session.add(row)
        session.flush()
        account_id = row.id
    events = [*weekly(ANN, 40, 8), *weekly(DAN, 12, 8), *weekly(BOB, 2, 8)]
    events += [meeting(f"g{n}", NOW - timedelta(days=3 + 5 * n), BOB, CAT) for n in range(6)]
    write(runtime, account_id, SyncPage(events=tuple(events), full=True))
    contacts.set_role(runtime, account_id, CAT, "direct_report")
    contacts.set_role(runtime, account_id, DAN, "peer")
    return account_id


def test_without_a_crunch_the_fading_peer_is_nudged(runtime: Runtime, team: int) -> None:

    outcome = decide_step(runtime, team, NOW)

    assert outcome.statuses.get("fading", 0) >= 1
    assert DAN in queued_about(runtime, team)


def test_during_a_crunch_only_the_direct_reports_one_on_one_goes_out(
    runtime: Runtime, team: int
) -> None:
    busy_until(runtime, team, "2024-06-20")

    outcome = decide_step(runtime, team, NOW)

    assert queued_about(runtime, team) == {CAT}
    assert outcome.statuses.get("fading", 0) == 0, "Dan's cadence is stretched"


def test_when_the_crunch_ends_everything_is_back_without_any_other_change(
    runtime: Runtime, team: int
) -> None:
    busy_until(runtime, team, "2024-06-20")
    decide_step(runtime, team, NOW)
    decide_step(runtime, team, NOW)

    still_on = decide_step(runtime, team, ENDS - timedelta(minutes=1))
    ended = decide_step(runtime, team, ENDS + timedelta(minutes=1))

    assert still_on.enqueued == 0
    assert ended.enqueued > 0
    assert {ANN, DAN} <= queued_about(runtime, team)
