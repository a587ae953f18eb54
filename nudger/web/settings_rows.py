"""The contacts on /settings: a row per contact, grouped and filtered for the one form.

Groups, in order: the user's key people by role (``contacts.ROLES`` order); everyone
else by status, what needs attention first; people the calendar has not shown lately;
and weak ties (met only in large meetings, never nudged), collapsed. The filter
(``?q=``, ``?status=``, ``?role=``) is a GET form read here on the server: the page runs
no script (the Content Security Policy allows none).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from nudger import contacts
from nudger.analysis.model import ContactPrefs, Status
from nudger.contacts import ROLES
from nudger.runtime import Runtime
from nudger.web.dashboard import account_healths
from nudger.wording import role_group_words, status_words

NO_ROLE = "none"
MAX_QUERY = 100
STATUSES = frozenset(status.value for status in Status)
EDITABLE = ("role", "cadence", "snooze", "muted")
"""The row values the user edits, in the order ``ContactRow.shown`` lists them."""


@dataclass(frozen=True)
class ContactRow:
    """One contact on the settings page, as stored or as just typed."""

    email: str
    name: str | None
    status: str | None
    role: str
    cadence: str
    snooze: str
    muted: bool
    original: str = ""
    """For a row as typed: the ``shown`` of the page it was typed on."""

    @property
    def shown(self) -> str:
        """The editable values as the page first showed them, sent back with the form so
        a save writes only what the user changed (see ``read_shown``). A rejected row
        keeps its page's: the changes typed there are still changes."""
        return self.original or json.dumps([getattr(self, name) for name in EDITABLE])


def read_shown(raw: str, email: str) -> ContactRow | None:
    """A row's ``shown`` field back as a row; None when it was not what nudger wrote."""
    try:
        values = json.loads(raw) if len(raw) <= 200 else None
    except ValueError:
        return None
    if not isinstance(values, list) or len(values) != len(EDITABLE):
        return None
    role, cadence, snooze, muted = values
    if not all(isinstance(v, str) for v in (role, cadence, snooze)) or not isinstance(muted, bool):
        return None
    return ContactRow(email, None, None, role, cadence, snooze, muted)


@dataclass(frozen=True)
class RowGroup:
    key: str
    """``role:<role>``, ``status:<status>``, ``unseen`` or ``weak_tie``."""
    title: str
    rows: tuple[ContactRow, ...]
    collapsed: bool = False


@dataclass(frozen=True)
class RowFilter:
    """What the contacts list is narrowed to; unknown values are ignored, not errors."""

    query: str = ""
    status: str = ""
    role: str = ""

    @classmethod
    def of(cls, params: Mapping[str, str]) -> RowFilter:
        status = params.get("status", "")
        role = params.get("role", "")
        return cls(
            query=" ".join(params.get("q", "").split())[:MAX_QUERY],
            status=status if status in STATUSES else "",
            role=role if role in (*ROLES, NO_ROLE) else "",
        )

    @property
    def active(self) -> bool:
        return bool(self.query or self.status or self.role)

    def keeps(self, row: ContactRow) -> bool:
        needle = self.query.lower()
        found = not needle or needle in row.email or needle in (row.name or "").lower()
        return (
            found
            and (not self.status or row.status == self.status)
            and (not self.role or row.role == self.role)
        )

    def params(self) -> dict[str, str]:
        """The query parameters that ask for this filter (none for an inactive one)."""
        params = {"q": self.query, "status": self.status, "role": self.role}
        return {name: value for name, value in params.items() if value}

    def query_string(self) -> str:
        """``?q=...&status=...``, for the form's action; empty when nothing is filtered."""
        return f"?{urlencode(self.params())}" if self.active else ""


def grouped(
    rows: Iterable[ContactRow], shown: RowFilter, to_fix: Collection[str] = ()
) -> list[RowGroup]:
    """The rows ``shown`` keeps, in their groups; empty groups are left out. Rows whose
    addresses are ``to_fix`` (rejected as typed) come first, whatever the filter."""
    listed = list(rows)
    kept = [row for row in listed if shown.keeps(row) and row.email not in to_fix]
    fix = tuple(row for row in listed if row.email in to_fix)
    groups = [RowGroup("to_fix", "To fix before saving", fix)]
    groups += [
        RowGroup(f"role:{role}", role_group_words(role), _having(kept, role=role)) for role in ROLES
    ]
    unassigned = [row for row in kept if row.role == NO_ROLE]
    groups += [
        RowGroup(f"status:{status}", status_words(status).capitalize(), _having(unassigned, status))
        for status in Status
        if status != Status.WEAK_TIE
    ]
    groups.append(RowGroup("unseen", "Not on your calendar lately", _having(unassigned, None)))
    weak = _having(unassigned, Status.WEAK_TIE)
    title = f"{status_words(Status.WEAK_TIE).capitalize()} (never nudged)"
    groups.append(RowGroup("weak_tie", title, weak, collapsed=not shown.active))
    return [group for group in groups if group.rows]


def _having(
    rows: list[ContactRow], status: str | None = "", *, role: str = NO_ROLE
) -> tuple[ContactRow, ...]:
    """Rows with ``role``; and, unless ``status`` is "", with that status."""
    return tuple(row for row in rows if row.role == role and (status == "" or row.status == status))


def with_typed(rows: list[ContactRow], typed: Mapping[str, ContactRow]) -> list[ContactRow]:
    """The page as the user left it: typed values over the stored ones, name and status
    kept; a typed row for an address not listed comes first."""
    known = {row.email for row in rows}
    added = [
        replace(row, original=row.original or unknown(email).shown)
        for email, row in typed.items()
        if email not in known
    ]
    return added + [
        _typed_over(row, typed[row.email]) if row.email in typed else row for row in rows
    ]


def _typed_over(stored: ContactRow, typed: ContactRow) -> ContactRow:
    values = {name: getattr(typed, name) for name in EDITABLE}
    return replace(stored, **values, original=typed.original or stored.shown)


def unknown(email: str) -> ContactRow:
    """A contact nudger has stored nothing about."""
    return ContactRow(email, None, None, NO_ROLE, "", "", False)


def contact_rows(
    runtime: Runtime, account_id: int, zone: ZoneInfo, now: datetime
) -> list[ContactRow]:
    """Everyone the audit knows plus everyone the user has told nudger about."""
    stored = {c.email: c for c in contacts.list_contacts(runtime, account_id)}
    seen = {h.email: (h.name, str(h.status)) for h in account_healths(runtime, account_id, now)}
    return [
        _row(email, stored.get(email), *seen.get(email, (None, None)), zone=zone, now=now)
        for email in sorted({*stored, *seen})
    ]


def _row(
    email: str,
    known: ContactPrefs | None,
    name: str | None,
    status: str | None,
    *,
    zone: ZoneInfo,
    now: datetime,
) -> ContactRow:
    known = known or ContactPrefs(email)
    snooze = known.snoozed_until
    return ContactRow(
        email=email,
        name=known.name or name,
        status=status,
        role=known.role or NO_ROLE,
        cadence="" if known.cadence_override_days is None else str(known.cadence_override_days),
        snooze=local_day(snooze, zone).isoformat() if snooze and snooze > now else "",
        muted=known.muted,
    )


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    """The day of ``moment`` in ``zone``. A stored moment so near year 9999 that the
    zone's offset overflows it (saved before snoozes were capped) reads as the last day."""
    try:
        return moment.astimezone(zone).date()
    except OverflowError:
        return date.max
