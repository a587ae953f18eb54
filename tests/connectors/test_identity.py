"""Which account a sign-in belongs to: the provider's user id, never the address alone.

Microsoft's "ID token claims reference": ``preferred_username`` is mutable and may be
reused, so it "can't be used to make authorization decisions"; ``oid`` with ``tid``
identifies the user. Google's ``sub`` identifies the account whatever its address. Every
test signs in through the real libraries against the emulator, under the multi-tenant
``/organizations`` authority (where users of every tenant arrive).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from nudger import accounts, contacts
from nudger.config import Settings, load_settings
from nudger.errors import IdentityConflict
from nudger.runtime import Runtime
from nudger.sandbox import google_tokens
from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import Fault, Mailbox, World
from nudger.store.db import session_scope
from nudger.store.models import Account
from tests.connectors.conftest import GOOGLE_OWNER
from tests.connectors.google_helpers import consent, issued_refresh_token_works
from tests.connectors.microsoft_helpers import MS_OWNER, add_owner

MS_RENAMED = "grace.hopper@contoso.example"
GOOGLE_RENAMED = "alex.morgan@sandbox.example"


@pytest.fixture
def provider_settings(sandbox: Sandbox, tmp_path: Path) -> Settings:
    multi_tenant = {
        **sandbox.settings(),
        "microsoft_authority": f"{sandbox.base_url}/organizations",
    }
    return load_settings(**multi_tenant, data_dir=tmp_path)


def callback(runtime: Runtime, sandbox: Sandbox, provider: str, email: str) -> dict[str, str]:
    start = accounts.begin_connect(runtime, provider, login_hint=email)
    return consent(sandbox, start.url)


def connect(runtime: Runtime, sandbox: Sandbox, provider: str, email: str) -> accounts.AccountRef:
    return accounts.complete_connect(runtime, provider, callback(runtime, sandbox, provider, email))


def stored(runtime: Runtime) -> list[tuple[int, str, str | None, str]]:
    """Every account row: id, email, subject, encrypted credentials."""
    with session_scope(runtime.db) as session:
        rows = session.scalars(select(Account).order_by(Account.id))
        return [(a.id, a.email, a.subject, a.credentials) for a in rows]


def forget_subjects(runtime: Runtime) -> None:
    """As accounts connected before subjects were recorded look."""
    with session_scope(runtime.db) as session:
        session.execute(update(Account).values(subject=None))


def test_microsoft_user_with_a_new_address_keeps_their_account(
    runtime: Runtime, sandbox: Sandbox, world: World
) -> None:
    add_owner(world)
    first = connect(runtime, sandbox, "microsoft", MS_OWNER)
    contacts.set_role(runtime, first.id, "priya@example.com", "mentor")
    world.rename_mailbox(MS_OWNER, MS_RENAMED)

    again = connect(runtime, sandbox, "microsoft", MS_RENAMED)

    assert again.id == first.id
    assert again.email == MS_RENAMED
    assert [c.role for c in contacts.list_contacts(runtime, first.id)] == ["mentor"]
    assert len(stored(runtime)) == 1


def test_another_tenants_user_with_the_same_address_does_not_get_the_account(
    runtime: Runtime, sandbox: Sandbox, world: World
) -> None:
    add_owner(world)
    connect(runtime, sandbox, "microsoft", MS_OWNER)
    before = stored(runtime)
    world.add_mailbox(Mailbox(MS_OWNER, "Grace Other", "microsoft", tenant="fabrikam"))

    with pytest.raises(IdentityConflict, match="different Microsoft 365 account"):
        connect(runtime, sandbox, "microsoft", MS_OWNER)
    assert stored(runtime) == before


def test_google_account_with_a_new_address_keeps_its_account(
    runtime: Runtime, sandbox: Sandbox, world: World
) -> None:
    first = connect(runtime, sandbox, "google", GOOGLE_OWNER)
    world.rename_mailbox(GOOGLE_OWNER, GOOGLE_RENAMED)

    again = connect(runtime, sandbox, "google", GOOGLE_RENAMED)

    assert (again.id, again.email) == (first.id, GOOGLE_RENAMED)
    [(_, email, subject, _)] = stored(runtime)
    assert email == GOOGLE_RENAMED
    assert subject == google_tokens.subject(GOOGLE_OWNER)


def test_another_google_account_with_the_address_is_refused_and_its_grant_revoked(
    runtime: Runtime, sandbox: Sandbox, world: World
) -> None:
    connect(runtime, sandbox, "google", GOOGLE_OWNER)
    before = stored(runtime)
    world.add_mailbox(Mailbox(GOOGLE_OWNER, "New Alex", "google", identity="another-person"))
    params = callback(runtime, sandbox, "google", GOOGLE_OWNER)

    with pytest.raises(IdentityConflict):
        accounts.complete_connect(runtime, "google", params)
    assert stored(runtime) == before
    assert not issued_refresh_token_works(sandbox, params["code"])


def test_a_failed_revoke_does_not_hide_the_refusal(
    runtime: Runtime, sandbox: Sandbox, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    connect(runtime, sandbox, "google", GOOGLE_OWNER)
    world.add_mailbox(Mailbox(GOOGLE_OWNER, "New Alex", "google", identity="another-person"))
    world.faults.append(Fault("/revoke", 503))

    with caplog.at_level(logging.WARNING), pytest.raises(IdentityConflict):
        connect(runtime, sandbox, "google", GOOGLE_OWNER)
    assert "could not revoke a refused google grant" in caplog.text


def test_a_new_address_already_held_by_another_account_is_refused(
    runtime: Runtime, sandbox: Sandbox, world: World
) -> None:
    world.add_mailbox(Mailbox(GOOGLE_RENAMED, "Sam Other", "google"))
    connect(runtime, sandbox, "google", GOOGLE_OWNER)
    connect(runtime, sandbox, "google", GOOGLE_RENAMED)
    before = stored(runtime)
    world.rename_mailbox(GOOGLE_RENAMED, "sam@sandbox.example")  # frees the address ...
    world.rename_mailbox(GOOGLE_OWNER, GOOGLE_RENAMED)  # ... and Alex takes it

    with pytest.raises(IdentityConflict):
        connect(runtime, sandbox, "google", GOOGLE_RENAMED)
    assert stored(runtime) == before


def test_an_account_from_before_subjects_is_found_by_address_once(
    runtime: Runtime, sandbox: Sandbox
) -> None:
    first = connect(runtime, sandbox, "google", GOOGLE_OWNER)
    forget_subjects(runtime)

    again = connect(runtime, sandbox, "google", GOOGLE_OWNER)

    assert again.id == first.id
    [(_, _, subject, _)] = stored(runtime)
    assert subject == google_tokens.subject(GOOGLE_OWNER)


def test_an_old_microsoft_account_of_another_user_is_not_adopted(
    runtime: Runtime, sandbox: Sandbox, world: World
) -> None:
    """Before subjects, the stored msal cache still names its user (home account id)."""
    add_owner(world)
    connect(runtime, sandbox, "microsoft", MS_OWNER)
    forget_subjects(runtime)
    world.add_mailbox(Mailbox(MS_OWNER, "Grace Other", "microsoft", tenant="fabrikam"))

    with pytest.raises(IdentityConflict):
        connect(runtime, sandbox, "microsoft", MS_OWNER)
    with session_scope(runtime.db) as session:
        assert session.scalar(select(func.count()).select_from(Account)) == 1
        assert session.scalar(select(Account.subject)) is None
