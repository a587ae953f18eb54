"""Working hours have one stored shape, for the provider's and the user's alike, and a
damaged value falls back to the next source instead of failing the account."""

from __future__ import annotations

from datetime import time

import pytest
from sqlalchemy import select

from nudger import preferences
from nudger.connectors.base import WorkingHours
from nudger.cycle import account_audit, run_cycle
from nudger.store.db import session_scope
from nudger.store.hours import HoursPref, hours_json, read_hours, read_working_hours
from nudger.store.models import Account
from tests.team import MONDAY, Team

PROVIDERS = WorkingHours(time_zone="Europe/London", days=(1, 2, 3, 4), start=time(8), end=time(16))


def test_the_providers_hours_keep_their_zone_and_read_back() -> None:
    stored = hours_json(PROVIDERS)
    assert stored == {
        "days": [1, 2, 3, 4],
        "start": "08:00",
        "end": "16:00",
        "time_zone": "Europe/London",
    }
    assert read_working_hours(stored) == PROVIDERS


def test_the_users_hours_have_the_same_shape_without_a_zone() -> None:
    chosen = HoursPref((1, 2, 3), time(9, 30), time(15))
    stored = hours_json(chosen)
    assert stored == {"days": [1, 2, 3], "start": "09:30", "end": "15:00"}
    assert read_hours(stored) == chosen
    assert read_working_hours(stored) is None, "no zone: not the provider's hours"
    saved = preferences.merged({"calendars": ["primary"]}, preferences.AccountPreferences(chosen))
    assert saved == {"calendars": ["primary"], "working_hours": stored}


@pytest.mark.parametrize(
    "damaged",
    [
        None,
        [],
        {"days": [1, 2]},
        {"days": "weekdays", "start": "09:00", "end": "17:00", "time_zone": "UTC"},
        {"days": [1], "start": "nine", "end": "17:00", "time_zone": "UTC"},
        {"days": [1], "start": "09:00", "end": "17:00", "time_zone": 3},
    ],
)
def test_damaged_hours_read_as_none(damaged: object) -> None:
    assert read_working_hours(damaged) is None


def test_damaged_provider_hours_leave_the_audit_on_monday_to_friday(team: Team) -> None:
    [report] = run_cycle(team.runtime, now=MONDAY, dry_run=True)
    assert report.error is None
    with session_scope(team.runtime.db) as session:
        account = session.scalars(select(Account)).one()
        assert read_working_hours(account.working_hours) is not None, "the sync stored them"
        account.working_hours = {"days": [1, 2, 3], "time_zone": "Europe/London"}

    healths = account_audit(team.runtime, team.org.owner.email, now=MONDAY)

    assert [h.status for h in healths] == [h.status for h in _audit_without_hours(team)]


def _audit_without_hours(team: Team) -> list[object]:
    with session_scope(team.runtime.db) as session:
        session.scalars(select(Account)).one().working_hours = None
    return list(account_audit(team.runtime, team.org.owner.email, now=MONDAY))
