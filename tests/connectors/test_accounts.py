"""Signing up, listing and removing accounts through the one OAuth code path."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from nudger import accounts
from nudger.errors import OAuthStateError
from nudger.runtime import Runtime
from nudger.sandbox.server import Sandbox
from nudger.store.db import session_scope
from nudger.store.models import Account, OAuthPending
from tests.connectors.conftest import GOOGLE_OWNER
from tests.connectors.google_helpers import consent


def sign_up(runtime: Runtime, sandbox: Sandbox) -> accounts.AccountRef:
    start = accounts.begin_connect(runtime, "google", login_hint=GOOGLE_OWNER)
    return accounts.complete_connect(runtime, "google", consent(sandbox, start.url))


def count(runtime: Runtime, model: type) -> int:
    with session_scope(runtime.db) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_sign_up_stores_an_active_account_with_encrypted_tokens(
    runtime: Runtime, sandbox: Sandbox
) -> None:
    ref = sign_up(runtime, sandbox)
    assert (ref.email, ref.provider, ref.status) == (GOOGLE_OWNER, "google", "active")
    with runtime.db.engine.connect() as conn:
        raw = conn.execute(text("SELECT credentials FROM accounts")).scalar_one()
    assert "refresh_token" not in raw
    assert "refresh_token" in runtime.cipher.decrypt(raw)
    assert count(runtime, OAuthPending) == 0
    assert [a.email for a in accounts.list_accounts(runtime)] == [GOOGLE_OWNER]


def test_a_replayed_callback_is_refused_and_creates_nothing(
    runtime: Runtime, sandbox: Sandbox
) -> None:
    start = accounts.begin_connect(runtime, "google", login_hint=GOOGLE_OWNER)
    params = consent(sandbox, start.url)
    accounts.complete_connect(runtime, "google", params)
    with session_scope(runtime.db) as session:
        session.execute(text("DELETE FROM accounts"))
    with pytest.raises(OAuthStateError, match="already used"):
        accounts.complete_connect(runtime, "google", params)
    assert count(runtime, Account) == 0


def test_a_forged_state_is_refused(runtime: Runtime, sandbox: Sandbox) -> None:
    start = accounts.begin_connect(runtime, "google", login_hint=GOOGLE_OWNER)
    params = {**consent(sandbox, start.url), "state": "forged"}
    with pytest.raises(OAuthStateError):
        accounts.complete_connect(runtime, "google", params)
    with pytest.raises(OAuthStateError, match="no state"):
        accounts.complete_connect(runtime, "google", {"code": "x"})
    assert count(runtime, Account) == 0


def test_signing_up_again_updates_the_same_account(runtime: Runtime, sandbox: Sandbox) -> None:
    first = sign_up(runtime, sandbox)
    second = sign_up(runtime, sandbox)
    assert first.id == second.id
    assert count(runtime, Account) == 1


def test_remove_revokes_the_grant_then_deletes_the_rows(runtime: Runtime, sandbox: Sandbox) -> None:
    sign_up(runtime, sandbox)
    accounts.remove_account(runtime, GOOGLE_OWNER)
    assert count(runtime, Account) == 0
    assert any(r.path == "/revoke" for r in sandbox.world.requests)


def test_abandoned_sign_ins_are_swept_once_expired(runtime: Runtime) -> None:
    abandoned = accounts.begin_connect(runtime, "google", login_hint=GOOGLE_OWNER)
    fresh = accounts.begin_connect(runtime, "google", login_hint=GOOGLE_OWNER)
    with session_scope(runtime.db) as session:
        row = session.get_one(OAuthPending, abandoned.state)
        row.expires_at = row.created_at - accounts.STATE_TTL  # long ago
    accounts.begin_connect(runtime, "google", login_hint=GOOGLE_OWNER)
    with session_scope(runtime.db) as session:
        states = set(session.scalars(select(OAuthPending.state)))
    assert abandoned.state not in states
    assert fresh.state in states
    assert len(states) == 2
