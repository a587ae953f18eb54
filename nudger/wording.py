"""Words the user reads for nudger's internal names: statuses, roles, contacts.

One place for the pages, the emails and the CLI, so a status reads the same everywhere:
descriptive ("one-on-one paused"), never the enum value ("lapsed_one_on_one").
"""

from __future__ import annotations

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
