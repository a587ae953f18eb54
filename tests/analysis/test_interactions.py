from __future__ import annotations

from datetime import timedelta

import pytest

from nudger.analysis.interactions import (
    interactions_in,
    one_on_one_occurrence,
    size_weight,
    unique_events,
    upcoming_contacts,
)
from nudger.analysis.judgement import SizeWeights
from nudger.connectors.base import Attendee, CalendarEvent, EventKind, Response
from tests.analysis.builders import (
    JUDGEMENT,
    MY_ALIAS,
    NOW,
    OWNER,
    crowd,
    days_ago,
    days_ahead,
    meeting,
    person,
)


def contacts_of(event: CalendarEvent) -> list[str]:
    return [i.contact for i in interactions_in(event, OWNER, NOW, JUDGEMENT)]


def test_past_meeting_is_an_interaction_with_each_other_attendee() -> None:
    event = meeting(days_ago(3), "Ann@Corp.example", "bob@corp.example")
    assert contacts_of(event) == ["ann@corp.example", "bob@corp.example"]


def test_meeting_still_running_or_in_future_is_not_an_interaction() -> None:
    assert contacts_of(meeting(days_ahead(1), "ann@corp.example")) == []
    running = meeting(NOW - timedelta(minutes=15), "ann@corp.example", minutes=60)
    assert contacts_of(running) == []


def test_cancelled_meeting_is_not_an_interaction() -> None:
    assert contacts_of(meeting(days_ago(3), "ann@corp.example", cancelled=True)) == []


def test_meeting_the_owner_declined_is_not_an_interaction() -> None:
    event = meeting(days_ago(3), "ann@corp.example", my_response=Response.DECLINED)
    assert contacts_of(event) == []


def test_attendee_who_declined_gets_no_interaction_but_others_do() -> None:
    event = meeting(days_ago(3), person("ann@corp.example", Response.DECLINED), "bob@corp.example")
    assert contacts_of(event) == ["bob@corp.example"]


def test_declined_attendee_does_not_count_towards_size() -> None:
    event = meeting(days_ago(3), person("ann@corp.example", Response.DECLINED), "bob@corp.example")
    (only,) = interactions_in(event, OWNER, NOW, JUDGEMENT)
    assert only.size == 2
    assert only.one_on_one


def test_resources_and_owner_aliases_are_never_contacts() -> None:
    room = person("room-7@resource.example", is_resource=True)
    alias = Attendee(email=MY_ALIAS.upper(), response=Response.ACCEPTED)
    event = meeting(days_ago(3), room, alias, "ann@corp.example")
    (only,) = interactions_in(event, OWNER, NOW, JUDGEMENT)
    assert only.contact == "ann@corp.example"
    assert only.size == 2


def test_event_with_nobody_but_the_owner_is_not_a_meeting() -> None:
    room = person("room-7@resource.example", is_resource=True)
    assert contacts_of(meeting(days_ago(3), room)) == []
    assert one_on_one_occurrence(meeting(days_ago(3)), OWNER) is None


def test_nudgers_own_holds_are_not_interactions() -> None:
    bare = meeting(days_ago(3), hold_contact="ann@corp.example")
    invited = meeting(
        days_ago(3),
        person("ann@corp.example", Response.NEEDS_ACTION),
        hold_contact="ann@corp.example",
    )
    refused = meeting(
        days_ago(3), person("ann@corp.example", Response.DECLINED), hold_contact="ann@corp.example"
    )
    for hold in (bare, invited, refused):
        assert contacts_of(hold) == []
        assert one_on_one_occurrence(hold, OWNER) is None


@pytest.mark.parametrize("answer", [Response.ACCEPTED, Response.TENTATIVE])
def test_a_hold_the_contact_accepted_is_a_real_meeting(answer: Response) -> None:
    hold = meeting(days_ago(3), person("ann@corp.example", answer), hold_contact="ann@corp.example")
    assert contacts_of(hold) == ["ann@corp.example"]
    assert one_on_one_occurrence(hold, OWNER) is not None


@pytest.mark.parametrize(
    "kind", [EventKind.OUT_OF_OFFICE, EventKind.FOCUS_TIME, EventKind.WORKING_LOCATION]
)
def test_out_of_office_focus_and_working_location_are_not_interactions(kind: EventKind) -> None:
    assert contacts_of(meeting(days_ago(3), "ann@corp.example", kind=kind)) == []


def test_meetings_older_than_the_lookback_are_ignored() -> None:
    assert contacts_of(meeting(days_ago(400), "ann@corp.example")) == []


@pytest.mark.parametrize(
    ("size", "weight"),
    [(2, 1.0), (3, 0.6), (4, 0.6), (5, 0.3), (8, 0.3), (9, 0.05), (40, 0.05)],
)
def test_weight_falls_with_meeting_size(size: int, weight: float) -> None:
    assert size_weight(size, SizeWeights()) == weight
    (first, *_) = interactions_in(meeting(days_ago(1), *crowd(size - 1)), OWNER, NOW, JUDGEMENT)
    assert first.weight == weight
    assert first.one_on_one is (size == 2)


def test_weights_are_settings() -> None:
    weights = SizeWeights(small=0.5, small_max_size=3)
    assert size_weight(3, weights) == 0.5
    assert size_weight(4, weights) == 0.3


def test_same_occurrence_seen_in_two_calendars_is_kept_once() -> None:
    start = days_ago(2)
    first = meeting(start, "ann@corp.example", ical_uid="abc", original_start=start)
    copy = meeting(start, "ann@corp.example", ical_uid="abc", original_start=start)
    other_occurrence = meeting(days_ago(9), "ann@corp.example", ical_uid="abc")
    assert list(unique_events([first, copy, other_occurrence])) == [first, other_occurrence]


def test_events_without_ical_uid_dedupe_on_start_and_attendees() -> None:
    start = days_ago(2)
    first = meeting(start, "ann@corp.example", "bob@corp.example")
    copy = meeting(start, "bob@corp.example", "ann@corp.example")
    different = meeting(start, "ann@corp.example")
    assert list(unique_events([first, copy, different])) == [first, different]


def test_upcoming_meeting_excludes_declined_and_cancelled() -> None:
    event = meeting(
        days_ahead(2), person("ann@corp.example", Response.DECLINED), "bob@corp.example"
    )
    assert upcoming_contacts(event, OWNER, NOW) == ["bob@corp.example"]
    cancelled = meeting(days_ahead(2), "bob@corp.example", cancelled=True)
    assert upcoming_contacts(cancelled, OWNER, NOW) == []
    mine_declined = meeting(days_ahead(2), "bob@corp.example", my_response=Response.DECLINED)
    assert upcoming_contacts(mine_declined, OWNER, NOW) == []


def test_one_on_one_occurrence_records_cancelled_and_declined() -> None:
    found = one_on_one_occurrence(
        meeting(days_ago(1), person("ann@corp.example", Response.DECLINED)), OWNER
    )
    assert found is not None
    assert found[0] == "ann@corp.example"
    assert found[1].declined
    assert not found[1].held
    assert one_on_one_occurrence(meeting(days_ago(1), *crowd(2)), OWNER) is None
