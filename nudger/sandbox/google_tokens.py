"""Google OAuth state in the world (codes, tokens, consents) and bearer-token checks.

``world.auth["google"]`` holds three dicts: ``codes`` (authorization codes),
``tokens`` (access and refresh tokens) and ``consents`` (scopes each user granted
each client). Codes, tokens and consents name the user by ``Mailbox.identity``, so a
renamed user keeps them. API front-ends call ``authenticate`` with the scopes a method
accepts.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from starlette.requests import Request

from nudger.clock import utcnow
from nudger.sandbox.google_common import GoogleError
from nudger.sandbox.world import Mailbox, World

ISSUER = "https://accounts.google.com"
USERINFO = "https://www.googleapis.com/auth/userinfo."
SCOPE_ALIASES = {"email": USERINFO + "email", "profile": USERINFO + "profile"}
ACCESS_TTL = 3599
_REALM = 'Bearer realm="https://accounts.google.com/"'


@dataclass
class AuthCode:
    client_id: str
    redirect_uri: str
    user: str
    """The user's ``Mailbox.identity``."""
    scopes: tuple[str, ...]
    challenge: str | None
    method: str
    with_refresh: bool
    expires: datetime
    used: bool = False
    issued: list[str] = field(default_factory=list)


@dataclass
class Token:
    kind: str
    """"access" or "refresh"."""
    client_id: str
    user: str
    """The user's ``Mailbox.identity``."""
    scopes: tuple[str, ...]
    expires: datetime | None = None
    parent: str | None = None
    """For an access token: the refresh token it was issued under."""


# --- state ------------------------------------------------------------------------------


def _state(world: World) -> dict[str, Any]:
    return world.auth.setdefault("google", {"codes": {}, "tokens": {}, "consents": {}})


def codes(world: World) -> dict[str, AuthCode]:
    return cast(dict[str, AuthCode], _state(world)["codes"])


def tokens(world: World) -> dict[str, Token]:
    return cast(dict[str, Token], _state(world)["tokens"])


def consents(world: World) -> dict[tuple[str, str], set[str]]:
    """Scopes each user has consented to, per (client_id, user identity)."""
    return cast(dict[tuple[str, str], set[str]], _state(world)["consents"])


def revoke_token(world: World, token: str) -> bool:
    """Revoke a token and its whole grant (Google revokes the refresh token too)."""
    with world.lock:
        store = tokens(world)
        record = store.get(token)
        if record is None:
            return False
        root = record.parent or token
        for key in [k for k, t in store.items() if k == root or t.parent == root]:
            del store[key]
        if record.kind == "refresh" or record.parent:
            consents(world).pop((record.client_id, record.user), None)
        return True


# --- bearer tokens on API calls -----------------------------------------------------------


def authenticate(world: World, request: Request, accepted: frozenset[str]) -> Mailbox:
    """The mailbox behind the request's bearer token, if it carries one of ``accepted``."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise _unauthenticated("Login Required.", _REALM)
    with world.lock:
        record = tokens(world).get(value.strip())
        user = world.user(record.user) if record else None
        if record is None or record.kind != "access" or expired(record.expires) or user is None:
            raise _unauthenticated("Invalid Credentials", _REALM + ', error="invalid_token"')
        if not accepted.intersection(record.scopes):
            raise _insufficient_scope(accepted)
        return user


def expired(expires: datetime | None) -> bool:
    return expires is not None and expires <= utcnow()


def _unauthenticated(message: str, challenge: str) -> GoogleError:
    headers = {"WWW-Authenticate": challenge}
    return GoogleError(401, "authError", message, headers=headers, location="Authorization")


def _insufficient_scope(accepted: frozenset[str]) -> GoogleError:
    challenge = f'{_REALM}, error="insufficient_scope", scope="{" ".join(sorted(accepted))}"'
    message = "Request had insufficient authentication scopes."
    return GoogleError(
        403, "insufficientPermissions", message, headers={"WWW-Authenticate": challenge}
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def id_token(client_id: str, mailbox: Mailbox, scopes: tuple[str, ...]) -> str:
    """An OpenID Connect ID token, unsigned (``alg: none``): the sandbox has no keys.

    As Google's: ``sub`` is the account's stable id; ``email`` comes only with the
    email scope and ``name`` only with profile."""
    now = int(utcnow().timestamp())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "azp": client_id,
        "aud": client_id,
        "sub": subject(mailbox.identity),
        "iat": now,
        "exp": now + ACCESS_TTL + 1,
    }
    if SCOPE_ALIASES["email"] in scopes:
        claims.update(email=mailbox.email, email_verified=True)
    if SCOPE_ALIASES["profile"] in scopes:
        claims["name"] = mailbox.name
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{_b64(json.dumps(claims).encode())}."


def subject(identity: str) -> str:
    """The stable numeric Google account id of the user with ``identity``."""
    return str(int(hashlib.sha256(identity.lower().encode()).hexdigest()[:16], 16))
