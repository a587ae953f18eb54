"""The emulator's Google OAuth endpoints and bearer-token checks, via the real libraries."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from google.auth.exceptions import RefreshError
from google.auth.transport.requests import Request as AuthRequest
from googleapiclient.errors import HttpError
from requests import Session

from nudger.sandbox import google_tokens
from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import Mailbox, World

from .google_client import (
    AUTH,
    CALLBACK,
    GOOGLE_USER,
    MONDAY,
    READ,
    SEND,
    USERINFO_EMAIL,
    body,
    calendar,
    connect,
    consent,
    error_of,
    make_flow,
    post_token,
    tls,
)

# --- OAuth --------------------------------------------------------------------------------


def test_code_exchange_with_pkce_gives_tokens_and_id_token(sandbox: Sandbox) -> None:
    flow = make_flow(sandbox, ["openid", USERINFO_EMAIL, READ])
    callback = consent(sandbox, flow, state="xyz")
    token = flow.fetch_token(code=callback["code"], verify=str(sandbox.certs.ca_cert))

    assert callback["state"] == "xyz"
    assert token["refresh_token"]
    assert token["expires_in"] == 3599
    assert token["token_type"] == "Bearer"
    payload = token["id_token"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["email"] == GOOGLE_USER
    assert claims["email_verified"] is True
    assert claims["aud"] == sandbox.settings()["google_client_id"]


def test_short_scope_names_come_back_expanded(sandbox: Sandbox) -> None:
    callback = consent(sandbox, make_flow(sandbox, ["openid", "email", "profile"]))
    assert callback["scope"].split() == ["openid", USERINFO_EMAIL, AUTH + "userinfo.profile"]


@pytest.mark.parametrize(
    ("verifier", "message"),
    [(None, "Missing code verifier."), ("x" * 43, "Invalid code verifier.")],
)
def test_code_exchange_without_the_right_verifier_is_refused(
    sandbox: Sandbox, verifier: str | None, message: str
) -> None:
    code = consent(sandbox, make_flow(sandbox, [READ]))["code"]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}
    response = post_token(sandbox, **form, **({"code_verifier": verifier} if verifier else {}))
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_grant", "error_description": message}


def test_reused_code_is_refused_and_revokes_what_it_issued(sandbox: Sandbox) -> None:
    flow = make_flow(sandbox, [READ])
    code = consent(sandbox, flow)["code"]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}
    first = post_token(sandbox, **form, code_verifier=flow.code_verifier)
    second = post_token(sandbox, **form, code_verifier=flow.code_verifier)

    assert first.status_code == 200
    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"
    refresh = post_token(
        sandbox, grant_type="refresh_token", refresh_token=first.json()["refresh_token"]
    )
    assert refresh.json()["error"] == "invalid_grant"


def test_refresh_token_only_on_first_consent_or_prompt_consent(sandbox: Sandbox) -> None:
    first, again = connect(sandbox, [READ]), connect(sandbox, [READ])
    forced = connect(sandbox, [READ], prompt="consent")
    assert first.refresh_token
    assert forced.refresh_token
    assert again.refresh_token is None
    assert again.token


def test_withheld_scope_is_missing_from_the_grant(
    sandbox: Sandbox, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OAUTHLIB_RELAX_TOKEN_SCOPE", "1")
    world.mailbox(GOOGLE_USER).withheld_scopes.add(SEND)
    flow = make_flow(sandbox, [READ, SEND])
    callback = consent(sandbox, flow)
    token = flow.fetch_token(code=callback["code"], verify=str(sandbox.certs.ca_cert))
    assert callback["scope"] == READ
    assert token["scope"] == [READ]


def test_refresh_keeps_the_refresh_token_until_revoked(sandbox: Sandbox) -> None:
    credentials = connect(sandbox, [READ])
    refresh_token, old_access = credentials.refresh_token, credentials.token
    session = Session()
    session.verify = str(sandbox.certs.ca_cert)
    session.trust_env = False  # else REQUESTS_CA_BUNDLE silently overrides session.verify
    credentials.refresh(AuthRequest(session))
    assert credentials.token != old_access
    assert credentials.refresh_token == refresh_token

    revoked = httpx.post(
        sandbox.settings()["google_revoke_uri"],
        data={"token": refresh_token},
        verify=tls(sandbox),
    )
    assert revoked.status_code == 200
    with pytest.raises(RefreshError, match="invalid_grant"):
        credentials.refresh(AuthRequest(session))
    assert calendar_status(sandbox, credentials.token) == 401


def test_revoking_an_unknown_token_is_invalid_token(sandbox: Sandbox) -> None:
    url = sandbox.settings()["google_revoke_uri"]
    response = httpx.post(url, data={"token": "nope"}, verify=tls(sandbox))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_token"


def test_several_google_users_get_an_account_chooser(sandbox: Sandbox, world: World) -> None:
    world.add_mailbox(Mailbox("bob@sandbox-google.test", "Bob", "google"))
    url, _ = make_flow(sandbox, [READ]).authorization_url()
    page = httpx.get(url, verify=tls(sandbox))
    assert page.status_code == 200
    assert "login_hint=bob%40sandbox-google.test" in page.text
    hinted = httpx.get(url + "&login_hint=bob@sandbox-google.test", verify=tls(sandbox))
    assert hinted.status_code == 302


def test_unknown_client_is_refused(sandbox: Sandbox) -> None:
    url = sandbox.settings()["google_auth_uri"] + "?client_id=nobody&response_type=code"
    response = httpx.get(url, verify=tls(sandbox))
    assert response.status_code == 401
    assert "invalid_client" in response.text


# --- bearer tokens ------------------------------------------------------------------------


def calendar_status(sandbox: Sandbox, token: str | None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    url = sandbox.base_url + "/calendar/v3/users/me/calendarList"
    return httpx.get(url, headers=headers, verify=tls(sandbox)).status_code


def test_api_call_without_token_is_401_with_challenge(sandbox: Sandbox) -> None:
    url = sandbox.base_url + "/calendar/v3/calendars/primary/events?singleEvents=true"
    response = httpx.get(url, verify=tls(sandbox))
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    error = response.json()["error"]
    assert error["status"] == "UNAUTHENTICATED"
    assert error["errors"][0]["reason"] == "authError"
    assert calendar_status(sandbox, "ya29.unknown") == 401


def test_expired_access_token_is_401(sandbox: Sandbox, world: World) -> None:
    credentials = connect(sandbox, [READ])
    assert calendar_status(sandbox, credentials.token) == 200
    google_tokens.tokens(world)[credentials.token].expires = datetime.now(UTC) - timedelta(
        seconds=1
    )
    assert calendar_status(sandbox, credentials.token) == 401


def test_missing_scope_is_403_insufficient_permissions(sandbox: Sandbox) -> None:
    read_only = calendar(sandbox, [READ])
    with pytest.raises(HttpError) as exc:
        read_only.events().insert(calendarId="primary", body=body("x", MONDAY)).execute()
    assert exc.value.status_code == 403
    assert error_of(exc)["errors"][0]["reason"] == "insufficientPermissions"
