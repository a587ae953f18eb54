"""Sign-up over HTTP: the page, the OAuth start, the callback, refusals, health."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from urllib.parse import parse_qs, urlparse

import pytest
from starlette.testclient import TestClient

from nudger import accounts
from nudger.connectors.registry import provider_names
from nudger.runtime import Runtime
from nudger.sandbox.server import Sandbox
from nudger.web.app import create_app
from tests.connectors.google_helpers import consent
from tests.web.conftest import OWNER, web_runtime


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
    assert done.headers["location"] == "/start"  # a first sign-up: the guided start
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


# --- a server without OAuth clients ------------------------------------------------------


@pytest.fixture
def unconfigured(sandbox: Sandbox, database_url: str) -> Iterator[Callable[..., Runtime]]:
    """nudger with some settings changed from the emulator's (``unconfigured(name=value)``)."""
    opened: list[Runtime] = []

    def runtime_with(**changed: str) -> Runtime:
        opened.append(web_runtime(sandbox, database_url, **changed))
        return opened[-1]

    yield runtime_with
    for runtime in opened:
        runtime.db.dispose()


NO_CLIENTS = {
    "google_client_id": "",
    "google_client_secret": "",
    "microsoft_client_id": "",
    "microsoft_client_secret": "",
}
SETTINGS_NAMED = {
    "google": ("NUDGER_GOOGLE_CLIENT_ID", "NUDGER_GOOGLE_CLIENT_SECRET"),
    "microsoft": ("NUDGER_MICROSOFT_CLIENT_ID", "NUDGER_MICROSOFT_CLIENT_SECRET"),
}


def test_a_provider_without_its_client_is_no_link_and_the_page_says_what_to_set(
    unconfigured: Callable[..., Runtime],
) -> None:
    runtime = unconfigured(**NO_CLIENTS)
    with TestClient(create_app(runtime), follow_redirects=False) as browser:
        page = browser.get("/").text
    for name, needed in SETTINGS_NAMED.items():
        assert f'href="/connect/{name}' not in page, "a disabled button must not be followable"
        assert f'aria-describedby="setup-{name}"' in page
        advice = page[page.index(f'id="setup-{name}"') :].split("</p>")[0]
        assert all(setting in advice for setting in needed)


def test_a_missing_secret_alone_is_named_alone(unconfigured: Callable[..., Runtime]) -> None:
    runtime = unconfigured(google_client_secret="")
    with TestClient(create_app(runtime), follow_redirects=False) as browser:
        page = browser.get("/").text
        answer = browser.get("/connect/google")
    assert 'href="/connect/microsoft"' in page
    assert "NUDGER_GOOGLE_CLIENT_SECRET" in page
    assert "NUDGER_GOOGLE_CLIENT_ID" not in page
    assert answer.status_code == 503


@pytest.mark.parametrize("name", ["google", "microsoft"])
def test_connect_without_a_client_is_a_clear_503_not_a_500(
    unconfigured: Callable[..., Runtime], name: str
) -> None:
    runtime = unconfigured(**NO_CLIENTS)
    with TestClient(create_app(runtime), follow_redirects=False) as browser:
        answer = browser.get(f"/connect/{name}")
    assert answer.status_code == 503
    assert "not available" in answer.text
    assert all(setting in answer.text for setting in SETTINGS_NAMED[name])


def test_a_google_sign_in_page_on_plain_http_beyond_loopback_is_refused(
    unconfigured: Callable[..., Runtime],
) -> None:
    """oauthlib's rule (the authorization endpoint is https), relaxed for loopback only."""
    runtime = unconfigured(google_auth_uri="http://accounts.example.com/o/oauth2/v2/auth")
    with TestClient(create_app(runtime), follow_redirects=False) as browser:
        answer = browser.get("/connect/google")
    assert answer.status_code == 503
    assert "NUDGER_GOOGLE_AUTH_URI must be https" in answer.text
