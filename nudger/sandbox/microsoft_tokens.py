"""Microsoft identity state in the world (codes, tokens, signing key) and bearer checks.

``world.auth["microsoft"]`` holds ``codes`` (authorization codes), ``tokens`` (access
and refresh tokens, revoked ones kept so a dead grant is told apart from garbage) and
``key`` (the RSA key that signs ID tokens, published at the JWKS URI). Graph handlers
call ``authenticate`` with the permissions a method accepts. ``revoke_refresh_tokens``
and ``expire_access_tokens`` are the control hooks for tests.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from starlette.requests import Request

from nudger.sandbox.microsoft_common import GraphError, directory_id
from nudger.sandbox.world import Mailbox, World, utcnow

TENANT_NAME = "sandbox-tenant"
"""The tenant in ``Sandbox.settings()["microsoft_authority"]`` (``server.MICROSOFT_TENANT``)."""
TENANT_ID = directory_id("tenant", TENANT_NAME)
GRAPH_RESOURCE = "https://graph.microsoft.com/"
OIDC_SCOPES = frozenset({"openid", "profile", "email", "offline_access"})
ACCESS_TTL = 3599
KEY_ID = "sandbox-signing-key"
_WWW_AUTHENTICATE = (
    'Bearer realm="", '
    'authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", '
    'client_id="00000003-0000-0000-c000-000000000000"'
)


@dataclass
class AuthCode:
    client_id: str
    redirect_uri: str
    user: str
    scopes: tuple[str, ...]
    challenge: str | None
    nonce: str | None
    expires: datetime
    used: bool = False


@dataclass
class Token:
    kind: str
    """"access" or "refresh"."""
    client_id: str
    user: str
    scopes: tuple[str, ...]
    expires: datetime | None = None
    revoked: bool = False


# --- state ---------------------------------------------------------------------------------


def _state(world: World) -> dict[str, Any]:
    return world.auth.setdefault("microsoft", {"codes": {}, "tokens": {}})


def codes(world: World) -> dict[str, AuthCode]:
    return cast(dict[str, AuthCode], _state(world)["codes"])


def tokens(world: World) -> dict[str, Token]:
    return cast(dict[str, Token], _state(world)["tokens"])


def signing_key(world: World) -> rsa.RSAPrivateKey:
    """The world's ID-token signing key, made on first use (a key per world)."""
    with world.lock:
        state = _state(world)
        if "key" not in state:
            state["key"] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return cast(rsa.RSAPrivateKey, state["key"])


def revoke_refresh_tokens(world: World, email: str) -> int:
    """Kill every refresh token of ``email`` (as "revoke sessions" in Entra does)."""
    with world.lock:
        alive = [t for t in tokens(world).values() if _is_live_refresh(t, email)]
        for token in alive:
            token.revoked = True
        return len(alive)


def expire_access_tokens(world: World, email: str) -> int:
    """Make every access token of ``email`` expired, so Graph answers 401."""
    with world.lock:
        mine = [t for t in tokens(world).values() if t.kind == "access" and _owned(t, email)]
        for token in mine:
            token.expires = utcnow() - timedelta(seconds=1)
        return len(mine)


def _owned(token: Token, email: str) -> bool:
    return token.user.lower() == email.lower()


def _is_live_refresh(token: Token, email: str) -> bool:
    return token.kind == "refresh" and not token.revoked and _owned(token, email)


# --- scopes --------------------------------------------------------------------------------


def short_scope(scope: str) -> str:
    """``https://graph.microsoft.com/Calendars.Read`` → ``calendars.read`` (case-insensitive)."""
    return scope.removeprefix(GRAPH_RESOURCE).lower()


def permissions(scopes: tuple[str, ...]) -> frozenset[str]:
    return frozenset(short_scope(s) for s in scopes if s.lower() not in OIDC_SCOPES)


# --- bearer tokens on Graph calls ---------------------------------------------------------


def authenticate(
    world: World,
    request: Request,
    accepted: frozenset[str],
    denied_code: str = "ErrorAccessDenied",
) -> Mailbox:
    """The mailbox behind the request's bearer token, if it holds one of ``accepted``."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise _unauthenticated("Access token is empty.")
    with world.lock:
        record = tokens(world).get(value.strip())
        if record is None or record.kind != "access":
            raise _unauthenticated("IDX14100: JWT is not well formed, there are no dots (.).")
        if record.expires is not None and record.expires <= utcnow():
            raise _unauthenticated("Lifetime validation failed, the token is expired.")
        if not accepted & permissions(record.scopes):
            raise _access_denied(denied_code)
        return world.mailbox(record.user)


def _unauthenticated(message: str) -> GraphError:
    headers = {"WWW-Authenticate": _WWW_AUTHENTICATE}
    return GraphError(401, "InvalidAuthenticationToken", message, headers)


def _access_denied(code: str) -> GraphError:
    if code == "Authorization_RequestDenied":
        return GraphError(403, code, "Insufficient privileges to complete the operation.")
    return GraphError(403, code, "Access is denied. Check credentials and try again.")


# --- ID tokens and client_info ----------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def user_id(email: str) -> str:
    """The user's object id (``oid``): a stable GUID per address."""
    return directory_id("user", email)


def client_info(mailbox: Mailbox) -> str:
    """What msal keys its account cache on: ``{"uid": oid, "utid": tenant id}``."""
    return b64url(json.dumps({"uid": user_id(mailbox.email), "utid": TENANT_ID}).encode())


def issuer(base_url: str) -> str:
    return f"{base_url}/{TENANT_ID}/v2.0"


def id_token(
    world: World, base_url: str, client_id: str, mailbox: Mailbox, nonce: str | None
) -> str:
    """A v2.0 ID token signed RS256 with the world's key (see the JWKS endpoint)."""
    now = int(utcnow().timestamp())
    claims: dict[str, Any] = {
        "ver": "2.0",
        "iss": issuer(base_url),
        "aud": client_id,
        "iat": now,
        "nbf": now,
        "exp": now + ACCESS_TTL + 1,
        "sub": directory_id("pairwise", f"{client_id}:{mailbox.email}"),
        "oid": user_id(mailbox.email),
        "tid": TENANT_ID,
        "name": mailbox.name,
        "preferred_username": mailbox.email,
    }
    if nonce:
        claims["nonce"] = nonce
    return _sign(world, claims)


def _sign(world: World, claims: dict[str, Any]) -> str:
    header = {"typ": "JWT", "alg": "RS256", "kid": KEY_ID}
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    signature = signing_key(world).sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64url(signature)}"


def jwks(world: World) -> dict[str, Any]:
    numbers = signing_key(world).public_key().public_numbers()
    key = {
        "kty": "RSA",
        "use": "sig",
        "alg": "RS256",
        "kid": KEY_ID,
        "n": b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
        "e": b64url(numbers.e.to_bytes(3, "big")),
    }
    return {"keys": [key]}
