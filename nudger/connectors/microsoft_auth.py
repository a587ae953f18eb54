"""Microsoft sign-up (msal's auth-code flow with PKCE) and the per-account token source.

msal keeps the flow dict (state, PKCE verifier, nonce) that the callback must hand
back: it travels JSON-encoded in ``AuthStart.pending``, which the web layer stores
encrypted server-side. One msal application serves the whole process (building one
fetches the authority's metadata); its token cache routes every call to the cache of
the account being served, so each account keeps its own serialized cache, saved
encrypted whenever msal changed it (refresh tokens rotate on every use).

msal reports failures as returned dicts; ``map_msal_error`` turns them into nudger's
exceptions at once.

Accounts are matched on the ID token's ``tid`` and ``oid`` (Microsoft's "ID token claims
reference": ``preferred_username`` is mutable, can be reused and is no key), which msal
(1.38 on) decodes but no longer checks: ``_subject`` checks issuer, audience and expiry.

A refused sign-in (a required permission missing) cannot be revoked at Microsoft: the
identity platform has no revocation endpoint for one app's tokens. Graph's
``revokeSignInSessions`` ends every session and refresh token of the user in every app
(signing them out of Outlook and Teams everywhere) and needs the admin-consented
``User.RevokeSessions.All``; deleting the ``oauth2PermissionGrant`` needs the
tenant-wide ``DelegatedPermissionGrant.ReadWrite.All``. Both are out of proportion, so
the refused grant's msal cache, the only copy of its refresh token, is dropped unstored
and the user is told where to withdraw the consent.
"""

from __future__ import annotations

import json
import logging
import threading
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import msal
import requests

from nudger.config import Settings
from nudger.connectors.base import AuthStart, CredentialSaver, Grant
from nudger.connectors.id_token import check_claims
from nudger.connectors.tls import requests_session
from nudger.errors import (
    AuthRevoked,
    ConnectorError,
    MissingScopes,
    OAuthStateError,
    TransientError,
)

log = logging.getLogger(__name__)

USER_READ = "User.Read"
MAILBOX_SETTINGS = "MailboxSettings.Read"
CALENDARS = "Calendars.ReadWrite"
MAIL_SEND = "Mail.Send"
DIRECTORY_READ = "User.ReadBasic.All"
HIRE_DATES_READ = "User.Read.All"
"""Other users' full profiles: ``employeeHireDate`` is not in User.ReadBasic.All's basic
profile (displayName, givenName, surname, mail, userPrincipalName, photo). Delegated, it
needs an admin's consent, so it is asked only with ``NUDGER_MICROSOFT_HIRE_DATES``."""
OFFLINE_ACCESS = "offline_access"
REQUIRED_SCOPES = (USER_READ, MAILBOX_SETTINGS, CALENDARS, MAIL_SEND)
OPTIONAL_SCOPES = (DIRECTORY_READ,)
"""Only the org chart needs it (with User.Read); a grant without it just has no directory."""
KNOWN_SCOPES = (*REQUIRED_SCOPES, *OPTIONAL_SCOPES, HIRE_DATES_READ)


def asked_scopes(settings: Settings) -> list[str]:
    """What sign-up asks for: hire dates only where the operator turned them on."""
    extra = [HIRE_DATES_READ] if settings.microsoft_hire_dates else []
    return [*REQUIRED_SCOPES, *OPTIONAL_SCOPES, *extra]


SCOPE_PURPOSE = {
    USER_READ: "know who you are",
    MAILBOX_SETTINGS: "read your time zone and working hours",
    CALENDARS: "read your calendar and book relationship-time holds",
    MAIL_SEND: "send nudges from your own mailbox",
    OFFLINE_ACCESS: "keep working while you are signed out",
}
FORM_POST_ADVICE = r"response_mode='form_post' is recommended"
"""The start of the warning msal gives for every auth-code flow without form_post."""
REVOKED_ERRORS = frozenset({"invalid_grant", "interaction_required", "consent_required"})
TRANSIENT_ERRORS = frozenset({"temporarily_unavailable", "server_error"})
HTTP_TIMEOUT = 30.0
CONSENT_ADVICE = (
    "Nothing was stored and nudger keeps no token; to withdraw the consent you gave, "
    "remove nudger at https://myapps.microsoft.com"
)

_apps: dict[tuple[str, ...], msal.ConfidentialClientApplication] = {}
_apps_guard = threading.Lock()
_account_locks: dict[str, threading.Lock] = {}
_current_cache: ContextVar[msal.SerializableTokenCache | None] = ContextVar(
    "nudger_msal_cache", default=None
)


# --- errors -----------------------------------------------------------------------


def map_msal_error(result: Mapping[str, Any]) -> ConnectorError:
    """The one place where msal's error dicts become nudger's exceptions."""
    error = str(result.get("error", "unknown_error"))
    codes = result.get("error_codes") or []
    detail = f"{error} (AADSTS{codes[0]})" if codes else error
    if error in REVOKED_ERRORS:
        return AuthRevoked(f"Microsoft access was revoked or expired ({detail}); reconnect")
    if error in TRANSIENT_ERRORS:
        return TransientError(f"Microsoft sign-in service unavailable ({detail})")
    return ConnectorError(f"Microsoft sign-in failed: {detail}")


# --- one msal application per process, one token cache per account -------------------


def _bound_cache() -> msal.SerializableTokenCache:
    cache = _current_cache.get()
    if cache is None:
        raise RuntimeError("msal was called outside using_cache(); no account cache is bound")
    return cache


class _AccountCache:
    """msal's token cache, routed to the cache bound for the current thread/context.

    msal binds ``remove_rt`` / ``update_rt`` when the application is built, so those
    two are real methods; everything else is looked up on the bound cache per call.
    """

    def remove_rt(self, rt_item: Any) -> None:
        _bound_cache().remove_rt(rt_item)

    def update_rt(self, rt_item: Any, new_rt: str) -> None:
        _bound_cache().update_rt(rt_item, new_rt)

    def __getattr__(self, name: str) -> Any:
        return getattr(_bound_cache(), name)


@contextmanager
def using_cache(cache: msal.SerializableTokenCache) -> Iterator[None]:
    """Serve msal calls made inside the block from ``cache`` (one account's)."""
    token = _current_cache.set(cache)
    try:
        yield
    finally:
        _current_cache.reset(token)


def application(settings: Settings) -> msal.ConfidentialClientApplication:
    """The process's msal application for these settings (built once, then reused)."""
    key = (
        settings.microsoft_client_id,
        settings.microsoft_client_secret.get_secret_value(),
        settings.microsoft_authority,
        str(settings.ca_bundle),
    )
    with _apps_guard:
        if key not in _apps:
            _apps[key] = _build_application(settings)
        return _apps[key]


def _build_application(settings: Settings) -> msal.ConfidentialClientApplication:
    try:
        return msal.ConfidentialClientApplication(
            settings.microsoft_client_id,
            client_credential=settings.microsoft_client_secret.get_secret_value(),
            authority=settings.microsoft_authority,
            # Otherwise msal asks login.microsoftonline.com about any other authority host.
            instance_discovery=False,
            http_client=requests_session(settings.ca_bundle),
            token_cache=_AccountCache(),
            timeout=HTTP_TIMEOUT,
        )
    except requests.RequestException as exc:
        raise TransientError(
            f"cannot reach the Microsoft authority: {type(exc).__name__}"
        ) from None
    except ValueError as exc:
        raise ConnectorError(f"Microsoft authority unusable: {exc}") from None


# --- the stored credentials ------------------------------------------------------------


@dataclass(frozen=True)
class MicrosoftCredentials:
    """The decrypted credential blob: one account's msal cache and how to find it."""

    cache: str
    home_account_id: str
    username: str
    scopes: tuple[str, ...]
    """The resource scopes granted; what every silent token request asks for."""

    def to_json(self) -> str:
        return json.dumps(
            {
                "cache": self.cache,
                "home_account_id": self.home_account_id,
                "username": self.username,
                "scopes": list(self.scopes),
            }
        )

    @classmethod
    def from_json(cls, blob: str) -> MicrosoftCredentials:
        data = json.loads(blob)
        return cls(data["cache"], data["home_account_id"], data["username"], tuple(data["scopes"]))

    @property
    def subject(self) -> str:
        """``tid:oid``: msal's home account id is ``{oid}.{tid}`` (from client_info)."""
        oid, _, tid = self.home_account_id.partition(".")
        return f"{tid}:{oid}"


# --- sign-up --------------------------------------------------------------------------


class MicrosoftOAuth:
    """The ``OAuthFlow`` for Microsoft 365 accounts."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def begin(self, redirect_uri: str, *, login_hint: str | None = None) -> AuthStart:
        cache = msal.SerializableTokenCache()
        with using_cache(cache), warnings.catch_warnings():
            # msal recommends response_mode=form_post (RFC 9700 4.3.1: a code in the URL may
            # leak). nudger's callback is a GET on purpose: the state is checked against the
            # browser's SameSite=Lax session, which a cross-site POST would not carry, and
            # a leaked code is useless without the PKCE verifier nudger keeps server-side.
            # Pages send Referrer-Policy: no-referrer and the access log redacts the query.
            warnings.filterwarnings("ignore", FORM_POST_ADVICE, UserWarning, "msal")
            flow = application(self._settings).initiate_auth_code_flow(
                asked_scopes(self._settings),
                redirect_uri=redirect_uri,
                login_hint=login_hint,
            )
        return AuthStart(
            url=flow["auth_uri"], state=flow["state"], pending={"flow": json.dumps(flow)}
        )

    def complete(self, pending: Mapping[str, str], params: Mapping[str, str]) -> Grant:
        if "error" in params:
            raise ConnectorError(f"Microsoft sign-in was not completed: {params['error']}")
        flow = json.loads(pending["flow"])
        app = application(self._settings)
        cache = msal.SerializableTokenCache()
        with using_cache(cache):
            result = _redeem(app, flow, params)
            accounts = app.get_accounts()
        granted = _granted_scopes(result)
        # On refusal the cache holding the refresh token goes out of scope unserialized.
        _check_grant(result, granted)
        subject = _subject(result, self._settings)
        return _grant(cache, _signed_in_account(accounts, result), result, granted, subject)

    def revoke(self, credentials: str) -> None:
        """Entra has no per-app revoke for one user: dropping the cache is all we can do."""
        log.info(
            "Microsoft grant dropped; the user removes consent at myapps.microsoft.com "
            "(or an admin in Entra ID > Enterprise applications)"
        )

    def stored_subject(self, credentials: str) -> str | None:
        return MicrosoftCredentials.from_json(credentials).subject


def _redeem(
    app: msal.ConfidentialClientApplication, flow: dict[str, Any], params: Mapping[str, str]
) -> dict[str, Any]:
    try:
        result: dict[str, Any] = app.acquire_token_by_auth_code_flow(flow, dict(params))
    except ValueError as exc:
        # msal checks state itself: a mismatch means a forged or mixed-up callback.
        raise OAuthStateError(f"Microsoft callback refused: {str(exc).split(':')[0]}") from None
    except requests.RequestException as exc:
        raise TransientError(
            f"cannot reach Microsoft's token endpoint: {type(exc).__name__}"
        ) from None
    if "error" in result:
        error = map_msal_error(result)
        if isinstance(error, TransientError):
            raise error
        raise ConnectorError(f"Microsoft refused the sign-in: {error}")
    return result


def _grant(
    cache: msal.SerializableTokenCache,
    account: dict[str, Any],
    result: Mapping[str, Any],
    granted: set[str],
    subject: str,
) -> Grant:
    credentials = MicrosoftCredentials(
        cache=cache.serialize(),
        home_account_id=account["home_account_id"],
        username=account["username"],
        scopes=tuple(s for s in KNOWN_SCOPES if s.lower() in granted),
    )
    return Grant(
        email=account["username"].lower(),
        name=(result.get("id_token_claims") or {}).get("name"),
        subject=subject,
        credentials=credentials.to_json(),
        scopes=credentials.scopes,
    )


def _granted_scopes(result: Mapping[str, Any]) -> set[str]:
    scope = result.get("scope") or ""
    listed = scope.split() if isinstance(scope, str) else [str(s) for s in scope]
    return {s.lower().removeprefix("https://graph.microsoft.com/") for s in listed}


def _check_grant(result: Mapping[str, Any], granted: set[str]) -> None:
    missing = [s for s in REQUIRED_SCOPES if s.lower() not in granted]
    if not result.get("refresh_token"):
        # Without offline_access there is no refresh token: nudger would stop in an hour.
        missing.append(OFFLINE_ACCESS)
    if missing:
        needed = [f"{scope} (to {SCOPE_PURPOSE[scope]})" for scope in missing]
        raise MissingScopes(needed, advice=CONSENT_ADVICE)


def _subject(result: Mapping[str, Any], settings: Settings) -> str:
    """``tid:oid`` of the signed-in user, from ID token claims checked for this sign-in."""
    claims = result.get("id_token_claims") or {}
    tid, oid = claims.get("tid"), claims.get("oid")
    if not tid or not oid:
        raise ConnectorError("Microsoft's ID token names no user (oid and tid are missing)")
    # Under /common or /organizations the issuer is the user's own tenant's.
    authority = urlsplit(settings.microsoft_authority)
    issuer = f"{authority.scheme}://{authority.netloc}/{tid}/v2.0"
    check_claims(
        claims, issuers=(issuer,), audience=settings.microsoft_client_id, provider="Microsoft"
    )
    return f"{tid}:{oid}"


def _signed_in_account(accounts: list[dict[str, Any]], result: Mapping[str, Any]) -> dict[str, Any]:
    oid = (result.get("id_token_claims") or {}).get("oid")
    for account in accounts:
        if oid is None or account.get("local_account_id") == oid:
            return account
    raise ConnectorError("Microsoft returned tokens without the signed-in account")


# --- the token source ----------------------------------------------------------------------


def _account_lock(account: str) -> threading.Lock:
    with _apps_guard:
        return _account_locks.setdefault(account.lower(), threading.Lock())


class MicrosoftTokens:
    """Access tokens for one account: cached by msal, refreshed one at a time, saved on change."""

    def __init__(
        self, settings: Settings, blob: str, save: CredentialSaver, *, account: str
    ) -> None:
        self._settings = settings
        self._credentials = MicrosoftCredentials.from_json(blob)
        self._cache = msal.SerializableTokenCache()
        self._cache.deserialize(self._credentials.cache)
        self._save = save
        self._lock = _account_lock(account)

    @property
    def granted_scopes(self) -> tuple[str, ...]:
        return self._credentials.scopes

    def access_token(self, *, force_refresh: bool = False) -> str:
        """A valid access token; ``force_refresh`` after Graph refused the cached one (401)."""
        with self._lock:
            try:
                result = self._acquire(force_refresh)
            finally:
                self._persist_if_changed()
        if result is None:
            raise AuthRevoked("no Microsoft refresh token for this account; reconnect")
        if "error" in result:
            raise map_msal_error(result)
        return str(result["access_token"])

    def _acquire(self, force_refresh: bool) -> dict[str, Any] | None:
        app = application(self._settings)
        with using_cache(self._cache):
            account = self._account(app)
            if account is None:
                return None
            try:
                result: dict[str, Any] | None = app.acquire_token_silent_with_error(
                    list(self._credentials.scopes), account=account, force_refresh=force_refresh
                )
            except requests.RequestException as exc:
                raise TransientError(
                    f"cannot reach Microsoft's token endpoint: {type(exc).__name__}"
                ) from None
        return result

    def _account(self, app: msal.ConfidentialClientApplication) -> dict[str, Any] | None:
        for account in app.get_accounts(username=self._credentials.username):
            if account.get("home_account_id") == self._credentials.home_account_id:
                return dict(account)
        return None

    def _persist_if_changed(self) -> None:
        if not self._cache.has_state_changed:
            return
        current = MicrosoftCredentials(
            self._cache.serialize(),
            self._credentials.home_account_id,
            self._credentials.username,
            self._credentials.scopes,
        )
        self._save(current.to_json())
        self._cache.has_state_changed = False
        log.info("saved the rotated Microsoft token cache")
