"""Sessions: signed-in by the OAuth callback, signed cookies, sign-out, refusals.

What a session must not outlive follows the OWASP Session Management Cheat Sheet:
sign-out invalidates it on the server (a copied cookie is worth nothing after), and it
has an absolute lifetime from sign-in that renewing the cookie does not extend.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import update
from starlette.testclient import TestClient

from nudger import accounts
from nudger.runtime import Runtime
from nudger.sandbox.server import Sandbox
from nudger.store.db import session_scope
from nudger.store.models import Account
from nudger.web.security import SESSION_COOKIE, SESSION_MAX_AGE
from tests.connectors.google_helpers import consent
from tests.web.conftest import NOW, OTHER, OWNER, csrf_of, new_client, sign_up, web_runtime

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
    runtime = web_runtime(
        sandbox, database_url, base_url="https://nudger.example", secret_key="s" * 43
    )
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


def replayed(runtime: Runtime, cookie: str, page: str = "/dashboard") -> tuple[int, str]:
    """``page`` as another browser sees it that presents a copy of ``cookie``."""
    with new_client(runtime) as thief:
        thief.cookies.set(SESSION_COOKIE, cookie)
        response = thief.get(page)
    return response.status_code, response.text


def test_a_cookie_copied_before_sign_out_does_not_sign_in_after_it(
    client: TestClient, sandbox: Sandbox, runtime: Runtime
) -> None:
    sign_up(client, sandbox)
    copied = client.cookies[SESSION_COOKIE]
    assert replayed(runtime, copied)[0] == 200
    assert client.post("/logout", data={"csrf_token": csrf_of(client)}).status_code == 303
    for page in ("/dashboard", "/settings", "/account/delete"):
        assert replayed(runtime, copied, page)[0] == 303, f"{page} opened after sign-out"


def test_sign_out_ends_the_accounts_sessions_in_every_browser(
    client: TestClient, other_client: TestClient, sandbox: Sandbox
) -> None:
    sign_up(client, sandbox)
    sign_up(other_client, sandbox)
    other_client.post("/logout", data={"csrf_token": csrf_of(other_client)})
    assert client.get("/dashboard").status_code == 303
    sign_up(client, sandbox)
    assert client.get("/dashboard").status_code == 200


def test_a_session_ends_its_max_age_after_sign_in_however_often_it_is_renewed(
    runtime: Runtime, sandbox: Sandbox
) -> None:
    """Starlette signs the cookie afresh on every response of a non-empty session, and
    /connect stores the OAuth state in it; the sign-in time is what counts."""
    now = [NOW]

    def clock() -> datetime:
        return now[0]

    with new_client(runtime, clock=clock) as browser:
        sign_up(browser, sandbox)
        for day in (4, 8, 12):
            now[0] = NOW + timedelta(days=day)
            assert browser.get("/connect/google").status_code == 302
            assert browser.get("/dashboard").status_code == 200
        now[0] = NOW + timedelta(seconds=SESSION_MAX_AGE + 1)
        assert browser.get("/dashboard").status_code == 303
        sign_up(browser, sandbox)
        assert browser.get("/dashboard").status_code == 200


def test_a_deleted_accounts_cookie_does_not_open_an_account_that_got_its_id(
    client: TestClient, sandbox: Sandbox, runtime: Runtime
) -> None:
    """nudger never hands an id out twice, but a restored backup or a reset sequence
    could: the cookie names the account row it was made for, not just its id."""
    sign_up(client, sandbox, OWNER)
    copied = client.cookies[SESSION_COOKIE]
    deleted = accounts.find_account(runtime, OWNER).id
    accounts.remove_account(runtime, OWNER)
    with new_client(runtime) as newcomer:
        sign_up(newcomer, sandbox, OTHER)
    with session_scope(runtime.db) as session:
        session.execute(update(Account).where(Account.email == OTHER).values(id=deleted))
    status, text = replayed(runtime, copied)
    assert status == 303
    assert OTHER not in text
