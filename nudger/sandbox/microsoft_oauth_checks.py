"""Entra's OAuth request checks and answers, shared by ``microsoft_identity``.

``IdentityError`` renders as Entra's JSON error (``error``, ``AADSTS<code>: ...``
description, ``error_codes``, ``timestamp``, ``trace_id``, ``correlation_id``); the
checks raise it with the AADSTS codes Entra uses for the same mistakes.
"""

from __future__ import annotations

import html
import re
import uuid
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from nudger.clock import utcnow
from nudger.sandbox.microsoft_tokens import OIDC_SCOPES, AuthCode, short_scope
from nudger.sandbox.oauth_common import s256_challenge
from nudger.sandbox.world import OAuthClient

RESPONSE_MODES = ("query", "form_post")
_PKCE_VALUE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
_SCOPE = re.compile(r"^(https://graph\.microsoft\.com/)?[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$")


class IdentityError(Exception):
    """An Entra OAuth error: ``error`` plus an ``AADSTS<code>: ...`` description."""

    def __init__(self, error: str, code: int, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.error, self.code, self.message, self.status = error, code, message, status

    def body(self, correlation_id: str) -> dict[str, Any]:
        now = utcnow().strftime("%Y-%m-%d %H:%M:%SZ")
        trace_id = str(uuid.uuid4())
        description = (
            f"AADSTS{self.code}: {self.message} Trace ID: {trace_id} "
            f"Correlation ID: {correlation_id} Timestamp: {now}"
        )
        return {
            "error": self.error,
            "error_description": description,
            "error_codes": [self.code],
            "timestamp": now,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": f"https://login.microsoftonline.com/error?code={self.code}",
        }

    def response(self, request: Request) -> Response:
        correlation = request.headers.get("client-request-id") or str(uuid.uuid4())
        headers = {"Cache-Control": "no-store"}
        return JSONResponse(self.body(correlation), status_code=self.status, headers=headers)


def missing(name: str) -> IdentityError:
    message = f"The request body must contain the following parameter: '{name}'."
    return IdentityError("invalid_request", 900144, message)


# --- checks ----------------------------------------------------------------------------------


def checked_redirect_uri(client: OAuthClient, redirect_uri: str) -> str:
    if not redirect_uri:
        raise missing("redirect_uri")
    if client.redirect_uris and redirect_uri not in client.redirect_uris:
        message = (
            f"The redirect URI '{redirect_uri}' specified in the request does not match the "
            f"redirect URIs configured for the application '{client.client_id}'."
        )
        raise IdentityError("invalid_request", 50011, message)
    return redirect_uri


def validated(params: Any) -> tuple[tuple[str, ...], str | None]:
    """The requested scopes and PKCE challenge of an authorize request."""
    if params.get("response_type") != "code":
        message = f"response_type '{params.get('response_type', '')}' is not supported."
        raise IdentityError("unsupported_response_type", 700054, message)
    if params.get("response_mode", "query") not in RESPONSE_MODES:
        message = "The sandbox answers with response_mode=query or form_post only."
        raise IdentityError("invalid_request", 900144, message)
    scopes = tuple(dict.fromkeys(params.get("scope", "").split()))
    if not scopes:
        raise missing("scope")
    if not all(_SCOPE.match(s) for s in scopes):
        message = "The provided value for the input parameter 'scope' is not valid."
        raise IdentityError("invalid_scope", 70011, message)
    return scopes, challenge(params)


def challenge(params: Any) -> str | None:
    challenge = params.get("code_challenge")
    method = params.get("code_challenge_method")
    if challenge is None:
        return None
    if method != "S256":
        raise IdentityError("invalid_request", 50149, "Invalid Code_Challenge_method parameter.")
    if not _PKCE_VALUE.match(challenge):
        message = (
            "InvalidCodeChallengeMethodInvalidSize - Invalid size of Code_Challenge parameter."
        )
        raise IdentityError("invalid_request", 501491, message)
    return challenge


def check_code(code: AuthCode, form: dict[str, str]) -> None:
    if code.used:
        message = (
            "OAuth2 Authorization code was already redeemed, please retry with a new valid "
            "code or use an existing refresh token."
        )
        raise IdentityError("invalid_grant", 54005, message)
    if code.expires <= utcnow():
        message = (
            "The provided authorization code or refresh token has expired due to inactivity. "
            "Send a new interactive authorization request for this user and resource."
        )
        raise IdentityError("invalid_grant", 70008, message)
    if form.get("redirect_uri", "") != code.redirect_uri:
        message = (
            f"The reply address '{form.get('redirect_uri', '')}' does not match the reply "
            f"address '{code.redirect_uri}' provided when requesting Authorization code."
        )
        raise IdentityError("invalid_grant", 500112, message)
    check_verifier(code.challenge, form.get("code_verifier"))


def check_verifier(challenge: str | None, verifier: str | None) -> None:
    if challenge is None:
        return
    if not verifier:
        message = (
            "The code_verifier does not match the code_challenge supplied in the "
            "authorization request for PKCE."
        )
        raise IdentityError("invalid_grant", 50148, message)
    if s256_challenge(verifier) != challenge:
        message = (
            "The Code_Verifier does not match the code_challenge supplied in the "
            "authorization request."
        )
        raise IdentityError("invalid_grant", 501481, message)


def asked_resources(scope: str, granted: tuple[str, ...]) -> tuple[str, ...]:
    """The resource scopes a refresh asks for; all granted ones when it names none."""
    asked = tuple(s for s in dict.fromkeys(scope.split()) if s.lower() not in OIDC_SCOPES)
    if not asked:
        return granted
    have = {short_scope(s) for s in granted}
    missing = [s for s in asked if short_scope(s) not in have]
    if missing:
        message = (
            "The user or administrator has not consented to use the application with ID "
            f"for the scopes {' '.join(missing)}. Send an interactive authorization request "
            "for this user and resource."
        )
        raise IdentityError("invalid_grant", 65001, message)
    return asked


# --- answers to the browser -----------------------------------------------------------------------


def answer(redirect_uri: str, mode: str, params: dict[str, str], status: int = 302) -> Response:
    """Send the browser back: a redirect with a query (303 after the sign-in page's POST),
    or a self-posting form (form_post)."""
    if mode == "form_post":
        return form_post(redirect_uri, params)
    glue = "&" if "?" in redirect_uri else "?"
    return RedirectResponse(redirect_uri + glue + urlencode(params), status_code=status)


def form_post(redirect_uri: str, params: dict[str, str]) -> Response:
    fields = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}" />'
        for k, v in params.items()
    )
    document = (
        "<html><head><title>Working...</title></head>"
        '<body onload="document.forms[0].submit()">'
        f'<form method="POST" name="hiddenform" action="{html.escape(redirect_uri)}">'
        f'{fields}<noscript><input type="submit" value="Continue" /></noscript>'
        "</form></body></html>"
    )
    return HTMLResponse(document)


def redirect_error(error: IdentityError) -> dict[str, str]:
    description = f"AADSTS{error.code}: {error.message}"
    return {
        "error": error.error,
        "error_description": description,
        "error_uri": (f"https://login.microsoftonline.com/error?code={error.code}"),
    }


def unknown_tenant(request: Request) -> Response:
    tenant = request.path_params["tenant"]
    message = f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID."
    return IdentityError("invalid_tenant", 90002, message).response(request)


def error_page(error: IdentityError) -> Response:
    title = "Sign in to your account"
    content = f"<p>AADSTS{error.code}: {html.escape(error.message)}</p>"
    return page(400, title, content)


def page(status: int, title: str, content: str) -> Response:
    document = f"<!doctype html><title>{title}</title><h1>{title}</h1>{content}"
    return HTMLResponse(document, status_code=status)
