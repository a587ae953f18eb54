"""``nudger serve`` as an operator starts it: where its links point, what it says is missing.

The command runs for real (its entry point, a free port); the page and the OAuth start
are fetched over HTTP. A Google client is set so the redirect to Google shows the
redirect URI; nothing is fetched from Google (the authorization URL is built locally).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx

from nudger.web.serve import listening_url
from tests.web.serving import free_port, serving, wait_for

GOOGLE_ONLY = {"NUDGER_GOOGLE_CLIENT_ID": "operator-client", "NUDGER_GOOGLE_CLIENT_SECRET": "s"}
MICROSOFT_ADVICE = "set NUDGER_MICROSOFT_CLIENT_ID and NUDGER_MICROSOFT_CLIENT_SECRET"


def redirect_uri(app: str) -> str:
    start = httpx.get(f"{app}/connect/google")
    assert start.status_code == 302, start.text
    return parse_qs(urlparse(start.headers["location"]).query)["redirect_uri"][0]


def test_links_follow_host_and_port_and_the_log_names_what_is_missing(tmp_path: Path) -> None:
    port = free_port()
    app = f"http://localhost:{port}"
    with serving(tmp_path, GOOGLE_ONLY, "--host", "localhost", "--port", str(port)) as printed:
        home = wait_for(f"{app}/")
        assert redirect_uri(app) == f"{app}/oauth/google/callback"
        microsoft = httpx.get(f"{app}/connect/microsoft")
    output = b"".join(printed).decode()

    assert MICROSOFT_ADVICE in home.text
    assert microsoft.status_code == 503
    assert MICROSOFT_ADVICE in microsoft.text
    assert output.count(MICROSOFT_ADVICE) == 1, output
    assert "NUDGER_GOOGLE_CLIENT" not in output


def test_an_explicit_base_url_still_wins(tmp_path: Path) -> None:
    port = free_port()
    public = "http://127.0.0.1:9443"
    env = {**GOOGLE_ONLY, "NUDGER_BASE_URL": public}
    with serving(tmp_path, env, "--port", str(port)):
        wait_for(f"http://127.0.0.1:{port}/")
        assert redirect_uri(f"http://127.0.0.1:{port}") == f"{public}/oauth/google/callback"


def test_a_listening_address_becomes_a_url_a_browser_can_open() -> None:
    assert listening_url("0.0.0.0", 8766) == "http://127.0.0.1:8766"
    assert listening_url("::", 8766) == "http://127.0.0.1:8766"
    assert listening_url("::1", 8766) == "http://[::1]:8766"
    assert listening_url("nudger.local", 80) == "http://nudger.local:80"
