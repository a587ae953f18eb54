"""Words the user reads for nudger's internal names: statuses, roles, contacts.

One place for the pages, the emails and the CLI, so a status reads the same everywhere:
descriptive ("one-on-one paused"), never the enum value ("lapsed_one_on_one").
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

_STATUS_WORDS = {
    "neglected": "drifting",
    "fading": "fading",
    "lapsed_one_on_one": "one-on-one paused",
    "missing_one_on_one": "no one-on-one yet",
    "new": "new",
    "healthy": "healthy",
    "weak_tie": "large meetings only",
}


def status_words(status: str) -> str:
    """A status as the user reads it: descriptive, never a verdict."""
    return _STATUS_WORDS.get(status, status.replace("_", " "))


_ROLE_GROUP_WORDS = {
    "direct_report": "Direct reports",
    "manager": "Managers",
    "mentor": "Mentors",
    "peer": "Peers",
    "external": "External contacts",
    "key": "Other key people",
}


def role_words(role: str | None) -> str:
    return role.replace("_", " ") if role else "other"


def role_group_words(role: str) -> str:
    """The heading over everyone with one role: ``Direct reports``."""
    return _ROLE_GROUP_WORDS.get(role, role_words(role).capitalize())


_KIND_WORDS = {
    "email": "nudge email",
    "hold": "calendar hold",
    "digest": "weekly digest",
    "daily_step": "daily step",
    "reconnect": "reconnect request",
}


def kind_words(kind: str) -> str:
    """What nudger sends or books, as the dashboard lists it."""
    return _KIND_WORDS.get(kind, kind.replace("_", " "))


def display_name(name: str | None, address: str) -> str:
    """The contact's name, or their address when the calendar gave no name."""
    return name.strip() if name and name.strip() else address


def greeting_name(name: str | None, address: str) -> str:
    """How an email greets its owner: the first name the provider gave, else the local
    part of their address. A "name" holding an address (Google's primary calendar is
    named after it) is no name."""
    if name and name.strip() and "@" not in name:
        return name.split()[0]
    return address.partition("@")[0] or address


_PARTS_OF_DAY = ((6, "night"), (12, "morning"), (18, "afternoon"), (24, "evening"))
THEIR_MORNING = time(9, 0)
"""The hour whose counterpart in the owner's day names the gap ("their morning is ...")."""


def zone_sentence(name: str, zone: str | None, own_zone: str, now: datetime) -> str | None:
    """The other person's zone in words, e.g. "Ana is in Singapore (UTC+8), 8 hours
    ahead of you: their morning is your night."

    Only for a zone the provider revealed (``zone``), and only when it is not the owner's
    offset ``now``; None otherwise: a zone is never guessed."""
    if not zone:
        return None
    theirs = now.astimezone(ZoneInfo(zone))
    gap = _offset(theirs) - _offset(now.astimezone(ZoneInfo(own_zone)))
    if not gap:
        return None
    place = zone.rpartition("/")[2].replace("_", " ")
    hours = _hours_words(abs(gap))
    sentence = f"{name} is in {place} ({_utc_words(_offset(theirs))}), {hours} "
    sentence += "ahead of you" if gap > timedelta(0) else "behind you"
    morning = datetime.combine(theirs.date(), THEIR_MORNING, theirs.tzinfo)
    yours = _part_of_day(morning.astimezone(ZoneInfo(own_zone)).time())
    if yours == "morning":
        return sentence + "."
    return f"{sentence}: their morning is your {yours}."


def _offset(moment: datetime) -> timedelta:
    return moment.utcoffset() or timedelta(0)


def _utc_words(offset: timedelta) -> str:
    sign = "+" if offset >= timedelta(0) else "-"
    minutes = abs(int(offset.total_seconds())) // 60
    hours, rest = divmod(minutes, 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "") if minutes else "UTC"


def _hours_words(gap: timedelta) -> str:
    hours = gap.total_seconds() / 3600
    number = f"{hours:g}"
    return f"{number} hour" if hours == 1 else f"{number} hours"


def _part_of_day(moment: time) -> str:
    return next(word for limit, word in _PARTS_OF_DAY if moment.hour < limit)
