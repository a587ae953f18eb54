"""Sessions: signed-in by the OAuth callback, signed cookies, sign-out, refusals."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from nudger import accounts
from nudger.runtime import Runtime
from nudger.sandbox.server import Sandbox
from nudger.web.security import SESSION_COOKIE
from tests.connectors.google_helpers import consent
from tests.web.conftest import OWNER, csrf_of, new_client, sign_up, web_runtime

SIGNED_IN_PAGES = ("/dashboard", "/settings", "/account/delete")


@pytest.mark.parametrize("page", SIGNED_IN_PAGES)
def test_signed_in_pages_send_strangers_to_the_signup_page(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_the_callback_signs_the_browser_in(client: TestClient, sandbox: Sandbox) -> None:
    sign_up(client, sandbox)
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert OWNER in page.text


def test_session_cookie_is_signed_httponly_and_lax(client: TestClient, sandbox: Sandbox) -> None:
    start = client.get("/connect/google", params={"login_hint": OWNER})
    cookie = start.headers["set-cookie"].lower()
    assert f"{SESSION_COOKIE}=" in cookie
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" not in cookie  # served over plain http here


def test_session_cookie_is_secure_when_served_over_https(
    sandbox: Sandbox, database_url: str
) -> None:
    runtime = web_runtime(sandbox, database_url, base_url="https://nudger.example")
    try:
        with new_client(runtime) as browser:
            start = browser.get("/connect/google", params={"login_hint": OWNER})
            assert "secure" in start.headers["set-cookie"].lower()
    finally:
        runtime.db.dispose()


def test_a_tampered_session_cookie_is_not_signed_in(client: TestClient, sandbox: Sandbox) -> None:
    sign_up(client, sandbox)
    value = client.cookies[SESSION_COOKIE]
    client.cookies.set(SESSION_COOKIE, value[:-4] + ("AAAA" if value[-4:] != "AAAA" else "BBBB"))
    assert client.get("/dashboard").status_code == 303


def test_sign_out_ends_the_session(client: TestClient, sandbox: Sandbox) -> None:
    sign_up(client, sandbox)
    token = csrf_of(client, "/dashboard")
    assert client.get("/logout").status_code == 405  # never on GET
    assert client.get("/dashboard").status_code == 200
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303
    assert client.get("/dashboard").status_code == 303


def test_a_callback_started_in_another_browser_is_refused(
    client: TestClient, other_client: TestClient, sandbox: Sandbox, runtime: Runtime
) -> None:
    """Login CSRF: an attacker's callback URL must not sign a victim into their account."""
    start = other_client.get("/connect/google", params={"login_hint": OWNER})
    params = consent(sandbox, start.headers["location"])
    response = client.get("/oauth/google/callback", params=params)
    assert response.status_code == 400
    assert accounts.list_accounts(runtime) == []
    assert client.get("/dashboard").status_code == 303


def test_a_session_whose_account_was_removed_signs_out(
    client: TestClient, sandbox: Sandbox, runtime: Runtime
) -> None:
    sign_up(client, sandbox)
    accounts.remove_account(runtime, OWNER)
    assert client.get("/dashboard").status_code == 303
    assert client.get("/settings").status_code == 303
