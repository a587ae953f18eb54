"""Sign-ups refused after the provider issued tokens: partial grants, taken addresses.

Google's granular consent screen lets a user untick scopes; the grant then comes back
with fewer (``Mailbox.withheld_scopes`` in the emulator). nudger refuses it, and must not
leave the refused grant alive at Google: its refresh token is revoked (Google's OAuth
docs: POST /revoke with the refresh token ends the grant, its access tokens too).
Microsoft has no per-app revocation: the grant is dropped unstored (see
``microsoft_auth``).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import httpx
import pytest
from starlette.testclient import TestClient

from nudger import accounts
from nudger.connectors.google_auth import GMAIL_SEND
from nudger.connectors.microsoft_auth import MAIL_SEND
from nudger.runtime import Runtime
from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import Fault, Mailbox
from tests.connectors.google_helpers import consent, issued_refresh_token_works
from tests.web.conftest import OWNER, sign_up

RELAX = "OAUTHLIB_RELAX_TOKEN_SCOPE"
MS_USER = "grace@contoso.example"


def refused_callback(
    client: TestClient, sandbox: Sandbox, provider: str, email: str
) -> tuple[httpx.Response, dict[str, str]]:
    start = client.get(f"/connect/{provider}", params={"login_hint": email})
    params = consent(sandbox, start.headers["location"])
    return client.get(f"/oauth/{provider}/callback", params=params), params


def test_partial_google_grant_is_refused_and_its_refresh_token_revoked(
    client: TestClient, sandbox: Sandbox, runtime: Runtime
) -> None:
    sandbox.world.mailbox(OWNER).withheld_scopes.add(GMAIL_SEND)

    done, params = refused_callback(client, sandbox, "google", OWNER)

    assert done.status_code == 400
    assert "Some permissions are missing" in done.text
    assert "gmail.send" in done.text
    assert not issued_refresh_token_works(sandbox, params["code"])
    assert accounts.list_accounts(runtime) == []


def test_a_failed_revoke_still_shows_the_refusal(
    client: TestClient, sandbox: Sandbox, runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    sandbox.world.mailbox(OWNER).withheld_scopes.add(GMAIL_SEND)
    sandbox.world.faults.append(Fault("/revoke", 503))

    with caplog.at_level(logging.WARNING):
        done, params = refused_callback(client, sandbox, "google", OWNER)

    assert done.status_code == 400
    assert "Some permissions are missing" in done.text
    assert "could not revoke a refused Google grant" in caplog.text
    assert issued_refresh_token_works(sandbox, params["code"])  # Google was never told
    assert accounts.list_accounts(runtime) == []


def test_partial_microsoft_grant_is_refused_unstored_with_where_to_withdraw_consent(
    client: TestClient, sandbox: Sandbox, runtime: Runtime
) -> None:
    mailbox = Mailbox(MS_USER, "Grace Hopper", "microsoft", withheld_scopes={MAIL_SEND})
    sandbox.world.add_mailbox(mailbox)

    done, _ = refused_callback(client, sandbox, "microsoft", MS_USER)

    assert done.status_code == 400
    assert "Mail.Send" in done.text
    assert "myapps.microsoft.com" in done.text
    assert accounts.list_accounts(runtime) == []


def test_an_address_held_by_another_account_is_refused_with_409(
    client: TestClient, other_client: TestClient, sandbox: Sandbox, runtime: Runtime
) -> None:
    sign_up(client, sandbox)
    sandbox.world.add_mailbox(Mailbox(OWNER, "Someone Else", "google", identity="someone-else"))

    done, _ = refused_callback(other_client, sandbox, "google", OWNER)

    assert done.status_code == 409
    assert "already connected to nudger by a different Google account" in done.text
    assert other_client.get("/dashboard").status_code != 200


def test_sign_up_leaves_oauthlib_scope_checks_on_for_everyone_else(
    client: TestClient, sandbox: Sandbox
) -> None:
    """oauthlib reads OAUTHLIB_RELAX_TOKEN_SCOPE process-wide: nudger must not set it."""
    assert RELAX not in os.environ
    sign_up(client, sandbox)
    sandbox.world.mailbox(OWNER).withheld_scopes.add(GMAIL_SEND)
    refused_callback(client, sandbox, "google", OWNER)
    assert RELAX not in os.environ

    env = {k: v for k, v in os.environ.items() if k != RELAX}
    imports = "import nudger.cli, nudger.connectors.google_auth, nudger.web.app, os"
    check = f"{imports}; print({RELAX!r} in os.environ)"
    out = subprocess.run([sys.executable, "-c", check], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr
