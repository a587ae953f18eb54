"""``nudger simulate`` on the synthetic organisation: what would have fired, and why."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from nudger import accounts, contacts
from nudger.config import load_settings
from nudger.cycle import run_cycle
from nudger.demo import demo_clock
from nudger.runtime import Runtime, open_runtime
from nudger.sandbox.orggen import GeneratedOrg
from nudger.sandbox.run import start_sandbox
from nudger.simulate import SimulatedNudge, mornings, parse_day, parse_span, simulate
from nudger.store.db import session_scope
from nudger.store.models import Nudge
from tests.conftest import isolate
from tests.connectors.google_helpers import consent

NOW = demo_clock("Europe/London", datetime(2026, 11, 23, 12, tzinfo=UTC))


@pytest.fixture(scope="module")
def replay(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Runtime, GeneratedOrg, list[SimulatedNudge]]]:
    """A 120-day replay (seconds of work) that the tests below only read."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        isolate(monkeypatch, tmp_path_factory.mktemp("replay"))
        yield from _replay(module_database_url)


def _replay(database_url: str) -> Iterator[tuple[Runtime, GeneratedOrg, list[SimulatedNudge]]]:
    sandbox, org = start_sandbox(seed=5, now=NOW)
    settings = load_settings(
        **sandbox.settings(),
        database_url=database_url,
        encryption_keys=Fernet.generate_key().decode(),
    )
    runtime = open_runtime(settings)
    start = accounts.begin_connect(runtime, "google", login_hint=org.owner.email)
    ref = accounts.complete_connect(runtime, "google", consent(sandbox, start.url))
    for person in org.expectations:
        if person.role in ("direct_report", "manager", "mentor"):
            contacts.set_role(runtime, ref.id, person.email, person.role, name=person.name)
    run_cycle(runtime, account=ref.email, now=NOW, dry_run=True)
    sent_before = len(sandbox.world.sent)
    fired = simulate(runtime, ref.email, timedelta(days=120), now=NOW)
    assert len(sandbox.world.sent) == sent_before
    yield runtime, org, fired
    runtime.db.dispose()
    sandbox.stop()


def test_replay_fires_for_the_planted_problems_and_sends_nothing(
    replay: tuple[Runtime, GeneratedOrg, list[SimulatedNudge]],
) -> None:
    runtime, org, fired = replay
    by_pattern = {e.pattern: e.email for e in org.expectations}
    nudged = {f.decision.contact_email for f in fired}
    for pattern in ("dr-series-ended", "dr-cancel-streak", "peer-quiet", "mentor-lapsed"):
        assert by_pattern[pattern] in nudged, pattern
    weak = {e.email for e in org.expectations if e.expected_status == "weak_tie"}
    assert not nudged & weak
    assert all(f.decision.evidence for f in fired)
    with session_scope(runtime.db) as session:
        assert session.scalar(select(func.count()).select_from(Nudge)) == 0


def test_replay_keeps_cooldowns_budgets_and_quiet_days(
    replay: tuple[Runtime, GeneratedOrg, list[SimulatedNudge]],
) -> None:
    _, _, fired = replay
    assert all(f.day.isoweekday() < 6 for f in fired)
    last: dict[str, datetime] = {}
    for f in fired:
        day = datetime.combine(f.day, datetime.min.time())
        previous = last.get(f.decision.contact_email)
        assert previous is None or (day - previous).days >= 14, f
        last[f.decision.contact_email] = day
    per_week = Counter((f.day.isocalendar()[:2], f.decision.kind == "hold") for f in fired)
    assert max(per_week.values()) <= 3


def test_a_lapse_is_caught_on_the_morning_it_becomes_visible(
    replay: tuple[Runtime, GeneratedOrg, list[SimulatedNudge]],
) -> None:
    _, org, fired = replay
    ended = next(e.email for e in org.expectations if e.pattern == "dr-series-ended")
    first = min(f.day for f in fired if f.decision.contact_email == ended)
    # The weekly one-on-one stopped 6 weeks ago and counts as ended after two missed weeks.
    assert (NOW.date() - first).days <= 6 * 7 - 2 * 7 + 7


def test_mornings_are_nine_local_across_dst() -> None:
    start = datetime(2026, 3, 27, tzinfo=UTC)
    hours = [m.hour for m in mornings(start, start + timedelta(days=4), "Europe/London")]
    assert hours == [9, 9, 8, 8]  # 09:00 GMT, then 09:00 BST from 29 March


@pytest.mark.parametrize(("text", "days"), [("180d", 180), ("26w", 182), (" 7d ", 7)])
def test_spans(text: str, days: int) -> None:
    assert parse_span(text) == timedelta(days=days)


@pytest.mark.parametrize("text", ["180", "2x", "0d", "-3d", "5000d"])
def test_bad_spans_say_what_is_expected(text: str) -> None:
    with pytest.raises(ValueError, match=r"expected|between"):
        parse_span(text)


def test_a_long_series_that_ended_well_is_thanked_once_with_its_evidence(
    replay: tuple[Runtime, GeneratedOrg, list[SimulatedNudge]],
) -> None:
    _, org, fired = replay
    partner = next(e for e in org.expectations if e.pattern == "partner-series-ended")
    about = [f for f in fired if f.decision.contact_email == partner.email]
    thanks = [f for f in about if f.decision.rule == "thanks"]
    assert len(thanks) == 1, about
    [row] = [t.to_json() for t in thanks]
    assert row["kind"] == "email"
    assert row["evidence"][0] == (
        f"your weekly one-on-one series with {partner.name}: 14 meetings over 3 months"
    )
    assert not any("Larkspur" in line for f in about for line in f.decision.evidence)
    # A thanked run is closed: no repair or restart nudge about it follows.
    assert [f.decision.rule for f in about] == ["thanks"]


def test_a_year_since_the_first_meeting_with_a_mentor_is_marked_once_with_its_evidence(
    replay: tuple[Runtime, GeneratedOrg, list[SimulatedNudge]],
) -> None:
    _, org, fired = replay
    mentor = next(e for e in org.expectations if e.pattern == "mentor-met-a-year-ago")
    moments = [f for f in fired if f.decision.rule == "anniversary"]
    assert [f.decision.contact_email for f in moments] == [mentor.email]
    [row] = [m.to_json() for m in moments]
    assert row["kind"] == "email"
    assert str(row["evidence"][0]).startswith(f"you first met {mentor.name} on ")
    assert str(row["evidence"][0]).endswith(", a year ago")
    # The labels' window for the moment holds the morning it was marked: the judgement
    # benchmark scores it as legitimate.
    [window] = org.relationship(mentor.email).troubles
    assert window.kind == "moment"
    [marked] = moments
    morning = datetime.combine(marked.day, time(9), ZoneInfo(org.owner.time_zone))
    assert window.open_at(morning)


def test_a_projects_run_that_ended_is_thanked_once_as_a_group_with_its_evidence(
    replay: tuple[Runtime, GeneratedOrg, list[SimulatedNudge]],
) -> None:
    _, org, fired = replay
    team = sorted(e.email for e in org.expectations if e.pattern.startswith("project-"))
    about = [f for f in fired if set(f.to_json().get("group") or ()) & set(team)]
    assert [f.decision.rule for f in about] == ["thanks_group"], about
    [row] = [f.to_json() for f in about]
    assert row["group"] == team
    assert row["contact"] in team
    assert str(row["evidence"][0]).startswith("the 12 weekly meetings with ")
    assert str(row["evidence"][0]).endswith(" over 3 months")
    assert not any("Heron" in line for line in row["evidence"])


def test_a_replayed_crunch_lets_only_repairs_and_direct_reports_one_on_ones_through(
    replay: tuple[Runtime, GeneratedOrg, list[SimulatedNudge]],
) -> None:
    """``--crunch-until``: busy from the first replayed morning until that date: no
    fading, neglected, thank-you or anniversary email goes out in it."""
    runtime, org, fired = replay
    until = (NOW - timedelta(days=30)).date()
    crunched = simulate(runtime, org.owner.email, timedelta(days=120), now=NOW, crunch_until=until)
    during = [f for f in crunched if f.day < until]
    after = [f for f in crunched if f.day >= until]
    assert during
    assert all(f.crunch and f.to_json()["crunch"] is True for f in during)
    assert not any(f.crunch for f in after)
    assert "crunch" not in fired[0].to_json()
    # Repairs (a lapsed one-on-one that is one too) and direct reports' one-on-ones only.
    one_on_ones = {"repair_one_on_one", "lapsed_one_on_one", "missing_one_on_one"}
    rules = {d.rule for f in during for d in (f.decision.bundled or (f.decision,))}
    assert rules <= one_on_ones
    assert len(during) < len([f for f in fired if f.day < until])


def test_a_bad_crunch_date_says_what_is_expected() -> None:
    with pytest.raises(ValueError, match="expected a date like 2026-01-15"):
        parse_day("15 Jan")
    assert parse_day(" 2026-01-15 ") == date(2026, 1, 15)


def test_a_stopped_group_gets_its_thank_you_or_its_stopped_nudge_never_both(
    replay: tuple[Runtime, GeneratedOrg, list[SimulatedNudge]],
) -> None:
    """The fortnightly group stopped ~9 weeks ago: within the replay its run ended, so
    the one nudge about it is either kind, and nothing follows a thank-you."""
    _, org, fired = replay
    team = {e.email for e in org.expectations if e.pattern.startswith("group-")}
    about = [f.decision.rule for f in fired if set(f.to_json().get("group") or ()) & team]
    # It ended well (its last meeting held) and lately when the replay began: thanked.
    assert about == ["thanks_group"]


def test_the_daily_step_is_off_unless_asked_for(
    replay: tuple[Runtime, GeneratedOrg, list[SimulatedNudge]],
) -> None:
    _, _, fired = replay
    assert not [f for f in fired if f.decision.kind == "daily_step"]


def test_with_the_daily_step_on_each_working_morning_shows_one_with_its_evidence(
    replay: tuple[Runtime, GeneratedOrg, list[SimulatedNudge]],
) -> None:
    runtime, org, _ = replay
    owner = org.owner.email
    off = simulate(runtime, owner, timedelta(days=28), now=NOW)

    on = simulate(runtime, owner, timedelta(days=28), now=NOW, daily_step=True)

    steps = [f.to_json() for f in on if f.decision.kind == "daily_step"]
    assert steps
    assert len({s["day"] for s in steps}) == len(steps), "one a day at most"
    assert all(datetime.fromisoformat(str(s["day"])).isoweekday() < 6 for s in steps)
    for row in steps:
        assert row["rule"] == "daily_step"
        assert row["step"]
        assert len(row["evidence"]) >= 2
    emailed = {f.day for f in on if f.decision.kind in ("email", "digest")}
    assert not emailed & {f.day for f in on if f.decision.kind == "daily_step"}
    assert [f for f in on if f.decision.kind != "daily_step"] == off
    contacts_seen = Counter(s["contact"] for s in steps)
    assert max(contacts_seen.values()) - min(contacts_seen.values()) <= 1, contacts_seen
