"""Re-analysing only the contacts a change touched gives the audit a fresh one gives.

Random calendars (two calendars holding copies of some meetings, one-on-one series with
cancelled and declined occurrences, cancellations that came without attendees, groups,
crowds, holds, the owner's alias) and random edits written as the sync writes them;
after each round the decide step's kept audit must equal ``analyse`` from scratch.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from nudger import contacts
from nudger.analysis.audit import ContactHealth
from nudger.connectors.base import Attendee, CalendarEvent, CalendarInfo, Response, SyncPage
from nudger.passes.analyse import analyse, audit_from_json, rules_in_force
from nudger.passes.decide_step import decide_step
from nudger.runtime import Runtime
from nudger.store import analysis_state
from nudger.store import events as event_store
from nudger.store.db import session_scope
from nudger.store.models import Account

NOW = datetime(2024, 6, 12, 10, 0, tzinfo=UTC)
ME, ALIAS = "me@corp.example", "boss@corp.example"
PEOPLE = [f"p{i}@corp.example" for i in range(12)]
ROOM = "room@resource.corp.example"
RESPONSES = [Response.ACCEPTED, Response.ACCEPTED, Response.TENTATIVE, Response.DECLINED]
CALENDARS = ("primary", "team")


class Calendars:
    """The account's two calendars, as the test last wrote them."""

    def __init__(self, runtime: Runtime, account_id: int, rng: random.Random) -> None:
        self.runtime, self.account_id, self.rng = runtime, account_id, rng
        self.events: dict[str, dict[str, CalendarEvent]] = {c: {} for c in CALENDARS}
        self.serial = 0

    def write(self, calendar: str, page: SyncPage) -> None:
        with session_scope(self.runtime.db) as session:
            info = CalendarInfo(calendar, calendar, calendar == "primary")
            calendar_id = event_store.get_or_create_calendar(session, self.account_id, info)
            if page.full:
                event_store.wipe_calendar(session, calendar_id)
            event_store.apply_page(session, calendar_id, self.account_id, page)
        mine = self.events[calendar]
        for event in page.events:
            mine[event.event_id] = event
        for removed in page.removed_ids:
            mine.pop(removed, None)

    def new_id(self) -> str:
        self.serial += 1
        return f"e{self.serial}"


def attendee(email: str, rng: random.Random) -> Attendee:
    return Attendee(email, email.split("@")[0].upper(), rng.choice(RESPONSES))


def me(rng: random.Random) -> Attendee:
    return Attendee(
        ME, "Me", Response.DECLINED if rng.random() < 0.08 else Response.ACCEPTED, is_self=True
    )


def a_meeting(cals: Calendars, size: int, start: datetime | None = None) -> CalendarEvent:
    rng = cals.rng
    start = start or NOW + timedelta(days=rng.uniform(-200, 20))
    others = [attendee(p, rng) for p in rng.sample(PEOPLE, min(size, len(PEOPLE)))]
    if rng.random() < 0.1:
        others.append(Attendee(ALIAS, "Boss", Response.ACCEPTED))
    if rng.random() < 0.3:
        others.append(Attendee(ROOM, "Room", Response.ACCEPTED, is_resource=True))
    event_id = cals.new_id()
    return CalendarEvent(
        event_id=event_id,
        start=start,
        end=start + timedelta(minutes=rng.choice([30, 60])),
        attendees=(me(rng), *others),
        cancelled=rng.random() < 0.08,
        ical_uid=None if rng.random() < 0.15 else f"{event_id}@uid",
        hold_contact=others[0].email if size == 1 and rng.random() < 0.1 else None,
    )


def a_series(cals: Calendars, contact: str, number: int) -> list[CalendarEvent]:
    rng = cals.rng
    first = NOW - timedelta(days=rng.uniform(60, 180))
    every = rng.choice([7, 14])
    shared_uid = rng.random() < 0.5  # Google's occurrences share the series' UID
    events = []
    for n in range(rng.randint(6, 20)):
        start = first + timedelta(days=every * n)
        orphan = rng.random() < 0.1  # Google's cancelled occurrence without attendees
        people = (me(rng),) if orphan else (me(rng), attendee(contact, rng))
        events.append(
            CalendarEvent(
                event_id=cals.new_id(),
                start=start,
                end=start + timedelta(minutes=30),
                attendees=people,
                cancelled=orphan or rng.random() < 0.1,
                series_id=f"s{number}",
                original_start=start,
                ical_uid=f"s{number}@uid" if shared_uid else f"s{number}-{n}@uid",
            )
        )
    return events


def generate(cals: Calendars) -> None:
    rng = cals.rng
    events = [e for n, p in enumerate(PEOPLE[:5]) for e in a_series(cals, p, n)]
    events += [a_meeting(cals, rng.choice([1, 1, 2, 3, 5])) for _ in range(90)]
    events += [a_meeting(cals, 11) for _ in range(6)]
    copies = [
        replace(e, event_id=f"copy-{e.event_id}", attendees=e.attendees[: rng.randint(1, 3)])
        for e in rng.sample(events, 15)
    ]
    cals.write("primary", SyncPage(events=tuple(events), full=True))
    cals.write("team", SyncPage(events=tuple(copies), full=True))


def edit(cals: Calendars) -> None:
    """One page of one or two changes to one calendar, as an incremental round brings."""
    rng = cals.rng
    calendar = rng.choice(CALENDARS)
    known = list(cals.events[calendar].values())
    changed: list[CalendarEvent] = []
    removed: list[str] = []
    for event in rng.sample(known, rng.randint(1, 2)):
        what = rng.randrange(6)
        if what == 0:
            removed.append(event.event_id)
        elif what == 1:
            changed.append(a_meeting(cals, rng.choice([1, 2, 4])))
        elif what == 2:
            changed.append(replace(event, cancelled=not event.cancelled))
        elif what == 3:
            moved = event.start + timedelta(days=rng.uniform(-10, 10))
            changed.append(replace(event, start=moved, end=moved + timedelta(minutes=30)))
        elif what == 4:
            changed.append(replace(event, attendees=_reanswered(event.attendees, rng)))
        else:
            extra = attendee(rng.choice(PEOPLE), rng)
            changed.append(replace(event, attendees=(*event.attendees[:-1], extra)))
    cals.write(calendar, SyncPage(events=tuple(changed), removed_ids=tuple(removed)))


def _reanswered(people: tuple[Attendee, ...], rng: random.Random) -> tuple[Attendee, ...]:
    index = rng.randrange(len(people))
    flipped = replace(people[index], response=rng.choice(RESPONSES))
    return (*people[:index], flipped, *people[index + 1 :])


def kept_audit(runtime: Runtime, account_id: int) -> list[ContactHealth]:
    with session_scope(runtime.db) as session:
        state = analysis_state.load(session, account_id)
    assert state.audit is not None
    return audit_from_json(state.audit).healths


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_partial_analysis_after_random_edits_equals_a_fresh_one(
    runtime: Runtime, seed: int
) -> None:
    with session_scope(runtime.db) as session:
        account = Account(
            provider="google",
            email=ME,
            aliases=ALIAS,
            credentials="-",
            settings={},
            time_zone="Europe/Paris",
        )
        session.add(account)
        session.flush()
        account_id = account.id
    contacts.set_role(runtime, account_id, PEOPLE[0], "direct_report")
    contacts.set_role(runtime, account_id, "quiet@corp.example", "mentor")  # never met
    cals = Calendars(runtime, account_id, random.Random(seed))
    generate(cals)
    assert decide_step(runtime, account_id, NOW).analysis == "full"
    partial = 0
    for _ in range(25):
        edit(cals)
        outcome = decide_step(runtime, account_id, NOW)
        partial += outcome.analysis == "partial"
        fresh = analyse(runtime, account_id, rules_in_force(runtime), NOW)
        assert kept_audit(runtime, account_id) == fresh
    assert partial >= 20, "most rounds re-analysed only some contacts"


def test_a_cancellation_that_came_without_attendees_reanalyses_its_series_contact(
    runtime: Runtime,
) -> None:
    """Google sends a cancelled occurrence of a series bare: no attendees, its own id."""
    with session_scope(runtime.db) as session:
        account = Account(provider="google", email=ME, credentials="-", settings={})
        session.add(account)
        session.flush()
        account_id = account.id
    cals = Calendars(runtime, account_id, random.Random(0))
    weekly = [
        CalendarEvent(
            event_id=f"w{n}",
            start=NOW - timedelta(weeks=n, days=1),
            end=NOW - timedelta(weeks=n, days=1) + timedelta(minutes=30),
            attendees=(Attendee(ME, "Me", Response.ACCEPTED, is_self=True), Attendee(PEOPLE[0])),
            series_id="weekly",
            ical_uid=f"w{n}@uid",  # no UID in common: only the series ties them
        )
        for n in range(1, 12)
    ]
    cals.write("primary", SyncPage(events=tuple(weekly), full=True))
    decide_step(runtime, account_id, NOW)
    start = NOW - timedelta(days=1)  # this week's occurrence, which the store never had
    bare = replace(
        weekly[0], event_id="w0", ical_uid="w0@uid", start=start, end=start, attendees=(),
        cancelled=True,
    )  # fmt: skip

    cals.write("primary", SyncPage(events=(bare,)))
    outcome = decide_step(runtime, account_id, NOW)

    assert (outcome.analysis, outcome.analysed) == ("partial", 1)
    assert kept_audit(runtime, account_id) == analyse(
        runtime, account_id, rules_in_force(runtime), NOW
    )
