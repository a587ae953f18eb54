"""Microsoft identity state in the world (codes, tokens, signing key) and bearer checks.

``world.auth["microsoft"]`` holds ``codes`` (authorization codes), ``tokens`` (access
and refresh tokens, revoked ones kept so a dead grant is told apart from garbage) and
``key`` (the RSA key that signs ID tokens, published at the JWKS URI). Codes and tokens
name the user by ``Mailbox.identity`` (as Entra ties them to the object id, not the
address). Graph handlers call ``authenticate`` with the permissions a method accepts.
``revoke_refresh_tokens`` and ``expire_access_tokens`` are the control hooks for tests.

Users belong to a tenant (``Mailbox.tenant``, by name; empty for ``TENANT_NAME``); the
ids in ID tokens and ``client_info`` follow Entra's: ``oid`` per user and tenant, ``tid``
the tenant's id, ``sub`` pairwise per application.
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

from nudger.clock import utcnow
from nudger.sandbox.microsoft_common import GraphError, directory_id
from nudger.sandbox.world import Mailbox, World

TENANT_NAME = "sandbox-tenant"
"""The tenant in ``Sandbox.settings()["microsoft_authority"]`` (``server.MICROSOFT_TENANT``)."""
TENANT_ID = directory_id("tenant", TENANT_NAME)
MULTI_TENANT = frozenset({"common", "organizations"})
"""Authority path segments that let users of any (work or school) tenant sign in."""
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
    """The user's ``Mailbox.identity``."""
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
    """The user's ``Mailbox.identity``."""
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
        user = world.mailbox(email).identity
        alive = [t for t in tokens(world).values() if _is_live_refresh(t, user)]
        for token in alive:
            token.revoked = True
        return len(alive)


def expire_access_tokens(world: World, email: str) -> int:
    """Make every access token of ``email`` expired, so Graph answers 401."""
    with world.lock:
        user = world.mailbox(email).identity
        mine = [t for t in tokens(world).values() if t.kind == "access" and t.user == user]
        for token in mine:
            token.expires = utcnow() - timedelta(seconds=1)
        return len(mine)


def _is_live_refresh(token: Token, user: str) -> bool:
    return token.kind == "refresh" and not token.revoked and token.user == user


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
        user = world.user(record.user)
        if user is None:
            raise _unauthenticated("The user or application does not exist in the directory.")
        if not accepted & permissions(record.scopes):
            raise _access_denied(denied_code)
        return user


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


def user_id(identity: str) -> str:
    """A user's object id (``oid``, Graph's user ``id``): a GUID per user identity (or, for
    someone without a mailbox, per address)."""
    return directory_id("user", identity)


def tenant_id(mailbox: Mailbox) -> str:
    """The id (``tid``) of the tenant the user belongs to."""
    return directory_id("tenant", mailbox.tenant) if mailbox.tenant else TENANT_ID


def authority_tenant(world: World, segment: str) -> str | None:
    """The tenant an authority path segment names: a tenant id, ``segment`` itself when it
    is multi-tenant (``MULTI_TENANT``), None for a tenant nobody belongs to."""
    if segment in MULTI_TENANT:
        return segment
    with world.lock:
        named = {m.tenant: tenant_id(m) for m in world.mailboxes.values() if m.tenant}
    named[TENANT_NAME] = TENANT_ID
    if segment in named:
        return named[segment]
    return segment if segment in named.values() else None


def client_info(mailbox: Mailbox) -> str:
    """What msal keys its account cache on: ``{"uid": oid, "utid": tenant id}``."""
    info = {"uid": user_id(mailbox.identity), "utid": tenant_id(mailbox)}
    return b64url(json.dumps(info).encode())


def issuer(base_url: str, tenant: str) -> str:
    """The v2.0 issuer of tenant id ``tenant`` (``{tenantid}`` in multi-tenant metadata)."""
    return f"{base_url}/{tenant}/v2.0"


def id_token(
    world: World,
    base_url: str,
    client_id: str,
    mailbox: Mailbox,
    nonce: str | None,
    scopes: tuple[str, ...],
) -> str:
    """A v2.0 ID token signed RS256 with the world's key (see the JWKS endpoint).

    Its claims are those of Microsoft's "ID token claims reference": ``oid``,
    ``preferred_username`` and ``name`` only with the profile scope; ``sub`` pairwise
    (per application, tenant and user); ``preferred_username`` is the current address,
    which can change, while ``oid`` and ``tid`` never do."""
    now = int(utcnow().timestamp())
    tenant = tenant_id(mailbox)
    claims: dict[str, Any] = {
        "ver": "2.0",
        "iss": issuer(base_url, tenant),
        "aud": client_id,
        "iat": now,
        "nbf": now,
        "exp": now + ACCESS_TTL + 1,
        "sub": directory_id("pairwise", f"{client_id}:{tenant}:{mailbox.identity}"),
        "tid": tenant,
    }
    if "profile" in {s.lower() for s in scopes}:
        claims["oid"] = user_id(mailbox.identity)
        claims["preferred_username"] = mailbox.email
        claims["name"] = mailbox.name
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
