"""The decide step with nothing new does nothing, and with a little new does a little.

Hand-built calendars in a real database (SQLite, and PostgreSQL when configured),
written through the sync's own store functions; the step's ``DecideOutcome.analysis``
says how it had its audit: "skipped" (nothing analysed or decided), "stored" (the kept
audit, decided afresh), "partial" (only the contacts a change touched) or "full".
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from nudger import contacts
from nudger.connectors.base import (
    Attendee,
    CalendarEvent,
    CalendarInfo,
    EventKind,
    Response,
    SyncPage,
)
from nudger.passes.analyse import analyse, rules_in_force
from nudger.passes.decide_step import DecideOutcome, decide_step
from nudger.runtime import Runtime
from nudger.store import events as event_store
from nudger.store import nudges as nudge_store
from nudger.store.db import session_scope
from nudger.store.models import Account

NOW = datetime(2024, 6, 12, 10, 0, tzinfo=UTC)  # a Wednesday, 12:00 in Paris
ME = "me@corp.example"
ANN, BOB, CAT = "ann@corp.example", "bob@corp.example", "cat@corp.example"


@pytest.fixture
def account(runtime: Runtime) -> int:
    with session_scope(runtime.db) as session:
        row = Account(
            provider="google", email=ME, credentials="-", settings={}, time_zone="Europe/Paris"
        )
        session.add(row)
        session.flush()
        return row.id


def meeting(
    event_id: str,
    start: datetime,
    *others: str,
    declined: tuple[str, ...] = (),
    kind: EventKind = EventKind.MEETING,
) -> CalendarEvent:
    people = tuple(
        Attendee(
            o, o.split("@")[0].title(), Response.DECLINED if o in declined else Response.ACCEPTED
        )
        for o in others
    )
    return CalendarEvent(
        event_id=event_id,
        start=start,
        end=start + timedelta(minutes=30),
        attendees=(Attendee(ME, "Me", Response.ACCEPTED, is_self=True), *people),
        kind=kind,
        ical_uid=f"{event_id}@uid",
    )


def weekly(contact: str, last_days_ago: float, times: int) -> list[CalendarEvent]:
    """One-on-ones a week apart, the latest ``last_days_ago`` days before ``NOW``."""
    name = contact.split("@")[0]
    return [
        meeting(f"{name}{n}", NOW - timedelta(days=last_days_ago + 7 * n), contact)
        for n in range(times)
    ]


def write(runtime: Runtime, account_id: int, page: SyncPage) -> None:
    """What a sync round writes (``sync.py``): one page into the primary calendar."""
    with session_scope(runtime.db) as session:
        calendar = event_store.get_or_create_calendar(
            session, account_id, CalendarInfo(ME, "Me", True)
        )
        if page.full:
            event_store.wipe_calendar(session, calendar)
        event_store.apply_page(session, calendar, account_id, page)


def decided(runtime: Runtime, account_id: int, now: datetime = NOW) -> DecideOutcome:
    return decide_step(runtime, account_id, now)


def settled(runtime: Runtime, account_id: int) -> None:
    """Decide, then once more over what that queued: the next pass has nothing new."""
    decided(runtime, account_id)
    assert decided(runtime, account_id).analysis == "stored"


@pytest.fixture
def synced(runtime: Runtime, account: int) -> int:
    """Ann met weekly until 40 days ago (neglected), Bob weekly and lately, Cat in groups."""
    events = [*weekly(ANN, 40, 8), *weekly(BOB, 2, 8)]
    events += [meeting(f"g{n}", NOW - timedelta(days=3 + 5 * n), BOB, CAT) for n in range(6)]
    write(runtime, account, SyncPage(events=tuple(events), full=True))
    return account


def test_a_pass_with_nothing_new_analyses_and_decides_nothing(
    runtime: Runtime, synced: int
) -> None:
    first = decided(runtime, synced)
    weighed = decided(runtime, synced)  # what the first queued is new to the engine
    later = decided(runtime, synced, NOW + timedelta(minutes=15))

    assert (first.analysis, first.analysed) == ("full", first.contacts)
    assert first.enqueued == first.decisions > 0
    assert (weighed.analysis, weighed.analysed, weighed.enqueued) == ("stored", 0, 0)
    assert (later.analysis, later.analysed, later.enqueued) == ("skipped", 0, 0)
    assert (later.contacts, later.statuses) == (first.contacts, first.statuses)


def test_a_new_day_in_the_owners_zone_analyses_everyone_again(
    runtime: Runtime, synced: int
) -> None:
    decided(runtime, synced)
    late_evening = decided(runtime, synced, datetime(2024, 6, 12, 21, 59, tzinfo=UTC))
    after_midnight = decided(runtime, synced, datetime(2024, 6, 12, 22, 1, tzinfo=UTC))

    assert late_evening.analysis in ("skipped", "stored")  # 23:59 in Paris: the same day
    assert after_midnight.analysis == "full"  # 00:01 in Paris


def test_a_changed_event_reanalyses_only_the_people_in_it(runtime: Runtime, synced: int) -> None:
    decided(runtime, synced)
    changed = meeting("g0", NOW - timedelta(days=3), BOB, CAT, declined=(CAT,))
    write(runtime, synced, SyncPage(events=(changed,)))

    again = decided(runtime, synced, NOW + timedelta(minutes=15))

    assert (again.analysis, again.analysed) == ("partial", 2)  # Bob and Cat, not Ann


def test_a_removed_event_reanalyses_the_people_who_were_in_it(
    runtime: Runtime, synced: int
) -> None:
    decided(runtime, synced)
    write(runtime, synced, SyncPage(removed_ids=("ann0",)))

    again = decided(runtime, synced)

    assert (again.analysis, again.analysed) == ("partial", 1)


def test_an_out_of_office_change_reanalyses_everyone(runtime: Runtime, synced: int) -> None:
    """Days away change every rhythm (they are not working days)."""
    decided(runtime, synced)
    away = meeting("ooo", NOW - timedelta(days=8), kind=EventKind.OUT_OF_OFFICE)
    write(runtime, synced, SyncPage(events=(replace(away, end=away.start + timedelta(hours=9)),)))

    assert decided(runtime, synced).analysis == "full"


def test_a_full_resync_reanalyses_everyone(runtime: Runtime, synced: int) -> None:
    decided(runtime, synced)
    write(runtime, synced, SyncPage(events=tuple(weekly(ANN, 40, 8)), full=True))

    assert decided(runtime, synced).analysis == "full"


def test_the_owners_settings_are_part_of_the_analysis(runtime: Runtime, synced: int) -> None:
    decided(runtime, synced)
    with session_scope(runtime.db) as session:
        account = session.get_one(Account, synced)
        account.settings = {**account.settings, "time_zone": "America/New_York"}

    assert decided(runtime, synced).analysis == "full"


def test_a_role_is_part_of_the_analysis(runtime: Runtime, synced: int) -> None:
    decided(runtime, synced)
    contacts.set_role(runtime, synced, CAT, "peer")

    assert decided(runtime, synced).analysis == "full"


def test_a_snooze_is_decided_again_over_the_stored_audit(runtime: Runtime, synced: int) -> None:
    first = decided(runtime, synced)
    contacts.snooze(runtime, synced, ANN, NOW + timedelta(days=14))

    again = decided(runtime, synced)

    assert (again.analysis, again.analysed) == ("stored", 0)
    assert again.decisions < first.decisions


def test_a_snooze_ending_later_today_is_decided_again_when_it_ends(
    runtime: Runtime, synced: int
) -> None:
    """The engine's answer changes on its own at the snooze's end: no skipping past it."""
    ends = NOW + timedelta(hours=2)
    contacts.snooze(runtime, synced, ANN, ends)
    snoozed = decided(runtime, synced)

    before_the_end = decided(runtime, synced, ends - timedelta(minutes=1))
    after_the_end = decided(runtime, synced, ends + timedelta(minutes=1))

    assert before_the_end.analysis == "skipped"
    assert after_the_end.analysis == "stored"
    assert after_the_end.enqueued > 0, "Ann's nudge, due once her snooze ended"
    assert after_the_end.decisions > snoozed.decisions


def test_the_outbox_is_part_of_the_decision(runtime: Runtime, synced: int) -> None:
    first = decided(runtime, synced)
    weighed = decided(runtime, synced)  # what the first queued is new to the engine
    settled = decided(runtime, synced)
    with session_scope(runtime.db) as session:
        nudge_store.suppress_pending(session, synced, "email", "test", NOW)

    again = decided(runtime, synced)

    assert first.enqueued > 0
    assert (weighed.analysis, settled.analysis) == ("stored", "skipped")
    assert again.analysis == "stored"


def test_changed_rules_are_part_of_the_analysis(
    runtime: Runtime, synced: int, tmp_path: Path
) -> None:
    decided(runtime, synced)
    judged = tmp_path / "judged.yaml"
    judged.write_text("judgement: {fading_factor: 1.2}\n")
    budget = tmp_path / "budget.yaml"
    budget.write_text("policies: {weekly_budget: 1}\n")

    by_judgement = _with_rules(runtime, judged)
    by_policy = _with_rules(runtime, budget)

    assert decide_step(by_judgement, synced, NOW).analysis == "full"
    assert decide_step(by_policy, synced, NOW).analysis in ("full", "stored")
    assert decide_step(by_policy, synced, NOW).analysis == "skipped"


def _with_rules(runtime: Runtime, path: Path) -> Runtime:
    return replace(runtime, settings=runtime.settings.model_copy(update={"rules_file": path}))


def test_a_dry_run_stores_nothing(runtime: Runtime, synced: int) -> None:
    dry = decide_step(runtime, synced, NOW, enqueue=False)
    real = decided(runtime, synced)

    assert dry.analysis == "full"
    assert real.analysis == "full", "the dry run kept nothing to skip with"
    assert real.enqueued == real.decisions > 0


def test_rules_files_are_parsed_again_only_when_they_change(
    runtime: Runtime, tmp_path: Path
) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("policies: {weekly_budget: 2}\n")
    mine = _with_rules(runtime, path)

    first, second = rules_in_force(mine), rules_in_force(mine)
    path.write_text("policies: {weekly_budget: 5}\n")
    third = rules_in_force(mine)

    assert second is first
    assert third.policies.weekly_budget == 5


def stored_audit(runtime: Runtime, account_id: int) -> list[object]:
    from nudger.passes.analyse import audit_from_json
    from nudger.store import analysis_state

    with session_scope(runtime.db) as session:
        state = analysis_state.load(session, account_id)
    assert state.audit is not None
    return list(audit_from_json(state.audit).healths)


def fresh_audit(runtime: Runtime, account_id: int) -> list[object]:
    return list(analyse(runtime, account_id, rules_in_force(runtime), NOW))
