"""Sessions, CSRF tokens and link-form proofs: who is asking, and did they mean it.

The session is a signed cookie (Starlette's ``SessionMiddleware``) holding the account
id, the account's session stamp (its session epoch, bumped at sign-out, and creation
time: ``nudger.store.sign_ins``), the sign-in time and a CSRF token. Starlette
signs the cookie afresh on every response, so its own timestamp proves nothing about
age: ``SessionGuard`` forgets, before any route runs, a session signed in more than
``SESSION_MAX_AGE`` ago or whose stamp is no longer the account's (OWASP Session
Management Cheat Sheet: absolute timeout, invalidation on logout).

Every state-changing form carries the CSRF token, checked in constant time
(synchronizer token pattern). One-click link forms need no session (the signed link
is the capability); they carry an HMAC of the link token instead, so a POST must
come from the confirmation page that was served for it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, MutableMapping
from datetime import datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from nudger.crypto import LINK_FORM_KEY, SESSION_COOKIE_KEY, derived_key
from nudger.runtime import Runtime
from nudger.store.db import session_scope
from nudger.store.sign_ins import end_sessions, session_stamp

SESSION_COOKIE = "nudger_session"
SESSION_MAX_AGE = 14 * 24 * 3600
"""Seconds from sign-in to the end of a session, however often the cookie is re-signed."""
ACCOUNT_KEY = "account_id"
STAMP_KEY = "stamp"
SIGNED_IN_AT_KEY = "signed_in_at"
CSRF_KEY = "csrf"
CSRF_FIELD = "csrf_token"
OAUTH_STATE_KEY = "oauth_state"
LINK_PROOF_FIELD = "confirm"


class SignInRequired(Exception):
    """Raised by ``signed_in_account``; the app answers with a redirect to the sign-up page."""


def session_middleware(runtime: Runtime, clock: Callable[[], datetime]) -> list[Middleware]:
    """Signed, HttpOnly, SameSite=Lax cookie (``Secure`` when nudger is served over https),
    then the guard that checks what the cookie says against the database and the clock."""
    key = derived_key(runtime.settings, runtime.cipher, SESSION_COOKIE_KEY)
    return [
        Middleware(
            SessionMiddleware,
            secret_key=key.hex(),
            session_cookie=SESSION_COOKIE,
            max_age=SESSION_MAX_AGE,
            same_site="lax",
            https_only=runtime.settings.public_url.startswith("https://"),
        ),
        Middleware(SessionGuard, runtime=runtime, clock=clock),
    ]


class SessionGuard:
    """Pure ASGI, inside ``SessionMiddleware``: clears a signed-in session that has ended
    (too old, signed out since, or its account deleted), so no route ever sees it."""

    def __init__(self, app: ASGIApp, runtime: Runtime, clock: Callable[[], datetime]) -> None:
        self.app = app
        self.runtime = runtime
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        session: MutableMapping[str, Any] = scope.get("session") or {}
        signed_in = scope["type"] == "http" and ACCOUNT_KEY in session
        if signed_in and not await run_in_threadpool(self._still_valid, session):
            session.clear()
        await self.app(scope, receive, send)

    def _still_valid(self, session: MutableMapping[str, Any]) -> bool:
        account_id, stamp = session.get(ACCOUNT_KEY), session.get(STAMP_KEY)
        signed_in_at = session.get(SIGNED_IN_AT_KEY)
        if not isinstance(account_id, int) or not isinstance(signed_in_at, int):
            return False
        if self.clock().timestamp() - signed_in_at > SESSION_MAX_AGE:
            return False
        with session_scope(self.runtime.db) as db:
            current = session_stamp(db, account_id)
        return current is not None and current == stamp


def sign_in(runtime: Runtime, request: Request, account_id: int, now: datetime) -> None:
    """Start a fresh session for the account (a new CSRF token: no fixation)."""
    with session_scope(runtime.db) as db:
        stamp = session_stamp(db, account_id)
    request.session.clear()
    request.session.update(
        {ACCOUNT_KEY: account_id, STAMP_KEY: stamp, SIGNED_IN_AT_KEY: int(now.timestamp())}
    )
    csrf_token(request)


def sign_out(request: Request) -> None:
    """Forget this browser's session (the cookie is deleted with the response)."""
    request.session.clear()


def sign_out_everywhere(runtime: Runtime, request: Request) -> None:
    """Sign-out: every cookie the account was given stops working, copies included."""
    account_id = request.session.get(ACCOUNT_KEY)
    if isinstance(account_id, int):
        with session_scope(runtime.db) as db:
            end_sessions(db, account_id)
    sign_out(request)


def signed_in_account(request: Request) -> int:
    """The session's account id; every query of a signed-in page filters by it."""
    account_id = request.session.get(ACCOUNT_KEY)
    if not isinstance(account_id, int):
        raise SignInRequired
    return account_id


def csrf_token(request: Request) -> str:
    """The session's synchronizer token, created on first use."""
    token = request.session.get(CSRF_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_KEY] = token
    return token


async def checked_form(request: Request, max_fields: int = 1000) -> FormData:
    """The POSTed form, once its CSRF token matches the session's; otherwise 403.
    More than ``max_fields`` fields is a 400 (Starlette's parser counts them)."""
    form = await request.form(max_fields=max_fields)
    expected = request.session.get(CSRF_KEY)
    given = form.get(CSRF_FIELD)
    if not isinstance(expected, str) or not isinstance(given, str) or not expected:
        raise HTTPException(403, "This form has expired or was not sent from nudger.")
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise HTTPException(403, "This form has expired or was not sent from nudger.")
    return form


def link_proof(runtime: Runtime, token: str) -> str:
    """The hidden field of a link's confirmation form: an HMAC of the link token."""
    key = derived_key(runtime.settings, runtime.cipher, LINK_FORM_KEY)
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()


def link_proof_ok(runtime: Runtime, token: str, given: object) -> bool:
    if not isinstance(given, str):
        return False
    return hmac.compare_digest(link_proof(runtime, token).encode(), given.encode())
