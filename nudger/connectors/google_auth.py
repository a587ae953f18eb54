"""Google sign-up (authorization code + S256 PKCE) and the per-account token source.

The PKCE verifier and the state live server-side in ``AuthStart.pending`` (the web
layer stores them, single-use, keyed by state). Credentials are kept as a small
JSON blob without the client secret, so rotating the app's secret needs no
migration; the blob is encrypted before it is stored. ``openid`` is asked for too: the
ID token's ``sub`` names the Google account for good, whatever its address becomes, and
``profile`` puts the user's ``name`` in it (emails greet them by it; the primary
calendar's summary, all a calendar scope shows, is only their address).

A sign-in refused after Google issued tokens (a scope left unticked, say) revokes them
at once: nothing is stored, so nothing should stay alive at Google either.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import google.auth.jwt
import google.auth.transport.requests
import requests
from google.auth.exceptions import RefreshError, TransportError
from google.oauth2.credentials import Credentials
from google_auth_oauthlib.flow import Flow
from oauthlib.oauth2.rfc6749.errors import OAuth2Error

from nudger.config import Settings, loopback_host
from nudger.connectors.base import AuthStart, CredentialSaver, Grant
from nudger.connectors.id_token import check_claims
from nudger.connectors.tls import ca_bundle_path, requests_session
from nudger.errors import AuthRevoked, ConfigError, ConnectorError, MissingScopes, TransientError

log = logging.getLogger(__name__)

OPENID = "openid"
PROFILE = "https://www.googleapis.com/auth/userinfo.profile"
"""The ``profile`` scope written out, as Google grants it back (oauthlib would take the
short name's expansion for a changed grant)."""
ISSUERS = ("https://accounts.google.com", "accounts.google.com")
"""What Google's ID tokens carry in ``iss`` (Google documents both forms)."""
CALENDAR_READ = "https://www.googleapis.com/auth/calendar.readonly"
CALENDAR_EVENTS = "https://www.googleapis.com/auth/calendar.events"
GMAIL_SEND = "https://www.googleapis.com/auth/gmail.send"
SCOPES = (CALENDAR_READ, CALENDAR_EVENTS, GMAIL_SEND)
DIRECTORY_READ = "https://www.googleapis.com/auth/directory.readonly"
"""Optional (``google_directory``): the Workspace directory's names and managers."""
SCOPE_PURPOSE = {
    CALENDAR_READ: "read your calendar",
    CALENDAR_EVENTS: "book relationship-time holds",
    GMAIL_SEND: "send nudges from your own mailbox",
}
REFRESH_MARGIN = timedelta(minutes=5)
_refresh_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


class GoogleOAuth:
    """The ``OAuthFlow`` for Google accounts."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def _flow(self, redirect_uri: str, **kwargs: Any) -> Flow:
        s = self._settings
        config = {
            "web": {
                "client_id": s.google_client_id,
                "client_secret": s.google_client_secret.get_secret_value(),
                "auth_uri": s.google_auth_uri,
                "token_uri": s.google_token_uri,
                "redirect_uris": [redirect_uri],
            }
        }
        optional = [DIRECTORY_READ] if s.google_directory else []
        return Flow.from_client_config(
            config,
            scopes=[OPENID, PROFILE, *SCOPES, *optional],
            redirect_uri=redirect_uri,
            **kwargs,
        )

    def begin(self, redirect_uri: str, *, login_hint: str | None = None) -> AuthStart:
        flow = self._flow(redirect_uri, autogenerate_code_verifier=True)
        extra = {"login_hint": login_hint} if login_hint else {}
        # prompt=consent: Google only returns a refresh token on a fresh consent.
        url, state = _authorization_url(flow, access_type="offline", prompt="consent", **extra)
        pending = {"code_verifier": flow.code_verifier or "", "redirect_uri": redirect_uri}
        return AuthStart(url=url, state=state, pending=pending)

    def complete(self, pending: Mapping[str, str], params: Mapping[str, str]) -> Grant:
        if "error" in params:
            raise ConnectorError(f"Google sign-in was not completed: {params['error']}")
        if not params.get("code"):
            raise ConnectorError("Google callback carries no authorization code")
        flow = self._flow(
            pending["redirect_uri"],
            state=params.get("state"),
            code_verifier=pending["code_verifier"],
            autogenerate_code_verifier=False,
        )
        token = _fetch_token(flow, params["code"], self._settings)
        try:
            return self._grant(flow, token)
        except ConnectorError:
            # Revoking the refresh token ends the whole grant, its access tokens too. With
            # no refresh token there is nothing of this sign-in's own to end: revoking the
            # access token would end the user's earlier grant, which may be in use.
            if token.get("refresh_token"):
                self._discard(str(token["refresh_token"]))
            raise

    def _grant(self, flow: Flow, token: Mapping[str, Any]) -> Grant:
        granted = _scope_list(token.get("scope"))
        _check_scopes(granted)
        if not token.get("refresh_token"):
            raise ConnectorError(
                "Google returned no refresh token; remove nudger's access at "
                "myaccount.google.com/permissions and connect again"
            )
        claims = _id_claims(token.get("id_token"), self._settings)
        calendar = _primary_calendar(self._settings, flow.credentials)
        return Grant(
            email=calendar["id"].lower(),
            name=_name(claims),
            subject=str(claims["sub"]),
            credentials=credentials_blob(flow.credentials),
            scopes=tuple(granted),
        )

    def revoke(self, credentials: str) -> None:
        data = json.loads(credentials)
        self._revoke(data.get("refresh_token") or data.get("token"))

    def stored_subject(self, credentials: str) -> str | None:
        return None  # the stored blob keeps no ID token

    def _revoke(self, token: str) -> None:
        """Revoke a token and its grant; 400 means it was already dead."""
        try:
            response = requests_session(self._settings.ca_bundle).post(
                self._settings.google_revoke_uri, data={"token": token}, timeout=30
            )
        except requests.RequestException as exc:
            raise TransientError(
                f"cannot reach Google's revoke endpoint: {type(exc).__name__}"
            ) from None
        if response.status_code not in (200, 400):
            raise TransientError(
                f"Google revoke answered {response.status_code}", status=response.status_code
            )

    def _discard(self, token: str) -> None:
        """Revoke a refused grant's token; a failure is logged, the refusal still stands."""
        try:
            self._revoke(token)
        except ConnectorError as exc:
            log.warning("could not revoke a refused Google grant: %s", exc)
        else:
            log.info("revoked a refused Google grant")


def _authorization_url(flow: Flow, **params: str) -> tuple[str, str]:
    """Where to send the browser, and the state.

    oauthlib refuses an authorization endpoint that is not https. One on loopback (a
    local identity provider: the sandbox's sign-in pages) never crosses a network (RFC
    8252 §8.3), and browsers show it without a certificate; oauthlib builds the URL on its
    https twin and the URL gets its own scheme back. Plain http anywhere else is refused.
    """
    endpoint = urlsplit(flow.client_config["auth_uri"])
    if endpoint.scheme != "http":
        url, state = flow.authorization_url(**params)
        return str(url), str(state)
    if not loopback_host(endpoint.hostname or ""):
        raise ConfigError(
            "NUDGER_GOOGLE_AUTH_URI must be https (plain http only on this machine's loopback)"
        )
    flow.client_config["auth_uri"] = endpoint._replace(scheme="https").geturl()
    url, state = flow.authorization_url(**params)
    return urlsplit(url)._replace(scheme="http").geturl(), str(state)


def _fetch_token(flow: Flow, code: str, settings: Settings) -> Mapping[str, Any]:
    try:
        token: Mapping[str, Any] = flow.fetch_token(
            code=code, verify=ca_bundle_path(settings.ca_bundle)
        )
        return token
    except Warning as changed:
        return _scope_changed(flow, changed)
    except OAuth2Error as exc:
        raise ConnectorError(
            f"Google refused the authorization code: {exc.error}: {exc.description}"
        ) from None
    except requests.RequestException as exc:
        raise TransientError(
            f"cannot reach Google's token endpoint: {type(exc).__name__}"
        ) from None


def _scope_changed(flow: Flow, changed: Warning) -> Mapping[str, Any]:
    """The token of an exchange whose granted scopes differ from those asked for.

    oauthlib raises a bare ``Warning`` carrying the parsed token (unless
    ``OAUTHLIB_RELAX_TOKEN_SCOPE`` is set process-wide, which would hide it from every
    other oauthlib user too). A user who unticks a scope on Google's consent screen gets
    here; the caller names what is missing, so the token is kept, not the warning.
    """
    token = getattr(changed, "token", None)
    if not isinstance(token, dict):
        raise changed
    flow.oauth2session.token = token
    return token


def _id_claims(id_token: object, settings: Settings) -> Mapping[str, Any]:
    """The exchange's ID token, checked (see ``id_token``): ``sub`` is the account id."""
    if not isinstance(id_token, str):
        raise ConnectorError("Google returned no ID token: cannot tell which account signed in")
    try:
        claims = google.auth.jwt.decode(id_token, verify=False)
    except ValueError:
        raise ConnectorError("Google returned an ID token that does not decode") from None
    check_claims(claims, issuers=ISSUERS, audience=settings.google_client_id, provider="Google")
    return claims


def _name(claims: Mapping[str, Any]) -> str | None:
    """The user's full name; Google leaves it out without the profile scope, and may
    anyway ("never guaranteed to be present")."""
    name = claims.get("name")
    return name if isinstance(name, str) and name.strip() else None


def _scope_list(scope: object) -> list[str]:
    """oauthlib hands scopes back as a list; the raw response has a space-separated string."""
    if isinstance(scope, str):
        return scope.split()
    return [str(item) for item in scope] if isinstance(scope, list | tuple) else []


def _check_scopes(granted: list[str]) -> None:
    missing = [scope for scope in SCOPES if scope not in granted]
    if missing:
        raise MissingScopes([f"{scope} (to {SCOPE_PURPOSE[scope]})" for scope in missing])


def _primary_calendar(settings: Settings, credentials: Credentials) -> dict[str, Any]:
    # Imported here: google.py imports this module for the token source.
    from googleapiclient.errors import HttpError

    from nudger.connectors.google import authorized_http, calendar_api, map_google_error

    request = calendar_api(settings.google_api_endpoint).calendars.get(calendarId="primary")
    try:
        http = authorized_http(settings, credentials, shared=False)
        result: dict[str, Any] = request.execute(http=http)
    except HttpError as exc:
        raise map_google_error(exc) from None
    return result


def credentials_blob(credentials: Credentials) -> str:
    """The stored form: tokens, expiry and granted scopes; never the client secret."""
    expiry = credentials.expiry.replace(tzinfo=UTC).isoformat() if credentials.expiry else None
    return json.dumps(
        {
            "token": credentials.token,
            "refresh_token": credentials.refresh_token,
            "expiry": expiry,
            "scopes": list(credentials.granted_scopes or credentials.scopes or []),
        }
    )


def _credentials_from_blob(settings: Settings, blob: str) -> Credentials:
    data = json.loads(blob)
    expiry = data.get("expiry")
    return Credentials(
        token=data.get("token"),
        refresh_token=data["refresh_token"],
        token_uri=settings.google_token_uri,
        client_id=settings.google_client_id,
        client_secret=settings.google_client_secret.get_secret_value(),
        scopes=data.get("scopes"),
        # google-auth compares expiry with a naive UTC "now".
        expiry=datetime.fromisoformat(expiry).astimezone(UTC).replace(tzinfo=None)
        if expiry
        else None,
    )


class GoogleTokens:
    """Fresh credentials for one account; refreshes once at a time and saves the result."""

    def __init__(
        self, settings: Settings, blob: str, save: CredentialSaver, *, account: str
    ) -> None:
        self._settings = settings
        self._credentials = _credentials_from_blob(settings, blob)
        self._save = save
        self._saved_token = self._credentials.token
        with _locks_guard:
            self._lock = _refresh_locks.setdefault(account, threading.Lock())

    def granted(self, scope: str) -> bool:
        """Whether the user granted ``scope`` (users can untick optional ones)."""
        return scope in (self._credentials.scopes or ())

    @property
    def credentials(self) -> Credentials:
        with self._lock:
            if self._needs_refresh():
                self._refresh()
        return self._credentials

    def _needs_refresh(self) -> bool:
        expiry = self._credentials.expiry
        if not self._credentials.token or expiry is None:
            return True
        return expiry - REFRESH_MARGIN <= datetime.now(UTC).replace(tzinfo=None)

    def _refresh(self) -> None:
        request = google.auth.transport.requests.Request(requests_session(self._settings.ca_bundle))
        try:
            self._credentials.refresh(request)
        except RefreshError as exc:
            raise map_refresh_error(exc) from None
        except TransportError as exc:
            raise TransientError(
                f"cannot reach Google's token endpoint: {type(exc).__name__}"
            ) from None
        log.info("refreshed Google access token")
        self.persist_if_changed()

    def persist_if_changed(self) -> None:
        """Save the blob when the token changed (also after a library-side refresh on 401)."""
        if self._credentials.token != self._saved_token:
            self._save(credentials_blob(self._credentials))
            self._saved_token = self._credentials.token


def map_refresh_error(exc: RefreshError) -> ConnectorError:
    """``invalid_grant`` means the grant is gone for good; anything else may pass."""
    text = str(exc.args[0]) if exc.args else ""
    if "invalid_grant" in text:
        return AuthRevoked("Google access was revoked or expired; reconnect the account")
    if getattr(exc, "retryable", False):
        return TransientError("Google token refresh failed; will retry")
    return ConnectorError(f"Google token refresh failed: {text.split(':')[0]}")
