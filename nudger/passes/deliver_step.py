"""Step 3 of a pass: deliver the account's queued nudges (emails and holds).

Idempotent: only ``pending`` rows are claimed, each by a conditional UPDATE before any
provider call (``nudger.delivery.outbox``), so a second run sends nothing the first
sent, and two runs at once never send one row twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from nudger import preferences
from nudger.delivery import outbox
from nudger.delivery import service as delivery
from nudger.passes.analyse import rules_in_force
from nudger.passes.connection import Connection, connect
from nudger.rules.model import RuleSet
from nudger.runtime import Runtime
from nudger.store.db import session_scope
from nudger.store.models import Account


@dataclass(frozen=True)
class DeliverOutcome:
    delivered: Mapping[str, int]
    """Rows acted on, by the state each ended in (sent, failed, suppressed...)."""


def deliver_step(
    runtime: Runtime,
    account_id: int,
    now: datetime,
    *,
    ruleset: RuleSet | None = None,
    connection: Connection | None = None,
    mail: bool = True,
) -> DeliverOutcome:
    """``mail`` False: emails wait for a later run (the owner's morning); holds go."""
    with session_scope(runtime.db) as session:
        if not outbox.has_work(session, account_id):
            return DeliverOutcome({})  # the usual pass: nothing to connect or build for
        account = session.get_one(Account, account_id)
        policies = preferences.ruleset_for(account, ruleset or rules_in_force(runtime)).policies
        owner = delivery_account(account)
    connection = connection or connect(runtime, account_id)
    delivered = delivery.deliver_pending(
        runtime, owner, connection.connector, policies, now, worker=outbox.worker_id(), mail=mail
    )
    return DeliverOutcome(delivered)


def delivery_account(account: Account) -> delivery.DeliveryAccount:
    """The account as delivery sees it: who sends, in which zone, within which hours."""
    return delivery.DeliveryAccount(
        account_id=account.id,
        email=account.email,
        name=account.name,
        time_zone=preferences.time_zone_of(account),
        working_hours=preferences.working_hours_of(account),
        active=account.status == "active",
    )
