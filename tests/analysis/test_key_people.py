"""The guided start's proposals, from hand-built calendars."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from nudger.analysis.key_people import Proposal, cadence_words, propose_key_people
from nudger.analysis.model import ContactPrefs
from nudger.connectors.base import CalendarEvent
from tests.analysis.builders import ME, crowd, days_ago, every, meeting, run_audit, series

ANA = "ana@corp.example"
BEN = "ben@corp.example"
CLIENT = "carla@client.example"


def proposals_of(
    events: Iterable[CalendarEvent],
    prefs: Iterable[ContactPrefs] = (),
    directory: Mapping[str, str] | None = None,
    limit: int = 12,
) -> dict[str, Proposal]:
    healths = list(run_audit(events, prefs).values())
    found = propose_key_people(healths, ME, directory or {}, limit)
    return {p.email: p for p in found}


def test_a_weekly_one_on_one_series_looks_like_a_direct_report() -> None:
    found = proposals_of(series(ANA, days_ago(7 * 11 + 1), 7, 12))
    assert found[ANA].role == "direct_report"
    assert "weekly one-on-one series, 12 meetings together" in found[ANA].reasons


def test_the_org_chart_wins_over_the_calendar() -> None:
    events = series(BEN, days_ago(7 * 11 + 1), 7, 12)
    found = proposals_of(events, directory={BEN: "manager"})
    assert found[BEN].role == "manager"
    assert found[BEN].reasons[0] == "from your org chart"


def test_with_an_org_chart_a_one_on_one_outside_it_is_no_direct_report() -> None:
    """Graph's /me/directReports lists every direct report: a weekly one-on-one with
    someone it does not list is a peer's (or a mentee's), not a report's."""
    events = [
        *series(ANA, days_ago(7 * 11 + 1), 7, 12, series_id="ana"),
        *series(BEN, days_ago(7 * 11 + 2), 7, 12, series_id="ben"),
    ]
    found = proposals_of(events, directory={BEN: "direct_report"})
    assert (found[ANA].role, found[BEN].role) == ("peer", "direct_report")
    assert "weekly one-on-one series, 12 meetings together" in found[ANA].reasons


def run_by(contact: str, events: list[CalendarEvent]) -> list[CalendarEvent]:
    return [replace(e, organizer_email=contact) for e in events]


def test_the_colleague_who_runs_a_weekly_one_on_one_is_the_likely_manager() -> None:
    events = [
        *series(ANA, days_ago(7 * 11 + 1), 7, 12, series_id="ana"),
        *run_by(BEN, series(BEN, days_ago(7 * 11 + 2), 7, 12, series_id="ben")),
    ]
    found = proposals_of(events)
    assert (found[ANA].role, found[BEN].role) == ("direct_report", "manager")
    assert found[BEN].reasons[:2] == (
        "weekly one-on-one series they organise, 12 meetings together",
        "likely your manager",
    )


def test_no_manager_is_guessed_when_the_org_chart_names_one() -> None:
    events = run_by(BEN, series(BEN, days_ago(7 * 11 + 2), 7, 12))
    found = proposals_of(events, directory={CLIENT: "manager"})
    assert found[BEN].role == "peer"
    assert "likely your manager" not in found[BEN].reasons


def test_other_domains_are_external_and_say_which_domain() -> None:
    found = proposals_of(every(10, 3, 8, CLIENT))
    assert found[CLIENT].role == "external"
    assert "outside corp.example" in found[CLIENT].reasons


def test_strong_internal_collaborators_are_peers_ranked_by_strength() -> None:
    events = [*every(7, 2, 10, ANA, BEN), *every(30, 5, 3, BEN)]
    found = proposals_of(events)
    assert found[ANA].role == found[BEN].role == "peer"
    assert found[BEN].reasons == (f"strength {found[BEN].strength:.1f}, top 1",)
    assert found[ANA].reasons[-1].endswith("top 2")


def test_only_the_strongest_are_proposed_beyond_the_org_chart() -> None:
    events = [*every(7, 2, 10, ANA), *every(60, 20, 2, BEN), meeting(days_ago(9), CLIENT)]
    found = proposals_of(events, directory={CLIENT: "direct_report"}, limit=1)
    assert set(found) == {ANA, CLIENT}


def test_the_strongest_external_contacts_are_proposed_below_the_top() -> None:
    events = [*every(7, 2, 10, ANA), *every(7, 3, 10, BEN), *every(90, 30, 3, CLIENT)]
    found = proposals_of(events, limit=2)
    assert set(found) == {ANA, BEN, CLIENT}
    assert found[CLIENT].reasons == (
        f"strength {found[CLIENT].strength:.1f}, top 3",
        "outside corp.example",
    )


def test_large_meetings_alone_propose_nobody() -> None:
    assert proposals_of(every(7, 2, 10, *crowd(12))) == {}


def test_a_role_already_stored_is_what_the_form_preselects() -> None:
    events = series(ANA, days_ago(7 * 11 + 1), 7, 12)
    found = proposals_of(events, prefs=[ContactPrefs(ANA, role="mentor")])
    assert (found[ANA].role, found[ANA].current_role, found[ANA].chosen) == (
        "direct_report",
        "mentor",
        "mentor",
    )


def test_an_ended_series_is_no_direct_report() -> None:
    found = proposals_of(series(ANA, days_ago(7 * 30), 7, 12))
    assert found[ANA].role == "peer"


def test_cadence_words() -> None:
    assert [cadence_words(d) for d in (7.2, 14, 10)] == ["weekly", "fortnightly", "every 10 days"]
