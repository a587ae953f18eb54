"""The audit of one account from what is stored: its owner, contacts and events.

The analysis itself is pure (``nudger.analysis``); this reads its inputs in one session.
The web pages and ``nudger audit`` analyse afresh; the decide step keeps the audit
between passes (``store.analysis_state``) and brings it up to date with ``refreshed``:
as it was when nothing it rests on changed, only the contacts whose events changed
when that is all, everything otherwise (and on each new day in the owner's zone).
"""

from __future__ import annotations

import gc
import hashlib
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from nudger import accounts, contacts, preferences
from nudger.analysis import codec
from nudger.analysis.audit import (
    Audit,
    ContactHealth,
    audit,
    full_audit,
    partial_audit,
    series_partners,
)
from nudger.analysis.model import ContactPrefs, Owner
from nudger.analysis.workdays import WEEK
from nudger.rules.loader import load_rules
from nudger.rules.model import RuleSet
from nudger.rules.paths import rule_paths
from nudger.runtime import Runtime
from nudger.store import analysis_state
from nudger.store import events as event_store
from nudger.store.db import session_scope
from nudger.store.models import Account

ANALYSIS_VERSION = 2
"""Bump when the analysis or the rules engine concludes differently from the same
inputs: audits and outcomes stored under another version are never used."""
PARTIAL_SHARE = 0.25
"""Re-analyse only the touched contacts while they are at most this share of everyone
(and at least ``PARTIAL_MIN``); beyond, one pass over every event is as cheap."""
PARTIAL_MIN = 20
_parsed: dict[str, RuleSet] = {}


def rules_in_force(runtime: Runtime) -> RuleSet:
    """The rules files as configured, parsed again only when their content changed."""
    paths = rule_paths(settings=runtime.settings)
    key = _content_digest(paths)
    ruleset = _parsed.get(key)
    if ruleset is None:
        ruleset = load_rules(paths)
        _parsed.clear()  # one entry: the files as they are now
        _parsed[key] = ruleset
    return ruleset


def _content_digest(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(str(path).encode() + b"\0")
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"\0unreadable")  # load_rules says what is wrong with it
    return digest.hexdigest()


def account_ruleset(runtime: Runtime, account_id: int, ruleset: RuleSet) -> RuleSet:
    """The rules as they apply to one account: its own budget and delivery mode."""
    with session_scope(runtime.db) as session:
        return preferences.ruleset_for(session.get_one(Account, account_id), ruleset)


def account_rules_at(runtime: Runtime, account_id: int, ruleset: RuleSet, now: datetime) -> RuleSet:
    """The rules as the decide step applies them to one account at ``now``: its budget,
    its delivery mode, and its crunch while it is on (every cadence stretched). Pages
    that show statuses judge with these, so they say what nudger acts on."""
    with session_scope(runtime.db) as session:
        return preferences.ruleset_at(session.get_one(Account, account_id), ruleset, now)


def account_audit(
    runtime: Runtime, email: str, *, now: datetime | None = None
) -> list[ContactHealth]:
    """The audit from what is stored (run ``nudger cycle`` first to sync)."""
    ref = accounts.find_account(runtime, email)
    now = now or datetime.now(UTC)
    return analyse(
        runtime, ref.id, account_rules_at(runtime, ref.id, rules_in_force(runtime), now), now
    )


def analyse(
    runtime: Runtime, account_id: int, ruleset: RuleSet, now: datetime
) -> list[ContactHealth]:
    with session_scope(runtime.db) as session:
        return analyse_in(session, account_id, ruleset, now)


def analyse_in(
    session: Session, account_id: int, ruleset: RuleSet, now: datetime
) -> list[ContactHealth]:
    """``analyse`` inside a session the caller holds."""
    return audit(
        owner_of(session.get_one(Account, account_id)),
        event_store.iter_events(session, account_id),
        contacts.prefs_of(session, account_id),
        now,
        ruleset.judgement,
        ruleset.roles,
    )


@dataclass(frozen=True)
class Refreshed:
    audit: Audit
    how: str
    """"stored" (used as it was), "partial" (the touched contacts again) or "full"."""
    analysed: int
    """Contacts assessed afresh."""


def refreshed(
    session: Session,
    account_id: int,
    stored: analysis_state.Stored,
    key: str,
    prefs: Mapping[str, ContactPrefs],
    ruleset: RuleSet,
    now: datetime,
) -> Refreshed:
    """The account's audit at ``now``; ``key`` is its ``analysis_key``."""
    owner = owner_of(session.get_one(Account, account_id))
    with gc_paused():
        if stored.audit is not None and stored.analysis_key == key:
            previous = audit_from_json(stored.audit)
            if stored.analysed_version == stored.events_version:
                return Refreshed(previous, "stored", 0)
            if not stored.touched_all:
                partial = _partial(
                    session, account_id, stored.touched, previous, owner, prefs, ruleset, now
                )
                if partial is not None:
                    return partial
        events = event_store.iter_events(session, account_id)
        fresh = full_audit(owner, events, prefs, now, ruleset.judgement, ruleset.roles)
    return Refreshed(fresh, "full", len(fresh.healths))


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cycle collection while events are read and analysed: they make no reference
    cycles (reference counting frees them), yet a year of them, a hundred thousand
    objects, sets off full collections costing a sixth of the analysis."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _partial(
    session: Session,
    account_id: int,
    touched: frozenset[str],
    previous: Audit,
    owner: Owner,
    prefs: Mapping[str, ContactPrefs],
    ruleset: RuleSet,
    now: datetime,
) -> Refreshed | None:
    """Only the touched contacts again (and their one-on-one series' partners); None
    when that is too many to be worth it."""
    people = set(touched) - owner.emails
    limit = max(PARTIAL_MIN, PARTIAL_SHARE * len(previous.healths))
    while len(people) <= limit:
        events = event_store.family_events(session, account_id, people)
        partners = series_partners(events, owner, people)
        if partners <= people:
            judgement, roles = ruleset.judgement, ruleset.roles
            audit = partial_audit(previous, people, owner, events, prefs, now, judgement, roles)
            return Refreshed(audit, "partial", len(people))
        people |= partners
    return None


def analysis_key(
    account: Account, prefs: Mapping[str, ContactPrefs], ruleset: RuleSet, now: datetime
) -> str:
    """Digest of everything the audit rests on besides the events: the owner, what the
    user said about contacts, the judgement and roles, and the owner's date (statuses
    move with it)."""
    owner = owner_of(account)
    parts = {
        "version": [ANALYSIS_VERSION, codec.schema()],
        "owner": [sorted(owner.emails), owner.time_zone, sorted(owner.working_days)],
        "contacts": sorted(  # a row with none of these reads as no row at all
            [p.email.lower(), p.name, p.role, p.cadence_override_days, *_facts(p)]
            for p in prefs.values()
            if p.name or p.role or p.cadence_override_days is not None
        ),
        "judgement": ruleset.judgement.model_dump(mode="json"),
        "roles": {r: c.model_dump(mode="json") for r, c in sorted(ruleset.roles.items())},
        "day": now.astimezone(ZoneInfo(owner.time_zone)).date().isoformat(),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _facts(prefs: ContactPrefs) -> list[str | None]:
    """What the provider told about the contact (hire date, latest long absence)."""
    hired, absence = prefs.hire_date, prefs.absence
    away = [absence.start.isoformat(), absence.end.isoformat()] if absence else [None, None]
    return [hired.isoformat() if hired else None, *away]


def audit_to_json(audit: Audit) -> dict[str, Any]:
    return {
        "healths": codec.to_json(audit.healths),
        "away": sorted(d.isoformat() for d in audit.away),
        "history_from": audit.history_from.isoformat() if audit.history_from else None,
    }


def audit_from_json(data: Mapping[str, Any]) -> Audit:
    away = frozenset(date.fromisoformat(d) for d in data["away"])
    since = data.get("history_from")
    history_from = datetime.fromisoformat(since) if since else None
    return Audit(codec.from_json(data["healths"]), away, history_from)


def owner_of(account: Account) -> Owner:
    """The owner as analysis sees them; their working week is their own choice, else the
    provider's, else Monday to Friday."""
    aliases = {a.lower() for a in account.aliases.split()}
    hours = preferences.working_hours_of(account)
    return Owner(
        emails=frozenset({account.email.lower(), *aliases}),
        time_zone=preferences.time_zone_of(account),
        working_days=frozenset(hours.days) if hours and hours.days else WEEK,
    )
