"""The emulator's Microsoft identity platform, driven by the real msal."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import httpx
import jwt
import pytest

from nudger.sandbox import microsoft_tokens
from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import World

from .microsoft_client import (
    CALLBACK,
    MICROSOFT_USER,
    READ,
    SEND,
    authorize,
    graph,
    make_app,
    post_token,
    sign_in,
    start_flow,
    tls,
)


def _decode(part: str) -> dict[str, object]:
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))


def test_msal_signs_in_with_pkce_and_gets_every_token(sandbox: Sandbox) -> None:
    app, result = sign_in(sandbox)

    assert result["token_type"] == "Bearer"
    assert result["refresh_token"]
    assert result["expires_in"] == 3599
    assert result["id_token_claims"]["preferred_username"] == MICROSOFT_USER
    assert result["id_token_claims"]["aud"] == sandbox.settings()["microsoft_client_id"]
    [account] = app.get_accounts()
    assert account["username"] == MICROSOFT_USER
    uid, _, utid = account["home_account_id"].partition(".")
    assert uid == result["id_token_claims"]["oid"]
    assert utid == result["id_token_claims"]["tid"]


def test_id_token_verifies_against_the_published_keys(sandbox: Sandbox) -> None:
    _, result = sign_in(sandbox)
    authority = sandbox.settings()["microsoft_authority"]
    config = httpx.get(
        authority + "/v2.0/.well-known/openid-configuration", verify=tls(sandbox)
    ).json()
    keys = httpx.get(config["jwks_uri"], verify=tls(sandbox)).json()["keys"]

    key = jwt.PyJWK(keys[0]).key
    claims = jwt.decode(
        result["id_token"],
        key,
        algorithms=["RS256"],
        audience=sandbox.settings()["microsoft_client_id"],
        issuer=config["issuer"],
    )
    assert claims["name"] == "Grace Hopper"


@pytest.mark.filterwarnings("ignore:response_mode='form_post' is recommended")
def test_query_response_mode_redirects_with_code_and_state(sandbox: Sandbox) -> None:
    app = make_app(sandbox)
    flow = start_flow(app, [READ], response_mode="query")
    callback = authorize(sandbox, flow["auth_uri"])

    assert callback["state"] == flow["state"]
    result = app.acquire_token_by_auth_code_flow(flow, callback)
    assert "access_token" in result, result


def test_withheld_scopes_are_missing_from_the_grant(sandbox: Sandbox, world: World) -> None:
    world.mailbox(MICROSOFT_USER).withheld_scopes = {SEND}
    _, result = sign_in(sandbox, [READ, SEND])

    granted = result["scope"].split()
    assert READ in granted
    assert SEND not in granted


def test_without_offline_access_no_refresh_token(sandbox: Sandbox, world: World) -> None:
    world.mailbox(MICROSOFT_USER).withheld_scopes = {"offline_access"}
    _, result = sign_in(sandbox, [READ])
    assert "refresh_token" not in result


def test_silent_refresh_rotates_the_refresh_token(sandbox: Sandbox) -> None:
    app, first = sign_in(sandbox, [READ])
    [account] = app.get_accounts()

    cached = app.acquire_token_silent([READ], account=account)
    refreshed = app.acquire_token_silent([READ], account=account, force_refresh=True)

    assert cached["access_token"] == first["access_token"]
    assert refreshed["access_token"] != first["access_token"]
    assert refreshed["refresh_token"] != first["refresh_token"]
    reused = app.acquire_token_by_refresh_token(first["refresh_token"], [READ])
    assert reused["error"] == "invalid_grant"


def test_revoked_grant_gives_invalid_grant_with_aadsts_code(sandbox: Sandbox, world: World) -> None:
    app, first = sign_in(sandbox, [READ])
    httpx.post(
        f"{sandbox.base_url}/_sandbox/microsoft/users/{MICROSOFT_USER}/revoke-refresh-tokens",
        verify=tls(sandbox),
    ).raise_for_status()

    result = app.acquire_token_by_refresh_token(first["refresh_token"], [READ])

    assert result["error"] == "invalid_grant"
    assert result["error_codes"] == [50173]
    assert result["error_description"].startswith("AADSTS50173:")
    assert result["correlation_id"]
    assert result["trace_id"]
    assert result["timestamp"]


def test_expired_access_token_is_refused_by_graph(sandbox: Sandbox, world: World) -> None:
    _, result = sign_in(sandbox)
    assert microsoft_tokens.expire_access_tokens(world, MICROSOFT_USER) == 1

    with graph(sandbox, result["access_token"]) as client:
        response = client.get("/me")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "InvalidAuthenticationToken"


def _code_and_flow(sandbox: Sandbox) -> tuple[str, dict[str, object]]:
    flow = start_flow(make_app(sandbox), [READ])
    return authorize(sandbox, str(flow["auth_uri"]))["code"], flow


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"code_verifier": None}, 50148),
        ({"code_verifier": "x" * 43}, 501481),
        ({"redirect_uri": "https://elsewhere.test/callback"}, 500112),
        ({"client_secret": "wrong"}, 7000215),
    ],
)
def test_code_redemption_checks_verifier_redirect_and_secret(
    sandbox: Sandbox, change: dict[str, str | None], code: int
) -> None:
    auth_code, flow = _code_and_flow(sandbox)
    form = {
        "grant_type": "authorization_code",
        "code": auth_code,
        "redirect_uri": CALLBACK,
        "code_verifier": str(flow["code_verifier"]),
    }
    form.update({k: v for k, v in change.items() if v is not None})
    for key in [k for k, v in change.items() if v is None]:
        del form[key]

    response = post_token(sandbox, **form)

    assert response.status_code in (400, 401)
    assert response.json()["error_codes"] == [code]


def test_a_code_is_single_use(sandbox: Sandbox) -> None:
    auth_code, flow = _code_and_flow(sandbox)
    form = {
        "grant_type": "authorization_code",
        "code": auth_code,
        "redirect_uri": CALLBACK,
        "code_verifier": str(flow["code_verifier"]),
    }
    assert post_token(sandbox, **form).status_code == 200

    replay = post_token(sandbox, **form)

    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    assert replay.json()["error_codes"] == [54005]


def test_an_old_code_has_expired(sandbox: Sandbox, world: World) -> None:
    auth_code, flow = _code_and_flow(sandbox)
    microsoft_tokens.codes(world)[auth_code].expires -= timedelta(minutes=11)

    response = post_token(
        sandbox,
        grant_type="authorization_code",
        code=auth_code,
        redirect_uri=CALLBACK,
        code_verifier=str(flow["code_verifier"]),
    )

    assert response.json()["error_codes"] == [70008]


def test_msal_reports_a_wrong_verifier_as_an_error_dict(sandbox: Sandbox) -> None:
    app = make_app(sandbox)
    flow = start_flow(app, [READ])
    callback = authorize(sandbox, flow["auth_uri"])
    flow["code_verifier"] = "y" * 43

    result = app.acquire_token_by_auth_code_flow(flow, callback)

    assert result["error"] == "invalid_grant"
    assert 501481 in result["error_codes"]


@pytest.mark.filterwarnings("ignore:response_mode='form_post' is recommended")
def test_plain_pkce_is_redirected_back_as_an_error(sandbox: Sandbox) -> None:
    flow = start_flow(make_app(sandbox), [READ], response_mode="query")
    url = flow["auth_uri"].replace("code_challenge_method=S256", "code_challenge_method=plain")

    callback = authorize(sandbox, url)

    assert callback["error"] == "invalid_request"
    assert callback["error_description"].startswith("AADSTS50149:")
    assert callback["state"] == flow["state"]


@pytest.mark.parametrize("hint", ["nobody@sandbox-microsoft.test", "ada@sandbox-google.test"])
def test_unknown_or_google_login_hint_gets_an_error_page(sandbox: Sandbox, hint: str) -> None:
    flow = start_flow(make_app(sandbox), [READ], login_hint=hint)
    response = httpx.get(flow["auth_uri"], verify=tls(sandbox))
    assert response.status_code == 400
    assert "AADSTS50034" in response.text


def test_unknown_tenant_fails_discovery(sandbox: Sandbox) -> None:
    url = f"{sandbox.base_url}/other-tenant/v2.0/.well-known/openid-configuration"
    response = httpx.get(url, verify=tls(sandbox))
    assert response.status_code == 400
    assert response.json()["error_codes"] == [90002]
