"""Security headers over HTTP, on pages signed in and out, links, errors and assets.

Which headers, after the OWASP Secure Headers Project: a Content Security Policy
that allows nothing nudger does not use (CSP Level 3), framing refused twice
(``frame-ancestors`` and, for older browsers, ``X-Frame-Options``), no MIME sniffing,
no Referer (a link page's URL is its token), nothing stored in caches, and HSTS
(RFC 6797) when served over https.
"""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from nudger import accounts
from nudger.delivery.links import ActionLink, action_url, signing_key
from nudger.runtime import Runtime
from nudger.sandbox.server import Sandbox
from tests.web.conftest import OWNER, new_client, sign_up, web_runtime

STRICT = {
    "default-src 'none'",
    "style-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
}
EVERY_RESPONSE = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}
INLINE = re.compile(r"<style|<script|\sstyle=|\son[a-z]+=", re.IGNORECASE)
"""What the policy would block: inline style and script, event handler attributes."""


def directives(response_headers: object) -> set[str]:
    assert hasattr(response_headers, "get")
    policy = response_headers.get("content-security-policy")
    assert policy, "no Content-Security-Policy"
    return {part.strip() for part in policy.split(";")}


def signed_in_pages(client: TestClient, runtime: Runtime) -> dict[str, str]:
    """Path → what it is, for the pages of a signed-in browser and a link's page."""
    account_id = accounts.find_account(runtime, OWNER).id
    key = signing_key(runtime.settings, runtime.cipher)
    link = action_url("", key, ActionLink("snooze", account_id, "sam@partner.example"))
    return {
        "/dashboard": "dashboard",
        "/settings": "settings",
        "/account/delete": "account deletion",
        link: "one-click link",
        "/": "sign-up page, signed in",
    }


def test_every_signed_in_page_and_link_page_carries_the_headers(
    client: TestClient, sandbox: Sandbox, runtime: Runtime
) -> None:
    sign_up(client, sandbox)
    for path, what in signed_in_pages(client, runtime).items():
        response = client.get(path)
        assert response.status_code == 200, what
        assert directives(response.headers) == STRICT, what
        assert response.headers["x-frame-options"] == "DENY", what
        assert EVERY_RESPONSE.items() <= dict(response.headers).items(), what
        assert "strict-transport-security" not in response.headers, what
        assert not INLINE.search(response.text), f"the {what} has inline style or script"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/", 200),
        ("GET", "/healthz", 200),
        ("GET", "/static/nudger.css", 200),
        ("GET", "/dashboard", 303),
        ("GET", "/no/such/page", 404),
        ("GET", "/a/snooze/forged", 400),
        ("POST", "/logout", 403),
        ("GET", "/oauth/google/callback?state=x&code=y", 400),
    ],
)
def test_every_response_carries_the_headers(
    client: TestClient, method: str, path: str, status: int
) -> None:
    response = client.request(method, path)
    assert response.status_code == status
    assert directives(response.headers) == STRICT
    assert response.headers["x-frame-options"] == "DENY"
    assert EVERY_RESPONSE.items() <= dict(response.headers).items()


def test_the_stylesheet_is_css_and_not_sniffed(client: TestClient) -> None:
    response = client.get("/static/nudger.css")
    assert response.headers["content-type"].startswith("text/css")
    assert "font-family" in response.text


def test_over_https_browsers_are_told_to_stay_on_https(sandbox: Sandbox, database_url: str) -> None:
    runtime = web_runtime(
        sandbox, database_url, base_url="https://nudger.example", secret_key="s" * 43
    )
    try:
        with new_client(runtime) as browser:
            for path in ("/", "/healthz", "/dashboard"):
                hsts = browser.get(path).headers["strict-transport-security"]
                assert hsts == "max-age=31536000; includeSubDomains"
    finally:
        runtime.db.dispose()
