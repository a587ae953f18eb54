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
- ``authorize`` has no UI: ``login_hint`` names the mailbox that signs in (an error
  page otherwise, as Entra shows for an unknown account). Consent is automatic; the
  user withholds ``Mailbox.withheld_scopes``. Bad parameters are redirected back with
  ``error`` / ``error_description`` as Entra does, except an unknown client or
  redirect URI, which get an error page. ``response_mode`` ``query`` (a 302) or
  ``form_post`` (a self-posting HTML form, what msal recommends). PKCE is optional but
  only ``S256`` is taken.
- ``token``: client secret checked; codes are single-use and live 10 minutes; the
  redirect URI and the PKCE verifier must match; refresh tokens rotate (the old one
  dies) and come only with ``offline_access``. Errors carry AADSTS codes.
- ``scope`` in the token response echoes the granted resource scopes in the form they
  were asked for (short or full), plus the OpenID ones: msal matches cached tokens
  against the names it asked for.
"""

from __future__ import annotations

import html
import secrets
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from nudger.clock import utcnow
from nudger.sandbox.microsoft_oauth_checks import (
    RESPONSE_MODES,
    IdentityError,
    asked_resources,
    check_code,
    checked_redirect_uri,
    missing,
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
from nudger.sandbox.world import Mailbox, OAuthClient, World

CODE_TTL = timedelta(minutes=10)


def _base_url(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


# --- discovery ------------------------------------------------------------------------------


class Identity:
    def __init__(self, world: World) -> None:
        self.world = world

    async def openid_configuration(self, request: Request) -> Response:
        tenant = authority_tenant(self.world, request.path_params["tenant"])
        if tenant is None:
            return _unknown_tenant(request)
        base = f"{_base_url(request)}/{tenant}"
        # Multi-tenant metadata names the issuer as a template, as Entra's does.
        named = "{tenantid}" if tenant in MULTI_TENANT else tenant
        return JSONResponse(
            {
                "issuer": issuer(_base_url(request), named),
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
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
        return _page(200, "Signed out", "<p>You signed out of your account.</p>")

    # --- authorize ----------------------------------------------------------------------------

    async def authorize(self, request: Request) -> Response:
        params = request.query_params
        tenant = authority_tenant(self.world, request.path_params["tenant"])
        if tenant is None:
            return _error_page(IdentityError("invalid_request", 90002, "Tenant not found."))
        try:
            client = self._client(params.get("client_id", ""))
            redirect_uri = checked_redirect_uri(client, params.get("redirect_uri", ""))
        except IdentityError as error:
            return _error_page(error)
        echo = {"state": params["state"]} if "state" in params else {}
        mode = params.get("response_mode", "query")
        try:
            scopes, challenge = validated(params)
            user = self._signing_in(params.get("login_hint", ""), tenant)
        except IdentityError as error:
            if error.status == 200:
                return _error_page(error)
            return _answer(redirect_uri, mode, {**_redirect_error(error), **echo})
        query = {**self._issue_code(client, redirect_uri, user, scopes, challenge, params), **echo}
        return _answer(redirect_uri, mode, query)

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
            message = (
                f"User account '{hint}' does not exist in tenant '{TENANT_NAME}'. "
                "The sandbox has no sign-in page: pass login_hint with a Microsoft mailbox."
            )
            raise IdentityError("invalid_request", 50034, message, status=200)
        if tenant not in MULTI_TENANT and tenant_id(mailbox) != tenant:
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


# --- responses -------------------------------------------------------------------------------


def _answer(redirect_uri: str, mode: str, params: dict[str, str]) -> Response:
    """Send the browser back: a 302 with a query, or a self-posting form (form_post)."""
    if mode == "form_post":
        return _form_post(redirect_uri, params)
    glue = "&" if "?" in redirect_uri else "?"
    return RedirectResponse(redirect_uri + glue + urlencode(params), status_code=302)


def _form_post(redirect_uri: str, params: dict[str, str]) -> Response:
    fields = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}" />'
        for k, v in params.items()
    )
    page = (
        "<html><head><title>Working...</title></head>"
        '<body onload="document.forms[0].submit()">'
        f'<form method="POST" name="hiddenform" action="{html.escape(redirect_uri)}">'
        f'{fields}<noscript><input type="submit" value="Continue" /></noscript>'
        "</form></body></html>"
    )
    return HTMLResponse(page)


def _redirect_error(error: IdentityError) -> dict[str, str]:
    description = f"AADSTS{error.code}: {error.message}"
    return {
        "error": error.error,
        "error_description": description,
        "error_uri": (f"https://login.microsoftonline.com/error?code={error.code}"),
    }


def _unknown_tenant(request: Request) -> Response:
    tenant = request.path_params["tenant"]
    message = f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID."
    return IdentityError("invalid_tenant", 90002, message).response(request)


def _error_page(error: IdentityError) -> Response:
    title = "Sign in to your account"
    content = f"<p>AADSTS{error.code}: {html.escape(error.message)}</p>"
    return _page(400, title, content)


def _page(status: int, title: str, content: str) -> Response:
    page = f"<!doctype html><title>{title}</title><h1>{title}</h1>{content}"
    return HTMLResponse(page, status_code=status)


TENANT_PATH = "/{tenant}"
OAUTH_PATH = TENANT_PATH + "/oauth2/v2.0"


def routes(world: World) -> list[BaseRoute]:
    identity = Identity(world)
    discovery = TENANT_PATH + "/v2.0/.well-known/openid-configuration"
    return [
        Route(discovery, identity.openid_configuration, methods=["GET"]),
        Route(TENANT_PATH + "/discovery/v2.0/keys", identity.keys, methods=["GET"]),
        Route(OAUTH_PATH + "/authorize", identity.authorize, methods=["GET"]),
        Route(OAUTH_PATH + "/token", identity.token, methods=["POST"]),
        Route(OAUTH_PATH + "/logout", identity.logout, methods=["GET"]),
    ]
