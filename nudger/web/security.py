"""Sessions, CSRF tokens and link-form proofs: who is asking, and did they mean it.

The session is a signed cookie (Starlette's ``SessionMiddleware``) holding only the
account id and a CSRF token. Every state-changing form carries that token and is
checked in constant time (synchronizer token pattern). One-click link forms need no
session (the signed link is the capability); they carry an HMAC of the link token
instead, so a POST must come from the confirmation page that was served for it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request

from nudger.runtime import Runtime
from nudger.web.links import signing_key

SESSION_COOKIE = "nudger_session"
SESSION_MAX_AGE = 14 * 24 * 3600
ACCOUNT_KEY = "account_id"
CSRF_KEY = "csrf"
CSRF_FIELD = "csrf_token"
OAUTH_STATE_KEY = "oauth_state"
LINK_PROOF_FIELD = "confirm"


class SignInRequired(Exception):
    """Raised by ``signed_in_account``; the app answers with a redirect to the sign-up page."""


def session_middleware(runtime: Runtime) -> Middleware:
    """Signed, HttpOnly, SameSite=Lax cookie; ``Secure`` when nudger is served over https."""
    key = signing_key(runtime.settings, runtime.cipher)
    return Middleware(
        SessionMiddleware,
        secret_key=hashlib.sha256(b"nudger-session:" + key).hexdigest(),
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE,
        same_site="lax",
        https_only=runtime.settings.public_url.startswith("https://"),
    )


def sign_in(request: Request, account_id: int) -> None:
    """Start a fresh session for the account (a new CSRF token: no fixation)."""
    request.session.clear()
    request.session[ACCOUNT_KEY] = account_id
    csrf_token(request)


def sign_out(request: Request) -> None:
    request.session.clear()


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


async def checked_form(request: Request) -> FormData:
    """The POSTed form, once its CSRF token matches the session's; otherwise 403."""
    form = await request.form()
    expected = request.session.get(CSRF_KEY)
    given = form.get(CSRF_FIELD)
    if not isinstance(expected, str) or not isinstance(given, str) or not expected:
        raise HTTPException(403, "This form has expired or was not sent from nudger.")
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise HTTPException(403, "This form has expired or was not sent from nudger.")
    return form


def link_proof(runtime: Runtime, token: str) -> str:
    """The hidden field of a link's confirmation form: an HMAC of the link token."""
    key = signing_key(runtime.settings, runtime.cipher)
    return hmac.new(key, b"nudger-link-form:" + token.encode(), hashlib.sha256).hexdigest()


def link_proof_ok(runtime: Runtime, token: str, given: object) -> bool:
    if not isinstance(given, str):
        return False
    return hmac.compare_digest(link_proof(runtime, token).encode(), given.encode())
