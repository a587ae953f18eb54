"""One bad address, one broken row or one failing account never stops the pass for
everyone: the bad value is kept out at the connector boundary, and what still fails
is recorded on its own row or report while the rest goes on."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from nudger import accounts
from nudger.cycle import run_cycle
from nudger.delivery import outbox
from nudger.delivery.payload import NudgePayload
from nudger.runtime import Runtime
from nudger.sandbox.orggen import GeneratedOrg
from nudger.sandbox.world import Mailbox
from nudger.store.db import session_scope
from nudger.store.models import Account, Contact, Event, EventAttendee, Nudge
from tests.connectors import google_helpers
from tests.connectors.google_helpers import consent
from tests.team import MONDAY, Team

HOSTILE = "evil@example.com\r\nBcc: x@y"


def nudges(team: Team) -> list[Nudge]:
    with session_scope(team.runtime.db) as session:
        return list(session.scalars(select(Nudge).order_by(Nudge.id)))


def planted(org: GeneratedOrg, status: str) -> str:
    return next(e.email for e in org.expectations if e.expected_status == status)


def rename_everywhere(team: Team, old: str, new: str) -> None:
    """Someone's calendar entry now carries ``new`` as this contact's address."""
    world, mailbox = team.sandbox.world, team.mailbox
    with world.lock:
        touched = [e for e in mailbox.events.values() if any(a.email == old for a in e.attendees)]
    for event in touched:
        for attendee in event.attendees:
            if attendee.email == old:
                attendee.email = new
        if event.organizer == old:
            event.organizer = new
        world.put_event(mailbox, event)


def stored_addresses(runtime: Runtime) -> set[str]:
    with session_scope(runtime.db) as session:
        found = set(session.scalars(select(EventAttendee.email)))
        found |= {e for e in session.scalars(select(Event.organizer_email)) if e}
        found |= set(session.scalars(select(Contact.email)))
        found |= set(session.scalars(select(Nudge.contact_email)))
    return found


def test_a_hostile_attendee_address_never_reaches_the_store_or_the_mail(team: Team) -> None:
    neglected = planted(team.org, "neglected")
    rename_everywhere(team, neglected, HOSTILE)

    [report] = run_cycle(team.runtime, now=MONDAY)

    assert report.error is None
    assert report.events_synced > 0
    addresses = stored_addresses(team.runtime)
    assert HOSTILE not in addresses
    assert not any(c in a for a in addresses for c in "\r\n")
    assert neglected not in addresses
    assert team.mails(), "the other contacts' nudges still go out"
    assert all("Bcc" not in m for m in team.mails())
    assert {n.status for n in nudges(team)} <= {"sent", "suppressed", "pending"}


# --- a row that cannot be sent fails alone ----------------------------------------------


def account_id(team: Team, email: str) -> int:
    with session_scope(team.runtime.db) as session:
        return session.scalars(select(Account.id).where(Account.email == email)).one()


def test_a_nudge_that_cannot_be_built_fails_alone_and_is_not_retried(team: Team) -> None:
    """A row stored before addresses were checked: building its email raises (the
    email package refuses a header with a line break). That row fails, with the reason
    on it; the account's other nudges still go, and the failed one is never resent."""
    owner = account_id(team, team.org.owner.email)
    legacy = outbox.NewNudge(
        key=f"{owner}:neglected:{HOSTILE}:2025-W09",
        contact_email=HOSTILE,
        kind="email",
        rule="neglected",
        payload=NudgePayload(template="neglected", contact_name="Evil", status="neglected"),
        evidence=["you last met a while ago"],
        priority=10_000,  # delivered first: everything after it must still go
    )
    with session_scope(team.runtime.db) as session:
        outbox.enqueue(session, owner, [legacy], MONDAY)

    [report] = run_cycle(team.runtime, now=MONDAY)
    [later] = run_cycle(team.runtime, now=MONDAY + timedelta(hours=1))

    assert report.error is None
    assert later.error is None
    [broken] = [n for n in nudges(team) if n.key == legacy.key]
    assert broken.status == "failed"
    assert (broken.last_error or "").startswith("unexpected error: ValueError")
    assert broken.attempts == 1
    assert report.delivered["failed"] == 1
    sent = [n for n in nudges(team) if n.kind in ("email", "digest") and n.status == "sent"]
    assert sent, "the account's other nudges went out"
    assert len(team.mails()) == len(sent)
    assert "claimed" not in {n.status for n in nudges(team)}


# --- an account whose pass breaks fails alone -------------------------------------------


def test_an_account_whose_pass_breaks_does_not_stop_the_next(team: Team) -> None:
    """A corrupt stored row (an attendee answer no version of nudger wrote) makes the
    analysis of one account raise; the account after it is still processed, and the
    report says which one failed and why."""
    other = team.sandbox.world.add_mailbox(Mailbox("zoe@sandbox.example", "Zoe", "google"))
    google_helpers.add_meeting(
        team.sandbox.world, other, "zoe1", MONDAY - timedelta(days=3), "kim@example.com"
    )
    start = accounts.begin_connect(team.runtime, "google", login_hint=other.email)
    accounts.complete_connect(team.runtime, "google", consent(team.sandbox, start.url))
    first, second = sorted([team.org.owner.email, other.email])
    run_cycle(team.runtime, now=MONDAY, dry_run=True)
    with session_scope(team.runtime.db) as session:
        row = session.scalars(
            select(EventAttendee)
            .join(Event, Event.id == EventAttendee.event_id)
            .where(Event.account_id == account_id(team, first))
        ).first()
        assert row is not None
        row.response = "maybe"

    reports = {r.account: r for r in run_cycle(team.runtime, now=MONDAY + timedelta(hours=1))}

    assert list(reports) == [first, second]
    assert (reports[first].error or "").startswith("unexpected error: KeyError")
    assert "failed" in reports[first].summary()
    assert reports[second].error is None
    assert reports[second].contacts > 0
