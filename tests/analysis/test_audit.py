from __future__ import annotations

import json
from datetime import timedelta

from nudger.analysis.audit import audit
from nudger.analysis.judgement import DEFAULT_ROLES
from nudger.analysis.model import ContactPrefs, Status
from nudger.connectors.base import Attendee, CalendarEvent, Response
from tests.analysis.builders import (
    JUDGEMENT,
    ME,
    NOW,
    OWNER,
    crowd,
    days_ago,
    days_ahead,
    every,
    meeting,
    person,
    run_audit,
    series,
)

ANN = "ann@corp.example"
BOB = "bob@corp.example"
TEAM = "x@corp.example"
CONTRACT_KEYS = {
    "email",
    "name",
    "status",
    "last_interaction",
    "next_meeting",
    "cadence_days",
    "strength",
    "reasons",
}


def test_json_has_the_contract_keys_and_plain_values() -> None:
    events = [*series(ANN, days_ago(7 * 9 + 1), 7, 12), meeting(days_ahead(2), ANN, TEAM)]
    row = run_audit(events)[ANN].to_json()
    assert set(row) == CONTRACT_KEYS | {"role", "one_on_one", "cadence_working_days", "repair"}
    assert row["status"] == "healthy"
    assert row["last_interaction"] == days_ago(1).isoformat()
    assert row["next_meeting"] == days_ahead(2).isoformat()
    assert row["cadence_days"] == 7
    assert isinstance(row["strength"], float)
    assert isinstance(row["reasons"], list)
    assert isinstance(row["one_on_one"], dict)
    assert row["one_on_one"]["interval_days"] == 7
    json.dumps(row)  # serialisable as is


def test_json_uses_null_for_unknown_values() -> None:
    row = run_audit([], [ContactPrefs(email=ANN, role="direct_report")])[ANN].to_json()
    assert row["last_interaction"] is None
    assert row["next_meeting"] is None
    assert row["one_on_one"] is None
    assert row["role"] == "direct_report"


def test_strength_is_rounded_to_three_places() -> None:
    ann = run_audit([meeting(days_ago(10), ANN)])[ANN]
    assert ann.strength == round(0.5 ** (10 / 90), 3)


def test_rows_sort_by_severity_then_strength() -> None:
    events = [
        *every(7, 42, 8, "neglected@corp.example", TEAM),
        *every(7, 1, 8, "strong@corp.example"),
        *every(7, 1, 8, "weaker@corp.example", TEAM, "y@corp.example"),
    ]
    rows = audit(OWNER, events, {}, NOW, JUDGEMENT, DEFAULT_ROLES)
    emails = [row.email for row in rows]
    assert emails[0] == "neglected@corp.example"
    assert emails.index("strong@corp.example") < emails.index("weaker@corp.example")
    assert [row.status.severity for row in rows] == sorted(row.status.severity for row in rows)


def test_one_meeting_in_two_calendars_counts_once() -> None:
    start = days_ago(5)
    mine = meeting(start, ANN, ical_uid="m1", original_start=start)
    shared = meeting(start, ANN, ical_uid="m1", original_start=start)
    ann = run_audit([mine, shared])[ANN]
    assert ann.features.interactions == 1


def test_name_comes_from_prefs_else_the_most_recent_display_name() -> None:
    events = [
        meeting(days_ago(2), person(ANN, name="Ann Lee")),
        meeting(days_ago(30), person(ANN, name="A. Lee")),
        meeting(days_ago(3), person(BOB, name="Bob")),
    ]
    rows = run_audit(events, [ContactPrefs(email=BOB, name="Robert")])
    assert rows[ANN].name == "Ann Lee"
    assert rows[BOB].name == "Robert"


def test_owner_addresses_are_never_listed() -> None:
    alias = Attendee(email="BOSS@corp.example", response=Response.ACCEPTED)
    rows = run_audit([meeting(days_ago(2), alias, ANN)], [ContactPrefs(email=ME, role="peer")])
    assert set(rows) == {ANN}


def test_people_only_seen_in_cancelled_or_declined_meetings_are_not_listed() -> None:
    events = [
        meeting(days_ago(2), ANN, cancelled=True),
        meeting(days_ago(2), person(BOB, Response.DECLINED), TEAM),
    ]
    assert set(run_audit(events)) == {TEAM}


def test_prefs_without_role_and_without_events_are_not_listed() -> None:
    assert run_audit([], [ContactPrefs(email=ANN, muted=True)]) == {}


def test_prefs_keys_match_case_insensitively() -> None:
    prefs = {"Ann@Corp.Example": ContactPrefs(email="Ann@Corp.Example", role="direct_report")}
    rows = audit(OWNER, [meeting(days_ago(2), ANN, TEAM)], prefs, NOW, JUDGEMENT, DEFAULT_ROLES)
    assert rows[0].status is Status.MISSING_ONE_ON_ONE


def test_ten_thousand_events_and_a_thousand_contacts_in_one_pass() -> None:
    contacts = crowd(1000, prefix="c")
    events: list[CalendarEvent] = []
    for index in range(10_000):
        start = NOW - timedelta(hours=index * 0.8 - 24 * 20)  # some are in the future
        people = [contacts[(index * 7 + k) % 1000] for k in range(1 + index % 4)]
        events.append(meeting(start, *people, ical_uid=f"u{index}"))
    rows = audit(OWNER, iter(events), {}, NOW, JUDGEMENT, DEFAULT_ROLES)
    assert len(rows) == 1000
    assert {r.email for r in rows} == set(contacts)
