"""The daily step end to end against the emulator: a week of morning passes on the
generated team, the mode switched on in the account's settings, emails read back from
the emulator's sent mail."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from nudger import accounts, contacts
from nudger.cycle import run_cycle
from nudger.sandbox.world import SandboxEvent
from tests.team import MONDAY, generated_team
from tests.test_cycle_feedback import Connected

SUBJECT = "Today's small step: "


class Week(Connected):
    def other_nudges(self) -> list[tuple[Any, ...]]:
        """Every nudge but the daily steps: what it was, about whom, when, what became of it."""
        rows = [*self.nudges("email"), *self.nudges("hold"), *self.nudges("digest")]
        return sorted((r.kind, r.rule, r.contact_email, r.status, r.created_at) for r in rows)

    def subjects(self) -> list[str]:
        return [str(mail["Subject"]) for mail in self.mails()]

    def give_roles(self) -> None:
        """The planted people with a role, as the guided start would confirm them."""
        account_id = accounts.find_account(self.runtime, self.org.owner.email).id
        for person in self.org.expectations:
            if person.role in ("direct_report", "manager", "mentor", "peer"):
                contacts.set_role(self.runtime, account_id, person.email, person.role)


@contextmanager
def connected_week(database_url: str, data: Path, encryption_key: str) -> Iterator[Week]:
    """The generated team, the owner connected, the planted roles confirmed."""
    with generated_team(
        MONDAY, database_url=database_url, data_dir=data, encryption_key=encryption_key
    ) as team:
        connected = Week(team.sandbox, team.org, team.runtime)
        connected.connect_owner()
        connected.give_roles()
        yield connected


@pytest.fixture
def week(database_url: str, tmp_path: Path, encryption_key: str) -> Iterator[Week]:
    with connected_week(database_url, tmp_path / "data", encryption_key) as connected:
        yield connected


def test_one_daily_step_email_each_working_day_going_round_the_key_people(week: Week) -> None:
    # No weekly budget: the only emails left are the daily steps (their own budget).
    week.choose(daily_step=True, weekly_budget=0)
    per_day = []
    for n in range(7):  # Monday to Sunday, 09:30 London
        before = len(week.subjects())
        week.cycle(MONDAY + timedelta(days=n))
        week.cycle(MONDAY + timedelta(days=n, hours=3))  # a second pass that day: nothing
        per_day.append(week.subjects()[before:])

    assert [len(day) for day in per_day] == [1, 1, 1, 1, 1, 0, 0]
    assert all(day[0].startswith(SUBJECT) for day in per_day[:5])
    steps = week.nudges("daily_step")
    assert [row.status for row in steps] == ["sent"] * 5
    people = [row.contact_email for row in steps]
    assert len(set(people)) == 5, "five working days, five different key people"
    assert all(row.evidence and row.payload["step"] for row in steps)
    assert [row.key.rsplit(":", 1)[1] for row in steps] == [
        (MONDAY + timedelta(days=n)).date().isoformat() for n in range(5)
    ]


def test_no_daily_step_on_the_owners_out_of_office_day(week: Week) -> None:
    # Google Calendar marks out of office with eventType "outOfOffice" (Calendar v3
    # Events resource); nudger reads it as the owner being away that day.
    tuesday = MONDAY.replace(hour=0, minute=0) + timedelta(days=1)
    owner = week.org.owner.email
    away = SandboxEvent("ooo-tue", tuesday, tuesday + timedelta(days=1), owner)
    away.event_type = "outOfOffice"
    week.sandbox.world.put_event(week.mailbox, away)
    week.choose(daily_step=True, weekly_budget=0)

    for n in range(3):
        week.cycle(MONDAY + timedelta(days=n))

    days = [row.key.rsplit(":", 1)[1] for row in week.nudges("daily_step")]
    assert days == ["2025-03-03", "2025-03-05"]


def test_the_other_nudges_go_out_as_they_would_with_the_mode_off(
    database_url: str, tmp_path: Path, encryption_key: str
) -> None:
    """The same team and days, once off and once on: the same nudges, the same states;
    with it off, no daily step at all."""
    seen = {}
    for on in (False, True):
        with connected_week(database_url, tmp_path / f"data-{on}", encryption_key) as week:
            week.choose(daily_step=on)
            for n in range(3):
                week.cycle(MONDAY + timedelta(days=n))
            seen[on] = week.other_nudges()
            assert bool(week.nudges("daily_step")) is on
            accounts.remove_account(week.runtime, week.org.owner.email)

    assert seen[True] == seen[False]
    assert seen[False], "the team has nudges to compare"


def test_the_daily_step_steps_aside_on_a_day_with_nudge_emails_and_leaves_them_as_they_were(
    week: Week,
) -> None:
    week.choose(daily_step=True)
    week.cycle(MONDAY)
    week.cycle(MONDAY + timedelta(days=1))

    emails = week.nudges("email")
    assert emails, "Monday's nudges go out as usual"
    assert {row.created_at.date() for row in emails} == {MONDAY.date()}
    days = [row.key.rsplit(":", 1)[1] for row in week.nudges("daily_step")]
    assert days == ["2025-03-04"], "none on Monday beside the nudges; Tuesday's step"


def test_a_step_that_missed_its_morning_never_goes_out_beside_the_next_days(week: Week) -> None:
    week.choose(daily_step=True, weekly_budget=0)
    [report] = run_cycle(week.runtime, now=MONDAY, deliver_mail=False)  # no mail that morning
    assert report.error is None

    week.cycle(MONDAY + timedelta(days=1))

    monday, tuesday = week.nudges("daily_step")
    assert (monday.status, monday.last_error) == (
        "suppressed",
        "the daily step of 2025-03-03, not today's",
    )
    assert tuesday.status == "sent"
    assert len(week.subjects()) == 1
