"""Colleagues' zones and working hours through whole passes: a Microsoft 365 owner whose
organisation has key people in Singapore (Graph getSchedule reveals their hours)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from nudger.connectors.base import WorkingHours
from nudger.cycle import run_cycle
from nudger.demo import connect_through_oauth
from nudger.passes.connection import connect
from nudger.passes.schedules_step import schedules_step
from nudger.passes.sync_step import sync_step
from nudger.sandbox.orggen import FAR_PATTERNS, GeneratedOrg, generate_org
from nudger.sandbox.run import MICROSOFT_OWNER
from nudger.sandbox.world import Fault
from nudger.store import contact_schedules
from nudger.store.db import session_scope
from nudger.store.models import Account, Nudge
from tests.team import Team, generated_team

MONDAY = datetime(2025, 3, 3, 9, 30, tzinfo=UTC)  # 10:30 in Berlin
SINGAPORE = WorkingHours("Asia/Singapore", (1, 2, 3, 4, 5), time(9, 0), time(18, 0))
BERLIN = WorkingHours("Europe/Berlin")


@dataclass
class Far:
    team: Team
    org: GeneratedOrg
    account_id: int

    def far_people(self) -> list[str]:
        return [e.email for e in self.org.expectations if e.pattern in FAR_PATTERNS]

    def schedule_requests(self) -> int:
        world = self.team.sandbox.world
        return sum(1 for r in world.requests if r.path.endswith("/getSchedule"))


@pytest.fixture
def far(database_url: str, tmp_path: Path, encryption_key: str) -> Iterator[Far]:
    with generated_team(
        MONDAY, database_url=database_url, data_dir=tmp_path, encryption_key=encryption_key
    ) as team:
        spec = replace(MICROSOFT_OWNER, now=MONDAY, seed=8)
        org = generate_org(team.sandbox.world, spec)
        ref = connect_through_oauth(team.runtime, team.sandbox, "microsoft", org.owner.email)
        yield Far(team, org, ref.id)


def _inside(start: datetime, end: datetime, hours: WorkingHours) -> bool:
    zone = ZoneInfo(hours.time_zone)
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    return (
        local_start.isoweekday() in hours.days
        and hours.start <= local_start.time()
        and local_end.time() <= hours.end
    )


def test_a_pass_learns_far_colleagues_hours_and_books_their_holds_where_both_work(
    far: Far,
) -> None:
    [report] = run_cycle(far.team.runtime, account=far.org.owner.email, now=MONDAY)
    assert report.error is None
    with session_scope(far.team.runtime.db) as session:
        known = [contact_schedules.known(session, far.account_id, p) for p in far.far_people()]
        holds = list(session.scalars(select(Nudge).where(Nudge.kind == "hold")))
    assert [(k.time_zone, k.working_hours) for k in known if k] == [
        ("Asia/Singapore", SINGAPORE)
    ] * len(FAR_PATTERNS)
    far_holds = [h for h in holds if h.contact_email in far.far_people()]
    assert far_holds
    owner = far.team.sandbox.world.mailbox(far.org.owner.email)
    for hold in far_holds:
        [event] = [
            e for e in owner.events.values() if hold.contact_email in e.private_props.values()
        ]
        assert _inside(event.start, event.end, SINGAPORE), event.start
        assert _inside(event.start, event.end, BERLIN), event.start
        assert "is in Singapore (UTC+8), 7 hours ahead of you" in event.description


def test_the_email_about_a_far_colleague_says_where_they_are_once(far: Far) -> None:
    run_cycle(far.team.runtime, account=far.org.owner.email, now=MONDAY)
    sentence = "is in Singapore (UTC+8), 7 hours ahead of you: their morning is your night."
    about_far = [m for m in far.team.mails() if sentence in _text(m)]
    assert about_far
    assert all(_text(m).count(sentence) == 1 for m in about_far)


def test_schedules_are_read_at_most_once_a_day(far: Far) -> None:
    runtime = far.team.runtime
    connection = connect(runtime, far.account_id)
    sync_step(runtime, far.account_id, MONDAY, connection=connection)  # who the colleagues are
    connector = connection.connector
    assert schedules_step(runtime, far.account_id, connector, MONDAY) > 0
    asked = far.schedule_requests()
    assert schedules_step(runtime, far.account_id, connector, MONDAY + timedelta(hours=5)) == 0
    assert far.schedule_requests() == asked
    assert schedules_step(runtime, far.account_id, connector, MONDAY + timedelta(days=1)) > 0


def test_a_failed_read_is_recorded_and_the_pass_goes_on(far: Far) -> None:
    far.team.sandbox.world.faults.append(Fault(path="/getSchedule", status=400, method="POST"))
    [report] = run_cycle(far.team.runtime, account=far.org.owner.email, now=MONDAY)
    assert report.error is None
    with session_scope(far.team.runtime.db) as session:
        account = session.get_one(Account, far.account_id)
        assert account.schedules_read_at == MONDAY
        assert account.schedules_error
        assert "400" in account.schedules_error


def _text(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())
