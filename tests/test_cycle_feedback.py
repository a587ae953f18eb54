"""The cycle against the emulator: the user's answers to holds, and their own settings.

A hold the user deletes is a "no, thanks"; one they turn into a meeting counts as
a meeting; the delivery mode, weekly budget, working hours and time zone chosen on
the settings page change what the next pass does.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from nudger import accounts, contacts, preferences
from nudger.cycle import account_audit, run_cycle
from nudger.sandbox.world import SandboxAttendee
from nudger.scheduler import account_time_zone
from nudger.store.db import session_scope
from nudger.store.models import Account, Nudge
from tests.team import Team, generated_team

MONDAY = datetime(2025, 3, 3, 9, 30, tzinfo=UTC)  # 09:30 in London


class Connected(Team):
    def cycle(self, now: datetime) -> None:
        [report] = run_cycle(self.runtime, now=now)
        assert report.error is None

    def nudges(self, kind: str) -> list[Nudge]:
        with session_scope(self.runtime.db) as session:
            rows = session.scalars(select(Nudge).where(Nudge.kind == kind).order_by(Nudge.id))
            return list(rows)

    def choose(self, **chosen: Any) -> None:
        """What the settings page stores."""
        with session_scope(self.runtime.db) as session:
            account = session.scalars(select(Account)).one()
            account.settings = {**(account.settings or {}), **chosen}


@pytest.fixture
def connected(database_url: str, tmp_path: Path, encryption_key: str) -> Iterator[Connected]:
    with generated_team(
        MONDAY, database_url=database_url, data_dir=tmp_path / "data", encryption_key=encryption_key
    ) as team:
        team.connect_owner()
        yield Connected(team.sandbox, team.org, team.runtime)


# --- what the user did with the holds -------------------------------------------------


def test_a_deleted_hold_becomes_a_no_thanks_and_the_contact_rests(connected: Connected) -> None:
    connected.cycle(MONDAY)
    booked = connected.nudges("hold")
    assert booked
    assert {h.status for h in booked} == {"sent"}
    deleted, *kept = booked
    assert deleted.provider_ref
    connected.sandbox.world.delete_event(connected.mailbox, deleted.provider_ref)

    connected.cycle(MONDAY + timedelta(days=1))
    after = {h.id: h.status for h in connected.nudges("hold")}
    assert after[deleted.id] == "declined"
    assert all(after[h.id] == "sent" for h in kept)

    # Past the ordinary 14-day cooldown, still inside the 30 days of a "no, thanks".
    connected.cycle(MONDAY + timedelta(days=15))
    later = [
        n
        for kind in ("email", "hold")
        for n in connected.nudges(kind)
        if n.contact_email == deleted.contact_email and n.id != deleted.id
    ]
    assert [n for n in later if n.created_at > MONDAY] == []


def test_holds_booked_in_this_pass_are_not_judged_before_a_sync_saw_them(
    connected: Connected,
) -> None:
    connected.cycle(MONDAY)
    connected.cycle(MONDAY + timedelta(hours=1))
    assert {h.status for h in connected.nudges("hold")} == {"sent"}


def test_a_hold_the_contact_accepted_counts_as_a_meeting_with_them(
    connected: Connected,
) -> None:
    connected.cycle(MONDAY)
    hold = connected.nudges("hold")[0]
    assert hold.provider_ref
    event = connected.mailbox.events[hold.provider_ref]
    event.attendees = [
        SandboxAttendee(connected.org.owner.email, "Owner", "accepted"),
        SandboxAttendee(hold.contact_email, "Contact", "accepted"),
    ]
    connected.sandbox.world.put_event(connected.mailbox, event)

    after = event.end + timedelta(hours=1)
    run_cycle(connected.runtime, now=after, dry_run=True)
    [health] = [
        h
        for h in account_audit(connected.runtime, connected.org.owner.email, now=after)
        if h.email == hold.contact_email
    ]
    assert health.last_interaction == event.start


# --- the user's own settings -----------------------------------------------------------


def test_digest_mode_sends_one_email_listing_the_suggestions(connected: Connected) -> None:
    connected.choose(delivery="digest")
    account_id = accounts.find_account(connected.runtime, connected.org.owner.email).id
    for report in connected.org.direct_reports:
        contacts.set_role(connected.runtime, account_id, report, "direct_report")
    connected.cycle(MONDAY)

    [digest] = connected.mails()
    assert digest["Subject"].startswith("Your relationships this week:")
    text = digest.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    [row] = connected.nudges("digest")
    assert row.status == "sent"
    items = row.payload["items"]
    assert items, "the digest lists this week's suggestions"
    for item in items:
        assert (item["contact_name"] or item["contact_email"]) in text
        assert item["reasons"], item
    assert "Direct report:" in text  # the health table, by role
    assert connected.nudges("email") == []
    assert connected.nudges("hold"), "holds are booked as usual"


def test_holds_only_sends_no_email(connected: Connected) -> None:
    connected.choose(delivery="holds_only")
    connected.cycle(MONDAY)
    assert connected.mails() == []
    assert {h.status for h in connected.nudges("hold")} == {"sent"}


def test_the_accounts_weekly_budget_overrides_the_rules(connected: Connected) -> None:
    connected.choose(weekly_budget=1)
    connected.cycle(MONDAY)
    assert len(connected.mails()) == 1


def test_holds_land_inside_the_working_hours_the_user_chose(connected: Connected) -> None:
    connected.choose(
        working_hours={"days": [3, 4], "start": "14:00", "end": "16:00"},
        time_zone="America/New_York",
    )
    connected.cycle(MONDAY)
    zone = ZoneInfo("America/New_York")
    holds = connected.nudges("hold")
    assert holds
    for hold in holds:
        assert hold.provider_ref
        event = connected.mailbox.events[hold.provider_ref]
        start, end = event.start.astimezone(zone), event.end.astimezone(zone)
        assert start.isoweekday() in (3, 4), start
        assert start.hour >= 14, start
        assert (end.hour, end.minute) <= (16, 0), end


def test_the_owners_chosen_zone_decides_their_morning(connected: Connected) -> None:
    owner = connected.org.owner.email
    run_cycle(connected.runtime, now=MONDAY, dry_run=True)  # reads the calendar's zone
    assert account_time_zone(connected.runtime, owner) == "Europe/London"
    connected.choose(time_zone="Asia/Tokyo")
    assert account_time_zone(connected.runtime, owner) == "Asia/Tokyo"
    with session_scope(connected.runtime.db) as session:
        account = session.scalars(select(Account)).one()
        assert preferences.time_zone_of(account) == "Asia/Tokyo"
