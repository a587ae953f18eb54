"""Ground truth over time: every contact labelled, trouble windows where the calendar says."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from nudger.sandbox.orggen import GeneratedOrg, OrgSpec, generate_org
from nudger.sandbox.orglabels import Relationship, Trouble, add_working_days
from nudger.sandbox.world import SandboxEvent, World

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")
REPLAY = timedelta(days=180)


@pytest.fixture(scope="module", params=["google", "microsoft"])
def org(request: pytest.FixtureRequest) -> GeneratedOrg:
    return generate_org(World(), OrgSpec(now=NOW, seed=11, provider=request.param))


def email_of(org: GeneratedOrg, pattern: str) -> str:
    return next(e.email for e in org.expectations if e.pattern == pattern)


def label(org: GeneratedOrg, pattern: str) -> Relationship:
    return org.relationship(email_of(org, pattern))


def only_trouble(org: GeneratedOrg, pattern: str) -> Trouble:
    (trouble,) = label(org, pattern).troubles
    return trouble


def one_on_ones(org: GeneratedOrg, pattern: str) -> list[SandboxEvent]:
    email = email_of(org, pattern)
    pair = {org.owner.email, email}
    found = [
        e
        for e in org.owner.events.values()
        if {a.email for a in e.attendees if not a.resource} == pair
    ]
    return sorted(found, key=lambda e: e.start)


def local_day(moment: datetime) -> date:
    return moment.astimezone(LONDON).date()


def test_every_contact_has_exactly_one_label(org: GeneratedOrg) -> None:
    labelled = [r.email for r in org.relationships]
    attendees = {
        a.email
        for e in org.owner.events.values()
        for a in e.attendees
        if not a.resource and a.email != org.owner.email
    }

    assert len(labelled) == len(set(labelled))
    assert set(labelled) == attendees
    assert {e.email for e in org.expectations} <= set(labelled)


def test_filler_colleagues_are_met_every_day_or_two_and_never_in_trouble(
    org: GeneratedOrg,
) -> None:
    planted = {e.email for e in org.expectations}
    filler = [r for r in org.relationships if r.email not in planted]

    assert len(filler) >= 7
    assert {r.kind for r in filler} == {"frequent_colleague"}
    assert all(r.rhythm_days is not None and r.rhythm_days <= 3 for r in filler)
    assert not any(r.troubles for r in filler)


def test_a_stopped_series_trouble_starts_at_its_first_missing_occurrence(
    org: GeneratedOrg,
) -> None:
    last = one_on_ones(org, "dr-series-stops")[-1]
    trouble = only_trouble(org, "dr-series-stops")

    assert (trouble.kind, trouble.until) == ("repair", None)
    assert trouble.since == last.start + timedelta(days=7)
    assert timedelta(days=120) < NOW - trouble.since < timedelta(days=140)


def test_a_made_up_cancellation_is_no_trouble(org: GeneratedOrg) -> None:
    meetings = one_on_ones(org, "dr-made-up")
    cancelled = [e for e in meetings if e.cancelled]

    assert len(cancelled) == 2
    for missed in cancelled:
        deadline = add_working_days(local_day(missed.start), 2)
        assert any(
            not e.series_id and missed.start < e.start and local_day(e.start) <= deadline
            for e in meetings
        )
    assert label(org, "dr-made-up").troubles == ()


def test_a_declining_peer_is_in_trouble_from_the_first_decline_on(org: GeneratedOrg) -> None:
    email = email_of(org, "peer-declining")
    meetings = one_on_ones(org, "peer-declining")
    declined = [e for e in meetings if any(a.response == "declined" for a in e.attendees)]
    trouble = only_trouble(org, "peer-declining")

    assert all(a.email == email for e in declined for a in e.attendees if a.response == "declined")
    assert declined == [e for e in meetings if e.start >= declined[0].start]
    assert (trouble.since, trouble.until) == (declined[0].start, None)
    assert timedelta(days=90) < NOW - trouble.since < timedelta(days=107)


def test_a_cancelled_fortnightly_one_on_one_is_in_trouble_until_held_then_again(
    org: GeneratedOrg,
) -> None:
    first, second = label(org, "peer-cancelling").troubles
    held = [e for e in one_on_ones(org, "peer-cancelling") if not e.cancelled and e.start < NOW]

    assert first.until in {e.start for e in held}
    assert timedelta(days=85) < NOW - first.until < timedelta(days=97)
    assert timedelta(days=145) < NOW - first.since < timedelta(days=161)
    assert second.until is None
    assert second.since == first.until + timedelta(days=14)


def test_the_group_members_share_one_group_and_one_trouble(org: GeneratedOrg) -> None:
    members = [label(org, f"group-{n}") for n in "abc"]
    group = tuple(sorted(m.email for m in members))

    assert {m.group for m in members} == {group}
    assert {m.troubles for m in members} == {members[0].troubles}
    (trouble,) = members[0].troubles
    assert (trouble.kind, trouble.until) == ("drift", None)
    assert timedelta(weeks=9) <= NOW - (trouble.since - timedelta(days=21)) < timedelta(weeks=11)


def test_daily_colleagues_meet_nearly_every_working_day_and_are_never_in_trouble(
    org: GeneratedOrg,
) -> None:
    standups = [e for e in org.owner.events.values() if e.summary == "Daily stand-up"]
    past = [e for e in standups if e.start < NOW]
    held_days = sorted(local_day(e.start) for e in past if not e.cancelled)
    gaps = [(b - a).days for a, b in itertools.pairwise(held_days)]

    assert {len(e.attendees) for e in standups} == {3}
    assert len(held_days) > 0.9 * len(past)
    assert 5 in gaps  # a Wednesday to the Monday after: a 2-day gap and a weekend
    for pattern in ("daily-a", "daily-b"):
        assert (label(org, pattern).kind, label(org, pattern).troubles) == ("daily", ())


def test_booked_peer_is_out_of_trouble_once_the_next_meeting_is_booked(
    org: GeneratedOrg,
) -> None:
    trouble = only_trouble(org, "peer-booked")
    booked = [e for e in one_on_ones(org, "peer-booked") if e.start > NOW]

    assert trouble.until == booked[0].created
    assert trouble.since < trouble.until < NOW


def test_the_new_troubles_start_at_different_times_inside_the_replay(org: GeneratedOrg) -> None:
    patterns = ("dr-series-stops", "peer-declining", "peer-cancelling", "group-a")
    starts = [label(org, p).troubles[0].since for p in patterns]

    assert all(NOW - REPLAY < s < NOW - timedelta(days=30) for s in starts)
    assert min(b - a for a, b in zip(sorted(starts), sorted(starts)[1:], strict=False)) > (
        timedelta(days=7)
    )


def test_trouble_windows_are_open_only_between_since_and_until() -> None:
    since = NOW - timedelta(days=10)
    trouble = Trouble("repair", since, NOW, "one-on-one cancelled")

    assert not trouble.open_at(since - timedelta(seconds=1))
    assert trouble.open_at(since)
    assert not trouble.open_at(NOW)
    assert Trouble("drift", since, None, "quiet").open_at(NOW + timedelta(days=400))


def test_labels_are_deterministic() -> None:
    first = generate_org(World(), OrgSpec(now=NOW, seed=23))
    second = generate_org(World(), OrgSpec(now=NOW, seed=23))

    assert first.relationships == second.relationships
