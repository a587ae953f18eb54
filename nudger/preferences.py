"""Account-level preferences the user sets on /settings, kept in ``Account.settings``.

``Account.settings`` is a JSON object. Keys written here (all optional; absent means
"nudger's default"):

- ``working_hours``: ``{"days": [1..7], "start": "HH:MM", "end": "HH:MM"}`` — when
  holds may be booked, overriding what the provider reports (Monday=1).
- ``time_zone``: an IANA zone name overriding the calendar's own zone.
- ``weekly_budget``: email nudges per ISO week, overriding the rules' policy.
- ``delivery``: ``email`` (a nudge per email), ``digest`` (one weekly email) or
  ``holds_only`` (no email: only relationship-time holds).
- ``crunch``: ``{"until": "YYYY-MM-DD", "factor": 2.0 | null}`` — busy until that date
  (``nudger.rules.crunch``); kept after it passes, when it simply no longer applies.
- ``daily_step``: true or false — one intentional interaction a day
  (``nudger.rules.daily``), overriding the rules' ``daily_step`` policy.

Other keys (e.g. ``calendars``, owned by the sync) are kept as they are on every save.
Parsing is strict and reports errors by field, so a bad submission stores nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from nudger.connectors.base import WorkingHours
from nudger.rules.crunch import Crunch, ends_at, in_force
from nudger.rules.model import Policies, RuleSet
from nudger.store.hours import HoursPref, hours_json, read_hours, read_working_hours
from nudger.store.models import Account

DELIVERY_MODES = {
    "email": "An email for each nudge",
    "digest": "One weekly digest email",
    "holds_only": "Calendar holds only, no email",
}
MAX_WEEKLY_BUDGET = 20
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
OWNED_KEYS = ("working_hours", "time_zone", "weekly_budget", "delivery", "crunch", "daily_step")
MAX_CRUNCH_DAYS = 90
MAX_CRUNCH_FACTOR = 10
CRUNCH_FACTOR_PATTERN = re.compile(r"[0-9]{1,2}(\.[0-9]{1,2})?")


@dataclass(frozen=True)
class AccountPreferences:
    working_hours: HoursPref | None = None
    time_zone: str | None = None
    weekly_budget: int | None = None
    delivery: str | None = None
    """None: as the rules file says (its ``digest`` policy)."""
    crunch: Crunch | None = None
    daily_step: bool | None = None
    """None: as the rules file says (its ``daily_step`` policy)."""


@dataclass
class Parsed:
    """A form's outcome: the preferences, or the errors keyed by form field."""

    preferences: AccountPreferences
    errors: dict[str, str] = field(default_factory=dict)


def load(stored: Mapping[str, Any] | None) -> AccountPreferences:
    """Read what is stored; a damaged value falls back to the default, never raises."""
    data = stored or {}
    return AccountPreferences(
        working_hours=read_hours(data.get("working_hours")),
        time_zone=data.get("time_zone") if _zone_ok(data.get("time_zone")) else None,
        weekly_budget=data.get("weekly_budget")
        if isinstance(data.get("weekly_budget"), int)
        else None,
        delivery=data.get("delivery") if data.get("delivery") in DELIVERY_MODES else None,
        crunch=read_crunch(data.get("crunch")),
        daily_step=data.get("daily_step") if isinstance(data.get("daily_step"), bool) else None,
    )


def read_crunch(stored: object) -> Crunch | None:
    """The stored crunch, or None when there is none or it is damaged."""
    if not isinstance(stored, dict) or not isinstance(stored.get("until"), str):
        return None
    try:
        until = date.fromisoformat(stored["until"])
    except ValueError:
        return None
    factor = stored.get("factor")
    if not isinstance(factor, int | float) or not 1 <= factor <= MAX_CRUNCH_FACTOR:
        factor = None  # the rules' default
    return Crunch(until, None if factor is None else float(factor))


def crunch_json(crunch: Crunch) -> dict[str, Any]:
    return {"until": crunch.until.isoformat(), "factor": crunch.factor}


def merged(stored: Mapping[str, Any] | None, preferences: AccountPreferences) -> dict[str, Any]:
    """The new ``Account.settings``: these preferences over everything else kept as is."""
    data = {k: v for k, v in (stored or {}).items() if k not in OWNED_KEYS}
    if preferences.working_hours is not None:
        data["working_hours"] = hours_json(preferences.working_hours)
    if preferences.time_zone:
        data["time_zone"] = preferences.time_zone
    if preferences.weekly_budget is not None:
        data["weekly_budget"] = preferences.weekly_budget
    if preferences.delivery:
        data["delivery"] = preferences.delivery
    if preferences.crunch is not None:
        data["crunch"] = crunch_json(preferences.crunch)
    if preferences.daily_step is not None:
        data["daily_step"] = preferences.daily_step
    return data


def with_crunch(stored: Mapping[str, Any] | None, crunch: Crunch | None) -> dict[str, Any]:
    """``Account.settings`` with this crunch (None: none), everything else as it was."""
    data = {k: v for k, v in (stored or {}).items() if k != "crunch"}
    if crunch is not None:
        data["crunch"] = crunch_json(crunch)
    return data


def parse_form(form: Mapping[str, Any], days: list[str], today: date) -> Parsed:
    """Validate the settings form; every error names its field. ``today``: the owner's
    date, what a crunch's end is read against."""
    errors: dict[str, str] = {}
    hours = _parse_hours(form, days, errors) if form.get("hours_source") == "custom" else None
    zone = str(form.get("time_zone", "")).strip() or None
    if zone and not _zone_ok(zone):
        errors["time_zone"] = f"Time zone: {zone!r} is not a known IANA zone (e.g. Europe/Paris)."
    budget = _parse_budget(str(form.get("weekly_budget", "")).strip(), errors)
    delivery = str(form.get("delivery", "email"))
    if delivery not in DELIVERY_MODES:
        errors["delivery"] = f"Delivery: choose one of {', '.join(DELIVERY_MODES)}."
    crunch = parse_crunch(form, today, errors)
    daily = _parse_daily_step(form, errors)
    chosen = AccountPreferences(hours, zone, budget, delivery, crunch, daily_step=daily)
    return Parsed(chosen, errors)


def _parse_daily_step(form: Mapping[str, Any], errors: dict[str, str]) -> bool:
    """The checkbox: ticked is "on"; absent (unticked) is off, the user's own choice."""
    raw = str(form.get("daily_step", ""))
    if raw not in ("", "on"):
        errors["daily_step"] = "One small step a day: tick the box or leave it empty."
    return raw == "on"


def parse_crunch(form: Mapping[str, Any], today: date, errors: dict[str, str]) -> Crunch | None:
    """``crunch_until`` (empty: no crunch) and an optional ``crunch_factor``."""
    raw = str(form.get("crunch_until", "")).strip()
    factor = _parse_crunch_factor(str(form.get("crunch_factor", "")).strip(), errors)
    if not raw:
        return None
    until = _iso_date(raw)
    latest = today + timedelta(days=MAX_CRUNCH_DAYS)
    if until is None or not today < until <= latest:
        errors["crunch_until"] = (
            f"Busy until: {raw!r} is not a date after today and at most "
            f"{MAX_CRUNCH_DAYS} days ahead (like {latest.isoformat()}), or empty for no crunch."
        )
        return None
    return Crunch(until, factor)


def _iso_date(raw: str) -> date | None:
    if not raw.isascii() or len(raw) != len("2025-01-15"):
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def _parse_crunch_factor(raw: str, errors: dict[str, str]) -> float | None:
    if not raw:
        return None
    if CRUNCH_FACTOR_PATTERN.fullmatch(raw) and 1 <= float(raw) <= MAX_CRUNCH_FACTOR:
        return float(raw)
    errors["crunch_factor"] = (
        f"Stretch rhythms by: a number from 1 to {MAX_CRUNCH_FACTOR} (like 2 or 1.5), "
        "or empty for the default."
    )
    return None


def _parse_hours(form: Mapping[str, Any], days: list[str], errors: dict[str, str]) -> HoursPref:
    picked = sorted({d for d in map(weekday, days) if d is not None})
    if not picked or len(picked) != len(set(days)):
        errors["days"] = "Working days: tick at least one day of the week."
    start = _parse_time(form, "start", "Start of the working day", errors)
    end = _parse_time(form, "end", "End of the working day", errors)
    if start and end and end <= start:
        errors["end"] = "End of the working day: must be after the start."
    return HoursPref(tuple(picked), start or time(9), end or time(17))


def _parse_time(
    form: Mapping[str, Any], name: str, label: str, errors: dict[str, str]
) -> time | None:
    raw = str(form.get(name, "")).strip()
    try:
        if len(raw) != len("09:00"):
            raise ValueError(raw)
        return time.fromisoformat(raw)
    except ValueError:
        errors[name] = f"{label}: {raw or 'nothing'} is not a time like 09:00."
        return None


def _parse_budget(raw: str, errors: dict[str, str]) -> int | None:
    if not raw:
        return None
    budget = whole_number(raw, 0, MAX_WEEKLY_BUDGET)
    if budget is None:
        errors["weekly_budget"] = (
            f"Weekly nudge budget: a whole number from 0 to {MAX_WEEKLY_BUDGET}, "
            "or empty for the default."
        )
    return budget


def whole_number(raw: str, low: int, high: int) -> int | None:
    """``raw`` as a number from ``low`` to ``high``, written with the digits 0-9; else None.

    ``str.isdigit`` and ``int`` take any Unicode digit: "²" passes the first and fails
    the second, "٣" passes both. The length cap keeps ``int`` clear of its digit limit.
    """
    if not (raw.isascii() and raw.isdigit()) or len(raw) > len(str(high)) + 2:
        return None
    value = int(raw)
    return value if low <= value <= high else None


def weekday(raw: str) -> int | None:
    """A form's day number: 1 (Monday) to 7, else None."""
    return whole_number(raw, 1, len(WEEKDAYS))


def _zone_ok(zone: object) -> bool:
    if not isinstance(zone, str) or not zone or zone.startswith("/") or ".." in zone:
        return False
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


# --- for the cycle: what the preferences change --------------------------------------


def policies_for(preferences: AccountPreferences, policies: Policies) -> Policies:
    """The rules' policies with this account's budget and delivery mode applied."""
    budget = policies.weekly_budget
    if preferences.weekly_budget is not None:
        budget = preferences.weekly_budget
    if preferences.delivery == "holds_only":
        budget = 0
    digest = policies.digest if preferences.delivery is None else preferences.delivery == "digest"
    daily = policies.daily_step if preferences.daily_step is None else preferences.daily_step
    daily = daily and preferences.delivery != "holds_only"  # "no email" means none at all
    return policies.model_copy(
        update={"weekly_budget": budget, "digest": digest, "daily_step": daily}
    )


def working_hours_for(preferences: AccountPreferences, zone: str) -> WorkingHours | None:
    """The user's working hours in ``zone``, or None to keep the provider's."""
    hours = preferences.working_hours
    if hours is None:
        return None
    return WorkingHours(time_zone=zone, days=hours.days, start=hours.start, end=hours.end)


def working_hours_of(account: Account) -> WorkingHours | None:
    """The hours the owner works: their own choice in their zone, else the provider's."""
    chosen = working_hours_for(of_account(account), time_zone_of(account))
    return chosen or read_working_hours(account.working_hours)


def of_account(account: Account) -> AccountPreferences:
    return load(account.settings)


def time_zone_of(account: Account) -> str:
    """The zone the owner lives by: their own choice, else the calendar's, else UTC."""
    return of_account(account).time_zone or account.time_zone or "UTC"


def ruleset_for(account: Account, ruleset: RuleSet) -> RuleSet:
    """The rules with this account's budget and delivery mode in its policies."""
    policies = policies_for(of_account(account), ruleset.policies)
    return ruleset.model_copy(update={"policies": policies})


def ruleset_at(account: Account, ruleset: RuleSet, now: datetime) -> RuleSet:
    """``ruleset_for``, and the account's crunch when it is on at ``now``."""
    crunch = of_account(account).crunch
    return in_force(ruleset_for(account, ruleset), crunch, now, time_zone_of(account))


def crunch_on(account: Account, now: datetime) -> Crunch | None:
    """The account's crunch if it is on at ``now``, else None."""
    crunch = of_account(account).crunch
    zone = time_zone_of(account)
    return crunch if crunch is not None and now < ends_at(crunch, zone) else None
