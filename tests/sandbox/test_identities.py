"""Who a user is, as the emulator tells it: stable ids across renames, tenants, revocation.

Microsoft's "ID token claims reference": ``oid`` and ``tid`` are immutable, ``sub`` is
pairwise per application, ``preferred_username`` is mutable (and needs the profile
scope); a user of another tenant is another account. Google: ``sub`` is the account's
stable id; ``email`` comes with the email scope only.
"""

from __future__ import annotations

import httpx
import jwt

from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import Mailbox, World

from .google_client import GOOGLE_USER, READ, USERINFO_EMAIL, consent, make_flow, post_token
from .google_client import tls as google_tls
from .microsoft_client import (
    ALL_SCOPES,
    MICROSOFT_USER,
    authorize,
    graph,
    make_app,
    sign_in,
    start_flow,
)

RENAMED = "grace.hopper@sandbox-microsoft.test"


def _google_claims(sandbox: Sandbox, scopes: list[str]) -> dict[str, object]:
    flow = make_flow(sandbox, scopes)
    token = flow.fetch_token(code=consent(sandbox, flow)["code"], verify=str(sandbox.certs.ca_cert))
    return dict(jwt.decode(token["id_token"], options={"verify_signature": False}))


def test_google_sub_survives_a_rename_and_email_needs_the_email_scope(
    sandbox: Sandbox, world: World
) -> None:
    before = _google_claims(sandbox, ["openid", READ])
    world.rename_mailbox(GOOGLE_USER, "ada.king@sandbox-google.test")
    after = _google_claims(sandbox, ["openid", USERINFO_EMAIL])

    assert "email" not in before
    assert after["sub"] == before["sub"]
    assert after["email"] == "ada.king@sandbox-google.test"
    assert world.mailbox("ada.king@sandbox-google.test").aliases == (GOOGLE_USER,)


def test_google_revoking_a_refresh_token_ends_its_access_tokens(sandbox: Sandbox) -> None:
    """Google's OAuth docs: revoking a token revokes its grant, refresh and access tokens."""
    flow = make_flow(sandbox, [READ])
    token = flow.fetch_token(code=consent(sandbox, flow)["code"], verify=str(sandbox.certs.ca_cert))
    revoked = httpx.post(
        f"{sandbox.base_url}/revoke",
        data={"token": token["refresh_token"]},
        verify=google_tls(sandbox),
    )
    again = httpx.post(
        f"{sandbox.base_url}/revoke",
        data={"token": token["refresh_token"]},
        verify=google_tls(sandbox),
    )
    refresh = post_token(sandbox, grant_type="refresh_token", refresh_token=token["refresh_token"])
    calendar = httpx.get(
        f"{sandbox.base_url}/calendar/v3/users/me/calendarList",
        headers={"Authorization": f"Bearer {token['access_token']}"},
        verify=google_tls(sandbox),
    )

    assert revoked.status_code == 200
    assert (again.status_code, again.json()["error"]) == (400, "invalid_token")
    assert refresh.json()["error"] == "invalid_grant"
    assert calendar.status_code == 401


def test_microsoft_rename_keeps_oid_and_tokens(sandbox: Sandbox, world: World) -> None:
    app, first = sign_in(sandbox)
    world.rename_mailbox(MICROSOFT_USER, RENAMED)
    [account] = app.get_accounts()
    refreshed = app.acquire_token_silent(ALL_SCOPES, account=account, force_refresh=True)

    assert refreshed is not None
    assert "access_token" in refreshed, refreshed
    claims = refreshed["id_token_claims"]
    assert claims["preferred_username"] == RENAMED
    assert (claims["oid"], claims["tid"]) == (
        first["id_token_claims"]["oid"],
        first["id_token_claims"]["tid"],
    )
    with graph(sandbox, first["access_token"]) as client:
        me = client.get("/me").json()
    assert (me["id"], me["mail"]) == (claims["oid"], RENAMED)


def test_another_tenants_user_with_the_same_address_is_another_user(
    sandbox: Sandbox, world: World
) -> None:
    app = make_app(sandbox, tenant="organizations")
    flow = start_flow(app)
    first = app.acquire_token_by_auth_code_flow(flow, authorize(sandbox, flow["auth_uri"]))
    world.add_mailbox(Mailbox(MICROSOFT_USER, "Grace Other", "microsoft", tenant="fabrikam"))
    flow = start_flow(app)
    second = app.acquire_token_by_auth_code_flow(flow, authorize(sandbox, flow["auth_uri"]))

    one, two = first["id_token_claims"], second["id_token_claims"]
    assert one["preferred_username"] == two["preferred_username"] == MICROSOFT_USER
    assert one["tid"] != two["tid"]
    assert one["oid"] != two["oid"]
    assert two["iss"] == f"{sandbox.base_url}/{two['tid']}/v2.0"
    with graph(sandbox, first["access_token"]) as client:
        assert client.get("/me").status_code == 401  # the first user is gone


def test_a_tenant_authority_signs_in_only_its_own_users(sandbox: Sandbox, world: World) -> None:
    world.add_mailbox(Mailbox("lin@fabrikam.test", "Lin", "microsoft", tenant="fabrikam"))
    home = make_app(sandbox)  # the sandbox tenant
    flow = start_flow(home, login_hint="lin@fabrikam.test")
    refused = httpx.get(flow["auth_uri"], verify=google_tls(sandbox))

    assert "AADSTS50020" in refused.text
    _, result = sign_in(
        sandbox, app=make_app(sandbox, tenant="fabrikam"), login_hint="lin@fabrikam.test"
    )
    assert result["id_token_claims"]["preferred_username"] == "lin@fabrikam.test"
