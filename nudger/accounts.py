"""Connecting, listing and removing accounts: the one OAuth code path.

The web callbacks and ``nudger demo`` both go through ``begin_connect`` and
``complete_connect``. OAuth state is server-side and single-use: the pending row
(PKCE verifier, redirect URI) is deleted by the callback that consumes it, so a
replayed or forged state finds nothing and creates nothing.

A sign-in finds its account by the provider's stable user id (``Account.subject``), never
by address alone: addresses change and get reused. See ``_account_for``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from nudger.connectors.addresses import mailbox, plain_name
from nudger.connectors.base import AuthStart, Connector, Grant, OAuthFlow
from nudger.connectors.registry import provider
from nudger.delivery.reconnect import cancel_reconnect_requests
from nudger.errors import (
    ConnectorError,
    IdentityConflict,
    OAuthStateError,
    UnknownAccount,
    UnusableAddress,
)
from nudger.runtime import Runtime
from nudger.store import accounts as account_store
from nudger.store.db import session_scope
from nudger.store.models import Account, Meta, OAuthPending

log = logging.getLogger(__name__)

STATE_TTL = timedelta(minutes=10)
HIGHEST_ACCOUNT_ID = "highest_account_id"
GUIDED_START = "guided_start"
"""``Account.settings`` key: ``pending`` from the first sign-up until the user confirms
the key people on /start, then ``done``. Accounts from before it have none: no guided start."""


@dataclass(frozen=True)
class AccountRef:
    id: int
    provider: str
    email: str
    name: str | None
    status: str


def _ref(account: Account) -> AccountRef:
    return AccountRef(account.id, account.provider, account.email, account.name, account.status)


def redirect_uri(runtime: Runtime, provider_name: str) -> str:
    return f"{runtime.settings.public_url}/oauth/{provider_name}/callback"


def begin_connect(
    runtime: Runtime, provider_name: str, *, login_hint: str | None = None
) -> AuthStart:
    flow = provider(provider_name).oauth(runtime.settings)
    start = flow.begin(redirect_uri(runtime, provider_name), login_hint=login_hint)
    now = datetime.now(UTC)
    with session_scope(runtime.db) as session:
        # Sign-ins started and abandoned leave their rows; each new one sweeps the expired.
        session.execute(delete(OAuthPending).where(OAuthPending.expires_at < now))
        session.add(
            OAuthPending(
                state=start.state,
                provider=provider_name,
                payload=runtime.cipher.encrypt(json.dumps(dict(start.pending))),
                created_at=now,
                expires_at=now + STATE_TTL,
            )
        )
    return start


def _take_pending(runtime: Runtime, provider_name: str, state: str) -> dict[str, str]:
    """Consume the pending row for ``state``: exactly one callback can ever use it."""
    with session_scope(runtime.db) as session:
        row = session.execute(
            delete(OAuthPending)
            .where(OAuthPending.state == state, OAuthPending.provider == provider_name)
            .returning(OAuthPending.payload, OAuthPending.expires_at)
        ).first()
    if row is None:
        raise OAuthStateError("unknown or already used sign-in state; start again")
    if row.expires_at < datetime.now(UTC):
        raise OAuthStateError("the sign-in took too long; start again")
    data: dict[str, str] = json.loads(runtime.cipher.decrypt(row.payload))
    return data


def complete_connect(runtime: Runtime, provider_name: str, params: dict[str, str]) -> AccountRef:
    state = params.get("state", "")
    if not state:
        raise OAuthStateError("the callback carries no state")
    pending = _take_pending(runtime, provider_name, state)
    flow = provider(provider_name).oauth(runtime.settings)
    grant = flow.complete(pending, params)
    try:
        grant = _checked(grant, provider_name)
        with session_scope(runtime.db) as session:
            account = _account_for(session, runtime, provider_name, grant)
            _store_grant(runtime, account, grant)
            session.flush()
            cancel_reconnect_requests(session, account.id, datetime.now(UTC))
            log.info("connected %s account %s", provider_name, account.id)
            return _ref(account)
    except (IdentityConflict, UnusableAddress):
        _discard(flow, provider_name, grant)
        raise


def _checked(grant: Grant, provider_name: str) -> Grant:
    """The grant with its address and name as checked at every provider boundary."""
    email = mailbox(grant.email)
    if email is None:
        raise UnusableAddress(
            f"{provider(provider_name).label} gave an address nudger cannot mail "
            f"({grant.email[:40]!r}); nothing was stored"
        )
    return replace(grant, email=email, name=plain_name(grant.name))


def _account_for(session: Session, runtime: Runtime, provider_name: str, grant: Grant) -> Account:
    """The account this grant belongs to: the one with its subject; else a new one.

    An account from before subjects were recorded (subject null) is found by address, and
    only when its stored credentials do not name another user. An address held by an
    account of a different user is refused (``IdentityConflict``) rather than shared: it
    has moved to someone else, and attaching the grant would hand them the account.
    """
    mine = account_store.account_of_user(session, provider_name, grant.subject)
    holder = account_store.account_holding(session, provider_name, grant.email)
    if holder is not None and holder is not mine:
        if mine is not None or not _legacy_of(runtime, provider_name, holder, grant):
            raise IdentityConflict(_conflict_message(provider_name, grant.email))
        return holder
    if mine is None:
        mine = Account(
            id=_unused_account_id(session),
            provider=provider_name,
            email=grant.email,
            settings={GUIDED_START: "pending"},
        )
        session.add(mine)
    return mine


def _legacy_of(runtime: Runtime, provider_name: str, account: Account, grant: Grant) -> bool:
    """``account`` predates subjects and nothing in it says it is somebody else's."""
    if account.subject is not None:
        return False
    blob = runtime.cipher.decrypt(account.credentials)
    stored = provider(provider_name).oauth(runtime.settings).stored_subject(blob)
    return stored in (None, grant.subject)


def _conflict_message(provider_name: str, email: str) -> str:
    label = provider(provider_name).label
    return (
        f"{email} is already connected to nudger by a different {label} account (the address "
        "may have belonged to someone else before). Nothing was stored; ask whoever runs "
        f"nudger to remove that account (nudger accounts remove {email}), then connect again."
    )


def _store_grant(runtime: Runtime, account: Account, grant: Grant) -> None:
    if account.email != grant.email:
        # Same user, new address: mail and display follow it.
        log.info("account %s: the provider reports a new address", account.id)
    account.subject = grant.subject
    account.email = grant.email
    account.name = grant.name
    account.credentials = runtime.cipher.encrypt(grant.credentials)
    account.scopes = " ".join(grant.scopes)
    account.status = "active"
    account.reconnect_notified_at = None
    account.profile_synced_at = None  # a new sign-in reads the profile on the next pass


def _discard(flow: OAuthFlow, provider_name: str, grant: Grant) -> None:
    """Revoke a grant that will not be stored; a failure is logged, the refusal stands."""
    try:
        flow.revoke(grant.credentials)
    except ConnectorError as exc:
        log.warning("could not revoke a refused %s grant: %s", provider_name, exc)


def _unused_account_id(session: Session) -> int | None:
    """An id no account ever had (SQLite), or None to let the database's sequence choose.

    SQLite hands the highest rowid out again once its row is deleted, so a removed
    account's session cookies and emailed links would reach the next account created.
    PostgreSQL sequences never go back; on SQLite the highest id ever given is kept in
    ``meta``.
    """
    if session.get_bind().dialect.name != "sqlite":
        return None
    mark = session.get(Meta, HIGHEST_ACCOUNT_ID)
    highest = session.scalar(select(func.max(Account.id))) or 0
    fresh = max(highest, int(mark.value) if mark else 0) + 1
    if mark is None:
        session.add(Meta(key=HIGHEST_ACCOUNT_ID, value=str(fresh)))
    else:
        mark.value = str(fresh)
    return fresh


def guided_start_pending(runtime: Runtime, account_id: int) -> bool:
    """The account signed up and has not yet confirmed its key people on /start."""
    with session_scope(runtime.db) as session:
        account = session.get(Account, account_id)
        return account is not None and (account.settings or {}).get(GUIDED_START) == "pending"


def finish_guided_start(session: Session, account_id: int) -> None:
    """Sign-in stops sending the account to /start (a new dict: JSON columns track
    reassignment, not mutation)."""
    account = session.get_one(Account, account_id)
    account.settings = {**(account.settings or {}), GUIDED_START: "done"}


def list_accounts(runtime: Runtime) -> list[AccountRef]:
    with session_scope(runtime.db) as session:
        return [_ref(a) for a in account_store.accounts_by_email(session)]


def account_ref(runtime: Runtime, account_id: int) -> AccountRef:
    with session_scope(runtime.db) as session:
        account = session.get(Account, account_id)
        if account is None:
            raise ConnectorError(f"no connected account with id {account_id}")
        return _ref(account)


def find_account(runtime: Runtime, email: str) -> AccountRef:
    with session_scope(runtime.db) as session:
        account = account_store.account_by_email(session, email)
        if account is None:
            raise UnknownAccount(email)
        return _ref(account)


class CredentialSaver:
    """Persists refreshed credentials encrypted, as the provider hands them over.

    On SQLite a sync round holds the database's single write lock for the whole round
    (its rows and cursor commit together), so a refresh in mid-round could not be saved
    until the round ends: inside ``deferred()`` the newest credentials wait in memory
    and are written when the block ends, whether it succeeded or not.
    """

    def __init__(self, runtime: Runtime, account_id: int) -> None:
        self._runtime = runtime
        self._account_id = account_id
        self._deferring = False
        self._pending: str | None = None

    def save(self, blob: str) -> None:
        if self._deferring:
            self._pending = blob
            return
        with session_scope(self._runtime.db) as session:
            account = session.get_one(Account, self._account_id)
            account.credentials = self._runtime.cipher.encrypt(blob)

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """Hold saves until the block ends (only where the database needs it: SQLite)."""
        if self._runtime.db.engine.dialect.name != "sqlite":
            yield
            return
        self._deferring = True
        try:
            yield
        finally:
            self._deferring = False
            pending, self._pending = self._pending, None
            if pending is not None:
                self.save(pending)


def connector_for(
    runtime: Runtime, account_id: int, saver: CredentialSaver | None = None
) -> Connector:
    """Build the account's connector; refreshed credentials go to ``saver``."""
    with session_scope(runtime.db) as session:
        account = session.get_one(Account, account_id)
        blob = runtime.cipher.decrypt(account.credentials)
        provider_name, email = account.provider, account.email
    saver = saver or CredentialSaver(runtime, account_id)
    return provider(provider_name).connect(runtime.settings, blob, saver.save, email)


def remove_account(runtime: Runtime, email: str) -> AccountRef:
    """Revoke the grant at the provider, then delete every row of the account."""
    ref = find_account(runtime, email)
    with session_scope(runtime.db) as session:
        account = session.get_one(Account, ref.id)
        blob = runtime.cipher.decrypt(account.credentials)
    # A failed revoke stops here: deleting the rows would leave a live grant behind.
    provider(ref.provider).oauth(runtime.settings).revoke(blob)
    with session_scope(runtime.db) as session:
        session.delete(session.get_one(Account, ref.id))
    return ref
