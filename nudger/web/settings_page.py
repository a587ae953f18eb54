"""/settings: account preferences, what the user knows about each contact, pause/resume.

One form (``section=all``) carries the preferences (see ``nudger.preferences``) and
every listed contact's role, cadence, snooze and mute, with one Save: everything is
checked first, and a single transaction stores it all, or nothing when any field is
bad (the page comes back with each error by contact and field, the values as typed).
Contacts come grouped and, through a GET filter, narrowed (``settings_rows``); only
what the user changed is written (``settings_form``). The older forms still work:
``account`` (preferences alone), ``contact`` (one contact) and ``status`` (pause or
resume, a button of its own).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from nudger import contacts, preferences
from nudger.analysis.model import Status
from nudger.contacts import ROLES
from nudger.passes.analyse import rules_in_force
from nudger.rules.crunch import Crunch
from nudger.rules.model import RuleSet
from nudger.runtime import Runtime
from nudger.store import accounts as account_store
from nudger.store.db import session_scope
from nudger.store.models import Account
from nudger.web.dashboard import AccountView, load_account
from nudger.web.pages import Web
from nudger.web.security import checked_form, signed_in_account
from nudger.web.settings_form import (
    MAX_FIELDS,
    NEW_ROW,
    RowEdit,
    Today,
    parse_contact,
    parse_rows,
)
from nudger.web.settings_rows import (
    NO_ROLE,
    ContactRow,
    RowFilter,
    contact_rows,
    grouped,
    with_typed,
)
from nudger.wording import display_name

PAUSABLE = {"pause": ("active", "paused"), "resume": ("paused", "active")}
ANCHORED_PREFERENCES = (
    "weekly_budget",
    "start",
    "end",
    "time_zone",
    "crunch_until",
    "crunch_factor",
    "daily_step",
)
"""Preference fields with an element id of their own, for the error summary's links."""


@dataclass
class PageState:
    """What a re-rendered page shows: errors and the values the user typed."""

    account_errors: dict[str, str] = field(default_factory=dict)
    account_form: Mapping[str, Any] | None = None
    row_errors: dict[str, dict[str, str]] = field(default_factory=dict)
    """Contact address (or ``NEW_ROW``) → form field → what is wrong."""
    typed_rows: dict[str, ContactRow] = field(default_factory=dict)
    new_row: Mapping[str, str] = field(default_factory=dict)
    saved: str | None = None

    @property
    def rejected(self) -> bool:
        return bool(self.account_errors or self.row_errors)


@dataclass(frozen=True)
class ErrorLine:
    """One line of the "nothing was saved" summary: where, whose, what."""

    anchor: str
    who: str
    message: str


def error_lines(state: PageState, rows: list[ContactRow]) -> list[ErrorLine]:
    """Every error of a rejected form, naming the contact (or the preferences) and field."""
    names = {row.email: display_name(row.name, row.email) for row in rows}
    lines = [
        ErrorLine(name if name in ANCHORED_PREFERENCES else "settings-form", "Preferences", text)
        for name, text in state.account_errors.items()
    ]
    for email, errors in state.row_errors.items():
        anchor, who = (
            ("add-contact", "New contact")
            if email == NEW_ROW
            else (f"row-{email}", names.get(email, email))
        )
        lines += [ErrorLine(anchor, who, text) for text in errors.values()]
    return lines


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
    save_all(runtime, account_id, chosen, [])


def save_all(
    runtime: Runtime,
    account_id: int,
    chosen: preferences.AccountPreferences,
    edits: list[RowEdit],
) -> None:
    """The preferences and every contact edit in one transaction: all of it or none."""
    with session_scope(runtime.db) as session:
        account = session.get_one(Account, account_id)
        account.settings = preferences.merged(account.settings, chosen)
        for edit in edits:
            contacts.edit_contact(session, account_id, edit.wanted, edit.fields)


def save_crunch(runtime: Runtime, account_id: int, crunch: Crunch | None) -> None:
    """Start (or, with None, end) the account's crunch, keeping every other setting."""
    with session_scope(runtime.db) as session:
        account = session.get_one(Account, account_id)
        account.settings = preferences.with_crunch(account.settings, crunch)


def set_paused(runtime: Runtime, account_id: int, action: str) -> bool:
    """Pause or resume; a conditional UPDATE, so an account awaiting reconnection stays so."""
    before, after = PAUSABLE[action]
    with session_scope(runtime.db) as session:
        return account_store.change_status(session, account_id, before, after)


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
        state = PageState(saved=request.query_params.get("saved"))
        return self._render(request, account_id, state)

    async def save(self, request: Request) -> Response:
        form = await checked_form(request, max_fields=MAX_FIELDS)
        account_id = signed_in_account(request)
        section = form.get("section")
        if section == "all":
            return await run_in_threadpool(self._save_all, request, account_id, form)
        if section == "account":
            return await run_in_threadpool(self._save_account, request, account_id, form)
        if section == "contact":
            return await run_in_threadpool(self._save_contact, request, account_id, form)
        if section == "crunch" and form.get("action") == "end":
            await run_in_threadpool(save_crunch, self.web.runtime, account_id, None)
            return RedirectResponse("/settings?saved=crunch", status_code=303)
        if section == "status" and form.get("action") in PAUSABLE:
            await run_in_threadpool(set_paused, self.web.runtime, account_id, str(form["action"]))
            return RedirectResponse("/settings?saved=status", status_code=303)
        return self.web.message(request, "Unknown form", "That form is not one nudger knows.", 400)

    def _save_all(self, request: Request, account_id: int, form: FormData) -> Response:
        """Check every field of the one form, then store all of it, or nothing."""
        account = load_account(self.web.runtime, account_id)
        days = [str(d) for d in form.getlist("days")]
        chosen = preferences.parse_form(form, days, self._today(account).day)
        stored = {c.email: c for c in contacts.list_contacts(self.web.runtime, account_id)}
        rows = parse_rows(form, self._today(account), stored, account.email)
        if chosen.errors or rows.errors:
            state = PageState(
                account_errors=chosen.errors,
                account_form=_typed(form),
                row_errors=rows.errors,
                typed_rows=rows.typed,
                new_row=_typed_new(form),
            )
            return self._render(request, account_id, state, 400)
        save_all(self.web.runtime, account_id, chosen.preferences, rows.edits)
        kept = RowFilter.of(request.query_params).params()
        return RedirectResponse(f"/settings?{urlencode({'saved': 'all', **kept})}", 303)

    def _save_account(self, request: Request, account_id: int, form: FormData) -> Response:
        account = load_account(self.web.runtime, account_id)
        days = [str(d) for d in form.getlist("days")]
        parsed = preferences.parse_form(form, days, self._today(account).day)
        if parsed.errors:
            state = PageState(account_errors=parsed.errors, account_form=_typed(form))
            return self._render(request, account_id, state, 400)
        save_preferences(self.web.runtime, account_id, parsed.preferences)
        return RedirectResponse("/settings?saved=account", status_code=303)

    def _save_contact(self, request: Request, account_id: int, form: FormData) -> Response:
        account = load_account(self.web.runtime, account_id)
        email = str(form.get("email", "")).strip().lower()
        current = contacts.find_contact(self.web.runtime, account_id, email) if email else None
        change, row, errors = parse_contact(form, self._today(account), current)
        if not errors and change.email == account.email.lower():
            errors["email"] = "Email: that is your own address, not a contact."
        if errors:
            state = PageState(row_errors={row.email: errors}, typed_rows={row.email: row})
            return self._render(request, account_id, state, 400)
        contacts.update_contact(self.web.runtime, account_id, change)
        return RedirectResponse("/settings?saved=contact", status_code=303)

    def _today(self, account: AccountView) -> Today:
        zone = owner_zone(self.web.runtime, account)
        return Today(zone, self.web.clock().astimezone(zone).date())

    def _render(
        self, request: Request, account_id: int, state: PageState, status: int = 200
    ) -> Response:
        runtime, now = self.web.runtime, self.web.clock()
        account = load_account(runtime, account_id)
        zone = owner_zone(runtime, account)
        stored = _stored_preferences(runtime, account_id)
        rows = with_typed(contact_rows(runtime, account_id, zone, now), state.typed_rows)
        shown = RowFilter.of(request.query_params)
        context = {
            "account": account,
            "active": "settings",
            "state": state,
            "form": {
                **_crunch_form(stored, self._today(account).day, rules_in_force(runtime)),
                "daily_step": _daily_step_on(stored, rules_in_force(runtime)),
                **(state.account_form or _account_form(stored, account)),
            },
            "groups": grouped(rows, shown, to_fix=set(state.row_errors)),
            "errors": error_lines(state, rows),
            "listed": len(rows),
            "filter": shown,
            "roles": (*ROLES, NO_ROLE),
            "statuses": [s.value for s in Status],
            "new_row_key": NEW_ROW,
            "modes": preferences.DELIVERY_MODES,
            "weekdays": list(enumerate(preferences.WEEKDAYS, start=1)),
            "zone": zone.key,
        }
        return self.web.page(request, "settings.html", context, status)


def _typed(form: FormData) -> dict[str, Any]:
    typed: dict[str, Any] = {k: str(v) for k, v in form.items() if k != "days"}
    typed["days"] = [preferences.weekday(str(d)) for d in form.getlist("days")]
    typed["daily_step"] = form.get("daily_step") == "on"  # unticked boxes are not sent
    return typed


def _typed_new(form: FormData) -> dict[str, str]:
    return {"email": str(form.get("new_email", "")), "role": str(form.get("new_role", ""))}


def _crunch_form(stored: dict[str, Any], today: date, rules: RuleSet) -> dict[str, Any]:
    """The date picker's bounds and the default factor, and the crunch if it is still on."""
    crunch = preferences.load(stored["settings"]).crunch
    on = crunch is not None and crunch.until > today
    factor = crunch.factor if on and crunch and crunch.factor else None
    return {
        "crunch_min": (today + timedelta(days=1)).isoformat(),
        "crunch_max": (today + timedelta(days=preferences.MAX_CRUNCH_DAYS)).isoformat(),
        "crunch_default": f"{rules.policies.crunch_factor:g}",
        "crunch_until": crunch.until.isoformat() if on and crunch else "",
        "crunch_factor": "" if factor is None else f"{factor:g}",
    }


def _daily_step_on(stored: dict[str, Any], rules: RuleSet) -> bool:
    """Whether the daily step is on: the user's choice, else the rules'."""
    chosen = preferences.load(stored["settings"]).daily_step
    return rules.policies.daily_step if chosen is None else chosen


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
