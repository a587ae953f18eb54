"""The Microsoft identity platform (v2.0 endpoints) as the emulator plays it.

Enough for ``msal.ConfidentialClientApplication(authority=<base>/sandbox-tenant,
instance_discovery=False)``: msal reads ``/{tenant}/v2.0/.well-known/openid-configuration``
(instance discovery would go to login.microsoftonline.com itself, whatever the
authority host, so it must be turned off), sends the browser to ``authorize`` and
redeems the code at ``token``.

- Tenants: the sandbox's own (``TENANT_NAME`` or its id), any ``Mailbox.tenant`` (by
  name or id), and the multi-tenant ``common`` / ``organizations``. A tenant-specific
  authority signs in only that tenant's users (AADSTS50020 otherwise); ID tokens carry
  the user's own tenant in ``iss`` and ``tid``.
- ``authorize`` signs in ``login_hint``'s mailbox at once (an error page for an unknown
  one, as Entra shows for an unknown account). Without a hint, and always when the
  sandbox asks people (``SignInPages``), it shows the sign-in page (``sign_in_page``):
  who signs in, the tenant's other users to choose; its form POSTs back to continue.
  The discovery document then names the sign-in pages' plain-HTTP origin as the
  ``authorization_endpoint`` (msal takes it as given; the authority stays HTTPS).
  Consent is automatic; the user withholds ``Mailbox.withheld_scopes``. Bad parameters
  are redirected back with ``error`` / ``error_description`` as Entra does, except an
  unknown client or redirect URI, which get an error page. ``response_mode`` ``query``
  (a redirect) or ``form_post`` (a self-posting HTML form, what msal recommends). PKCE
  is optional but only ``S256`` is taken.
- ``token``: client secret checked; codes are single-use and live 10 minutes; the
  redirect URI and the PKCE verifier must match; refresh tokens rotate (the old one
  dies) and come only with ``offline_access``. Errors carry AADSTS codes.
- ``scope`` in the token response echoes the granted resource scopes in the form they
  were asked for (short or full), plus the OpenID ones: msal matches cached tokens
  against the names it asked for.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from nudger.clock import utcnow
from nudger.sandbox.microsoft_oauth_checks import (
    RESPONSE_MODES,
    IdentityError,
    answer,
    asked_resources,
    check_code,
    checked_redirect_uri,
    error_page,
    missing,
    page,
    redirect_error,
    unknown_tenant,
    validated,
)
from nudger.sandbox.microsoft_tokens import (
    ACCESS_TTL,
    MULTI_TENANT,
    OIDC_SCOPES,
    TENANT_NAME,
    AuthCode,
    Token,
    authority_tenant,
    client_info,
    codes,
    id_token,
    issuer,
    jwks,
    short_scope,
    tenant_id,
    tokens,
)
from nudger.sandbox.oauth_common import basic_auth
from nudger.sandbox.sign_in_page import SignIn, SignInPages, posted_account, sign_in_page
from nudger.sandbox.world import Mailbox, OAuthClient, World

CODE_TTL = timedelta(minutes=10)


def _base_url(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


# --- discovery ------------------------------------------------------------------------------


class Identity:
    def __init__(self, world: World, pages: SignInPages | None = None) -> None:
        self.world = world
        self.pages = pages

    async def openid_configuration(self, request: Request) -> Response:
        tenant = authority_tenant(self.world, request.path_params["tenant"])
        if tenant is None:
            return unknown_tenant(request)
        base = f"{_base_url(request)}/{tenant}"
        # Browsers sign in where they need no certificate; msal takes this URL as given.
        sign_in = f"{self.pages.base_url}/{tenant}" if self.pages else base
        # Multi-tenant metadata names the issuer as a template, as Entra's does.
        named = "{tenantid}" if tenant in MULTI_TENANT else tenant
        return JSONResponse(
            {
                "issuer": issuer(_base_url(request), named),
                "authorization_endpoint": f"{sign_in}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
                "jwks_uri": f"{base}/discovery/v2.0/keys",
                "userinfo_endpoint": f"{_base_url(request)}/graph/oidc/userinfo",
                "response_types_supported": ["code"],
                "response_modes_supported": list(RESPONSE_MODES),
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "client_secret_basic",
                ],
                "code_challenge_methods_supported": ["S256"],
                "claims_supported": [
                    "sub",
                    "iss",
                    "aud",
                    "exp",
                    "iat",
                    "nonce",
                    "name",
                    "preferred_username",
                    "oid",
                    "tid",
                    "ver",
                ],
                "tenant_region_scope": "EU",
                "cloud_instance_name": "microsoftonline.com",
            }
        )

    async def keys(self, request: Request) -> Response:
        return JSONResponse(jwks(self.world))

    async def logout(self, request: Request) -> Response:
        target = request.query_params.get("post_logout_redirect_uri")
        if target:
            return RedirectResponse(target, status_code=302)
        return page(200, "Signed out", "<p>You signed out of your account.</p>")

    # --- authorize ----------------------------------------------------------------------------

    async def authorize(self, request: Request) -> Response:
        params = request.query_params
        try:
            tenant, client, redirect_uri = self._authorize_target(request)
        except IdentityError as error:
            return error_page(error)
        posted = await posted_account(request) if request.method == "POST" else None
        hint = params.get("login_hint", "").strip()
        mode = params.get("response_mode", "query")
        echo = {"state": params["state"]} if "state" in params else {}
        try:
            scopes, challenge = validated(params)
            if posted is None and (self.pages or not hint):
                return self._sign_in_page(request, tenant, scopes)
            user = self._signing_in(hint if posted is None else posted, tenant)
        except IdentityError as error:
            if error.status == 200:
                return error_page(error)
            return answer(redirect_uri, mode, {**redirect_error(error), **echo})
        query = {**self._issue_code(client, redirect_uri, user, scopes, challenge, params), **echo}
        return answer(redirect_uri, mode, query, status=302 if posted is None else 303)

    def _authorize_target(self, request: Request) -> tuple[str, OAuthClient, str]:
        """The tenant, client and redirect URI; no redirect can be trusted before these."""
        tenant = authority_tenant(self.world, request.path_params["tenant"])
        if tenant is None:
            raise IdentityError("invalid_request", 90002, "Tenant not found.")
        client = self._client(request.query_params.get("client_id", ""))
        return (
            tenant,
            client,
            checked_redirect_uri(client, request.query_params.get("redirect_uri", "")),
        )

    def _sign_in_page(self, request: Request, tenant: str, scopes: tuple[str, ...]) -> Response:
        """Who signs in: ``login_hint``'s user of this tenant preselected, the others listed."""
        with self.world.lock:
            users = [m for m in self.world.mailboxes.values() if _signs_in(m, tenant)]
        hint = request.query_params.get("login_hint", "").strip().lower()
        chosen = next((m for m in users if m.email == hint), None)
        return sign_in_page(request, SignIn("Microsoft", chosen, users, scopes))

    def _client(self, client_id: str) -> OAuthClient:
        with self.world.lock:
            client = self.world.clients.get(client_id)
        if client is None:
            message = (
                f"Application with identifier '{client_id}' was not found in the directory "
                f"'{TENANT_NAME}'."
            )
            raise IdentityError("unauthorized_client", 700016, message)
        return client

    def _signing_in(self, hint: str, tenant: str) -> Mailbox:
        with self.world.lock:
            mailbox = self.world.mailboxes.get(hint.strip().lower())
        if mailbox is None or mailbox.provider != "microsoft":
            message = f"User account '{hint}' does not exist in tenant '{TENANT_NAME}'."
            raise IdentityError("invalid_request", 50034, message, status=200)
        if not _signs_in(mailbox, tenant):
            message = (
                f"User account '{hint}' from identity provider does not exist in tenant "
                f"'{tenant}' and cannot access the application in that tenant."
            )
            raise IdentityError("invalid_request", 50020, message, status=200)
        return mailbox

    def _issue_code(
        self,
        client: OAuthClient,
        redirect_uri: str,
        user: Mailbox,
        scopes: tuple[str, ...],
        challenge: str | None,
        params: Any,
    ) -> dict[str, str]:
        withheld = {short_scope(s) for s in user.withheld_scopes}
        granted = tuple(s for s in scopes if short_scope(s) not in withheld)
        code = "1.AXsandbox" + secrets.token_urlsafe(48)
        with self.world.lock:
            codes(self.world)[code] = AuthCode(
                client.client_id,
                redirect_uri,
                user.identity,
                granted,
                challenge,
                params.get("nonce"),
                utcnow() + CODE_TTL,
            )
        query = {"code": code, "session_state": str(uuid.uuid4())}
        if params.get("client_info") == "1":
            query["client_info"] = client_info(user)
        return query

    # --- token ----------------------------------------------------------------------------------

    async def token(self, request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        try:
            if authority_tenant(self.world, request.path_params["tenant"]) is None:
                raise IdentityError("invalid_request", 90002, "Tenant not found.")
            with self.world.lock:
                client = self._authenticate_client(request, form)
                body = self._grant(client, form, _base_url(request))
        except IdentityError as error:
            return error.response(request)
        return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    def _authenticate_client(self, request: Request, form: dict[str, str]) -> OAuthClient:
        basic_id, basic_secret = basic_auth(request.headers.get("authorization", ""))
        client_id = basic_id or form.get("client_id", "")
        secret = basic_secret or form.get("client_secret", "")
        if not client_id:
            raise missing("client_id")
        client = self._client(client_id)
        if not secret:
            message = (
                "The request body must contain the following parameter: "
                "'client_assertion' or 'client_secret'."
            )
            raise IdentityError("invalid_client", 7000218, message, 401)
        if secret != client.client_secret:
            message = (
                "Invalid client secret provided. Ensure the secret being sent in the request "
                f"is the client secret value, not the client secret ID, for a secret added "
                f"to app '{client_id}'."
            )
            raise IdentityError("invalid_client", 7000215, message, 401)
        return client

    def _grant(self, client: OAuthClient, form: dict[str, str], base: str) -> dict[str, Any]:
        grant_type = form.get("grant_type", "")
        if grant_type == "authorization_code":
            return self._redeem_code(client, form, base)
        if grant_type == "refresh_token":
            return self._refresh(client, form, base)
        if not grant_type:
            raise missing("grant_type")
        message = (
            f"The provided value for the input parameter 'grant_type' is not valid: {grant_type}."
        )
        raise IdentityError("unsupported_grant_type", 70003, message)

    def _redeem_code(self, client: OAuthClient, form: dict[str, str], base: str) -> dict[str, Any]:
        value = form.get("code", "")
        if not value:
            raise missing("code")
        code = codes(self.world).get(value)
        if code is None or code.client_id != client.client_id:
            message = "The provided value for the 'code' parameter is not valid."
            raise IdentityError("invalid_grant", 70000, message)
        check_code(code, form)
        code.used = True
        return self._issue(client, code.user, code.scopes, code.scopes, form, base, code.nonce)

    def _refresh(self, client: OAuthClient, form: dict[str, str], base: str) -> dict[str, Any]:
        value = form.get("refresh_token", "")
        if not value:
            raise missing("refresh_token")
        grant = tokens(self.world).get(value)
        if grant is None or grant.kind != "refresh" or grant.client_id != client.client_id:
            raise IdentityError(
                "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid."
            )
        if grant.revoked:
            message = (
                "The provided grant has expired due to it being revoked, a fresh auth token "
                "is needed. The user might have changed or reset their password."
            )
            raise IdentityError("invalid_grant", 50173, message)
        asked = asked_resources(form.get("scope", ""), grant.scopes)
        grant.revoked = True  # rotation: the old refresh token dies once used
        return self._issue(client, grant.user, grant.scopes, asked, form, base, None)

    def _issue(
        self,
        client: OAuthClient,
        user: str,
        granted: tuple[str, ...],
        asked: tuple[str, ...],
        form: dict[str, str],
        base: str,
        nonce: str | None,
    ) -> dict[str, Any]:
        """Tokens for ``asked`` (resource scopes) under a grant of ``granted``."""
        mailbox = self.world.user(user)
        if mailbox is None:
            message = "The user account does not exist in the directory."
            raise IdentityError("invalid_grant", 50034, message)
        store = tokens(self.world)
        resources = tuple(s for s in asked if s.lower() not in OIDC_SCOPES)
        oidc = [s for s in ("openid", "profile", "email") if s in {g.lower() for g in granted}]
        access = "EwBsandbox" + secrets.token_urlsafe(48)
        expires = utcnow() + timedelta(seconds=ACCESS_TTL)
        store[access] = Token("access", client.client_id, user, resources, expires)
        body: dict[str, Any] = {
            "token_type": "Bearer",
            "scope": " ".join([*resources, *oidc]),
            "expires_in": ACCESS_TTL,
            "ext_expires_in": ACCESS_TTL,
            "access_token": access,
        }
        if "offline_access" in {g.lower() for g in granted}:
            refresh = "1.AXsandboxRT" + secrets.token_urlsafe(64)
            store[refresh] = Token("refresh", client.client_id, user, granted)
            body["refresh_token"] = refresh
        if "openid" in oidc:
            body["id_token"] = id_token(self.world, base, client.client_id, mailbox, nonce, granted)
        if form.get("client_info") == "1":
            body["client_info"] = client_info(mailbox)
        return body


def _signs_in(mailbox: Mailbox, tenant: str) -> bool:
    """A Microsoft user an authority of ``tenant`` signs in (its own users, or anyone's
    under ``common`` / ``organizations``)."""
    if mailbox.provider != "microsoft":
        return False
    return tenant in MULTI_TENANT or tenant_id(mailbox) == tenant


TENANT_PATH = "/{tenant}"
OAUTH_PATH = TENANT_PATH + "/oauth2/v2.0"


def routes(world: World, pages: SignInPages | None = None) -> list[BaseRoute]:
    identity = Identity(world, pages)
    discovery = TENANT_PATH + "/v2.0/.well-known/openid-configuration"
    return [
        Route(discovery, identity.openid_configuration, methods=["GET"]),
        Route(TENANT_PATH + "/discovery/v2.0/keys", identity.keys, methods=["GET"]),
        *sign_in_routes(world, pages),
        Route(OAUTH_PATH + "/token", identity.token, methods=["POST"]),
        Route(OAUTH_PATH + "/logout", identity.logout, methods=["GET"]),
    ]


def sign_in_routes(world: World, pages: SignInPages | None = None) -> list[BaseRoute]:
    """The browser-facing step alone: the authorize page and its form."""
    authorize = Identity(world, pages).authorize
    return [Route(OAUTH_PATH + "/authorize", authorize, methods=["GET", "POST"])]
