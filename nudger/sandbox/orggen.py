"""A deterministic synthetic organisation for the emulator: one owner and a year of calendar.

Every relationship pattern nudger must recognise (healthy, fading and neglected contacts,
lapsed and missing one-on-ones, new contacts, weak ties) is planted for a named person and
returned as an ``Expectation``: ground truth for tests, the demo and the benchmarks. Noise
the analysis must ignore (rooms, out-of-office, focus time, working locations, declined
meetings, all-day events) and filler meetings with colleagues outside the scenarios fill the
calendar to ``events_per_week``. Everything derives from ``OrgSpec.seed`` and ``OrgSpec.now``.
"""

from __future__ import annotations

import base64
import hashlib
import random
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from nudger.sandbox.orglabels import (
    Relationship,
    Timeline,
    Trouble,
    add_working_days,
    anniversary_troubles,
    drift_troubles,
    filler_relationship,
    missing_trouble,
    repair_troubles,
)
from nudger.sandbox.world import Mailbox, SandboxAttendee, SandboxEvent, World

DOMAIN = "northwind.example"
EXTERNAL_DOMAINS = ("fabrikam.example", "contoso.example", "tailspin.example", "woodgrove.example")
ROOMS = (("room-4a", "Room 4A"), ("room-4b", "Room 4B"), ("room-2c", "Room 2C"), ("den", "The Den"))
ATRIUM = ("atrium", "Atrium")
WINDOWS_ZONES = {
    "UTC": "UTC",
    "Europe/London": "GMT Standard Time",
    "Europe/Berlin": "W. Europe Standard Time",
    "Europe/Paris": "Romance Standard Time",
    "America/New_York": "Eastern Standard Time",
    "America/Chicago": "Central Standard Time",
    "America/Los_Angeles": "Pacific Standard Time",
    "Asia/Tokyo": "Tokyo Standard Time",
    "Asia/Kolkata": "India Standard Time",
    "Australia/Sydney": "AUS Eastern Standard Time",
}
FIRST_NAMES = (
    "Aisha", "Ben", "Carmen", "Daniel", "Elena", "Farid", "Grace", "Hannah", "Ibrahim", "Jonas",
    "Keiko", "Liam", "Maya", "Noah", "Olivia", "Pavel", "Quinn", "Rosa", "Samuel", "Tara",
    "Umar", "Valentina", "William", "Xin", "Yusuf", "Zoe", "Amara", "Bruno", "Chloe", "Dmitri",
    "Esther", "Felix", "Gabriela", "Hugo", "Ines", "Jamal", "Kavya", "Lucas", "Mei", "Nadia",
    "Oscar", "Priya", "Rafael", "Sofia", "Tomas", "Uma", "Victor", "Wen", "Yara", "Zain",
    "Leila", "Marco", "Nina", "Owen", "Ruth", "Sanjay", "Theo", "Vera", "Arjun", "Beatriz",
)  # fmt: skip
LAST_NAMES = (
    "Adeyemi", "Bauer", "Chen", "Dubois", "Evans", "Fischer", "Garcia", "Haddad", "Ivanova",
    "Jensen", "Kowalski", "Larsen", "Mensah", "Nakamura", "Okafor", "Patel", "Quintero", "Rossi",
    "Schmidt", "Tanaka", "Underwood", "Varga", "Williams", "Xu", "Yilmaz", "Zhang", "Alvarez",
    "Brennan", "Costa", "Dlamini", "Eriksen", "Ferreira", "Gupta", "Hughes", "Ito", "Jovanovic",
    "Kim", "Lindqvist", "Moreau", "Novak", "Oliveira", "Petrov", "Reyes", "Sato", "Thompson",
    "Uddin", "Volkov", "Walsh", "Yamamoto", "Zielinski", "Abbott", "Bianchi", "Carter", "Delgado",
    "Fraser", "Gallagher", "Hansen", "Iyer", "Keller", "Nguyen",
)  # fmt: skip
TOPICS = (
    "Roadmap review", "Design review", "Hiring sync", "Incident retro", "Budget check-in",
    "Customer escalation", "Sprint planning", "Architecture forum", "Vendor evaluation",
    "Quarterly goals", "Launch readiness", "Data quality sync", "Security review", "Demo prep",
)  # fmt: skip
HISTORY_MINUTES = (30, 30, 45, 60)
LOOKAHEAD_MINUTES = (45, 60, 60, 90)
"""Longer meetings ahead: the coming weeks are fuller, free slots scarce."""
ALL_DAY_TITLES = ("Quarterly planning day", "Company holiday", "Release day", "Team offsite")

MIN_WEAK_TIES = 9
ALL_HANDS_OTHERS = 30
"""The all-hands always has at least this many attendees besides the owner."""
MIN_FILLER_PEOPLE = 7
"""Enough colleagues for a filler meeting of 8 (the owner plus 7)."""
MIN_MONTHS, MIN_LOOKAHEAD_WEEKS = 6, 2
WORKDAY_START = time(9, 0)
SLOTS_PER_DAY = 16
"""Half-hours between 09:00 and 17:00, the grid meetings are placed on."""
MON, TUE, WED, THU, FRI = range(5)


@dataclass(frozen=True)
class OrgSpec:
    now: datetime
    """Timezone-aware; the world's present. Nothing reads the wall clock."""
    seed: int = 7
    owner_email: str = "alex.morgan@northwind.example"
    owner_name: str = "Alex Morgan"
    provider: str = "google"
    time_zone: str = "Europe/London"
    people: int = 43
    """Colleague pool, scenario people included (at least ``minimum_people()``)."""
    months: int = 12
    events_per_week: int = 40
    lookahead_weeks: int = 4


@dataclass(frozen=True)
class Expectation:
    """What the analysis should conclude about one planted contact, and why."""

    email: str
    name: str
    role: str | None
    pattern: str
    expected_status: str
    note: str


@dataclass(frozen=True)
class GeneratedOrg:
    owner: Mailbox
    expectations: list[Expectation]
    event_count: int
    direct_reports: list[str]
    relationships: list[Relationship]
    """Ground truth over time for every contact: planted, weak tie or filler colleague."""
    year_start: datetime | None = None
    """The generated year's first moment: only the old planning meetings come before."""

    def relationship(self, email: str) -> Relationship:
        return next(r for r in self.relationships if r.email == email)


@dataclass(frozen=True)
class Person:
    email: str
    name: str

    @property
    def first_name(self) -> str:
        return self.name.split()[0]


@dataclass(frozen=True)
class _Scenario:
    id: str
    role: str | None
    status: str
    note: str


SCENARIOS = (
    _Scenario("dr-healthy", "direct_report", "healthy", "weekly one-on-one held all year"),
    _Scenario(
        "dr-series-ended",
        "direct_report",
        "lapsed_one_on_one",
        "weekly one-on-one ended 6 weeks ago",
    ),
    _Scenario(
        "dr-cancel-streak",
        "direct_report",
        "lapsed_one_on_one",
        "the last 3 weekly one-on-ones were cancelled",
    ),
    _Scenario(
        "dr-declined-streak",
        "direct_report",
        "lapsed_one_on_one",
        "declined the last 3 fortnightly one-on-ones",
    ),
    _Scenario(
        "dr-missing", "direct_report", "missing_one_on_one", "seen only in team meetings, no 1:1"
    ),
    _Scenario("manager", "manager", "healthy", "weekly one-on-one organised by the manager"),
    _Scenario("mentor", "mentor", "healthy", "monthly mentoring, last ~20 days ago, next soon"),
    _Scenario("mentor-lapsed", "mentor", "neglected", "monthly mentoring stopped ~80 days ago"),
    _Scenario("peer-quiet", "peer", "neglected", "met every ~10 days, nothing for 45 days"),
    _Scenario("peer-fading", "peer", "fading", "usually fortnightly, last met 28 days ago"),
    _Scenario("peer-booked", "peer", "healthy", "last met 40 days ago, a 1:1 is booked in 5 days"),
    _Scenario("quarterly-external", "external", "healthy", "quarterly catch-up, last 60 days ago"),
    _Scenario("new-contact", None, "new", "first met twice in the last two weeks"),
    _Scenario(
        "dr-series-stops",
        "direct_report",
        "lapsed_one_on_one",
        "weekly one-on-one series ended ~130 days ago",
    ),
    _Scenario(
        "dr-made-up",
        "direct_report",
        "healthy",
        "weekly one-on-one; two one-off cancellations, each made up within 2 working days",
    ),
    _Scenario(
        "peer-declining",
        "peer",
        "lapsed_one_on_one",
        "weekly one-on-one declined by them every week since ~100 days ago",
    ),
    _Scenario(
        "peer-cancelling",
        "peer",
        "lapsed_one_on_one",
        "fortnightly one-on-one cancelled since ~160 days ago, held once ~90 days ago",
    ),
    _Scenario("daily-a", "peer", "healthy", "daily stand-up of three, nearly every working day"),
    _Scenario("daily-b", None, "healthy", "daily stand-up of three, nearly every working day"),
    *(
        _Scenario(
            f"group-{n}",
            None,
            "neglected",
            "met only in a fortnightly group of four, stopped ~9 weeks ago",
        )
        for n in "abc"
    ),
    _Scenario(
        "partner-series-ended",
        None,
        "lapsed_one_on_one",
        "weekly project one-on-one, 14 held, ended well ~17 days ago: worth a thank-you",
    ),
    _Scenario(
        "mentor-met-a-year-ago",
        "mentor",
        "healthy",
        "first met a year ago (a working day or two before now), monthly since: a moment",
    ),
    *(
        _Scenario(
            f"project-{n}",
            None,
            "fading",
            "met only in a weekly project meeting of four, 12 held, ended well ~16 days ago: "
            "worth one thank-you to the group",
        )
        for n in "abc"
    ),
)
DIRECT_REPORT_PATTERNS = tuple(s.id for s in SCENARIOS if s.role == "direct_report")
ALL_HANDS = _Scenario("all-hands", None, "weak_tie", "met only in the monthly all-hands")


@dataclass(frozen=True)
class _Label:
    """How a scenario is labelled: its kind, its planted rhythm and how troubles are read."""

    kind: str
    rhythm_days: float | None
    troubles: str
    """``repair`` (one-on-one series), ``drift`` (gaps), ``missing`` or ``none``."""


LABELS = {
    "dr-healthy": _Label("weekly_one_on_one", 7, "repair"),
    "dr-series-ended": _Label("stopped_series", 7, "repair"),
    "dr-cancel-streak": _Label("cancelling", 7, "repair"),
    "dr-declined-streak": _Label("declining", 14, "repair"),
    "dr-missing": _Label("no_one_on_one", 7, "missing"),
    "manager": _Label("weekly_one_on_one", 7, "repair"),
    "mentor": _Label("monthly_mentor", 28, "repair"),
    "mentor-lapsed": _Label("lapsed_mentor", 30, "drift"),
    "peer-quiet": _Label("quiet_peer", 10, "drift"),
    "peer-fading": _Label("fading_peer", 14, "drift"),
    "peer-booked": _Label("booked_peer", 14, "drift"),
    "quarterly-external": _Label("quarterly_external", 90, "drift"),
    "new-contact": _Label("new", None, "none"),
    "dr-series-stops": _Label("stopped_series", 7, "repair"),
    "dr-made-up": _Label("made_up_one_on_one", 7, "repair"),
    "peer-declining": _Label("declining", 7, "repair"),
    "peer-cancelling": _Label("cancelling", 14, "repair"),
    "daily-a": _Label("daily", 1, "none"),
    "daily-b": _Label("daily", 1, "none"),
    **{f"group-{n}": _Label("stopped_group", 14, "drift") for n in "abc"},
    # The series stopped, so its repair window is open: a thank-you in it is legitimate.
    "partner-series-ended": _Label("ended_series", 7, "repair"),
    # A year since the first meeting: a moment, legitimate in its few days.
    "mentor-met-a-year-ago": _Label("anniversary", 28, "moment"),
    # The project's meetings stopped, so its drift window is open: a thank-you is legitimate.
    **{f"project-{n}": _Label("ended_project", 7, "drift") for n in "abc"},
}
GROUP_PATTERNS = ("group-a", "group-b", "group-c")
PROJECT_PATTERNS = ("project-a", "project-b", "project-c")
GROUPS = (GROUP_PATTERNS, PROJECT_PATTERNS)
"""The planted groups: people met only together, nudged (or thanked) as one."""


def minimum_people() -> int:
    """The smallest ``OrgSpec.people`` that leaves room for every scenario and for filler."""
    return len(SCENARIOS) + MIN_WEAK_TIES + MIN_FILLER_PEOPLE


def generate_org(world: World, spec: OrgSpec) -> GeneratedOrg:
    """Add the owner's mailbox and calendar to ``world``; the expectations it was built for."""
    _validate(spec)
    rng = random.Random(spec.seed)
    cast = _cast(rng, spec)
    owner = world.add_mailbox(_owner_mailbox(spec, cast))
    for person in (*cast.roles.values(), *cast.weak_ties, *cast.filler):
        world.people[person.email] = person.name
    cal = _Calendar(world, owner, spec, rng)
    _plant_series(cal, cast)
    _plant_occasional(cal, cast)
    _plant_noise(cal)
    _plant_filler(cal, cast.filler)
    _plant_far_colleagues(world, spec, cast)
    reports = list(owner.direct_reports)
    relationships = _relationships(cal, cast)
    year_start = cal.at(cal.first_day, time(0))
    return GeneratedOrg(owner, _expectations(cast), cal.count, reports, relationships, year_start)


FAR_ZONE = ("Asia/Singapore", "Singapore Standard Time")
FAR_PATTERNS = ("mentor-lapsed", "peer-cancelling")
"""Key people who work from Singapore: one the owner is emailed about, one a hold is booked
for, so the demo shows the zone sentence in both and a hold inside both people's hours."""


def _plant_far_colleagues(world: World, spec: OrgSpec, cast: _Cast) -> None:
    """Give the far people mailboxes of their own in the owner's tenant, with Singapore
    working hours. Microsoft only: Graph's getSchedule reveals another user's working hours
    and zone; Google's freeBusy reveals neither, so a Google plant would show nothing."""
    if spec.provider != "microsoft":
        return
    zone, windows_zone = FAR_ZONE
    for pattern in FAR_PATTERNS:
        person = cast.roles[pattern]
        if person.email in world.mailboxes:  # never take over another user's mailbox
            continue
        far = Mailbox(person.email, person.name, "microsoft", zone, windows_zone)
        far.work_end = time(18, 0)
        world.add_mailbox(far)


def _validate(spec: OrgSpec) -> None:
    ZoneInfo(spec.time_zone)  # raises on an unknown zone
    problems = [
        (spec.now.utcoffset() is None, "now must be timezone-aware"),
        (spec.provider not in ("google", "microsoft"), "provider must be google or microsoft"),
        (spec.people < minimum_people(), f"people must be at least {minimum_people()}"),
        (spec.months < MIN_MONTHS, f"months must be at least {MIN_MONTHS}"),
        (spec.lookahead_weeks < MIN_LOOKAHEAD_WEEKS, "lookahead_weeks must be at least 2"),
        (spec.people + ALL_HANDS_OTHERS >= len(FIRST_NAMES) * len(LAST_NAMES), "too many people"),
    ]
    for failed, message in problems:
        if failed:
            raise ValueError(f"OrgSpec: {message}")


# --- the cast -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Cast:
    """Who plays which part: scenario people, all-hands-only weak ties, filler colleagues."""

    roles: dict[str, Person]
    weak_ties: tuple[Person, ...]
    filler: tuple[Person, ...]

    def direct_reports(self) -> list[Person]:
        return [self.roles[pattern] for pattern in DIRECT_REPORT_PATTERNS]


def _cast(rng: random.Random, spec: OrgSpec) -> _Cast:
    rest = spec.people - len(SCENARIOS)
    weak = max(MIN_WEAK_TIES, rest // 3)
    wider_org = max(0, ALL_HANDS_OTHERS - rest)  # tops a small pool up to a real all-hands
    names = _names(rng, spec.people + wider_org, spec.owner_email)
    people = [Person(_email(first, last, DOMAIN), f"{first} {last}") for first, last in names]
    roles = {scenario.id: person for scenario, person in zip(SCENARIOS, people, strict=False)}
    colleague = roles["quarterly-external"]  # this one works for another company
    first, last = colleague.name.split()
    roles["quarterly-external"] = Person(
        _email(first, last, rng.choice(EXTERNAL_DOMAINS)), colleague.name
    )
    weak_ties = people[len(SCENARIOS) : len(SCENARIOS) + weak] + people[spec.people :]
    filler = people[len(SCENARIOS) + weak : spec.people]
    return _Cast(roles, tuple(weak_ties), tuple(filler))


def _names(rng: random.Random, count: int, owner_email: str) -> list[tuple[str, str]]:
    """``count`` distinct (first, last) pairs, none sharing the owner's address."""
    picks = rng.sample(range(len(FIRST_NAMES) * len(LAST_NAMES)), count + 1)
    pairs = [(FIRST_NAMES[i // len(LAST_NAMES)], LAST_NAMES[i % len(LAST_NAMES)]) for i in picks]
    return [p for p in pairs if _email(*p, DOMAIN) != owner_email.lower()][:count]


def _email(first: str, last: str, domain: str) -> str:
    return f"{first}.{last}@{domain}".lower()


def _owner_mailbox(spec: OrgSpec, cast: _Cast) -> Mailbox:
    return Mailbox(
        email=spec.owner_email.lower(),
        name=spec.owner_name,
        provider=spec.provider,
        time_zone=spec.time_zone,
        windows_time_zone=WINDOWS_ZONES.get(spec.time_zone, "UTC"),
        manager=cast.roles["manager"].email,
        direct_reports=[person.email for person in cast.direct_reports()],
    )


def _expectations(cast: _Cast) -> list[Expectation]:
    planted = [(s, cast.roles[s.id]) for s in SCENARIOS]
    planted += [(ALL_HANDS, person) for person in cast.weak_ties]
    return [Expectation(p.email, p.name, s.role, s.id, s.status, s.note) for s, p in planted]


def _relationships(cal: _Calendar, cast: _Cast) -> list[Relationship]:
    year_start = cal.at(cal.first_day, time(0))  # the old planning meetings are no label's
    in_year = [e for e in cal.owner.events.values() if e.start >= year_start]
    timeline = Timeline.of(in_year, cal.owner.email, cal.now, cal.zone)
    groups = {
        pattern: tuple(sorted(cast.roles[p].email for p in patterns))
        for patterns in GROUPS
        for pattern in patterns
    }
    labels = [
        _relationship(cal, timeline, s.id, cast.roles[s.id].email, groups.get(s.id, ()))
        for s in SCENARIOS
    ]
    labels += [Relationship(p.email, "weak_tie", None) for p in cast.weak_ties]
    return labels + [filler_relationship(timeline, p.email) for p in cast.filler]


def _relationship(
    cal: _Calendar, timeline: Timeline, pattern: str, email: str, group: tuple[str, ...]
) -> Relationship:
    label = LABELS[pattern]
    troubles = _troubles(cal, timeline, label, email)
    return Relationship(email, label.kind, label.rhythm_days, troubles, group)


def _troubles(cal: _Calendar, timeline: Timeline, label: _Label, email: str) -> tuple[Trouble, ...]:
    rhythm = label.rhythm_days or 0
    if label.troubles == "repair":
        return repair_troubles(timeline, email, round(rhythm))
    if label.troubles == "drift":
        return drift_troubles(timeline, email, rhythm, f"{label.kind}: not met for a while")
    if label.troubles == "moment":
        return anniversary_troubles(timeline, email)
    if label.troubles == "missing":
        return (missing_trouble(cal.at(cal.first_day, time(0))),)
    return ()


# --- the calendar being written --------------------------------------------------------------


class _Calendar:
    """The owner's calendar under construction: ids, local times, weekly counts, busy slots."""

    def __init__(self, world: World, owner: Mailbox, spec: OrgSpec, rng: random.Random) -> None:
        self.world, self.owner, self.spec, self.rng = world, owner, spec, rng
        self.zone = ZoneInfo(spec.time_zone)
        self.now = spec.now.astimezone(UTC)
        self.today = self.now.astimezone(self.zone).date()
        start = self.today - timedelta(days=round(spec.months * 365.25 / 12))
        self.first_day = start - timedelta(days=start.weekday())  # a Monday
        self.last_day = self.today + timedelta(weeks=spec.lookahead_weeks)
        self.weeks = (self.last_day - self.first_day).days // 7 + 1
        self.week_counts: Counter[int] = Counter()
        self.count = 0
        self.out_of_office: set[date] = set()
        self._busy: dict[date, set[int]] = {}
        self._reserve: dict[date, set[int]] = {}

    def ident(self, *parts: str) -> str:
        """A stable event id in Google's alphabet (base32hex, lowercase)."""
        digest = hashlib.blake2b("|".join((str(self.spec.seed), *parts)).encode(), digest_size=10)
        return base64.b32hexencode(digest.digest()).decode().lower()

    def at(self, day: date, clock: time) -> datetime:
        return datetime.combine(day, clock, self.zone).astimezone(UTC)

    def midnight(self, day: date) -> datetime:
        """How the emulator stores an all-day boundary: midnight in the owner's zone."""
        return datetime.combine(day, time(0), self.zone)

    def this_week(self, weekday: int) -> date:
        return self.today + timedelta(days=weekday - self.today.weekday())

    def weekdays(self, first: date, last: date) -> Iterator[date]:
        day = max(first, self.first_day)
        while day <= min(last, self.last_day):
            if day.weekday() < 5:
                yield day
            day += timedelta(days=1)

    def week_days(self, week: int) -> list[date]:
        monday = self.first_day + timedelta(weeks=week)
        return list(self.weekdays(monday, monday + timedelta(days=4)))

    def put(self, event: SandboxEvent) -> None:
        self.world.put_event(self.owner, event)
        self.count += 1
        day = event.start.astimezone(self.zone).date()
        self.week_counts[(day - self.first_day).days // 7] += 1
        if not event.all_day and event.event_type in ("default", "focusTime"):
            self._occupy(day, event.start, event.end)

    def _occupy(self, day: date, start: datetime, end: datetime) -> None:
        first = _slot_index(start.astimezone(self.zone).time())
        last = _slot_index((end - timedelta(minutes=1)).astimezone(self.zone).time())
        busy = self._busy.setdefault(day, set())
        busy.update(range(max(first, 0), min(last, SLOTS_PER_DAY - 1) + 1))

    def _reserved(self, day: date) -> set[int]:
        """One free hour per day that flexible meetings never take, so gaps always exist.

        Chosen on the first flexible placement of the day, after every series is placed.
        """
        if day not in self._reserve:
            busy = self._busy.get(day, set())
            free = [i for i in range(SLOTS_PER_DAY - 1) if i not in busy and i + 1 not in busy]
            start = self.rng.choice(free or list(range(SLOTS_PER_DAY - 1)))
            self._reserve[day] = {start, start + 1}
        return self._reserve[day]

    def free_slot(self, day: date, minutes: int) -> time:
        """A start time on the half-hour grid, free if possible (busy weeks overlap)."""
        reserved, need = self._reserved(day), -(-minutes // 30)
        busy = self._busy.get(day, set()) | reserved
        starts = range(SLOTS_PER_DAY - need + 1)
        free = [i for i in starts if not any(i + j in busy for j in range(need))]
        fallback = [i for i in starts if not any(i + j in reserved for j in range(need))]
        return _slot_time(self.rng.choice(free or fallback))

    def meeting(
        self,
        event_id: str,
        start: datetime,
        minutes: int,
        people: Sequence[Person],
        *,
        summary: str,
        organizer: str | None = None,
        room: tuple[str, str] | None = None,
        series_id: str | None = None,
    ) -> SandboxEvent:
        """A meeting with the owner (accepted) and ``people``; not stored yet."""
        attendees = [SandboxAttendee(self.owner.email, self.owner.name)]
        attendees += [SandboxAttendee(p.email, p.name) for p in people]
        if room:
            attendees.append(_room(room))
        return SandboxEvent(
            id=event_id,
            start=start,
            end=start + timedelta(minutes=minutes),
            organizer=organizer or self.owner.email,
            attendees=attendees,
            summary=summary,
            series_id=series_id,
            original_start=start if series_id else None,
            created=min(start, self.now) - timedelta(days=7),
        )


def _slot_index(clock: time) -> int:
    return (clock.hour * 60 + clock.minute - WORKDAY_START.hour * 60) // 30


def _slot_time(index: int) -> time:
    minutes = WORKDAY_START.hour * 60 + index * 30
    return time(minutes // 60, minutes % 60)


def _room(room: tuple[str, str]) -> SandboxAttendee:
    slug, name = room
    return SandboxAttendee(f"{slug}@resource.{DOMAIN}", name, resource=True)


def _attendee(event: SandboxEvent, email: str) -> SandboxAttendee:
    return next(a for a in event.attendees if a.email == email)


def _past(cal: _Calendar, events: list[SandboxEvent]) -> list[SandboxEvent]:
    return [event for event in events if event.start < cal.now]


def _one_on_one_title(cal: _Calendar, person: Person) -> str:
    return f"{cal.owner.name.split()[0]} / {person.first_name} 1:1"


# --- recurring series -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Recurrence:
    """A series in the owner's local time: every ``step`` days at ``clock``, through ``anchor``."""

    key: str
    summary: str
    anchor: date
    clock: time
    minutes: int
    step: int = 7
    until: date | None = None


def _series(
    cal: _Calendar,
    rule: _Recurrence,
    people: Sequence[Person],
    *,
    organizer: str | None = None,
    room: tuple[str, str] | None = None,
) -> list[SandboxEvent]:
    """Every occurrence of ``rule`` inside the calendar's window (not stored yet)."""
    series_id = cal.ident("series", rule.key)
    events = []
    for day in _recurrences(rule.anchor, rule.step, cal.first_day, rule.until or cal.last_day):
        start = cal.at(day, rule.clock)
        occurrence_id = series_id + start.strftime("%Y%m%dt%H%M%S")  # Google's alphabet
        events.append(
            cal.meeting(
                occurrence_id,
                start,
                rule.minutes,
                people,
                summary=rule.summary,
                organizer=organizer,
                room=room,
                series_id=series_id,
            )
        )
    return events


def _recurrences(anchor: date, step: int, first: date, last: date) -> Iterator[date]:
    day = anchor - timedelta(days=step * ((anchor - first).days // step))
    while day <= last:
        yield day
        day += timedelta(days=step)


def _plant_series(cal: _Calendar, cast: _Cast) -> None:
    roles, reports = cast.roles, cast.direct_reports()
    room = cal.rng.choice(ROOMS)
    team = _Recurrence("team", "Team weekly", cal.this_week(MON), time(11), 60)
    _store(cal, _series(cal, team, reports, room=room))
    _dr_healthy(cal, roles["dr-healthy"])
    _dr_series_ended(cal, roles["dr-series-ended"])
    _dr_cancel_streak(cal, roles["dr-cancel-streak"])
    _dr_declined_streak(cal, roles["dr-declined-streak"])
    manager = roles["manager"]
    rule = _Recurrence(
        "manager", _one_on_one_title(cal, manager), cal.this_week(FRI), time(9, 30), 30
    )
    _store(cal, _series(cal, rule, [manager], organizer=manager.email))
    _mentor(cal, roles["mentor"])
    _all_hands(cal, cast)
    _dr_series_stops(cal, roles["dr-series-stops"])
    _dr_made_up(cal, roles["dr-made-up"])
    _peer_declining(cal, roles["peer-declining"])
    _peer_cancelling(cal, roles["peer-cancelling"])
    _daily_standup(cal, [roles["daily-a"], roles["daily-b"]])
    _stopped_group(cal, [roles[f"group-{n}"] for n in "abc"])
    _partner_series_ended(cal, roles["partner-series-ended"])
    _mentor_met_a_year_ago(cal, roles["mentor-met-a-year-ago"])
    _project_run_ended(cal, [roles[pattern] for pattern in PROJECT_PATTERNS])
    _old_project(cal, cast)


def _store(cal: _Calendar, events: list[SandboxEvent]) -> None:
    for event in events:
        cal.put(event)


def _dr_healthy(cal: _Calendar, person: Person) -> None:
    rule = _Recurrence(
        "dr-healthy", _one_on_one_title(cal, person), cal.this_week(TUE), time(10), 30
    )
    events = _series(cal, rule, [person])
    past = _past(cal, events)
    for event in (past[len(past) // 4], past[len(past) // 2]):  # months ago, long forgiven
        event.cancelled = True
    _store(cal, events)


def _dr_series_ended(cal: _Calendar, person: Person) -> None:
    until = (cal.now - timedelta(days=43)).astimezone(cal.zone).date()
    title = _one_on_one_title(cal, person)
    rule = _Recurrence("dr-series-ended", title, cal.this_week(TUE), time(11), 30, until=until)
    _store(cal, _series(cal, rule, [person]))


def _dr_cancel_streak(cal: _Calendar, person: Person) -> None:
    title = _one_on_one_title(cal, person)
    rule = _Recurrence("dr-cancel-streak", title, cal.this_week(WED), time(14), 30)
    events = _series(cal, rule, [person])
    for event in _past(cal, events)[-3:]:
        event.cancelled = True
    _store(cal, events)


def _dr_declined_streak(cal: _Calendar, person: Person) -> None:
    title = _one_on_one_title(cal, person)
    rule = _Recurrence("dr-declined-streak", title, cal.this_week(THU), time(15), 30, step=14)
    events = _series(cal, rule, [person])
    past = _past(cal, events)
    for event in past[-3:]:
        _attendee(event, person.email).response = "declined"
    for event in events[len(past) :]:
        _attendee(event, person.email).response = "needsAction"
    _store(cal, events)


def _mentor(cal: _Calendar, person: Person) -> None:
    anchor = _weekday_on_or_before(cal.today - timedelta(days=19))
    rule = _Recurrence(
        "mentor", f"Mentoring: {cal.owner.name} & {person.name}", anchor, time(16), 45, step=28
    )
    _store(cal, _series(cal, rule, [person], organizer=person.email))


def _all_hands(cal: _Calendar, cast: _Cast) -> None:
    people = [*cast.weak_ties, *cast.filler]
    rule = _Recurrence(
        "all-hands", "Northwind all-hands", cal.this_week(THU), time(16), 60, step=28
    )
    _store(cal, _series(cal, rule, people, organizer=people[0].email, room=ATRIUM))


ENDED_RUN_MEETINGS = 14


def _partner_series_ended(cal: _Calendar, person: Person) -> None:
    """A project's weekly one-on-one that ran 14 times and ended well (all held): its
    title names the project, which the thank-you must never repeat."""
    last = _weekday_on_or_before(_days_before(cal, 17).astimezone(cal.zone).date())
    title = f"Project Larkspur sync: {cal.owner.name.split()[0]} & {person.first_name}"
    rule = _Recurrence("partner-series-ended", title, last, time(13), 45, until=last)
    _store(cal, _series(cal, rule, [person], organizer=person.email)[-ENDED_RUN_MEETINGS:])


PROJECT_RUN_MEETINGS = 12


def _project_run_ended(cal: _Calendar, people: Sequence[Person]) -> None:
    """A project's weekly meeting with three people, held 12 times, that ended well ~16
    days ago: one thank-you to the group. Its title names the project, which the
    thank-you must never repeat."""
    last = _weekday_on_or_before(_days_before(cal, 16).astimezone(cal.zone).date())
    rule = _Recurrence("project-run-ended", "Project Heron weekly", last, time(12), 45, until=last)
    _store(cal, _series(cal, rule, people)[-PROJECT_RUN_MEETINGS:])


def _mentor_met_a_year_ago(cal: _Calendar, person: Person) -> None:
    """First met on a weekday a year before a recent working day, then every four weeks
    (a healthy monthly mentoring): the year since the first meeting falls just before now."""
    first = _a_year_before_a_recent_working_day(cal.today)
    rule = _Recurrence("mentor-met-a-year-ago", "Mentoring", first, time(15), 45, step=28)
    met = [
        e
        for e in _series(cal, rule, [person], organizer=person.email)
        if e.start >= cal.at(first, time(0))
    ]
    _store(cal, met)


def _a_year_before_a_recent_working_day(today: date) -> date:
    """The latest weekday whose first anniversary is a weekday before ``today``."""
    for back in range(1, 8):
        day = today - timedelta(days=back)
        try:
            first = day.replace(year=day.year - 1)
        except ValueError:  # 29 February: no such day a year before
            continue
        if day.weekday() < 5 and first.weekday() < 5:
            return first
    raise AssertionError("a week always has such a day")


NEW_SINCE = ("mentor-met-a-year-ago", "new-contact")
"""Scenario people the owner did not know before the generated year."""


def _old_project(cal: _Calendar, cast: _Cast) -> None:
    """A large weekly planning meeting ~14 months ago, before the generated year, with
    everyone the owner already worked with: the history reaches further back than a
    year, so the mentor first met a year ago is known to be new then, and nobody else's
    first meeting in the generated year reads as a first meeting (it is the year's edge)."""
    known = [p for key, p in cast.roles.items() if key not in NEW_SINCE] + list(cast.filler)
    for weeks in range(56, 62):
        day = cal.today - timedelta(weeks=weeks)
        start = cal.at(day - timedelta(days=day.weekday()), time(10))
        event_id = cal.ident("old-planning", day.isoformat())
        cal.put(cal.meeting(event_id, start, 60, known, summary="Planning"))


def _days_before(cal: _Calendar, days: int) -> datetime:
    return cal.now - timedelta(days=days)


def _dr_series_stops(cal: _Calendar, person: Person) -> None:
    until = _days_before(cal, 130).astimezone(cal.zone).date()
    title = _one_on_one_title(cal, person)
    rule = _Recurrence("dr-series-stops", title, cal.this_week(MON), time(15), 30, until=until)
    _store(cal, _series(cal, rule, [person]))


def _dr_made_up(cal: _Calendar, person: Person) -> None:
    """Weekly; two one-off cancellations, ~140 and ~50 days ago (made up later, see below)."""
    rule = _Recurrence(
        "dr-made-up", _one_on_one_title(cal, person), cal.this_week(THU), time(10), 30
    )
    events = _series(cal, rule, [person])
    for days in (140, 50):
        _nearest(events, _days_before(cal, days)).cancelled = True
    _store(cal, events)


def _made_up_catch_ups(cal: _Calendar, person: Person) -> None:
    """Each cancelled ``dr-made-up`` occurrence made up by a one-on-one 1, then 2 days on."""
    series_id = cal.ident("series", "dr-made-up")
    cancelled = [e for e in cal.owner.events.values() if e.series_id == series_id and e.cancelled]
    for n, missed in enumerate(sorted(cancelled, key=lambda e: e.start)):
        day = add_working_days(missed.start.astimezone(cal.zone).date(), 1 + n)
        summary = f"{_one_on_one_title(cal, person)} (moved)"
        _occasional(cal, f"dr-made-up-{n}", person, [day], lambda: [], summary=summary)


def _peer_declining(cal: _Calendar, person: Person) -> None:
    """Declined by them every week from ~100 days ago on, the coming weeks included."""
    rule = _Recurrence(
        "peer-declining", _one_on_one_title(cal, person), cal.this_week(WED), time(11), 30
    )
    events = _series(cal, rule, [person])
    for event in events:
        if event.start >= _days_before(cal, 100):
            _attendee(event, person.email).response = "declined"
    _store(cal, events)


def _peer_cancelling(cal: _Calendar, person: Person) -> None:
    """Fortnightly; every past occurrence since ~160 days ago cancelled but one ~90 days ago."""
    title = _one_on_one_title(cal, person)
    rule = _Recurrence("peer-cancelling", title, cal.this_week(FRI), time(14), 30, step=14)
    events = _series(cal, rule, [person])
    resumed = _nearest(events, _days_before(cal, 90))
    for event in _past(cal, events):
        if event.start >= _days_before(cal, 160) and event is not resumed:
            event.cancelled = True
    _store(cal, events)


def _daily_standup(cal: _Calendar, people: Sequence[Person]) -> None:
    """Every working day at 09:00; a Thursday and Friday ~70 days ago and a few others off."""
    series_id = cal.ident("series", "daily-standup")
    around = cal.today - timedelta(days=70)
    friday = around - timedelta(days=(around.weekday() - FRI) % 7)
    off = {friday - timedelta(days=1), friday}
    events = []
    for day in cal.weekdays(cal.first_day, cal.last_day):
        start = cal.at(day, time(9))
        event = cal.meeting(
            series_id + start.strftime("%Y%m%dt%H%M%S"),
            start,
            15,
            people,
            summary="Daily stand-up",
            series_id=series_id,
        )
        event.cancelled = day in off or cal.rng.random() < 0.03
        events.append(event)
    _store(cal, events)


def _stopped_group(cal: _Calendar, people: Sequence[Person]) -> None:
    until = _days_before(cal, 63).astimezone(cal.zone).date()
    rule = _Recurrence(
        "stopped-group", "Pricing working group", cal.this_week(TUE), time(14), 60, 14, until
    )
    _store(cal, _series(cal, rule, people, room=cal.rng.choice(ROOMS)))


def _nearest(events: Sequence[SandboxEvent], moment: datetime) -> SandboxEvent:
    return min(events, key=lambda e: abs(e.start - moment))


# --- occasional meetings (no series) -----------------------------------------------------------


def _weekday_on_or_before(day: date) -> date:
    return day - timedelta(days=max(0, day.weekday() - FRI))


def _backdated(last: date, first: date, gap: Callable[[], int]) -> list[date]:
    """Weekdays from ``last`` back to ``first``, ``gap()`` days apart (weekends move to Friday)."""
    days, day = [], last
    while day >= first:
        days.append(_weekday_on_or_before(day))
        day -= timedelta(days=gap())
    return days[::-1]


def _occasional(
    cal: _Calendar,
    key: str,
    person: Person,
    days: Sequence[date],
    companions: Callable[[], list[Person]],
    *,
    summary: str,
    organizer: Callable[[int], str | None] = lambda n: None,
) -> None:
    for n, day in enumerate(days):
        minutes = cal.rng.choice((30, 45))
        start = cal.at(day, cal.free_slot(day, minutes))
        people = [person, *companions()]
        room = cal.rng.choice(ROOMS) if len(people) > 1 else None
        event_id = cal.ident(key, str(n))
        cal.put(
            cal.meeting(
                event_id, start, minutes, people, summary=summary, organizer=organizer(n), room=room
            )
        )


def _plant_occasional(cal: _Calendar, cast: _Cast) -> None:
    rng, roles, today = cal.rng, cast.roles, cal.today

    def up_to(n: int) -> Callable[[], list[Person]]:
        return lambda: rng.sample(cast.filler, rng.randint(0, n))

    def alone() -> list[Person]:
        return []

    def days_ago(n: int) -> date:
        return today - timedelta(days=n)

    quiet = _backdated(days_ago(45), days_ago(45 + 240), lambda: rng.randint(9, 11))
    _occasional(cal, "peer-quiet", roles["peer-quiet"], quiet, up_to(2), summary="Platform sync")
    fading = _backdated(days_ago(28), cal.first_day, lambda: 14)
    _occasional(cal, "peer-fading", roles["peer-fading"], fading, up_to(1), summary="Pricing sync")
    booked = _backdated(days_ago(40), cal.first_day, lambda: 14)
    booked.append(_weekday_on_or_before(today + timedelta(days=5)))
    peer = roles["peer-booked"]
    _occasional(cal, "peer-booked", peer, booked, alone, summary=_one_on_one_title(cal, peer))
    lapsed = _backdated(days_ago(80), cal.first_day, lambda: rng.randint(28, 32))
    mentor = roles["mentor-lapsed"]
    _occasional(cal, "mentor-lapsed", mentor, lapsed, alone, summary=f"Coffee with {mentor.name}")
    external = roles["quarterly-external"]
    quarterly = _backdated(days_ago(60), cal.first_day, lambda: 90)
    _occasional(
        cal,
        "quarterly-external",
        external,
        quarterly,
        alone,
        summary=f"Northwind / {external.email.split('@')[1]} quarterly",
        organizer=lambda n: external.email if n % 2 else None,
    )
    newcomer = roles["new-contact"]
    first, second = _weekday_on_or_before(days_ago(11)), _weekday_on_or_before(days_ago(4))
    _occasional(cal, "new-contact-1", newcomer, [first], alone, summary="Intro chat")
    _occasional(cal, "new-contact-2", newcomer, [second], up_to(1), summary="Onboarding follow-up")
    _made_up_catch_ups(cal, roles["dr-made-up"])


# --- noise the analysis must ignore ----------------------------------------------------------


def _plant_noise(cal: _Calendar) -> None:
    _out_of_office(cal)
    _working_locations(cal)
    _focus_time(cal)
    _all_day_events(cal)


def _working_locations(cal: _Calendar) -> None:
    for day in cal.weekdays(cal.first_day, cal.last_day):
        place = "Office" if day.weekday() in (TUE, WED, THU) else "Home"
        cal.put(_marker(cal, "workingLocation", day, place))


def _all_day_events(cal: _Calendar) -> None:
    first = cal.first_day + timedelta(days=17)
    for n, day in enumerate(_recurrences(first, 37, cal.first_day, cal.last_day)):
        title = ALL_DAY_TITLES[n % len(ALL_DAY_TITLES)]
        cal.put(_marker(cal, "default", _weekday_on_or_before(day), title))


def _marker(cal: _Calendar, event_type: str, day: date, summary: str) -> SandboxEvent:
    """An all-day, attendee-less, transparent event (working location, planning days)."""
    return SandboxEvent(
        id=cal.ident(event_type, day.isoformat(), summary),
        start=cal.midnight(day),
        end=cal.midnight(day + timedelta(days=1)),
        organizer=cal.owner.email,
        summary=summary,
        all_day=True,
        transparent=True,
        event_type=event_type,
        created=min(cal.midnight(day), cal.now) - timedelta(days=7),
    )


def _out_of_office(cal: _Calendar) -> None:
    holiday = cal.this_week(MON) - timedelta(weeks=cal.rng.randint(16, 22))
    _away(cal, holiday, days=5)
    history = list(cal.weekdays(cal.first_day, cal.today - timedelta(days=1)))
    for day in cal.rng.sample(history, 4):
        _away(cal, day, days=1)
    _away(cal, cal.rng.choice(list(cal.weekdays(cal.today + timedelta(days=8), cal.last_day))), 1)


def _away(cal: _Calendar, first: date, days: int) -> None:
    last = first + timedelta(days=days)
    start, end = cal.at(first, time(0)), cal.at(last, time(0))
    cal.out_of_office.update(first + timedelta(days=n) for n in range(days))
    cal.put(
        SandboxEvent(
            id=cal.ident("ooo", first.isoformat()),
            start=start,
            end=end,
            organizer=cal.owner.email,
            summary="Out of office",
            event_type="outOfOffice",
            created=min(start, cal.now) - timedelta(days=14),
        )
    )


def _focus_time(cal: _Calendar) -> None:
    for week in range(cal.weeks):
        days = [d for d in cal.week_days(week) if d not in cal.out_of_office]
        for day in cal.rng.sample(days, min(3, len(days))):
            start = cal.at(day, cal.free_slot(day, 120))
            cal.put(
                SandboxEvent(
                    id=cal.ident("focus", day.isoformat()),
                    start=start,
                    end=start + timedelta(hours=2),
                    organizer=cal.owner.email,
                    summary="Focus time",
                    event_type="focusTime",
                    created=min(start, cal.now) - timedelta(days=7),
                )
            )


# --- filler -------------------------------------------------------------------------------


def _plant_filler(cal: _Calendar, people: Sequence[Person]) -> None:
    """Meetings with non-scenario colleagues until each week holds ``events_per_week``."""
    serial = 0
    for week in range(cal.weeks):
        days = [d for d in cal.week_days(week) if d not in cal.out_of_office]
        missing = cal.spec.events_per_week - cal.week_counts[week] if days else 0
        for _ in range(missing):
            cal.put(_filler_meeting(cal, people, cal.rng.choice(days), serial))
            serial += 1


def _filler_meeting(
    cal: _Calendar, people: Sequence[Person], day: date, serial: int
) -> SandboxEvent:
    rng = cal.rng
    minutes = rng.choice(LOOKAHEAD_MINUTES if day > cal.today else HISTORY_MINUTES)
    start = cal.at(day, cal.free_slot(day, minutes))
    others = rng.sample(people, rng.randint(2, min(7, len(people))))
    organizer = None if rng.random() < 0.6 else others[0].email
    room = rng.choice(ROOMS) if rng.random() < 0.7 else None
    event = cal.meeting(
        cal.ident("filler", str(serial)),
        start,
        minutes,
        others,
        summary=rng.choice(TOPICS),
        organizer=organizer,
        room=room,
    )
    for attendee in event.attendees[1:]:
        if not attendee.resource:
            attendee.response = rng.choices(("accepted", "tentative", "declined"), (17, 2, 1))[0]
    event.attendees[0].response = rng.choices(("accepted", "tentative", "declined"), (16, 1, 2))[0]
    return event


# --- moments read from the directory and free/busy (Microsoft only) -----------------------------


def plant_moments(world: World, org: GeneratedOrg, now: datetime) -> tuple[str, str]:
    """On a Microsoft organisation: the manager joined three years ago today (a hire date
    in the directory) and the mentor is back today from two weeks out of office (their
    own mailbox in the tenant shows it to getSchedule). Returns (manager, mentor)."""
    zone = ZoneInfo(org.owner.time_zone)
    today = now.astimezone(zone).date()
    manager = next(e for e in org.expectations if e.pattern == "manager")
    mentor = next(e for e in org.expectations if e.pattern == "mentor")
    hired = _years_before(today, 3)
    world.hire_dates[manager.email] = datetime.combine(hired, time(0), UTC)
    away = world.add_mailbox(
        Mailbox(mentor.email, mentor.name, "microsoft", time_zone=org.owner.time_zone)
    )
    away.windows_time_zone = org.owner.windows_time_zone
    back = datetime.combine(today, time(0), zone)
    holiday = SandboxEvent(
        id=f"holiday-{away.identity}",
        start=back - timedelta(days=14),
        end=back,
        organizer=mentor.email,
        summary="Holiday",
        all_day=True,
        event_type="outOfOffice",
    )
    world.put_event(away, holiday)
    return manager.email, mentor.email


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February: marked on the 28th in common years
        return day.replace(year=day.year - years, day=28)
