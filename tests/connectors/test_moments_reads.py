"""What moments read for key people, kept on their contact rows: Microsoft hire dates,
once a week per person, only for people with a role in the owner's own domain (the
tenant's directory knows no one else), failures recorded on the row and never failing
the pass. Against the emulator over HTTP and a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from nudger import accounts, contacts
from nudger.config import load_settings
from nudger.cycle import run_account_pass
from nudger.passes.connection import connect
from nudger.passes.moments_step import moments_step, read_hire_dates
from nudger.runtime import Runtime, open_runtime
from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import Fault, Mailbox, SandboxEvent, World
from nudger.store.db import session_scope
from nudger.store.models import Contact
from tests.connectors.microsoft_helpers import MS_OWNER, add_meeting, add_owner, consent
from tests.team import MONDAY, Team

NOW = datetime(2024, 6, 12, 9, 30, tzinfo=UTC)  # Wednesday, 10:30 in London
ADA, BO, EXTERNAL = "ada@contoso.example", "bo@contoso.example", "eve@fabrikam.example"


@pytest.fixture
def owner(world: World) -> Mailbox:
    for email, name in ((ADA, "Ada Lovelace"), (BO, "Bo Chen"), (EXTERNAL, "Eve Adams")):
        world.people[email] = name
    world.hire_dates[ADA] = datetime(2021, 6, 12, tzinfo=UTC)
    world.hire_dates[EXTERNAL] = datetime(2020, 6, 12, tzinfo=UTC)
    return add_owner(world)


@pytest.fixture
def opted_in(runtime: Runtime) -> Iterator[Runtime]:
    settings = load_settings(**{**runtime.settings.model_dump(), "microsoft_hire_dates": True})
    opened = open_runtime(settings)
    yield opened
    opened.db.dispose()


@pytest.fixture
def account_id(opted_in: Runtime, sandbox: Sandbox, owner: Mailbox) -> int:
    start = accounts.begin_connect(opted_in, "microsoft", login_hint=MS_OWNER)
    ref = accounts.complete_connect(opted_in, "microsoft", consent(sandbox, start.url))
    for email, role in ((ADA, "peer"), (BO, "direct_report"), (EXTERNAL, "external")):
        contacts.set_role(opted_in, ref.id, email, role)
    contacts.set_role(opted_in, ref.id, "cy@contoso.example", None)  # a row, no role
    return ref.id


def read(runtime: Runtime, account_id: int, now: datetime = NOW) -> int:
    return moments_step(runtime, account_id, connect(runtime, account_id).connector, now)


def read_hires(runtime: Runtime, account_id: int, now: datetime = NOW) -> int:
    return read_hire_dates(runtime, account_id, connect(runtime, account_id).connector, now)


def rows(runtime: Runtime) -> dict[str, tuple[object, ...]]:
    with session_scope(runtime.db) as session:
        found = session.scalars(select(Contact))
        return {c.email: (c.hire_date, c.hire_date_read_at, c.hire_date_error) for c in found}


def users_asked(world: World) -> list[str]:
    with world.lock:
        return [r.path.rsplit("/", 1)[1] for r in world.requests if "/users/" in r.path]


def test_key_people_in_the_tenant_have_their_hire_dates_read(
    opted_in: Runtime, account_id: int, world: World
) -> None:
    assert read_hires(opted_in, account_id) == 2
    found = rows(opted_in)
    assert found[ADA] == (date(2021, 6, 12), NOW, None)
    assert found[BO] == (None, NOW, None)  # null in the directory
    assert found[EXTERNAL][1] is None  # another organisation: not in this directory
    assert sorted(users_asked(world)) == [ADA, BO]


def test_at_most_once_a_week_per_person(opted_in: Runtime, account_id: int, world: World) -> None:
    read_hires(opted_in, account_id)
    assert read_hires(opted_in, account_id, NOW + timedelta(days=6)) == 0
    assert read_hires(opted_in, account_id, NOW + timedelta(days=7)) == 2
    assert len(users_asked(world)) == 4


def test_a_failed_read_is_recorded_on_the_row_and_the_others_go_on(
    opted_in: Runtime, account_id: int, world: World
) -> None:
    world.faults.append(Fault(path=f"/users/{ADA}", status=403))
    assert read_hires(opted_in, account_id) == 2
    found = rows(opted_in)
    assert "403" in str(found[ADA][2])
    assert found[BO] == (None, NOW, None)


def test_a_throttled_read_stops_the_round_and_is_due_again_at_the_next_pass(
    opted_in: Runtime, account_id: int, world: World
) -> None:
    world.faults.append(Fault(path="/users/", status=429, retry_after=3600))
    read_hires(opted_in, account_id)
    assert len(users_asked(world)) == 1  # no more calls after the 429
    assert all(row[1] is None for row in rows(opted_in).values())
    read_hires(opted_in, account_id, NOW + timedelta(hours=1))
    assert rows(opted_in)[ADA][0] == date(2021, 6, 12)


def test_a_pass_on_the_day_sends_the_work_anniversary_email(
    opted_in: Runtime, account_id: int, world: World, owner: Mailbox
) -> None:
    """Ada, a peer met every three weeks, joined three years ago today."""
    for weeks in range(3, 40, 3):
        add_meeting(world, owner, f"ada{weeks}", NOW - timedelta(weeks=weeks), ADA)
    report = run_account_pass(opted_in, account_id, now=NOW)
    assert report.error is None
    subjects = [m.raw.split(b"Subject: ", 1)[1].split(b"\r\n", 1)[0] for m in world.sent]
    assert b"Ada joined 3 years ago, on 12 June 2021" in subjects  # the calendar's name


# --- absences (Graph getSchedule marks out-of-office as "oof") ------------------------------


def away(world: World, email: str, first: datetime, last: datetime) -> None:
    """A colleague's mailbox in the tenant with an all-day out-of-office, first to last."""
    mailbox = world.add_mailbox(Mailbox(email, world.people[email], "microsoft"))
    event = SandboxEvent(
        id=f"oof-{email}",
        start=first,
        end=last + timedelta(days=1),
        organizer=email,
        summary="Holiday",
        all_day=True,
        event_type="outOfOffice",
    )
    world.put_event(mailbox, event)


def absences(runtime: Runtime) -> dict[str, tuple[object, ...]]:
    with session_scope(runtime.db) as session:
        found = session.scalars(select(Contact))
        return {
            c.email: (c.absence_start, c.absence_end, c.absence_days, c.schedule_error)
            for c in found
        }


BACK = datetime(2024, 6, 7, 23, tzinfo=UTC)  # London: Saturday 8 June 00:00


def test_a_key_persons_long_absence_is_read_once_a_day_and_kept(
    opted_in: Runtime, account_id: int, world: World
) -> None:
    """Bo was out Monday 27 May to Friday 7 June (10 working days); Ada has no mailbox
    the tenant shows, so her row records why."""
    away(world, BO, datetime(2024, 5, 26, 23, tzinfo=UTC), datetime(2024, 6, 6, 23, tzinfo=UTC))
    read(opted_in, account_id)
    found = absences(opted_in)
    assert found[BO] == (datetime(2024, 5, 26, 23, tzinfo=UTC), BACK, 10, None)
    assert found[ADA][:3] == (None, None, None)
    assert found[ADA][3]
    assert found[EXTERNAL] == (None, None, None, None)  # never asked: another organisation
    asked = sum(1 for r in world.requests if r.path.endswith("/getSchedule"))
    read(opted_in, account_id, NOW + timedelta(hours=3))
    assert sum(1 for r in world.requests if r.path.endswith("/getSchedule")) == asked


def test_a_failed_read_keeps_the_absence_and_records_why(
    opted_in: Runtime, account_id: int, world: World
) -> None:
    away(world, BO, datetime(2024, 5, 26, 23, tzinfo=UTC), datetime(2024, 6, 6, 23, tzinfo=UTC))
    read(opted_in, account_id)
    world.faults.append(Fault(path="/getSchedule", status=403))
    read(opted_in, account_id, NOW + timedelta(days=1))
    _start, end, days, error = absences(opted_in)[BO]
    assert (end, days) == (BACK, 10)
    assert "403" in str(error)


def test_a_pass_in_the_first_days_back_sends_one_welcome_back(
    opted_in: Runtime, account_id: int, world: World, owner: Mailbox
) -> None:
    away(world, BO, datetime(2024, 5, 26, 23, tzinfo=UTC), datetime(2024, 6, 6, 23, tzinfo=UTC))
    for weeks in range(1, 30):
        add_meeting(world, owner, f"bo{weeks}", NOW - timedelta(weeks=weeks, days=1), BO)
    assert run_account_pass(opted_in, account_id, now=NOW).error is None
    assert run_account_pass(opted_in, account_id, now=NOW + timedelta(days=1)).error is None
    subjects = [m.raw.split(b"Subject: ", 1)[1].split(b"\r\n", 1)[0] for m in world.sent]
    assert subjects.count(b"Welcome Bo back") == 1


def test_on_google_no_absence_is_read_from_busy_time(team: Team) -> None:
    """Google freeBusy says busy only (no out-of-office): nothing is asked, nothing kept."""
    ref = accounts.find_account(team.runtime, team.org.owner.email)
    colleague = next(e for e in team.org.expectations if e.pattern == "mentor")
    contacts.set_role(team.runtime, ref.id, colleague.email, "mentor")
    asked = len(team.sandbox.world.requests)
    assert read(team.runtime, ref.id, MONDAY) == 0
    assert not [r for r in team.sandbox.world.requests[asked:] if "freeBusy" in r.path]
