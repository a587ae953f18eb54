"""Each step of a pass, run alone by account id and then again: the second run changes
nothing. Against the emulator over HTTP and a real database.

- sync: the second run asks with the saved sync token and gets nothing new
  (Google Calendar API, "Synchronize resources efficiently": an incremental request
  returns only what changed since the token was issued).
- decide: decisions keep their outbox keys; ``outbox.enqueue`` leaves a present key alone.
- deliver: only ``pending`` rows are claimed, so nothing is sent or booked twice.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from nudger import accounts
from nudger.cycle import run_account_pass
from nudger.passes.decide_step import decide_step
from nudger.passes.deliver_step import deliver_step
from nudger.passes.sync_step import sync_step
from nudger.store.db import session_scope
from nudger.store.models import Calendar, Contact, Event, EventAttendee, Nudge
from tests.team import MONDAY, Team


@pytest.fixture
def account_id(team: Team) -> int:
    return accounts.find_account(team.runtime, team.org.owner.email).id


def stored(team: Team) -> dict[str, object]:
    """Everything a step may write, as comparable values."""
    with session_scope(team.runtime.db) as session:
        return {
            "events": sorted(
                session.execute(select(Event.provider_event_id, Event.start, Event.cancelled))
            ),
            "attendees": session.scalar(select(func.count()).select_from(EventAttendee)),
            "cursors": sorted(session.execute(select(Calendar.id, Calendar.cursor))),
            "contacts": sorted(session.execute(select(Contact.email, Contact.role))),
            "nudges": sorted(
                (n.key, n.status, n.attempts, n.provider_ref, repr(n.payload))
                for n in session.scalars(select(Nudge))
            ),
        }


def event_listings(team: Team) -> list[dict[str, list[str]]]:
    with team.sandbox.world.lock:
        return [
            r.query
            for r in team.sandbox.world.requests
            if r.method == "GET" and r.path.endswith("/events")
        ]


def test_sync_twice_fetches_nothing_new_the_second_time(team: Team, account_id: int) -> None:
    first = sync_step(team.runtime, account_id, MONDAY)
    after_first, asked = stored(team), len(event_listings(team))

    second = sync_step(team.runtime, account_id, MONDAY)

    assert first.calendars == 1
    assert first.events > 0
    assert (second.events, second.removed, second.holds_declined) == (0, 0, 0)
    assert stored(team) == after_first
    again = event_listings(team)[asked:]
    assert again, "the second run asked the provider"
    assert all("syncToken" in query for query in again), "with the saved sync token"


def test_decide_twice_queues_each_nudge_once(team: Team, account_id: int) -> None:
    sync_step(team.runtime, account_id, MONDAY)
    first = decide_step(team.runtime, account_id, MONDAY)
    after_first = stored(team)

    second = decide_step(team.runtime, account_id, MONDAY)

    assert first.enqueued == first.decisions > 0
    assert first.contacts > 0
    assert sum(first.statuses.values()) == first.contacts
    assert second.enqueued == 0
    assert stored(team) == after_first


def test_a_dry_decision_writes_nothing(team: Team, account_id: int) -> None:
    sync_step(team.runtime, account_id, MONDAY)
    before = stored(team)

    dry = decide_step(team.runtime, account_id, MONDAY, enqueue=False)

    assert dry.decisions > 0
    assert dry.enqueued == 0
    assert stored(team) == before


def test_deliver_twice_sends_and_books_each_nudge_once(team: Team, account_id: int) -> None:
    sync_step(team.runtime, account_id, MONDAY)
    decide_step(team.runtime, account_id, MONDAY)
    first = deliver_step(team.runtime, account_id, MONDAY)
    after_first, mails = stored(team), len(team.mails())
    holds = len(team.mailbox.events)

    second = deliver_step(team.runtime, account_id, MONDAY)

    assert first.delivered.get("sent", 0) > 0
    assert mails > 0
    assert dict(second.delivered) == {}
    assert stored(team) == after_first
    assert len(team.mails()) == mails
    assert len(team.mailbox.events) == holds, "no hold booked twice"


def test_a_whole_pass_run_again_only_reads_back_its_own_holds(team: Team, account_id: int) -> None:
    """The second pass syncs the holds the first one booked, and nothing else happens;
    a third pass finds nothing at all to do."""
    first = run_account_pass(team.runtime, account_id, now=MONDAY)
    mails = len(team.mails())

    second = run_account_pass(team.runtime, account_id, now=MONDAY)
    after_second = stored(team)
    third = run_account_pass(team.runtime, account_id, now=MONDAY)

    assert first.error is None
    assert first.enqueued > 0
    assert (second.error, second.enqueued, dict(second.delivered)) == (None, 0, {})
    assert second.events_synced == booked_holds(team) > 0
    assert second.contacts == first.contacts
    assert (third.error, third.events_synced, third.enqueued) == (None, 0, 0)
    assert third.analysis == "skipped", "nothing new: nothing analysed or decided"
    assert dict(third.delivered) == {}
    assert stored(team) == after_second
    assert len(team.mails()) == mails


def booked_holds(team: Team) -> int:
    with session_scope(team.runtime.db) as session:
        query = select(func.count()).where(Nudge.kind == "hold", Nudge.status == "sent")
        return session.scalar(query) or 0


def requests_to(team: Team, ending: str) -> int:
    with team.sandbox.world.lock:
        return sum(1 for r in team.sandbox.world.requests if r.path.endswith(ending))


def test_the_profile_is_read_once_a_day_and_after_each_sign_in(team: Team, account_id: int) -> None:
    profile = "/calendars/primary"  # Google's profile: the primary calendar's own entry
    reads = []
    for later in (timedelta(0), timedelta(hours=12), timedelta(days=1)):
        before = requests_to(team, profile)
        sync_step(team.runtime, account_id, MONDAY + later)
        reads.append(requests_to(team, profile) - before)
    team.connect_owner()
    before = requests_to(team, profile)
    sync_step(team.runtime, account_id, MONDAY + timedelta(days=1, hours=1))

    assert reads == [1, 0, 1]
    assert requests_to(team, profile) - before == 1, "a new sign-in: read again"


def test_deliver_with_nothing_queued_asks_the_provider_nothing(team: Team, account_id: int) -> None:
    with team.sandbox.world.lock:
        before = len(team.sandbox.world.requests)

    delivered = deliver_step(team.runtime, account_id, MONDAY)

    with team.sandbox.world.lock:
        assert len(team.sandbox.world.requests) == before
    assert dict(delivered.delivered) == {}
