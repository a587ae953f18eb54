"""/settings: account preferences, what the user knows about each contact, pause/resume.

One page, three kinds of form, each POSTed with a ``section`` field: ``account``
(preferences, see ``nudger.preferences``), ``contact`` (one contact's role,
cadence, snooze and mute: one form per contact, so saving one never rewrites the
others, nor a snooze clicked from an email meanwhile) and ``status`` (pause or
resume). A bad submission is answered with the page, the errors by field and the
values as typed; nothing is stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from nudger import contacts, preferences
from nudger.analysis.model import ContactPrefs
from nudger.contacts import ROLES
from nudger.runtime import Runtime
from nudger.store import accounts as account_store
from nudger.store.db import session_scope
from nudger.store.models import Account
from nudger.web.dashboard import AccountView, account_healths, load_account
from nudger.web.pages import Web
from nudger.web.security import checked_form, signed_in_account

NO_ROLE = "none"
MAX_CADENCE_DAYS = 365
MAX_SNOOZE_DAYS = 365
"""Further ahead is a mute; and near year 9999 a zone offset overflows ``datetime``."""
MAX_EMAIL = 320
DEFAULT_HOURS: dict[str, Any] = {"days": [1, 2, 3, 4, 5], "start": "09:00", "end": "17:00"}
PAUSABLE = {"pause": ("active", "paused"), "resume": ("paused", "active")}


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


@dataclass
class PageState:
    """What a re-rendered page shows: errors and the values the user typed."""

    account_errors: dict[str, str] = field(default_factory=dict)
    account_form: Mapping[str, Any] | None = None
    contact_errors: dict[str, str] = field(default_factory=dict)
    contact_row: ContactRow | None = None
    saved: str | None = None


def owner_zone(runtime: Runtime, account: AccountView) -> ZoneInfo:
    """The zone the user thinks in: their override, the calendar's, or UTC."""
    with session_scope(runtime.db) as session:
        return ZoneInfo(preferences.time_zone_of(session.get_one(Account, account.id)))


def _stored_preferences(runtime: Runtime, account_id: int) -> dict[str, Any]:
    with session_scope(runtime.db) as session:
        account = session.get_one(Account, account_id)
        return {"settings": dict(account.settings or {}), "hours": account.working_hours}


def save_preferences(
    runtime: Runtime, account_id: int, chosen: preferences.AccountPreferences
) -> None:
    """Merge into ``Account.settings``, keeping every key this page does not own."""
    with session_scope(runtime.db) as session:
        account = session.get_one(Account, account_id)
        account.settings = preferences.merged(account.settings, chosen)


def set_paused(runtime: Runtime, account_id: int, action: str) -> bool:
    """Pause or resume; a conditional UPDATE, so an account awaiting reconnection stays so."""
    before, after = PAUSABLE[action]
    with session_scope(runtime.db) as session:
        return account_store.change_status(session, account_id, before, after)


# --- contact rows ----------------------------------------------------------------------


def contact_rows(
    runtime: Runtime, account_id: int, zone: ZoneInfo, now: datetime
) -> list[ContactRow]:
    """Everyone the audit knows plus everyone the user has told nudger about."""
    stored = {c.email: c for c in contacts.list_contacts(runtime, account_id)}
    seen = {h.email: (h.name, str(h.status)) for h in account_healths(runtime, account_id, now)}
    rows = [
        _row(email, stored.get(email), *seen.get(email, (None, None)), zone=zone, now=now)
        for email in sorted({*stored, *seen})
    ]
    return rows


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


def parse_contact(
    form: FormData, zone: ZoneInfo, today: date, current: ContactPrefs | None
) -> tuple[ContactPrefs, ContactRow, dict[str, str]]:
    """Validate one contact's form; errors name the field."""
    errors: dict[str, str] = {}
    email = str(form.get("email", "")).strip().lower()
    _check_email(email, errors)
    role = str(form.get("role", NO_ROLE))
    if role != NO_ROLE and role not in ROLES:
        errors["role"] = f"Role: choose one of {', '.join((*ROLES, NO_ROLE))}."
    cadence_raw = str(form.get("cadence_days", "")).strip()
    cadence = _parse_cadence(cadence_raw, errors)
    snooze_raw = str(form.get("snooze_until", "")).strip()
    snooze = _parse_snooze(snooze_raw, zone, today, current, errors)
    muted = form.get("muted") == "on"
    name = current.name if current else None
    row = ContactRow(email, name, None, role, cadence_raw, snooze_raw, muted)
    change = ContactPrefs(
        email=email,
        name=name,
        role=None if role == NO_ROLE else role,
        cadence_override_days=cadence,
        muted=muted,
        snoozed_until=snooze,
    )
    return change, row, errors


def _check_email(email: str, errors: dict[str, str]) -> None:
    local, at, domain = email.partition("@")
    if not (local and at and "." in domain) or len(email) > MAX_EMAIL or " " in email:
        errors["email"] = f"Email: {email or 'nothing'} is not an email address."


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
    raw: str,
    zone: ZoneInfo,
    today: date,
    current: ContactPrefs | None,
    errors: dict[str, str],
) -> datetime | None:
    """A date in the owner's zone: nudges resume that morning. Unchanged keeps the stored time."""
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        errors["snooze_until"] = f"Snooze until: {raw} is not a date like 2025-03-31."
        return None
    if day <= today:
        errors["snooze_until"] = "Snooze until: pick a date after today, or leave it empty."
        return None
    stored = current.snoozed_until if current else None
    if stored and local_day(stored, zone) == day:
        return stored
    latest = today + timedelta(days=MAX_SNOOZE_DAYS)
    if day > latest:
        errors["snooze_until"] = f"Snooze until: at most a year ahead ({latest} at the latest)."
        return None
    return datetime.combine(day, time(0), tzinfo=zone)


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    """The day of ``moment`` in ``zone``. A stored moment so near year 9999 that the
    zone's offset overflows it (saved before snoozes were capped) reads as the last day."""
    try:
        return moment.astimezone(zone).date()
    except OverflowError:
        return date.max


# --- routes ----------------------------------------------------------------------------


class SettingsRoutes:
    def __init__(self, web: Web) -> None:
        self.web = web

    def routes(self) -> list[Route]:
        return [
            Route("/settings", self.show, methods=["GET"]),
            Route("/settings", self.save, methods=["POST"]),
        ]

    def show(self, request: Request) -> Response:
        account_id = signed_in_account(request)
        return self._render(request, account_id, PageState(saved=request.query_params.get("saved")))

    async def save(self, request: Request) -> Response:
        form = await checked_form(request)
        account_id = signed_in_account(request)
        section = form.get("section")
        if section == "account":
            return await run_in_threadpool(self._save_account, request, account_id, form)
        if section == "contact":
            return await run_in_threadpool(self._save_contact, request, account_id, form)
        if section == "status" and form.get("action") in PAUSABLE:
            await run_in_threadpool(set_paused, self.web.runtime, account_id, str(form["action"]))
            return RedirectResponse("/settings?saved=status", status_code=303)
        return self.web.message(request, "Unknown form", "That form is not one nudger knows.", 400)

    def _save_account(self, request: Request, account_id: int, form: FormData) -> Response:
        load_account(self.web.runtime, account_id)
        parsed = preferences.parse_form(form, [str(d) for d in form.getlist("days")])
        if parsed.errors:
            state = PageState(account_errors=parsed.errors, account_form=_typed(form))
            return self._render(request, account_id, state, 400)
        save_preferences(self.web.runtime, account_id, parsed.preferences)
        return RedirectResponse("/settings?saved=account", status_code=303)

    def _save_contact(self, request: Request, account_id: int, form: FormData) -> Response:
        account = load_account(self.web.runtime, account_id)
        zone = owner_zone(self.web.runtime, account)
        today = self.web.clock().astimezone(zone).date()
        email = str(form.get("email", "")).strip().lower()
        current = contacts.find_contact(self.web.runtime, account_id, email) if email else None
        change, row, errors = parse_contact(form, zone, today, current)
        if not errors and change.email == account.email.lower():
            errors["email"] = "Email: that is your own address, not a contact."
        if errors:
            state = PageState(contact_errors=errors, contact_row=row)
            return self._render(request, account_id, state, 400)
        contacts.update_contact(self.web.runtime, account_id, change)
        return RedirectResponse("/settings?saved=contact", status_code=303)

    def _render(
        self, request: Request, account_id: int, state: PageState, status: int = 200
    ) -> Response:
        runtime, now = self.web.runtime, self.web.clock()
        account = load_account(runtime, account_id)
        zone = owner_zone(runtime, account)
        stored = _stored_preferences(runtime, account_id)
        rows = contact_rows(runtime, account_id, zone, now)
        if state.contact_row is not None:
            rows = _with_typed_row(rows, state.contact_row)
        context = {
            "account": account,
            "active": "settings",
            "state": state,
            "form": state.account_form or _account_form(stored, account),
            "rows": rows,
            "roles": (*ROLES, NO_ROLE),
            "modes": preferences.DELIVERY_MODES,
            "weekdays": list(enumerate(preferences.WEEKDAYS, start=1)),
            "zone": zone.key,
        }
        return self.web.page(request, "settings.html", context, status)


def _with_typed_row(rows: list[ContactRow], typed: ContactRow) -> list[ContactRow]:
    """Show the rejected row as typed, in place (or first, when it was a new address)."""
    if any(r.email == typed.email for r in rows):
        return [typed if r.email == typed.email else r for r in rows]
    return [typed, *rows]


def _typed(form: FormData) -> dict[str, Any]:
    typed: dict[str, Any] = {k: str(v) for k, v in form.items() if k != "days"}
    typed["days"] = [preferences.weekday(str(d)) for d in form.getlist("days")]
    return typed


def _account_form(stored: dict[str, Any], account: AccountView) -> dict[str, Any]:
    """The stored preferences as form values; provider hours (or 9-5) when none are set."""
    chosen = preferences.load(stored["settings"])
    provider = stored["hours"] or {}
    hours = chosen.working_hours
    return {
        "hours_source": "custom" if hours else "provider",
        "days": list(hours.days) if hours else provider.get("days", [1, 2, 3, 4, 5]),
        "start": hours.start.isoformat(timespec="minutes")
        if hours
        else provider.get("start", "09:00"),
        "end": hours.end.isoformat(timespec="minutes") if hours else provider.get("end", "17:00"),
        "time_zone": chosen.time_zone or "",
        "weekly_budget": "" if chosen.weekly_budget is None else str(chosen.weekly_budget),
        "delivery": chosen.delivery or "",
        "calendar_zone": account.time_zone or "UTC",
    }
