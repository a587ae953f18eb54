"""Escalation instead of repetition, and one nudge per group (NOW: Wednesday 12 June 2024)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from nudger.analysis.audit import ContactHealth
from nudger.analysis.model import ContactPrefs, Status
from nudger.rules.engine import PastNudge
from tests.rules.test_engine import NOW, health, run, with_policies

DR = "dr@x.example"
NEIGHBOUR = "n@x.example"


def report() -> ContactHealth:
    """A neglected direct report: the shipped rule asks for an email."""
    return health(DR, Status.NEGLECTED, role="direct_report")


def sent(kind: str, days_ago: float, contact: str = DR, group: tuple[str, ...] = ()) -> PastNudge:
    at = NOW - timedelta(days=days_ago)
    until = at + timedelta(days=10) if kind == "hold" else None
    return PastNudge(contact, "neglected_close", kind, "sent", at, group=group, hold_until=until)


def kinds(history: list[PastNudge], now: datetime = NOW, **changes: object) -> list[str]:
    return [d.kind for d in run([replace(report(), **changes)], history=history, now=now)]


def test_first_an_email() -> None:
    assert kinds([]) == ["email"]


def test_an_ignored_email_is_followed_by_a_hold_not_another_email() -> None:
    assert kinds([sent("email", 15)]) == ["hold"]


def test_an_ignored_email_about_someone_without_a_role_becomes_a_digest_line() -> None:
    history = [sent("email", 15, contact="a@x.example")]
    decisions = run([health("a@x.example", Status.NEGLECTED)], history=history)
    assert [d.kind for d in decisions] == ["digest"]
    assert decisions[0].bundled[0].contact_email == "a@x.example"


def test_after_an_email_and_a_hold_nudger_goes_quiet_then_backs_off() -> None:
    history = [sent("email", 40), sent("hold", 25)]  # the hold's time passed 15 days ago
    assert kinds(history) == []
    assert kinds(history, now=NOW + timedelta(days=14)) == []
    assert kinds(history, now=NOW + timedelta(days=16)) == ["email"]
    third = [*history, sent("email", -16)]  # quiet twice as long after the next one
    assert kinds(third, now=NOW + timedelta(days=16 + 59)) == []
    assert kinds(third, now=NOW + timedelta(days=16 + 61)) == ["email"]


def test_an_unused_hold_blocks_a_new_one_until_its_date_has_passed() -> None:
    lapsed = health(DR, Status.LAPSED_ONE_ON_ONE, role="direct_report")
    booked = PastNudge(
        DR, "lapsed_one_on_one", "hold", "sent", NOW - timedelta(days=25),
        hold_until=NOW + timedelta(days=5),
    )  # fmt: skip
    talked = [ContactPrefs(email=DR, talked_at=NOW - timedelta(days=20))]  # a fresh ladder
    assert run([lapsed], history=[booked], prefs=talked) == []
    later = run([lapsed], history=[booked], prefs=talked, now=NOW + timedelta(days=6))
    assert [d.kind for d in later] == ["hold"]


def test_at_most_two_emails_about_one_person_in_30_days() -> None:
    ruleset = with_policies(cooldown_days=0, ladder_backoff_days=1)
    history = [sent("email", 20), sent("hold", 15), sent("email", 5)]
    later = NOW + timedelta(days=5)
    assert [d.kind for d in run([report()], history=history, ruleset=ruleset, now=later)] == []
    a_week_on = later + timedelta(days=6)
    assert [d.kind for d in run([report()], history=history, ruleset=ruleset, now=a_week_on)] == [
        "email"
    ]


def test_a_meeting_with_them_starts_the_ladder_afresh() -> None:
    history = [sent("email", 40), sent("hold", 25)]
    met = replace(report().features, last_small_meeting=NOW - timedelta(days=14))
    assert kinds(history, features=met) == ["email"]


def test_we_already_talked_starts_the_ladder_afresh() -> None:
    history = [sent("email", 40), sent("hold", 25)]
    talked = ContactPrefs(email=DR, talked_at=NOW - timedelta(days=14))
    assert [d.kind for d in run([report()], history=history, prefs=[talked])] == ["email"]


GROUP = ("a@x.example", "b@x.example", "c@x.example")


def member(email: str) -> ContactHealth:
    name = {"a@x.example": "Jordan Lee", "b@x.example": "Alex Kim", "c@x.example": "Sam Roe"}
    row = health(email, Status.NEGLECTED, role="peer", name=name[email])
    return replace(row, group=GROUP, cadence_days=14, last_interaction=NOW - timedelta(weeks=9))


def test_a_group_gets_one_nudge_that_names_it() -> None:
    (decision,) = run([member(e) for e in GROUP])
    assert decision.group == GROUP
    assert decision.evidence[0] == (
        "you, Jordan, Alex and Sam met every ~14 days; the last time was 9 weeks ago"
    )


def test_a_group_counts_once_against_the_budget() -> None:
    ruleset = with_policies(weekly_budget=2)
    decisions = run([*(member(e) for e in GROUP), report()], ruleset=ruleset)
    assert len(decisions) == 2
    assert [bool(d.group) for d in decisions].count(True) == 1
    assert DR in {d.contact_email for d in decisions}


def test_a_group_nudge_climbs_the_ladder_for_every_member() -> None:
    history = [sent("email", 15, contact="b@x.example", group=GROUP)]
    decisions = run([member(e) for e in GROUP], history=history)
    assert [d.kind for d in decisions] == ["hold"]
