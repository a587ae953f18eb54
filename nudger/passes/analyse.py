"""The audit of one account from what is stored: its owner, contacts and events.

The analysis itself is pure (``nudger.analysis``); this reads its inputs in one session.
The web pages and ``nudger audit`` use it as the decide step does.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from nudger import accounts, contacts, preferences
from nudger.analysis.audit import ContactHealth, audit
from nudger.analysis.model import Owner
from nudger.analysis.workdays import WEEK
from nudger.rules.loader import load_rules
from nudger.rules.model import RuleSet
from nudger.rules.paths import rule_paths
from nudger.runtime import Runtime
from nudger.store import events as event_store
from nudger.store.db import session_scope
from nudger.store.models import Account


def rules_in_force(runtime: Runtime) -> RuleSet:
    """The rules files as configured, read now."""
    return load_rules(rule_paths(settings=runtime.settings))


def account_ruleset(runtime: Runtime, account_id: int, ruleset: RuleSet) -> RuleSet:
    """The rules as they apply to one account: its own budget and delivery mode."""
    with session_scope(runtime.db) as session:
        return preferences.ruleset_for(session.get_one(Account, account_id), ruleset)


def account_audit(
    runtime: Runtime, email: str, *, now: datetime | None = None
) -> list[ContactHealth]:
    """The audit from what is stored (run ``nudger cycle`` first to sync)."""
    ref = accounts.find_account(runtime, email)
    return analyse(runtime, ref.id, rules_in_force(runtime), now or datetime.now(UTC))


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
