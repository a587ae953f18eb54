"""A project's meeting run: the same group, many meetings, then none, its last one held
(NOW is Wednesday 12 June 2024)."""

from __future__ import annotations

from datetime import timedelta

from nudger.analysis.audit import ContactHealth
from nudger.analysis.judgement import Judgement
from nudger.analysis.model import Status
from nudger.connectors.base import CalendarEvent, Response
from tests.analysis.builders import days_ago, days_ahead, meeting, person, run_audit

ANA, BO, CHEN = "ana@corp.example", "bo@corp.example", "chen@corp.example"
TEAM = (ANA, BO, CHEN)


def project(times: int = 12, last_days_ago: float = 16, every: float = 7) -> list[CalendarEvent]:
    """The weekly project meeting of the owner with Ana, Bo and Chen."""
    return [meeting(days_ago(last_days_ago + every * n), *TEAM) for n in range(times)]


def rows(events: list[CalendarEvent]) -> dict[str, ContactHealth]:
    return run_audit(events)


def test_a_long_project_run_that_stopped_is_the_groups_ended_run() -> None:
    found = rows(project())
    run = found[ANA].group_run
    assert run is not None
    assert (run.meetings, run.interval_days, run.members) == (12, 7, TEAM)
    assert (run.first, run.last) == (days_ago(16 + 7 * 11), days_ago(16))
    assert {found[e].group_run for e in TEAM} == {run}
    assert found[ANA].to_json()["group_run"]["members"] == list(TEAM)  # type: ignore[index]


def test_the_run_shows_when_the_group_would_read_as_stopped_not_later() -> None:
    """The group's "stopped" nudge fires on fading: the ended run is there by then, so the
    thank-you can come instead of it."""
    found = rows(project(last_days_ago=11))
    assert found[ANA].status is Status.FADING
    assert found[ANA].group_run is not None


def test_a_group_still_meeting_on_rhythm_has_no_ended_run() -> None:
    found = rows(project(last_days_ago=2))
    assert found[ANA].status is Status.HEALTHY
    assert found[ANA].group_run is None


def test_a_meeting_planned_with_the_group_means_it_goes_on() -> None:
    found = rows([*project(), meeting(days_ahead(5), *TEAM)])
    assert found[ANA].group_run is None


def test_a_short_run_is_not_worth_a_thank_you() -> None:
    assert rows(project(times=5))[ANA].group_run is None


def test_a_run_that_died_in_cancellations_did_not_end_well() -> None:
    cancelled = meeting(days_ago(9), *TEAM, cancelled=True)
    assert rows([*project(), cancelled])[ANA].group_run is None


def test_someone_met_since_leaves_the_group_and_the_run_is_not_the_groups() -> None:
    """Chen met alone since: Ana and Bo remain a group, but the run was with all three,
    so a thank-you naming two of them would misname it."""
    found = rows([*project(), meeting(days_ago(6), CHEN)])
    assert found[ANA].group == (ANA, BO)
    assert found[ANA].group_run is None


def test_meetings_where_someone_declined_do_not_count_for_the_run() -> None:
    declined = [
        meeting(days_ago(16 + 7 * n), ANA, BO, person(CHEN, Response.DECLINED))
        for n in range(12, 20)
    ]
    run = rows([*project(times=9), *declined])[ANA].group_run
    assert run is not None
    assert run.meetings == 9


def test_a_large_meeting_is_no_group_run() -> None:
    crowd = [f"p{i}@corp.example" for i in range(8)]
    weekly = [meeting(days_ago(16 + 7 * n), *crowd) for n in range(12)]
    assert all(h.group_run is None for h in rows(weekly).values())


def test_a_run_long_over_is_known_but_no_longer_timely() -> None:
    run = rows(project(last_days_ago=60))[ANA].group_run
    assert run is not None
    assert not run.timely


def test_the_minimum_run_follows_the_thanks_settings() -> None:
    strict = Judgement(thanks_min_meetings=13)
    assert run_audit(project(), judgement=strict)[ANA].group_run is None
    assert project()[0].start - project()[-1].start == timedelta(weeks=11)
