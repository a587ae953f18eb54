"""The synthetic organisation: deterministic, scalable, and every planted pattern really there."""

from __future__ import annotations

import dataclasses
import itertools
import re
import statistics
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from nudger.sandbox.orggen import Expectation, GeneratedOrg, OrgSpec, generate_org
from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import SandboxEvent, World

from .google_client import READ, connect, tls

WEDNESDAY_NOON = datetime(2025, 6, 11, 12, 0, tzinfo=UTC)
SUNDAY_LATE = datetime(2025, 11, 2, 23, 30, tzinfo=UTC)
MONDAY_AFTER_DST = datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
GOOGLE_EVENT_ID = re.compile(r"^[a-v0-9]{5,1024}$")
TEAM_SIZE = 8
"""The team weekly: the owner and seven direct reports (still a medium-sized meeting)."""


def build(**fields: Any) -> GeneratedOrg:
    spec = OrgSpec(**{"now": WEDNESDAY_NOON, **fields})
    return generate_org(World(), spec)


@pytest.fixture(scope="module", params=[WEDNESDAY_NOON, SUNDAY_LATE, MONDAY_AFTER_DST])
def now(request: pytest.FixtureRequest) -> datetime:
    """Several presents: mid-week, a late Sunday, the Monday after the clocks change."""
    moment: datetime = request.param
    return moment


@pytest.fixture(scope="module")
def org(now: datetime) -> GeneratedOrg:
    return build(now=now)


def events(org: GeneratedOrg) -> list[SandboxEvent]:
    """The generated year (the old planning meetings before it are tested on their own)."""
    assert org.year_start is not None
    year = [e for e in org.owner.events.values() if e.start >= org.year_start]
    return sorted(year, key=lambda e: (e.start, e.id))


def expectation(org: GeneratedOrg, pattern: str) -> Expectation:
    return next(e for e in org.expectations if e.pattern == pattern)


def meetings_with(org: GeneratedOrg, email: str) -> list[SandboxEvent]:
    return [e for e in events(org) if any(a.email == email for a in e.attendees)]


def people_in(event: SandboxEvent) -> list[str]:
    return [a.email for a in event.attendees if not a.resource]


# --- a small oracle over the generated events (the design's rules, not nudger's code) -----------


@dataclass(frozen=True)
class Facts:
    past: list[datetime]
    future: list[datetime]
    largest: int
    now: datetime

    @property
    def days_since_last(self) -> float:
        return (self.now - self.past[-1]) / timedelta(days=1)

    @property
    def typical_gap(self) -> float:
        gaps = [(b - a) / timedelta(days=1) for a, b in itertools.pairwise(self.past)]
        return statistics.median(gaps)


def facts(org: GeneratedOrg, now: datetime, pattern: str) -> Facts:
    """Interactions as DESIGN.md counts them: held, attended by both, real meetings."""
    email, owner = expectation(org, pattern).email, org.owner.email
    held = [e for e in meetings_with(org, email) if counts(e, email, owner)]
    return Facts(
        past=[e.start for e in held if e.start < now],
        future=[e.start for e in held if e.start >= now],
        largest=max(len(people_in(e)) for e in held),
        now=now,
    )


def counts(event: SandboxEvent, email: str, owner: str) -> bool:
    responses = {a.email: a.response for a in event.attendees}
    real = event.event_type == "default" and not event.all_day and not event.cancelled
    return real and "declined" not in (responses[email], responses[owner])


def series_of(org: GeneratedOrg, pattern: str) -> list[SandboxEvent]:
    """The recurring one-on-one between the owner and the pattern's person."""
    email = expectation(org, pattern).email
    return [e for e in meetings_with(org, email) if e.series_id and len(people_in(e)) == 2]


def split(items: list[SandboxEvent], now: datetime) -> tuple[list[SandboxEvent], ...]:
    return [e for e in items if e.start < now], [e for e in items if e.start >= now]


# --- determinism and size ------------------------------------------------------------------


def snapshot(org: GeneratedOrg) -> list[dict[str, Any]]:
    return [
        {k: v for k, v in dataclasses.asdict(e).items() if k not in ("version", "updated")}
        for e in events(org)
    ]


def test_same_seed_gives_identical_calendars() -> None:
    first, second = build(seed=11), build(seed=11)

    assert snapshot(first) == snapshot(second)
    assert first.expectations == second.expectations


def test_different_seeds_give_different_people_and_calendars() -> None:
    first, second = build(seed=11), build(seed=12)

    assert {e.email for e in first.expectations} != {e.email for e in second.expectations}
    assert snapshot(first) != snapshot(second)


@pytest.mark.parametrize(("months", "per_week"), [(12, 25), (12, 60), (6, 40)])
def test_event_count_follows_density_and_history(months: int, per_week: int) -> None:
    generated = build(months=months, events_per_week=per_week)
    weeks = (months * 365.25 / 12) / 7 + 4

    assert generated.event_count == len(generated.owner.events)
    assert 0.85 * per_week * weeks < generated.event_count < 1.15 * per_week * weeks


def test_a_large_organisation_has_its_events() -> None:
    """How fast it generates is measured by hand (about 1.2 s of CPU for these 11,000
    events), never timed here: a loaded machine made a timed test fail."""
    generated = build(people=300, events_per_week=200)
    assert generated.event_count > 9_000


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        build(now=datetime(2025, 6, 11, 12, 0))


def test_too_small_a_pool_is_refused() -> None:
    with pytest.raises(ValueError, match="people"):
        build(people=12)


# --- expectations -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "role", "status"),
    [
        ("dr-healthy", "direct_report", "healthy"),
        ("dr-series-ended", "direct_report", "lapsed_one_on_one"),
        ("dr-cancel-streak", "direct_report", "lapsed_one_on_one"),
        ("dr-declined-streak", "direct_report", "lapsed_one_on_one"),
        ("dr-missing", "direct_report", "missing_one_on_one"),
        ("manager", "manager", "healthy"),
        ("mentor", "mentor", "healthy"),
        ("mentor-lapsed", "mentor", "neglected"),
        ("peer-quiet", "peer", "neglected"),
        ("peer-fading", "peer", "fading"),
        ("peer-booked", "peer", "healthy"),
        ("quarterly-external", "external", "healthy"),
        ("new-contact", None, "new"),
        ("all-hands", None, "weak_tie"),
        ("dr-series-stops", "direct_report", "lapsed_one_on_one"),
        ("dr-made-up", "direct_report", "healthy"),
        ("peer-declining", "peer", "lapsed_one_on_one"),
        ("peer-cancelling", "peer", "lapsed_one_on_one"),
        ("daily-a", "peer", "healthy"),
        ("daily-b", None, "healthy"),
        ("group-a", None, "neglected"),
    ],
)
def test_every_scenario_is_expected_with_its_role_and_status(
    org: GeneratedOrg, pattern: str, role: str | None, status: str
) -> None:
    planted = expectation(org, pattern)

    assert (planted.role, planted.expected_status) == (role, status)
    assert planted.note
    assert org.owner.events  # the calendar exists alongside the expectation


def test_people_are_named_in_the_directory_and_emails_follow_the_convention(
    org: GeneratedOrg,
) -> None:
    for planted in org.expectations:
        first, last = planted.name.lower().split()
        local, domain = planted.email.split("@")
        assert local == f"{first}.{last}"
        assert (domain == "northwind.example") == (planted.role != "external")
    assert len({e.email for e in org.expectations}) == len(org.expectations)


def test_direct_reports_and_manager_are_on_the_mailbox(org: GeneratedOrg) -> None:
    reports = {e.email for e in org.expectations if e.role == "direct_report"}

    assert set(org.direct_reports) == set(org.owner.direct_reports) == reports
    assert org.owner.manager == expectation(org, "manager").email


# --- the direct reports ----------------------------------------------------------------------


def test_healthy_report_has_weekly_one_on_ones_with_only_old_cancellations(
    org: GeneratedOrg,
    now: datetime,
) -> None:
    past, future = split(series_of(org, "dr-healthy"), now)
    cancelled = [e for e in past if e.cancelled]

    assert future
    assert all((e.end - e.start) == timedelta(minutes=30) for e in past)
    assert 1 <= len(cancelled) <= 3
    assert all(now - e.start > timedelta(weeks=8) for e in cancelled)
    assert len(past) >= 50


def test_ended_series_has_no_occurrence_in_the_last_six_weeks(
    org: GeneratedOrg, now: datetime
) -> None:
    occurrences = series_of(org, "dr-series-ended")
    team = [e for e in meetings_with(org, expectation(org, "dr-series-ended").email)]
    recent_team = [e for e in team if e.start > now - timedelta(weeks=6)]

    assert len(occurrences) > 20
    assert max(e.start for e in occurrences) <= now - timedelta(weeks=6)
    assert recent_team
    assert all(len(people_in(e)) == TEAM_SIZE for e in recent_team)


def test_cancel_streak_cancels_the_last_three_past_occurrences(
    org: GeneratedOrg, now: datetime
) -> None:
    past, future = split(series_of(org, "dr-cancel-streak"), now)

    assert [e.cancelled for e in past[-4:]] == [False, True, True, True]
    assert future
    assert not any(e.cancelled for e in future)


def test_declined_streak_is_fortnightly_with_the_last_three_declined(
    org: GeneratedOrg, now: datetime
) -> None:
    email = expectation(org, "dr-declined-streak").email
    past, future = split(series_of(org, "dr-declined-streak"), now)
    responses = [next(a.response for a in e.attendees if a.email == email) for e in past]
    local_days = [e.start.astimezone(ZoneInfo("Europe/London")).date() for e in past]

    assert responses[-4:] == ["accepted", "declined", "declined", "declined"]
    assert future
    assert {(b - a).days for a, b in itertools.pairwise(local_days)} == {14}


def test_missing_report_meets_only_in_the_team_meeting(org: GeneratedOrg) -> None:
    meetings = meetings_with(org, expectation(org, "dr-missing").email)

    assert len(meetings) > 40
    assert {len(people_in(e)) for e in meetings} == {TEAM_SIZE}
    assert all(e.series_id for e in meetings)


def test_manager_organises_a_weekly_one_on_one(org: GeneratedOrg, now: datetime) -> None:
    manager = expectation(org, "manager").email
    past, future = split(series_of(org, "manager"), now)

    assert past
    assert future
    assert {e.organizer for e in past + future} == {manager}
    assert facts(org, now, "manager").typical_gap == pytest.approx(7, abs=0.1)


# --- everyone else, checked against the thresholds the analysis uses ------------------------


def test_mentor_met_three_weeks_ago_and_is_booked_again_soon(
    org: GeneratedOrg, now: datetime
) -> None:
    seen = facts(org, now, "mentor")

    assert 17 <= seen.days_since_last <= 23
    assert timedelta(days=4) <= seen.future[0] - seen.now <= timedelta(days=13)
    assert seen.typical_gap == pytest.approx(28, abs=0.1)


def test_lapsed_mentor_is_past_two_and_a_half_cadences(org: GeneratedOrg, now: datetime) -> None:
    seen = facts(org, now, "mentor-lapsed")

    assert not seen.future
    assert 79 <= seen.days_since_last <= 84
    assert seen.days_since_last > 2.5 * seen.typical_gap
    assert len(seen.past) >= 4


def test_quiet_peer_met_often_in_small_groups_then_nothing_for_45_days(
    org: GeneratedOrg,
    now: datetime,
) -> None:
    seen = facts(org, now, "peer-quiet")

    assert not seen.future
    assert 44 <= seen.days_since_last <= 48
    assert seen.days_since_last > 2.5 * seen.typical_gap
    assert 8 <= seen.typical_gap <= 12
    assert seen.largest <= 4
    assert len(seen.past) >= 20


def test_fading_peer_is_between_one_and_a_half_and_two_and_a_half_cadences(
    org: GeneratedOrg,
    now: datetime,
) -> None:
    seen = facts(org, now, "peer-fading")

    assert not seen.future
    # The analysis counts working days and leaves out the owner's days away, so a gap
    # near 1.5x in calendar days reads as healthy on some dates: on Sunday 6 Dec 2026, 24
    # days were 15 working days, exactly 1.5 x 10. So: five days' margin (a weekend and
    # days away) above 1.5x, and three below 2.5x.
    assert 1.5 * seen.typical_gap + 5 <= seen.days_since_last
    assert seen.days_since_last <= 2.5 * seen.typical_gap - 3
    assert seen.typical_gap == pytest.approx(14, abs=1)


def test_booked_peer_has_a_one_on_one_within_the_cadence(org: GeneratedOrg, now: datetime) -> None:
    seen = facts(org, now, "peer-booked")

    assert seen.days_since_last > 2.5 * seen.typical_gap
    assert len(seen.future) == 1
    assert timedelta(days=2) <= seen.future[0] - seen.now <= timedelta(days=6)


def test_quarterly_external_is_within_its_cadence(org: GeneratedOrg, now: datetime) -> None:
    seen = facts(org, now, "quarterly-external")

    assert 59 <= seen.days_since_last <= 63
    assert seen.typical_gap == pytest.approx(90, abs=3)
    assert seen.largest == 2


def test_new_contact_was_first_met_twice_in_the_last_two_weeks(
    org: GeneratedOrg, now: datetime
) -> None:
    seen = facts(org, now, "new-contact")

    assert len(seen.past) == 2
    assert not seen.future
    assert seen.now - seen.past[0] <= timedelta(days=14)


def test_all_hands_people_meet_the_owner_only_in_large_meetings(org: GeneratedOrg) -> None:
    weak = [e for e in org.expectations if e.pattern == "all-hands"]

    assert len(weak) >= 10
    for planted in weak:
        meetings = meetings_with(org, planted.email)
        assert meetings
        assert min(len(people_in(e)) for e in meetings) >= 30


# --- noise ----------------------------------------------------------------------------------


def test_meeting_rooms_are_flagged_resources_on_many_meetings(org: GeneratedOrg) -> None:
    rooms = [a for e in events(org) for a in e.attendees if "resource" in a.email]

    assert len(rooms) > 200
    assert all(a.resource and a.email.endswith("@resource.northwind.example") for a in rooms)
    assert not any(
        a.resource for e in events(org) for a in e.attendees if "resource" not in a.email
    )


def test_owner_is_out_for_a_week_some_days_and_one_day_ahead(
    org: GeneratedOrg, now: datetime
) -> None:
    away = [e for e in events(org) if e.event_type == "outOfOffice"]
    lengths = sorted((e.end - e.start).days for e in away)

    assert lengths[-1] >= 5
    assert lengths.count(1) >= 3
    assert any(e.start > now for e in away)


def test_focus_time_and_working_locations_fill_the_weeks(org: GeneratedOrg) -> None:
    focus = [e for e in events(org) if e.event_type == "focusTime"]
    location = [e for e in events(org) if e.event_type == "workingLocation"]

    assert len(focus) > 2 * 52
    assert len(location) > 5 * 50
    assert all(e.all_day and e.transparent for e in location)
    assert len({e.start.date() for e in location}) == len(location)


def test_owner_declines_some_meetings_and_has_all_day_events(org: GeneratedOrg) -> None:
    owner = org.owner.email
    declined = [
        e
        for e in events(org)
        if any(a.email == owner and a.response == "declined" for a in e.attendees)
    ]
    all_day = [e for e in events(org) if e.all_day and e.event_type == "default"]

    assert declined
    assert all_day


def test_owner_attends_every_meeting(org: GeneratedOrg) -> None:
    meetings = [e for e in events(org) if e.event_type == "default" and not e.all_day]

    assert all(org.owner.email in people_in(e) for e in meetings)
    assert all(e.start.tzinfo is not None for e in events(org))


def test_look_ahead_is_busy_but_every_working_day_keeps_a_free_half_hour() -> None:
    generated = build(events_per_week=40)
    zone = ZoneInfo(generated.owner.time_zone)
    today = WEDNESDAY_NOON.astimezone(zone).date()
    ahead = [e for e in events(generated) if e.start >= WEDNESDAY_NOON]

    days = [today + timedelta(days=n) for n in range(1, 28)]
    free = [len(free_half_hours(ahead, day, zone)) for day in days if day.weekday() < 5]

    assert len(ahead) > 0.85 * 40 * 4
    assert min(free) >= 1
    assert statistics.mean(free) < 8  # of 16 working half-hours


def free_half_hours(items: list[SandboxEvent], day: date, zone: ZoneInfo) -> list[datetime]:
    starts = [datetime.combine(day, time(9), zone) + timedelta(minutes=30 * n) for n in range(16)]
    busy = [e for e in items if e.event_type in ("default", "focusTime") and not e.transparent]
    return [
        s
        for s in starts
        if not any(e.start < s + timedelta(minutes=30) and e.end > s for e in busy)
    ]


# --- ids, time zones, providers ----------------------------------------------------------------


def test_event_ids_are_unique_and_valid_google_ids(org: GeneratedOrg) -> None:
    ids = [e.id for e in org.owner.events.values()]

    assert all(GOOGLE_EVENT_ID.match(i) for i in ids)
    assert len(set(ids)) == len(ids) == len(org.owner.events)


def test_series_occurrences_share_a_series_and_keep_their_scheduled_start(
    org: GeneratedOrg,
) -> None:
    occurrences = series_of(org, "dr-healthy")

    assert len({e.series_id for e in occurrences}) == 1
    assert all(e.original_start == e.start for e in occurrences)
    assert all(GOOGLE_EVENT_ID.match(e.series_id or "") for e in occurrences)


def test_weekly_series_keeps_ten_o_clock_london_across_daylight_saving() -> None:
    generated = build()
    london = ZoneInfo("Europe/London")
    occurrences = series_of(generated, "dr-healthy")

    assert {e.start.astimezone(london).time() for e in occurrences} == {time(10)}
    assert {e.start.astimezone(UTC).hour for e in occurrences} == {9, 10}


def test_series_follow_the_owner_time_zone() -> None:
    generated = build(time_zone="Asia/Tokyo")
    tokyo = ZoneInfo("Asia/Tokyo")

    assert generated.owner.time_zone == "Asia/Tokyo"
    assert {e.start.astimezone(tokyo).time() for e in series_of(generated, "dr-healthy")} == {
        time(10)
    }


def test_microsoft_owner_gets_a_windows_time_zone_and_direct_reports() -> None:
    generated = build(provider="microsoft", time_zone="America/New_York")

    assert generated.owner.provider == "microsoft"
    assert generated.owner.windows_time_zone == "Eastern Standard Time"
    assert len(generated.owner.direct_reports) == TEAM_SIZE - 1


# --- through the emulator ------------------------------------------------------------------------


def test_generated_calendar_lists_through_the_google_front_end() -> None:
    world = World()
    generated = generate_org(world, OrgSpec(now=WEDNESDAY_NOON))
    with Sandbox(world) as sandbox:
        token = connect(sandbox, [READ]).token
        items = list_events(sandbox, str(token))

    live = [e for e in generated.owner.events.values() if not e.cancelled]
    assert sorted(i["id"] for i in items) == sorted(e.id for e in live)
    assert {i["eventType"] for i in items} == {
        "default",
        "outOfOffice",
        "focusTime",
        "workingLocation",
    }
    assert any("recurringEventId" in i for i in items)


def list_events(sandbox: Sandbox, token: str) -> list[dict[str, Any]]:
    url = f"{sandbox.base_url}/calendar/v3/calendars/primary/events"
    params = {"singleEvents": "true", "maxResults": "2500"}
    items: list[dict[str, Any]] = []
    with httpx.Client(verify=tls(sandbox), headers={"Authorization": f"Bearer {token}"}) as http:
        while True:
            page = http.get(url, params=params)
            assert page.status_code == 200, page.text
            items += page.json()["items"]
            if "nextPageToken" not in page.json():
                return items
            params["pageToken"] = page.json()["nextPageToken"]


def test_before_the_year_only_large_planning_meetings_with_known_people(org: GeneratedOrg) -> None:
    """They show the history reaches back further than a year; the mentor first met a
    year ago and the new contact are not in them."""
    assert org.year_start is not None
    old = [e for e in org.owner.events.values() if e.start < org.year_start]
    assert len(old) == 6
    assert all(len(people_in(e)) > 8 for e in old)
    newcomers = {expectation(org, p).email for p in ("mentor-met-a-year-ago", "new-contact")}
    assert not newcomers & {email for e in old for email in people_in(e)}
