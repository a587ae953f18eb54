"""The relationship audit: every contact's health, from one pass over the owner's events.

Events stream through once; per contact only its own interactions and one-on-one
occurrences are kept (linear memory), then each contact is judged on its own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from nudger.analysis.appreciation import Company
from nudger.analysis.features import build_features
from nudger.analysis.groups import with_groups
from nudger.analysis.interactions import (
    Seen,
    company_of,
    interactions_of,
    met_before_window,
    missed_company_of,
    occurrence_of,
    orphan_of,
    seen,
    unique_events,
    upcoming_of,
)
from nudger.analysis.judgement import Judgement, RoleCadence
from nudger.analysis.model import (
    Anniversary,
    ContactFeatures,
    ContactPrefs,
    EndedRun,
    Interaction,
    Occurrence,
    Owner,
    Rupture,
    Status,
    WelcomeBack,
    WorkAnniversary,
)
from nudger.analysis.moments import find_anniversary, find_welcome_back, find_work_anniversary
from nudger.analysis.status import classify
from nudger.analysis.workdays import WorkCalendar, days_away, work_calendar
from nudger.connectors.base import CalendarEvent, EventKind


@dataclass(frozen=True)
class ContactHealth:
    """One row of the audit: what nudger thinks of one relationship, and why."""

    email: str
    name: str | None
    status: Status
    role: str | None
    last_interaction: datetime | None
    next_meeting: datetime | None
    cadence_days: float | None
    strength: float
    reasons: tuple[str, ...]
    features: ContactFeatures
    cadence_working_days: float | None = None
    group: tuple[str, ...] = ()
    """Everyone (this contact included) met only in the same meetings lately."""
    group_run: EndedRun | None = None
    """The group's run of meetings, once it ended (see ``appreciation.group_run``)."""

    @property
    def repair(self) -> Rupture | None:
        return self.features.rupture

    @property
    def ended_run(self) -> EndedRun | None:
        return self.features.ended_run

    @property
    def anniversary(self) -> Anniversary | None:
        return self.features.anniversary

    @property
    def work_anniversary(self) -> WorkAnniversary | None:
        return self.features.work_anniversary

    @property
    def welcome_back(self) -> WelcomeBack | None:
        return self.features.welcome_back

    def to_json(self) -> dict[str, object]:
        """The ``nudger audit --json`` contract (DESIGN.md), plus ``role`` and ``one_on_one``."""
        one_on_one = self.features.one_on_one
        return {
            "email": self.email,
            "name": self.name,
            "status": self.status.value,
            "last_interaction": _iso(self.last_interaction),
            "next_meeting": _iso(self.next_meeting),
            "cadence_days": _rounded(self.cadence_days),
            "strength": self.strength,
            "reasons": list(self.reasons),
            "role": self.role,
            "one_on_one": one_on_one.to_json() if one_on_one else None,
            "cadence_working_days": _rounded(self.cadence_working_days),
            "repair": self.repair.to_json() if self.repair else None,
            **({"ended_run": self.ended_run.to_json()} if self.ended_run else {}),
            **({"anniversary": self.anniversary.to_json()} if self.anniversary else {}),
            **_moment("work_anniversary", self.work_anniversary),
            **_moment("welcome_back", self.welcome_back),
            **({"group": list(self.group)} if self.group else {}),
            **({"group_run": self.group_run.to_json()} if self.group_run else {}),
        }


@dataclass
class _Ledger:
    """What the pass over events gathers about one contact (internal, mutable)."""

    interactions: list[Interaction] = field(default_factory=list)
    occurrences: list[Occurrence] = field(default_factory=list)
    next_meeting: datetime | None = None
    upcoming_small: list[str | None] = field(default_factory=list)
    """The series (or None) of each small meeting planned with the contact."""
    name: str | None = None
    name_seen: datetime | None = None
    met_before: datetime | None = None
    """The earliest held meeting with them older than the analysis window."""
    company: list[tuple[datetime, tuple[str, ...]]] = field(default_factory=list)
    """Each held group meeting with them, and everyone who attended it."""
    missed_company: list[tuple[datetime, frozenset[str]]] = field(default_factory=list)
    """Each group meeting with them that did not take place, and who was invited."""
    planned_group: bool = False
    """A meeting of at most medium size is planned with them."""

    def company_seen(self) -> Company:
        return Company(tuple(self.company), tuple(self.missed_company), self.planned_group)


def audit(
    owner: Owner,
    events: Iterable[CalendarEvent],
    prefs: Mapping[str, ContactPrefs],
    now: datetime,
    judgement: Judgement,
    roles: Mapping[str, RoleCadence],
) -> list[ContactHealth]:
    """Every contact's health, most urgent first (then strongest first)."""
    return full_audit(owner, events, prefs, now, judgement, roles).healths


@dataclass(frozen=True)
class Audit:
    """The audit, and the owner's days away it counted working days with."""

    healths: list[ContactHealth]
    away: frozenset[date]
    history_from: datetime | None = None
    """The oldest stored event's start: how far back the history goes."""


def full_audit(
    owner: Owner,
    events: Iterable[CalendarEvent],
    prefs: Mapping[str, ContactPrefs],
    now: datetime,
    judgement: Judgement,
    roles: Mapping[str, RoleCadence],
) -> Audit:
    """``audit``, keeping the days away for a later ``partial_audit``."""
    gathered = collect_ledgers(owner, events, now, judgement)
    everyone = set(gathered.ledgers) | _with_roles(prefs, owner)
    fresh = _assessed(everyone, gathered, owner, prefs, now, judgement, roles)
    return Audit(_listed(fresh, now, judgement), frozenset(gathered.away), gathered.history_from)


def partial_audit(
    previous: Audit,
    touched: Collection[str],
    owner: Owner,
    events: Iterable[CalendarEvent],
    prefs: Mapping[str, ContactPrefs],
    now: datetime,
    judgement: Judgement,
    roles: Mapping[str, RoleCadence],
) -> Audit:
    """``previous`` with the ``touched`` contacts assessed again from ``events``.

    ``events`` must hold every event a touched contact is in, and every event sharing a
    series or an iCalendar UID with one of those (see ``series_partners``); the days
    away must not have changed. Then each touched contact's health is what
    ``full_audit`` would find, and the others keep theirs.
    """
    again = {email.lower() for email in touched}
    ledgers = collect_ledgers(owner, events, now, judgement, only=again).ledgers
    gathered = Gathered(ledgers, set(previous.away), previous.history_from)
    present = again & (set(gathered.ledgers) | _with_roles(prefs, owner))
    kept = [replace(h, group=(), group_run=None) for h in previous.healths if h.email not in again]
    fresh = _assessed(present, gathered, owner, prefs, now, judgement, roles)
    return Audit(_listed(kept + fresh, now, judgement), previous.away, previous.history_from)


def series_partners(
    events: Iterable[CalendarEvent], owner: Owner, contacts: Collection[str]
) -> frozenset[str]:
    """Everyone with a one-on-one in a series one of ``contacts`` has one in: an orphan
    cancellation goes to one of them, so they are assessed together."""
    by_series: defaultdict[str, set[str]] = defaultdict(set)
    for event in events:
        found = occurrence_of(seen(event, owner)) if event.series_id else None
        if found is not None and event.series_id:
            by_series[event.series_id].add(found[0])
    wanted = {c.lower() for c in contacts}
    return frozenset(e for people in by_series.values() if people & wanted for e in people)


def _with_roles(prefs: Mapping[str, ContactPrefs], owner: Owner) -> set[str]:
    """People the user gave a role: in the audit even with no meeting on record."""
    return {e.lower() for e, p in prefs.items() if p.role and e.lower() not in owner.emails}


def _assessed(
    emails: Iterable[str],
    gathered: Gathered,
    owner: Owner,
    prefs: Mapping[str, ContactPrefs],
    now: datetime,
    judgement: Judgement,
    roles: Mapping[str, RoleCadence],
) -> list[ContactHealth]:
    by_email = {email.lower(): pref for email, pref in prefs.items()}
    cal = work_calendar(ZoneInfo(owner.time_zone), owner.working_days, gathered.away)
    ledgers = gathered.ledgers
    return [
        assess(
            email,
            ledgers.get(email) or _Ledger(),
            by_email.get(email),
            now,
            cal,
            judgement,
            roles,
            gathered.history_from,
        )
        for email in emails
    ]


def _listed(
    healths: list[ContactHealth], now: datetime, judgement: Judgement
) -> list[ContactHealth]:
    listed = [h for h in healths if _worth_listing(h)]
    return sorted(with_groups(listed, now, judgement), key=_severity_then_strength)


@dataclass(frozen=True)
class Gathered:
    """What one pass over the events yields: each contact's ledger, the owner's days away."""

    ledgers: dict[str, _Ledger]
    away: set[date]
    history_from: datetime | None = None


def collect_ledgers(
    owner: Owner,
    events: Iterable[CalendarEvent],
    now: datetime,
    judgement: Judgement,
    only: Collection[str] | None = None,
) -> Gathered:
    """One pass: each contact's interactions, one-on-one occurrences, next meeting, name
    (``only`` these contacts' ledgers when given)."""
    ledgers: defaultdict[str, _Ledger] = defaultdict(_Ledger)
    orphans: list[Occurrence] = []
    away_events: list[CalendarEvent] = []
    keep = (lambda _email: True) if only is None else frozenset(only).__contains__
    history_from: datetime | None = None
    for event in unique_events(events):
        if history_from is None or event.start < history_from:
            history_from = event.start
        view = seen(event, owner)
        _record(view, now, judgement, ledgers, keep)
        orphan = orphan_of(view)
        if orphan is not None:
            orphans.append(orphan)
        if event.kind is EventKind.OUT_OF_OFFICE:
            away_events.append(event)
    _attach_orphans(orphans, ledgers)
    away = days_away(away_events, ZoneInfo(owner.time_zone))
    return Gathered(dict(ledgers), away, history_from)


def _record(
    view: Seen,
    now: datetime,
    judgement: Judgement,
    ledgers: defaultdict[str, _Ledger],
    keep: Callable[[str], bool],
) -> None:
    event = view.event
    for interaction in interactions_of(view, now, judgement, keep):
        ledgers[interaction.contact].interactions.append(interaction)
    for contact in filter(keep, met_before_window(view, now, judgement)):
        ledger = ledgers[contact]
        if ledger.met_before is None or event.start < ledger.met_before:
            ledger.met_before = event.start
    planned = upcoming_of(view, now)
    small = len(planned) + 1 <= judgement.weights.small_max_size
    medium = len(planned) + 1 <= judgement.weights.medium_max_size
    for contact in filter(keep, planned):
        ledger = ledgers[contact]
        if ledger.next_meeting is None or event.start < ledger.next_meeting:
            ledger.next_meeting = event.start
        if small:
            ledger.upcoming_small.append(event.series_id)
        ledger.planned_group = ledger.planned_group or medium
    _record_company(view, now, judgement, ledgers, keep)
    found = occurrence_of(view)
    if found is not None and keep(found[0]):
        ledgers[found[0]].occurrences.append(found[1])
    for attendee in view.others:
        if attendee.name and keep(email := attendee.email.lower()):
            _note_name(ledgers[email], attendee.name, event.start)


def _record_company(
    view: Seen,
    now: datetime,
    judgement: Judgement,
    ledgers: defaultdict[str, _Ledger],
    keep: Callable[[str], bool],
) -> None:
    """Group meetings held or missed, for each person in them (see ``appreciation``)."""
    start = view.event.start
    attended = company_of(view, now, judgement)
    for contact in filter(keep, attended or ()):
        ledgers[contact].company.append((start, attended or ()))
    invited = missed_company_of(view, now, judgement)
    for contact in filter(keep, invited or ()):
        ledgers[contact].missed_company.append((start, invited or frozenset()))


def _note_name(ledger: _Ledger, name: str, seen: datetime) -> None:
    """Keep the display name from the most recent event."""
    if ledger.name_seen is None or seen >= ledger.name_seen:
        ledger.name, ledger.name_seen = name, seen


def _attach_orphans(orphans: list[Occurrence], ledgers: Mapping[str, _Ledger]) -> None:
    """Give attendee-less cancelled occurrences to the contact whose series they belong to."""
    series_contact = {
        occurrence.series_id: email
        for email, ledger in ledgers.items()
        for occurrence in ledger.occurrences
        if occurrence.series_id
    }
    for orphan in orphans:
        contact = series_contact.get(orphan.series_id or "")
        if contact is not None:
            ledgers[contact].occurrences.append(orphan)


def assess(
    email: str,
    ledger: _Ledger,
    pref: ContactPrefs | None,
    now: datetime,
    cal: WorkCalendar,
    judgement: Judgement,
    roles: Mapping[str, RoleCadence],
    history_from: datetime | None = None,
) -> ContactHealth:
    """Features, then status, for one contact (``history_from``: see ``Audit``)."""
    features = build_features(
        email,
        ledger.interactions,
        ledger.occurrences,
        ledger.next_meeting,
        ledger.upcoming_small,
        now,
        cal,
        judgement,
        ledger.company_seen(),
    )
    first_met = ledger.met_before or features.first_interaction
    hired, absence = (pref.hire_date, pref.absence) if pref else (None, None)
    features = replace(
        features,
        anniversary=find_anniversary(first_met, history_from, now, cal, judgement),
        work_anniversary=find_work_anniversary(hired, now, cal, judgement),
        welcome_back=find_welcome_back(absence, now, cal, judgement),
    )
    role = pref.role if pref else None
    override = pref.cadence_override_days if pref else None
    name = (pref.name if pref and pref.name else None) or ledger.name
    verdict = classify(features, role, override, now, cal, judgement, roles, name or email)
    return ContactHealth(
        email=email,
        name=name,
        status=verdict.status,
        role=role,
        last_interaction=features.last_interaction,
        next_meeting=features.next_meeting,
        cadence_days=None if verdict.cadence is None else cal.to_calendar_days(verdict.cadence),
        strength=round(features.strength, 3),
        reasons=verdict.reasons,
        features=features,
        cadence_working_days=verdict.cadence,
    )


def _worth_listing(health: ContactHealth) -> bool:
    """Someone only ever seen in cancelled or declined meetings is not a contact."""
    features = health.features
    return bool(
        health.role
        or features.interactions
        or features.next_meeting
        or features.one_on_one is not None
    )


def _severity_then_strength(health: ContactHealth) -> tuple[int, float, str]:
    return health.status.severity, -health.strength, health.email


def _moment(key: str, moment: WorkAnniversary | WelcomeBack | None) -> dict[str, object]:
    return {key: moment.to_json()} if moment else {}


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
