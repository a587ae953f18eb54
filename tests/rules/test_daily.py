"""The daily step on hand-built audits: one key person a working morning, in fair
rotation, never on a day already full of them, never on quiet or out-of-office days,
once a day, and nothing else changes when it is off."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from nudger.analysis.audit import ContactHealth
from nudger.analysis.model import ContactPrefs, EndedRun, Rupture, Status
from nudger.rules.daily import daily_decision, morning_of
from nudger.rules.daily_steps import step_for
from nudger.rules.engine import Decision, PastNudge
from nudger.rules.ladder import DAILY_STEP
from nudger.rules.model import RuleSet
from tests.rules.test_engine import NOW, PARIS, SHIPPED, health, run, with_policies

ON = with_policies(daily_step=True)
PARIS_TZ = ZoneInfo(PARIS)
WEEK = frozenset({1, 2, 3, 4, 5})
KEY = [
    health("ana@x.example", Status.HEALTHY, role="direct_report", name="Ana Lima"),
    health("bo@x.example", Status.FADING, role="peer", name="Bo Chen"),
    health("cy@x.example", Status.HEALTHY, role="mentor", name="Cy Diaz"),
    health("di@x.example", Status.NEGLECTED, role="manager", name="Di Ek"),
]


def step(
    healths: Sequence[ContactHealth] = KEY,
    *,
    history: Sequence[PastNudge] = (),
    decided: Sequence[Decision] = (),
    prefs: Sequence[ContactPrefs] = (),
    now: datetime = NOW,
    away: Sequence[date] = (),
    working_days: frozenset[int] = WEEK,
    ruleset: RuleSet = ON,
) -> Decision | None:
    morning = morning_of(now, PARIS, working_days, away)
    by_email = {p.email: p for p in prefs}
    return daily_decision(7, healths, by_email, history, decided, ruleset, now, morning)


def sent(decision: Decision, at: datetime) -> PastNudge:
    return PastNudge(decision.contact_email, decision.rule, decision.kind, "sent", at)


def daily(contact: str, at: datetime, status: str = "sent") -> PastNudge:
    return PastNudge(contact, DAILY_STEP, DAILY_STEP, status, at)


def working_mornings(count: int) -> list[datetime]:
    """``count`` working mornings (Mon-Fri, 09:00 Paris = 07:00 UTC) from NOW's day on."""
    found, day = [], NOW.replace(hour=7)
    while len(found) < count:
        if day.isoweekday() <= 5:
            found.append(day)
        day += timedelta(days=1)
    return found


def test_off_by_default_there_is_no_daily_step() -> None:
    assert SHIPPED.policies.daily_step is False
    assert step(ruleset=SHIPPED) is None


def test_a_daily_step_names_one_person_and_one_small_step_keyed_by_the_date() -> None:
    decision = step()

    assert decision is not None
    assert (decision.kind, decision.rule, decision.template) == (DAILY_STEP,) * 3
    assert decision.key == "7:daily_step::2024-06-12"
    assert decision.step
    assert decision.evidence


def test_rotation_is_fair_over_twenty_working_days() -> None:
    history: list[PastNudge] = []
    chosen = []
    for morning in working_mornings(20):
        decision = step(history=history, now=morning)
        assert decision is not None, morning
        history.append(sent(decision, morning))
        chosen.append(decision.contact_email)

    assert Counter(chosen) == {h.email: 5 for h in KEY}
    for start in range(0, 20, 4):
        assert len(set(chosen[start : start + 4])) == 4, "everyone has a turn before a repeat"


def test_the_least_recently_suggested_comes_first_then_the_strongest() -> None:
    history = [
        daily("ana@x.example", NOW - timedelta(days=1)),
        daily("bo@x.example", NOW - timedelta(days=9)),
        daily("cy@x.example", NOW - timedelta(days=3)),
        daily("di@x.example", NOW - timedelta(days=2)),
    ]
    assert (decision := step(history=history)) is not None
    assert decision.contact_email == "bo@x.example"
    assert any("9 days ago" in line for line in decision.evidence)

    stronger = [*KEY, health("eve@x.example", Status.HEALTHY, role="peer", strength=3.0)]
    assert (first := step(stronger, history=history)) is not None
    assert first.contact_email == "eve@x.example", "never suggested, strongest"


def test_a_step_that_never_reached_the_user_does_not_count_as_a_turn() -> None:
    history = [daily(h.email, NOW - timedelta(days=2)) for h in KEY[1:]]
    history.append(daily("ana@x.example", NOW - timedelta(days=5), status="failed"))
    assert (decision := step(history=history)) is not None
    assert decision.contact_email == "ana@x.example"


def test_someone_met_today_or_meeting_the_owner_later_today_is_skipped() -> None:
    met = replace(KEY[0], last_interaction=NOW - timedelta(hours=2))
    meeting = replace(KEY[1], next_meeting=NOW + timedelta(hours=3))
    tomorrow = replace(KEY[2], next_meeting=NOW + timedelta(days=1))

    decision = step([met, meeting, tomorrow])

    assert decision is not None
    assert decision.contact_email == "cy@x.example"
    assert step([met, meeting]) is None


def test_a_late_evening_meeting_in_utc_is_today_on_the_owners_clock() -> None:
    # 23:30 UTC on 11 June is 01:30 on 12 June in Paris: the day the step is for.
    late = datetime.fromisoformat("2024-06-11T23:30+00:00")
    assert step([replace(KEY[0], last_interaction=late)]) is None


def test_no_step_on_quiet_days_days_off_the_working_week_or_out_of_office() -> None:
    saturday = NOW + timedelta(days=3)
    assert step(now=saturday) is None
    assert step(working_days=frozenset({1, 2})) is None, "Wednesday is off this owner's week"
    assert step(away=[date(2024, 6, 12)]) is None
    assert step(away=[date(2024, 6, 11)]) is not None


def test_no_step_during_a_crunch() -> None:
    crunching = with_policies(daily_step=True, crunch_until=NOW + timedelta(days=3))
    assert step(ruleset=crunching) is None


def test_one_a_day_whatever_became_of_the_first() -> None:
    earlier = NOW - timedelta(hours=3)
    for status in ("pending", "sent", "suppressed", "failed"):
        assert step(history=[daily("ana@x.example", earlier, status)]) is None, status
    assert step(history=[daily("ana@x.example", earlier - timedelta(days=1))]) is not None


def test_two_passes_on_one_day_give_the_same_outbox_key() -> None:
    morning, evening = step(now=NOW.replace(hour=6)), step(now=NOW.replace(hour=19))
    assert morning is not None
    assert evening is not None
    assert morning.key == evening.key


def test_it_steps_aside_on_a_day_another_nudge_email_goes_out() -> None:
    email_today = PastNudge("zed@x.example", "neglected", "email", "sent", NOW - timedelta(hours=1))
    assert step(history=[email_today]) is None
    decided_email = run([health("zed@x.example", Status.NEGLECTED)])
    assert step(decided=decided_email) is None

    hold = run([health("ana@x.example", Status.LAPSED_ONE_ON_ONE)])
    assert hold[0].kind == "hold"
    decision = step(decided=hold)
    assert decision is not None, "a hold is not an email"
    assert decision.contact_email != "ana@x.example", "never two nudges about one person a day"


def test_muted_snoozed_and_recently_nudged_people_are_skipped() -> None:
    prefs = [
        ContactPrefs(email="ana@x.example", muted=True),
        ContactPrefs(email="bo@x.example", snoozed_until=NOW + timedelta(days=2)),
    ]
    nudged = [PastNudge("cy@x.example", "fading", "hold", "sent", NOW - timedelta(days=5))]

    decision = step(prefs=prefs, history=nudged)

    assert decision is not None
    assert decision.contact_email == "di@x.example"


def test_key_people_are_those_with_a_role_and_the_strongest_collaborators() -> None:
    top = [health(f"p{n:02}@x.example", Status.HEALTHY, strength=10.0 - n / 10) for n in range(12)]
    weakest = health("weakest@x.example", Status.HEALTHY, strength=0.1)
    history = [daily(h.email, NOW - timedelta(days=1)) for h in top]

    decision = step([*top, weakest], history=history)
    assert decision is not None
    assert decision.contact_email != "weakest@x.example"
    for status in (Status.NEW, Status.WEAK_TIE):
        assert step([health("n@x.example", status, role="peer")]) is None


def test_the_step_fits_the_person() -> None:
    run_end = EndedRun("s1", 12, 7.0, NOW - timedelta(days=100), NOW - timedelta(days=20))
    ended = replace(KEY[1], features=replace(KEY[1].features, ended_run=run_end))
    busy = replace(KEY[1], features=replace(KEY[1].features, interactions_30d=7))
    usual = replace(busy, features=replace(busy.features, interactions_90d=21))
    plain = health("zed@x.example", Status.HEALTHY, name="Zed Ford")

    steps = {
        "ended": step_for(ended, PARIS_TZ),
        "busy": step_for(busy, PARIS_TZ),
        "mentor": step_for(KEY[2], PARIS_TZ),
        "report": step_for(KEY[0], PARIS_TZ),
        "plain": step_for(plain, PARIS_TZ),
    }

    assert steps["ended"].kind == "thank_you"
    assert "12 meetings" in steps["ended"].reason
    assert steps["busy"].kind == "thank_you"
    assert "7 meetings with Bo Chen in the last 30 days, against about 2" in steps["busy"].reason
    assert step_for(usual, PARIS_TZ).kind == "check_in", "7 a month is their usual"
    assert steps["mentor"].kind == "question"
    assert "Ask Cy" in steps["mentor"].text
    assert steps["report"].kind == "question"
    assert "your direct report" in steps["report"].reason
    assert steps["plain"].kind == "check_in"
    assert "two-line check-in" in steps["plain"].text
    assert "Zed" in steps["plain"].text


def test_other_nudges_are_decided_as_if_there_were_no_daily_steps() -> None:
    """The daily step spends no weekly budget, no ladder rung and no cooldown: three
    neglected people and a repair still go out after a week of daily steps about them."""
    rupture = Rupture(NOW - timedelta(days=6), "cancelled", 7, 4)
    repair = replace(KEY[0], features=replace(KEY[0].features, rupture=rupture))
    audit = [
        repair,
        *(health(f"n{n}@x.example", Status.NEGLECTED, strength=1 + n) for n in range(3)),
    ]
    steps = [daily(h.email, NOW - timedelta(days=n + 1)) for n, h in enumerate(audit)]

    assert run(audit, history=steps) == run(audit)
    assert len(run(audit, history=steps)) == SHIPPED.policies.weekly_budget
