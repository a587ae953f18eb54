"""A token refresh in the middle of a sync round is saved, on SQLite too.

SQLite has one write lock and a round holds it until its rows and cursor commit; the
refreshed (rotated) Microsoft tokens must still reach the database, without the save
waiting on the round's own lock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from nudger import accounts
from nudger.cycle import run_cycle
from nudger.runtime import Runtime
from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import Fault, World
from nudger.store.db import session_scope
from nudger.store.models import Account
from tests.connectors.microsoft_helpers import MS_OWNER, add_meeting, add_owner, consent, control

DELTA = "/calendarView/delta"
MEETINGS = 250
"""Three delta pages of 100: the refresh lands between the first and the second."""


def stored_credentials(runtime: Runtime, account_id: int) -> str:
    with session_scope(runtime.db) as session:
        return str(session.get_one(Account, account_id).credentials)


def test_tokens_refreshed_mid_round_are_saved(
    world: World, sandbox: Sandbox, runtime: Runtime
) -> None:
    owner = add_owner(world)
    now = datetime.now(UTC)
    for n in range(MEETINGS):
        add_meeting(world, owner, f"m{n}", now - timedelta(days=1 + n), "ada@contoso.example")
    start = accounts.begin_connect(runtime, "microsoft", login_hint=MS_OWNER)
    account_id = accounts.complete_connect(runtime, "microsoft", consent(sandbox, start.url)).id
    before = stored_credentials(runtime, account_id)
    world.faults.append(Fault(path=DELTA, status=401, skip=1))  # Graph refuses page 2's token

    [report] = run_cycle(runtime, now=now, dry_run=True)

    assert report.error is None
    assert report.events_synced == MEETINGS
    assert stored_credentials(runtime, account_id) != before
    # Only the rotated refresh token, which must have been saved, gets a new access token.
    control(sandbox, "expire-access-tokens")
    [again] = run_cycle(runtime, now=now, dry_run=True)
    assert again.error is None
