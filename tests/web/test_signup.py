"""Sign-up over HTTP: the page, the OAuth start, the callback, refusals, health."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from starlette.testclient import TestClient

from nudger import accounts
from nudger.connectors.registry import provider_names
from nudger.runtime import Runtime
from nudger.sandbox.server import Sandbox
from nudger.web.app import create_app
from tests.connectors.google_helpers import consent
from tests.web.conftest import OWNER


def start_google(client: TestClient) -> str:
    response = client.get("/connect/google", params={"login_hint": OWNER})
    assert response.status_code == 302
    return response.headers["location"]


def test_signup_page_has_a_connect_button_per_provider(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    for name in provider_names():
        assert f'href="/connect/{name}"' in page.text


def test_connect_starts_oauth_with_state_and_pkce(client: TestClient, sandbox: Sandbox) -> None:
    location = urlparse(start_google(client))
    query = parse_qs(location.query)
    assert location.geturl().startswith(f"{sandbox.base_url}/o/oauth2/v2/auth")
    assert query["code_challenge_method"] == ["S256"]
    assert query["access_type"] == ["offline"]
    assert query["redirect_uri"] == ["http://testserver/oauth/google/callback"]
    assert query["state"][0]


def test_callback_connects_the_account_once(
    client: TestClient, sandbox: Sandbox, runtime: Runtime
) -> None:
    params = consent(sandbox, start_google(client))
    done = client.get("/oauth/google/callback", params=params)
    assert done.status_code == 303
    assert done.headers["location"] == "/dashboard"
    assert OWNER in client.get("/dashboard").text
    assert [a.email for a in accounts.list_accounts(runtime)] == [OWNER]

    replay = client.get("/oauth/google/callback", params=params)
    assert replay.status_code == 400
    assert "already used" in replay.text


def test_callback_with_a_forged_state_creates_nothing(
    client: TestClient, sandbox: Sandbox, runtime: Runtime
) -> None:
    params = {**consent(sandbox, start_google(client)), "state": "forged"}
    assert client.get("/oauth/google/callback", params=params).status_code == 400
    assert accounts.list_accounts(runtime) == []


def test_sandbox_signup_page_preselects_the_sandbox_user(runtime: Runtime) -> None:
    app = create_app(runtime, login_hints={"google": OWNER})
    with TestClient(app, follow_redirects=False) as browser:
        page = browser.get("/")
        assert 'href="/connect/google?login_hint=alex%40sandbox.example"' in page.text
        start = urlparse(browser.get("/connect/google").headers["location"])
        assert parse_qs(start.query)["login_hint"] == [OWNER]


def test_unknown_provider_is_a_404(client: TestClient) -> None:
    assert client.get("/connect/myspace").status_code == 404


def test_healthz_reports_the_passes_without_naming_accounts(client: TestClient) -> None:
    health = client.get("/healthz").json()
    assert health["status"] == "ok"
    assert health["queue_depth"] is None  # no broker: passes run in-process
    assert health["oldest_due"] is None
    assert health["last_pass_at"] is None
    assert health["failing_accounts"] == 0
