"""From calendar events to interactions: who the owner really spent time with, and how much.

Event-level functions only; ``audit.py`` streams events through them. An event counts
as an interaction with an attendee only if it was a real meeting (not cancelled, not
out-of-office/focus/working location, not one of nudger's own holds), it is over, the
owner did not decline and that attendee did not decline. Rooms, resources and the
owner's own addresses are never contacts.

A hold stops being nudger's once somebody else has accepted it: the user invited the
contact (or anyone) into the time nudger kept, so it is a meeting like any other.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from nudger.analysis.judgement import Judgement, SizeWeights
from nudger.analysis.model import Interaction, Occurrence, Owner
from nudger.connectors.base import Attendee, CalendarEvent, EventKind, Response

ACCEPTING = frozenset({Response.ACCEPTED, Response.TENTATIVE})


def dedupe_key(event: CalendarEvent) -> Hashable:
    """The same occurrence seen in two calendars has the same key."""
    if event.ical_uid:
        return ("uid", event.ical_uid, event.original_start or event.start)
    people = tuple(sorted(attendee.email.lower() for attendee in event.attendees))
    return ("time", event.start, people)


def unique_events(events: Iterable[CalendarEvent]) -> Iterator[CalendarEvent]:
    """Drop repeated occurrences; the first copy seen wins (memory: one key per event)."""
    seen: set[Hashable] = set()
    for event in events:
        key = dedupe_key(event)
        if key not in seen:
            seen.add(key)
            yield event


def other_people(event: CalendarEvent, owner: Owner) -> tuple[Attendee, ...]:
    """Invited people besides the owner: no resources, each address once."""
    return _split(event, owner)[0]


def _split(event: CalendarEvent, owner: Owner) -> tuple[tuple[Attendee, ...], bool]:
    """(``other_people``, ``owner_declined``) in one look at the attendees."""
    seen: set[str] = set()
    people: list[Attendee] = []
    declined_by_owner = False
    for attendee in event.attendees:
        email = attendee.email.lower()
        if attendee.is_self or email in owner.emails:  # the owner, under any address
            declined_by_owner = declined_by_owner or attendee.response is Response.DECLINED
        elif not (attendee.is_resource or not email or email in seen):
            seen.add(email)
            people.append(attendee)
    return tuple(people), declined_by_owner


def declined(attendee: Attendee) -> bool:
    return attendee.response is Response.DECLINED


def owner_declined(event: CalendarEvent, owner: Owner) -> bool:
    return _split(event, owner)[1]


def is_meeting_kind(
    event: CalendarEvent, owner: Owner, others: tuple[Attendee, ...] | None = None
) -> bool:
    """Only real meetings can be interactions: never nudger's own untouched holds, and
    never all-day events, which mark days (offsites, holidays, birthdays), not time
    spent together. (``others``: the event's ``other_people``, when already known.)"""
    if event.kind is not EventKind.MEETING or event.all_day:
        return False
    if not event.is_hold:
        return True
    return turned_into_meeting(event, owner, others)


def turned_into_meeting(
    event: CalendarEvent, owner: Owner, others: tuple[Attendee, ...] | None = None
) -> bool:
    """A hold someone besides the owner accepted: the user made it a real meeting."""
    people = other_people(event, owner) if others is None else others
    return any(a.response in ACCEPTING for a in people)


def size_weight(size: int, weights: SizeWeights) -> float:
    """How much a meeting of ``size`` people (owner included) counts."""
    if size <= 2:
        return weights.pair
    if size <= weights.small_max_size:
        return weights.small
    if size <= weights.medium_max_size:
        return weights.medium
    return weights.large


@dataclass(frozen=True)
class Seen:
    """One event as the owner sees it, worked out once: the other people in it, whether
    the owner declined, whether it is a real meeting (``is_meeting_kind``)."""

    event: CalendarEvent
    others: tuple[Attendee, ...]
    owner_declined: bool
    meeting: bool


def seen(event: CalendarEvent, owner: Owner) -> Seen:
    others, declined_by_owner = _split(event, owner)
    return Seen(event, others, declined_by_owner, is_meeting_kind(event, owner, others))


def interactions_in(
    event: CalendarEvent, owner: Owner, now: datetime, judgement: Judgement
) -> list[Interaction]:
    """One interaction per attending contact of a past, held meeting; else none."""
    return interactions_of(seen(event, owner), now, judgement)


def interactions_of(
    view: Seen, now: datetime, judgement: Judgement, keep: Callable[[str], bool] | None = None
) -> list[Interaction]:
    """``interactions_in`` of an event already seen (``keep``: only with these contacts).

    Size counts the people who did not decline (they are who was in the room).
    """
    if not _held_in_window(view, now, judgement.lookback_days):
        return []
    event = view.event
    attending = [a.email.lower() for a in view.others if a.response is not Response.DECLINED]
    size = len(attending) + 1
    weight = size_weight(size, judgement.weights)
    return [
        Interaction(email, event.start, event.end, size, weight, size == 2, event.event_id)
        for email in (attending if keep is None else filter(keep, attending))
    ]


def met_before_window(view: Seen, now: datetime, judgement: Judgement) -> list[str]:
    """Contacts who attended a held meeting older than the analysis window: too old to
    count as time spent, yet it shows they were met before (see ``moments``)."""
    event = view.event
    if event.start >= now - timedelta(days=judgement.lookback_days):
        return []
    if not view.meeting or event.cancelled or view.owner_declined:
        return []
    return [a.email.lower() for a in view.others if a.response is not Response.DECLINED]


def _held_in_window(view: Seen, now: datetime, lookback: int) -> bool:
    event = view.event
    return (
        view.meeting
        and not event.cancelled
        and event.end <= now
        and event.start >= now - timedelta(days=lookback)
        and not view.owner_declined
    )


def upcoming_contacts(event: CalendarEvent, owner: Owner, now: datetime) -> list[str]:
    """Contacts with whom this future meeting is planned (nobody concerned declined)."""
    return upcoming_of(seen(event, owner), now)


def upcoming_of(view: Seen, now: datetime) -> list[str]:
    event = view.event
    if not view.meeting or event.cancelled or event.start <= now or view.owner_declined:
        return []
    return [a.email.lower() for a in view.others if not declined(a)]


def one_on_one_occurrence(event: CalendarEvent, owner: Owner) -> tuple[str, Occurrence] | None:
    """A scheduled two-person meeting (held, cancelled or declined), keyed by the contact."""
    return occurrence_of(seen(event, owner))


def occurrence_of(view: Seen) -> tuple[str, Occurrence] | None:
    if not view.meeting or len(view.others) != 1:
        return None
    event, contact = view.event, view.others[0]
    occurrence = Occurrence(
        start=event.start,
        end=event.end,
        series_id=event.series_id,
        cancelled=event.cancelled,
        declined=declined(contact) or view.owner_declined,
        owner_declined=view.owner_declined,
        by_contact=contact.is_organizer
        or (event.organizer_email or "").lower() == contact.email.lower(),
    )
    return contact.email.lower(), occurrence


def orphan_cancellation(event: CalendarEvent, owner: Owner) -> Occurrence | None:
    """A cancelled series occurrence that arrived without attendees (Google sends these).

    The audit attaches it to the contact whose one-on-one series it belongs to.
    """
    return orphan_of(seen(event, owner))


def orphan_of(view: Seen) -> Occurrence | None:
    event = view.event
    if not (event.cancelled and event.series_id and view.meeting) or view.others:
        return None
    return Occurrence(event.start, event.end, event.series_id, cancelled=True)


def company_of(view: Seen, now: datetime, judgement: Judgement) -> tuple[str, ...] | None:
    """Everyone who attended a past, held meeting of two to ``medium_max_size - 1`` other
    people (sorted): the company a group's run of meetings is made of; else None."""
    if not _held_in_window(view, now, judgement.lookback_days):
        return None
    attending = sorted(a.email.lower() for a in view.others if not declined(a))
    return tuple(attending) if _group_sized(len(attending), judgement) else None


def missed_company_of(view: Seen, now: datetime, judgement: Judgement) -> frozenset[str] | None:
    """Who was invited to a past group-sized meeting that did not take place (cancelled,
    or the owner declined): a run that dies this way did not end well."""
    event = view.event
    if not view.meeting or event.start > now or not (event.cancelled or view.owner_declined):
        return None
    invited = frozenset(a.email.lower() for a in view.others)
    return invited if _group_sized(len(invited), judgement) else None


def _group_sized(others: int, judgement: Judgement) -> bool:
    return 2 <= others <= judgement.weights.medium_max_size - 1
