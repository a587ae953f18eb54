"""Reading what the user typed about their contacts on /settings, strictly.

Every contact row of the one form comes back as ``row`` (its address) plus
``role:<address>``, ``cadence_days:<address>``, ``snooze_until:<address>``,
``muted:<address>`` and ``shown:<address>``: the values the page showed. Only fields
the user changed are checked and applied, so a page left open overnight, or a snooze
clicked in an email meanwhile, is never written over with what the page showed.
Errors are keyed by address, then by field; a form with any error stores nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from starlette.datastructures import FormData

from nudger import preferences
from nudger.analysis.model import ContactPrefs
from nudger.contacts import ROLES
from nudger.web.settings_rows import EDITABLE, NO_ROLE, ContactRow, local_day, read_shown

MAX_CADENCE_DAYS = 365
MAX_SNOOZE_DAYS = 365
"""Further ahead is a mute; and near year 9999 a zone offset overflows ``datetime``."""
MAX_EMAIL = 320
MAX_ROWS = 5000
MAX_FIELDS = MAX_ROWS * 6 + 100
"""Six fields a row, plus the preferences: what the form parser lets through."""
NEW_ROW = "new"
"""The errors key of the "add someone" row."""
FORM_FIELDS = {
    "role": "role",
    "cadence": "cadence_days",
    "snooze": "snooze_until",
    "muted": "muted",
}
"""Row value → the form field (and the errors key) it is typed in."""
PREF_FIELDS = {
    "role": "role",
    "cadence": "cadence_override_days",
    "snooze": "snoozed_until",
    "muted": "muted",
}
"""Row value → the ``ContactPrefs`` field it sets."""


@dataclass(frozen=True)
class RowEdit:
    """What to write for one contact: ``wanted``'s values of ``fields`` only."""

    wanted: ContactPrefs
    fields: frozenset[str]


@dataclass
class ContactsForm:
    edits: list[RowEdit] = field(default_factory=list)
    typed: dict[str, ContactRow] = field(default_factory=dict)
    """Address → the row as typed, to show a rejected form again."""
    errors: dict[str, dict[str, str]] = field(default_factory=dict)
    """Address (or ``NEW_ROW``) → form field → what is wrong."""


@dataclass(frozen=True)
class Today:
    """The owner's day, in their zone: what snooze dates are read against."""

    zone: ZoneInfo
    day: date


def parse_rows(
    form: FormData, today: Today, stored: Mapping[str, ContactPrefs], own_address: str
) -> ContactsForm:
    """Every contact row of the one form, and the "add someone" row."""
    parsed = ContactsForm()
    for email in dict.fromkeys(str(e).strip().lower() for e in form.getlist("row")):
        _parse_row(form, email, today, stored.get(email), own_address, parsed)
    _parse_new(form, own_address, parsed)
    return parsed


def _parse_row(
    form: FormData,
    email: str,
    today: Today,
    current: ContactPrefs | None,
    own_address: str,
    parsed: ContactsForm,
) -> None:
    typed = ContactRow(
        email=email,
        name=None,
        status=None,
        role=str(form.get(f"role:{email}", NO_ROLE)),
        cadence=str(form.get(f"cadence_days:{email}", "")).strip(),
        snooze=str(form.get(f"snooze_until:{email}", "")).strip(),
        muted=form.get(f"muted:{email}") == "on",
    )
    original = str(form.get(f"shown:{email}", ""))
    typed = replace(typed, original=original)
    shown = read_shown(original, email)
    changed = [n for n in EDITABLE if shown is None or getattr(typed, n) != getattr(shown, n)]
    if not changed:
        return
    parsed.typed[email] = typed
    errors: dict[str, str] = {}
    _check_address(email, own_address, errors)
    wanted = wanted_prefs(typed, today, current, errors)
    kept = {k: v for k, v in errors.items() if k == "email" or k in _form_fields(changed)}
    if kept:
        parsed.errors[email] = kept
        return
    fields = frozenset(PREF_FIELDS[name] for name in changed)
    parsed.edits.append(RowEdit(wanted, fields))


def _form_fields(changed: list[str]) -> set[str]:
    return {FORM_FIELDS[name] for name in changed}


def _parse_new(form: FormData, own_address: str, parsed: ContactsForm) -> None:
    """The "add someone" row: an address and a role, both optional together."""
    email = str(form.get("new_email", "")).strip().lower()
    if not email:
        return
    role = str(form.get("new_role", NO_ROLE))
    errors: dict[str, str] = {}
    _check_address(email, own_address, errors)
    _check_role(role, errors)
    if errors:
        parsed.errors[NEW_ROW] = errors
        return
    wanted = ContactPrefs(email, role=None if role == NO_ROLE else role)
    parsed.edits.append(RowEdit(wanted, frozenset({"role"})))


def parse_contact(
    form: Mapping[str, object], today: Today, current: ContactPrefs | None
) -> tuple[ContactPrefs, ContactRow, dict[str, str]]:
    """One contact's own form (``section=contact``); errors name the field."""
    email = str(form.get("email", "")).strip().lower()
    typed = ContactRow(
        email=email,
        name=current.name if current else None,
        status=None,
        role=str(form.get("role", NO_ROLE)),
        cadence=str(form.get("cadence_days", "")).strip(),
        snooze=str(form.get("snooze_until", "")).strip(),
        muted=form.get("muted") == "on",
    )
    errors: dict[str, str] = {}
    check_email(email, errors)
    return wanted_prefs(typed, today, current, errors), typed, errors


def wanted_prefs(
    typed: ContactRow, today: Today, current: ContactPrefs | None, errors: dict[str, str]
) -> ContactPrefs:
    """The contact's preferences as typed; each bad value adds an error by form field."""
    _check_role(typed.role, errors)
    return ContactPrefs(
        email=typed.email,
        name=typed.name,
        role=None if typed.role == NO_ROLE else typed.role,
        cadence_override_days=_parse_cadence(typed.cadence, errors),
        muted=typed.muted,
        snoozed_until=_parse_snooze(typed.snooze, today, current, errors),
    )


def _check_address(email: str, own_address: str, errors: dict[str, str]) -> None:
    check_email(email, errors)
    if not errors and email == own_address.lower():
        errors["email"] = "Email: that is your own address, not a contact."


def check_email(email: str, errors: dict[str, str]) -> None:
    local, at, domain = email.partition("@")
    if not (local and at and "." in domain) or len(email) > MAX_EMAIL or " " in email:
        errors["email"] = f"Email: {email or 'nothing'} is not an email address."


def _check_role(role: str, errors: dict[str, str]) -> None:
    if role != NO_ROLE and role not in ROLES:
        errors["role"] = f"Role: choose one of {', '.join((*ROLES, NO_ROLE))}."


def _parse_cadence(raw: str, errors: dict[str, str]) -> int | None:
    if not raw:
        return None
    cadence = preferences.whole_number(raw, 1, MAX_CADENCE_DAYS)
    if cadence is None:
        errors["cadence_days"] = (
            f"Cadence: a whole number of days from 1 to {MAX_CADENCE_DAYS}, or empty to let "
            "nudger infer it."
        )
    return cadence


def _parse_snooze(
    raw: str, today: Today, current: ContactPrefs | None, errors: dict[str, str]
) -> datetime | None:
    """A date in the owner's zone: nudges resume that morning. Unchanged keeps the stored time."""
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        errors["snooze_until"] = f"Snooze until: {raw} is not a date like 2025-03-31."
        return None
    if day <= today.day:
        errors["snooze_until"] = "Snooze until: pick a date after today, or leave it empty."
        return None
    stored = current.snoozed_until if current else None
    if stored and local_day(stored, today.zone) == day:
        return stored
    latest = today.day + timedelta(days=MAX_SNOOZE_DAYS)
    if day > latest:
        errors["snooze_until"] = f"Snooze until: at most a year ahead ({latest} at the latest)."
        return None
    return datetime.combine(day, time(0), tzinfo=today.zone)
