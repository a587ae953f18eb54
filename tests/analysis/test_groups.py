"""Groups: people met lately only in the same meetings are one relationship."""

from __future__ import annotations

from nudger.analysis.model import ContactPrefs, Status
from nudger.connectors.base import CalendarEvent
from tests.analysis.builders import days_ago, meeting, run_audit, series

JORDAN, ALEX, SAM = "jordan@corp.example", "alex@corp.example", "sam@corp.example"


def fortnightly_four(last_weeks_ago: int, times: int = 8) -> list[CalendarEvent]:
    return [meeting(days_ago(7 * last_weeks_ago + 14 * n), JORDAN, ALEX, SAM) for n in range(times)]


def test_people_met_only_together_form_one_group() -> None:
    rows = run_audit(fortnightly_four(9))
    assert {rows[e].group for e in (JORDAN, ALEX, SAM)} == {tuple(sorted((JORDAN, ALEX, SAM)))}
    assert rows[JORDAN].status is Status.NEGLECTED
    assert rows[JORDAN].to_json()["group"] == sorted((JORDAN, ALEX, SAM))


def test_someone_also_met_alone_lately_is_not_in_the_group() -> None:
    rows = run_audit([*fortnightly_four(9), meeting(days_ago(20), SAM)])
    assert rows[JORDAN].group == tuple(sorted((JORDAN, ALEX)))
    assert rows[SAM].group == ()


def test_a_one_on_one_of_their_own_keeps_a_person_out_of_any_group() -> None:
    """Direct reports seen together in a team meeting each keep their own one-on-one."""
    team = [meeting(days_ago(1 + 7 * n), JORDAN, ALEX) for n in range(6)]
    stopped = series(JORDAN, days_ago(60), 7, 4, series_id="j")
    prefs = [ContactPrefs(email=e, role="direct_report") for e in (JORDAN, ALEX)]
    rows = run_audit([*team, *stopped], prefs)
    assert rows[JORDAN].group == ()
    assert "group" not in rows[ALEX].to_json()
