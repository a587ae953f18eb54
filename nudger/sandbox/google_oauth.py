"""Google's OAuth 2.0 web-server flow as the emulator plays it.

``GET /o/oauth2/v2/auth`` consents at once for the sandbox user (named by
``login_hint``, else the only Google mailbox); otherwise, and always when the sandbox
asks people (``SignInPages``), it shows the sign-in page (``sign_in_page``), whose form
POSTs back to the same URL to continue.
``POST /token`` exchanges codes (PKCE checked) and refresh tokens; ``POST /revoke``
kills a grant. Google's rules that clients trip over are kept: codes are single-use
(a reused code also revokes what it issued) and expire in 10 minutes; a refresh
token comes only with ``access_type=offline`` when the consent screen is shown
(first consent, ``prompt=consent`` or newly asked scopes); refresh tokens are never
rotated nor resent; ``email`` / ``profile`` come back expanded; scopes the user
withholds (``Mailbox.withheld_scopes``) are missing from the granted ``scope``.
State lives in ``world.auth["google"]`` (see ``google_tokens``).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from nudger.clock import utcnow
from nudger.sandbox import google_people
from nudger.sandbox.google_tokens import (
    ACCESS_TTL,
    SCOPE_ALIASES,
    AuthCode,
    Token,
    codes,
    consents,
    expired,
    id_token,
    revoke_token,
    tokens,
)
from nudger.sandbox.oauth_common import basic_auth, s256_challenge
from nudger.sandbox.sign_in_page import SignIn, SignInPages, posted_account, sign_in_page
from nudger.sandbox.world import Mailbox, OAuthClient, World, new_token

AUTH_PATH = "/o/oauth2/v2/auth"
CODE_TTL = timedelta(minutes=10)
_PKCE_VALUE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")


class OAuthError(Exception):
    """An OAuth-endpoint failure: ``{"error": ..., "error_description": ...}``."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status

    def response(self) -> Response:
        body = {"error": self.error, "error_description": self.description}
        return JSONResponse(body, status_code=self.status, headers={"Cache-Control": "no-store"})


# --- the endpoints ------------------------------------------------------------------------


class GoogleOAuth:
    def __init__(self, world: World, pages: SignInPages | None = None) -> None:
        self.world = world
        self.ask = pages is not None

    async def authorize(self, request: Request) -> Response:
        params = request.query_params
        try:
            client = self._client(params.get("client_id", ""))
            redirect_uri = _redirect_uri(client, params.get("redirect_uri", ""))
            request_scopes = _requested(params)
        except OAuthError as error:
            return _error_page(error)
        if request.method == "POST":
            user = self._user(await posted_account(request))
            if user is None:
                return _error_page(OAuthError("invalid_request", "No such sandbox Google user."))
            return self._redirect(client, redirect_uri, request_scopes, user, params, 303)
        user = self._pick_user(params.get("login_hint", ""))
        if user is None or self.ask:
            return self._sign_in_page(request, user, request_scopes)
        return self._redirect(client, redirect_uri, request_scopes, user, params, 302)

    def _redirect(
        self,
        client: OAuthClient,
        redirect_uri: str,
        request_scopes: _AuthRequest,
        user: Mailbox,
        params: Any,
        status: int,
    ) -> Response:
        """Back to the client with a code (or the error ``prompt=none`` calls for)."""
        with self.world.lock:
            query = self._consent(client, redirect_uri, request_scopes, user, params)
        glue = "&" if "?" in redirect_uri else "?"
        return RedirectResponse(redirect_uri + glue + urlencode(query), status_code=status)

    def _client(self, client_id: str) -> OAuthClient:
        client = self.world.clients.get(client_id)
        if client is None:
            raise OAuthError("invalid_client", "The OAuth client was not found.", 401)
        return client

    def _google_users(self) -> list[Mailbox]:
        with self.world.lock:
            return [m for m in self.world.mailboxes.values() if m.provider == "google"]

    def _user(self, email: str) -> Mailbox | None:
        return next((m for m in self._google_users() if m.email == email), None)

    def _pick_user(self, hint: str) -> Mailbox | None:
        """``login_hint``'s user, else the only Google user, else nobody (choose one)."""
        google = self._google_users()
        chosen = self._user(hint.strip().lower())
        return chosen or (google[0] if len(google) == 1 else None)

    def _sign_in_page(
        self, request: Request, user: Mailbox | None, asked: _AuthRequest
    ) -> Response:
        return sign_in_page(request, SignIn("Google", user, self._google_users(), asked.scopes))

    def _consent(
        self,
        client: OAuthClient,
        redirect_uri: str,
        request: _AuthRequest,
        user: Mailbox,
        params: Any,
    ) -> dict[str, str]:
        key = (client.client_id, user.identity)
        previous = consents(self.world).get(key)
        granted = [s for s in request.scopes if s not in _withheld(user)]
        if request.include_granted and previous:
            granted += [s for s in sorted(previous) if s not in granted]
        echo = {"state": params["state"]} if "state" in params else {}
        if "none" in request.prompt and (previous is None or not set(granted) <= previous):
            return {"error": "consent_required", **echo}
        consent_shown = (
            previous is None or "consent" in request.prompt or not set(granted) <= previous
        )
        consents(self.world)[key] = (previous or set()) | set(granted)
        code = new_token("4/sandbox")
        codes(self.world)[code] = AuthCode(
            client.client_id,
            redirect_uri,
            user.identity,
            tuple(granted),
            request.challenge,
            request.method,
            request.offline and consent_shown,
            utcnow() + CODE_TTL,
        )
        return {**echo, "code": code, "scope": " ".join(granted), "authuser": "0"}

    async def token(self, request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        try:
            with self.world.lock:
                client = self._authenticate_client(request, form)
                body = self._grant(client, form)
        except OAuthError as error:
            return error.response()
        return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    def _authenticate_client(self, request: Request, form: dict[str, str]) -> OAuthClient:
        client_id, secret = basic_auth(request.headers.get("authorization", ""))
        client_id = client_id or form.get("client_id", "")
        secret = secret or form.get("client_secret", "")
        if not client_id:
            raise OAuthError("invalid_request", "Could not determine client ID from request.")
        client = self.world.clients.get(client_id)
        if client is None:
            raise OAuthError("invalid_client", "The OAuth client was not found.", 401)
        if not secret:
            raise OAuthError("invalid_request", "client_secret is missing.")
        if secret != client.client_secret:
            raise OAuthError("invalid_client", "Unauthorized", 401)
        return client

    def _grant(self, client: OAuthClient, form: dict[str, str]) -> dict[str, Any]:
        grant_type = form.get("grant_type", "")
        if grant_type == "authorization_code":
            return self._exchange_code(client, form)
        if grant_type == "refresh_token":
            return self._refresh(client, form)
        if not grant_type:
            raise OAuthError("invalid_request", "Missing required parameter: grant_type")
        raise OAuthError("unsupported_grant_type", f"Invalid grant_type: {grant_type}")

    def _exchange_code(self, client: OAuthClient, form: dict[str, str]) -> dict[str, Any]:
        value = form.get("code", "")
        if not value:
            raise OAuthError("invalid_request", "Missing required parameter: code")
        code = codes(self.world).get(value)
        if code is None or code.client_id != client.client_id:
            raise OAuthError("invalid_grant", "Malformed auth code.")
        if code.used:
            for issued in code.issued:
                revoke_token(self.world, issued)
            raise OAuthError("invalid_grant", "Bad Request")
        code.used = True
        if expired(code.expires):
            raise OAuthError("invalid_grant", "Bad Request")
        if form.get("redirect_uri", "") != code.redirect_uri:
            raise OAuthError("redirect_uri_mismatch", "Bad Request")
        _check_verifier(code, form.get("code_verifier"))
        return self._issue(client, code)

    def _issue(self, client: OAuthClient, code: AuthCode) -> dict[str, Any]:
        refresh = new_token("1//sandbox") if code.with_refresh else None
        if refresh:
            tokens(self.world)[refresh] = Token("refresh", client.client_id, code.user, code.scopes)
            code.issued.append(refresh)
        body = self._access(client.client_id, code.user, code.scopes, refresh)
        code.issued.append(body["access_token"])
        if refresh:
            body["refresh_token"] = refresh
        return body

    def _access(
        self, client_id: str, user: str, scopes: tuple[str, ...], parent: str | None
    ) -> dict[str, Any]:
        access = new_token("ya29.sandbox")
        expires = utcnow() + timedelta(seconds=ACCESS_TTL)
        tokens(self.world)[access] = Token("access", client_id, user, scopes, expires, parent)
        body: dict[str, Any] = {
            "access_token": access,
            "expires_in": ACCESS_TTL,
            "scope": " ".join(scopes),
            "token_type": "Bearer",
        }
        mailbox = self.world.user(user)
        if "openid" in scopes and mailbox is not None:
            body["id_token"] = id_token(client_id, mailbox, scopes)
        return body

    def _refresh(self, client: OAuthClient, form: dict[str, str]) -> dict[str, Any]:
        value = form.get("refresh_token", "")
        if not value:
            raise OAuthError("invalid_request", "Missing required parameter: refresh_token")
        grant = tokens(self.world).get(value)
        if grant is None or grant.kind != "refresh" or self.world.user(grant.user) is None:
            raise OAuthError("invalid_grant", "Token has been expired or revoked.")
        if grant.client_id != client.client_id:
            raise OAuthError("unauthorized_client", "Unauthorized")
        scopes = grant.scopes
        if form.get("scope"):
            asked = tuple(_expand(form["scope"]))
            if not set(asked) <= set(grant.scopes):
                raise OAuthError("invalid_scope", "Some requested scopes were invalid.")
            scopes = asked
        return self._access(client.client_id, grant.user, scopes, value)

    async def revoke(self, request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        token = form.get("token") or request.query_params.get("token", "")
        if not revoke_token(self.world, token):
            return OAuthError("invalid_token", "Token expired or revoked").response()
        return JSONResponse({})


# --- helpers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _AuthRequest:
    scopes: tuple[str, ...]
    challenge: str | None
    method: str
    offline: bool
    prompt: frozenset[str]
    include_granted: bool


def _redirect_uri(client: OAuthClient, redirect_uri: str) -> str:
    if not redirect_uri:
        raise OAuthError("invalid_request", "Missing required parameter: redirect_uri")
    if client.redirect_uris and redirect_uri not in client.redirect_uris:
        raise OAuthError("redirect_uri_mismatch", f"redirect_uri not registered: {redirect_uri}")
    return redirect_uri


def _requested(params: Any) -> _AuthRequest:
    if params.get("response_type") != "code":
        raise OAuthError(
            "unsupported_response_type", "Invalid response_type: only code is supported"
        )
    if not params.get("scope", "").strip():
        raise OAuthError("invalid_request", "Missing required parameter: scope")
    scopes = tuple(_expand(params["scope"]))
    if not all(_known_scope(s) for s in scopes):
        raise OAuthError("invalid_scope", "Some requested scopes were invalid.")
    challenge, method = _pkce(params)
    access_type = params.get("access_type", "online")
    if access_type not in ("online", "offline"):
        raise OAuthError("invalid_request", f"Invalid access_type: {access_type}")
    prompt = frozenset(params.get("prompt", "").split())
    if not prompt <= {"none", "consent", "select_account"}:
        raise OAuthError("invalid_request", "Invalid prompt value.")
    include = params.get("include_granted_scopes", "false") == "true"
    return _AuthRequest(scopes, challenge, method, access_type == "offline", prompt, include)


def _pkce(params: Any) -> tuple[str | None, str]:
    challenge = params.get("code_challenge")
    method = params.get("code_challenge_method")
    if challenge is None:
        if method is not None:
            raise OAuthError("invalid_request", "code_challenge_method requires code_challenge.")
        return None, "plain"
    if (method or "plain") not in ("S256", "plain"):
        raise OAuthError("invalid_request", "Invalid code_challenge_method value.")
    if not _PKCE_VALUE.match(challenge):
        raise OAuthError("invalid_request", "Invalid code_challenge.")
    return challenge, method or "plain"


def _check_verifier(code: AuthCode, verifier: str | None) -> None:
    if code.challenge is None:
        if verifier:
            raise OAuthError("invalid_request", "code_verifier or verifier is not needed.")
        return
    if not verifier:
        raise OAuthError("invalid_grant", "Missing code verifier.")
    expected = s256_challenge(verifier) if code.method == "S256" else verifier
    if not _PKCE_VALUE.match(verifier) or expected != code.challenge:
        raise OAuthError("invalid_grant", "Invalid code verifier.")


def _expand(scope: str) -> list[str]:
    expanded: list[str] = []
    for item in scope.split():
        full = SCOPE_ALIASES.get(item, item)
        if full not in expanded:
            expanded.append(full)
    return expanded


def _known_scope(scope: str) -> bool:
    return scope == "openid" or scope.startswith(
        ("https://www.googleapis.com/auth/", "https://mail.google.com/")
    )


def _error_page(error: OAuthError) -> Response:
    title = f"Error {error.status}: {error.error}"
    return _page(error.status, title, f"<p>{html.escape(error.description)}</p>")


def _page(status: int, title: str, content: str) -> Response:
    page = f"<!doctype html><title>{title}</title><h1>{title}</h1>{content}"
    return HTMLResponse(page, status_code=status)


def routes(world: World, pages: SignInPages | None = None) -> list[BaseRoute]:
    oauth = GoogleOAuth(world, pages)
    return [
        *sign_in_routes(world, pages),
        Route("/token", oauth.token, methods=["POST"]),
        Route("/revoke", oauth.revoke, methods=["POST"]),
    ]


def sign_in_routes(world: World, pages: SignInPages | None = None) -> list[BaseRoute]:
    """The browser-facing step alone: the authorize page and its form."""
    return [Route(AUTH_PATH, GoogleOAuth(world, pages).authorize, methods=["GET", "POST"])]


def _withheld(user: Mailbox) -> set[str]:
    """What the consent leaves out: the user's unticked scopes, and the Workspace directory
    for a consumer account, which has no directory to grant (``directory.readonly``)."""
    if google_people.is_consumer(user.email):
        return user.withheld_scopes | set(google_people.DIRECTORY_READ)
    return user.withheld_scopes
