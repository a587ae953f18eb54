"""Nothing secret reaches a log, even with every logger at DEBUG.

Whole lives run in one process, as ``nudger serve`` runs them: the web app under
uvicorn with the access log on, a Google and a Microsoft sign-up through the emulator's
OAuth consent over HTTP, a pass (sync with a token refresh, audit, send), one-click
links opened and confirmed, and both accounts deleted (the grants revoked). Every log
record of every logger (uvicorn's access log does not propagate to the root, so it is
captured on its own) is then searched for each secret the run really used, as is and
percent-encoded: the authorization codes, every access, refresh and ID token the
emulator issued or nudger stored, the client secrets, NUDGER_SECRET_KEY, the
encryption key, the session cookies and the tokens of the links in the mail sent.
"""

from __future__ import annotations

import email
import email.policy
import json
import logging
import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, quote, quote_plus, urlparse

import httpx
import pytest
from cryptography.fernet import Fernet

from nudger import accounts
from nudger.cycle import account_audit, run_cycle
from nudger.log_redaction import redact
from nudger.sandbox import google_tokens, microsoft_tokens
from nudger.sandbox.server import GOOGLE_CLIENT, MICROSOFT_CLIENT
from nudger.sandbox.world import Mailbox
from nudger.store.db import session_scope
from nudger.store.models import Account
from nudger.web.app import create_app
from nudger.web.security import SESSION_COOKIE
from nudger.web.serve import server_config
from tests.browser.conftest import NOW
from tests.live_server import LiveServer
from tests.team import Team, generated_team
from tests.web.conftest import proof_of

SECRET_KEY = "log-test-secret-key-" + "k" * 24
LINK = re.compile(r"/a/(\w+)/([\w.\-]+)")
CREDENTIAL_KEYS = {"token", "access_token", "refresh_token", "id_token", "client_secret", "secret"}
MICROSOFT_USER = "morgan.lee@contoso.example"
CAPTURED = ("", "uvicorn", "uvicorn.access")
"""The root logger, and uvicorn's two loggers that do not propagate to it."""


class Everything(logging.Handler):
    """Keeps every record as formatted text (message, arguments and traceback)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@dataclass
class Run:
    """The secrets the run used, by what they are."""

    secrets: dict[str, str] = field(default_factory=dict)

    def keep(self, what: str, value: str | None) -> None:
        if value:
            self.secrets[f"{what} #{len(self.secrets)}"] = value


@pytest.fixture
def team(database_url: str, tmp_path: Path, live_server: LiveServer) -> Iterator[Team]:
    with generated_team(
        NOW,
        database_url=database_url,
        data_dir=tmp_path / "data",
        encryption_key=Fernet.generate_key().decode(),
        base_url=live_server.base_url,
        secret_key=SECRET_KEY,
        log_level="DEBUG",
    ) as team:
        yield team


@pytest.fixture
def logged(served: str) -> Iterator[Everything]:
    """DEBUG everywhere while the test runs, every record kept (attached once uvicorn has
    configured its loggers: that replaces their handlers)."""
    handler = Everything()
    loggers = [logging.getLogger(name) for name in CAPTURED]
    levels = [logger.level for logger in loggers]
    root = logging.getLogger()
    root.setLevel(logging.DEBUG)
    for logger in loggers:
        logger.addHandler(handler)
    yield handler
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(handler)
        logger.setLevel(level)


@pytest.fixture
def served(team: Team, live_server: LiveServer) -> str:
    """The app under uvicorn configured as ``nudger serve`` configures it."""
    app = create_app(team.runtime, clock=lambda: NOW)
    live_server.start(app, server_config(app))
    return live_server.base_url


def spelt_in(secret: str, text: str) -> bool:
    """As is, or percent-encoded as in a URL (an authorization code "4/..." is logged
    as "4%2F...")."""
    return any(form in text for form in {secret, quote(secret, safe=""), quote_plus(secret)})


def sign_up(browser: httpx.Client, run: Run, provider: str, email: str) -> None:
    """The browser's way through the emulator's consent page and back."""
    to_provider = browser.get(f"/connect/{provider}", params={"login_hint": email})
    to_callback = browser.get(to_provider.headers["location"])
    query = parse_qs(urlparse(to_callback.headers["location"]).query)
    run.keep("authorization code", query["code"][0])
    assert browser.get(to_callback.headers["location"]).status_code == 303
    assert browser.get("/dashboard").status_code == 200
    run.keep("session cookie", browser.cookies[SESSION_COOKIE])


def click_links(browser: httpx.Client, team: Team, run: Run) -> None:
    """Open the first link of each mail sent and confirm it; keep every link token."""
    for sent in team.sandbox.world.sent:
        message = email.message_from_bytes(sent.raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        text = message.get_body(preferencelist=("plain",))
        assert isinstance(text, EmailMessage)
        found = LINK.findall(text.get_content())
        assert found, "a nudge email without one-click links"
        for _, token in found:
            run.keep("link token", token)
        action, token = found[0]
        page = browser.get(f"/a/{action}/{token}")
        assert page.status_code == 200, page.text
        done = browser.post(f"/a/{action}/{token}", data={"confirm": proof_of(page.text)})
        assert done.status_code == 200, done.text


def keep_stored_credentials(team: Team, run: Run) -> None:
    """Every token and secret in the decrypted credentials (Google's authorized-user
    JSON, msal's token cache: its entries keep the token under "secret")."""
    with session_scope(team.runtime.db) as session:
        blobs = [team.runtime.cipher.decrypt(a.credentials) for a in session.query(Account)]
    for blob in blobs:
        for name, value in walk(json.loads(blob)):
            if name in CREDENTIAL_KEYS and isinstance(value, str):
                run.keep(f"stored {name}", value)


def walk(data: object) -> Iterator[tuple[str, object]]:
    if isinstance(data, dict):
        for name, value in data.items():
            yield name, value
            yield from walk(value)
    elif isinstance(data, list):
        for value in data:
            yield from walk(value)


def delete_account(browser: httpx.Client, email: str) -> None:
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/account/delete").text)
    assert csrf
    gone = browser.post("/account/delete", data={"csrf_token": csrf.group(1), "email": email})
    assert gone.status_code == 200, gone.text


def test_sign_ups_a_pass_a_link_and_deletions_log_no_secret(
    team: Team, served: str, logged: Everything
) -> None:
    run = Run()
    world = team.sandbox.world
    world.add_mailbox(Mailbox(MICROSOFT_USER, "Morgan Lee", "microsoft"))
    users = {"google": team.org.owner.email, "microsoft": MICROSOFT_USER}
    ca = ssl.create_default_context(cafile=team.sandbox.certs.ca_cert)
    browsers = {name: httpx.Client(base_url=served, verify=ca) for name in users}
    for name, address in users.items():
        sign_up(browsers[name], run, name, address)
    keep_stored_credentials(team, run)
    microsoft_tokens.expire_access_tokens(world, MICROSOFT_USER)  # msal refreshes in the pass

    assert [r.error for r in run_cycle(team.runtime, now=NOW)] == [None, None]
    assert account_audit(team.runtime, users["google"])
    assert world.sent, "the pass sent no mail"
    click_links(browsers["google"], team, run)
    keep_stored_credentials(team, run)
    for name, address in users.items():
        delete_account(browsers[name], address)
        browsers[name].close()
    assert accounts.list_accounts(team.runtime) == []

    for token in [*google_tokens.tokens(world), *microsoft_tokens.tokens(world)]:
        run.keep("token issued by the emulator", token)
    for client in (GOOGLE_CLIENT, MICROSOFT_CLIENT):
        run.keep("client secret", client[1])
    run.keep("NUDGER_SECRET_KEY", SECRET_KEY)
    run.keep("encryption key", team.runtime.settings.encryption_keys.get_secret_value())

    text = "\n".join(logged.lines)
    assert "GET /a/" in text, "the access log was not captured"
    assert "HTTP Request: POST" in text, "the HTTP clients' debug logs were not captured"
    leaked = {what for what, secret in run.secrets.items() if spelt_in(secret, text)}
    assert not leaked, f"logged: {sorted(leaked)}"


@pytest.mark.parametrize(
    ("logged_url", "shown"),
    [
        ("/oauth/google/callback?state=s&code=4%2Fc", "/oauth/google/callback?<redacted>"),
        (
            "http://h/oauth/microsoft/callback?code=c&state=s",
            "http://h/oauth/microsoft/callback?<redacted>",
        ),
        ("/a/snooze/WzEsImEiXQ.axMByQ.j0PRiB", "/a/snooze/<redacted>"),
        (
            "https://oauth2.googleapis.com/revoke?token=1//r",
            "https://oauth2.googleapis.com/revoke?token=<redacted>",
        ),
        (
            "https://x/t?grant_type=refresh_token&refresh_token=r&client_secret=s",
            "https://x/t?grant_type=refresh_token&refresh_token=<redacted>&client_secret=<redacted>",
        ),
        ("/calendar/v3/calendars/primary?alt=json", "/calendar/v3/calendars/primary?alt=json"),
    ],
)
def test_redaction_hides_codes_link_tokens_and_secret_parameters(
    logged_url: str, shown: str
) -> None:
    assert redact(logged_url) == shown
