"""``nudger serve --sandbox``: a person can click through the whole product locally."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from starlette.testclient import TestClient

from nudger.runtime import Runtime
from nudger.sandbox.orggen import GeneratedOrg
from nudger.sandbox.server import Sandbox
from nudger.web.app import create_app
from nudger.web.pages import DATETIME
from nudger.web.sandbox_page import next_awake
from tests.team import Team, generated_team
from tests.web.conftest import NOW, csrf_of, sign_up
from tests.web.test_headers import STRICT, directives

_FRAME = re.compile(r'<iframe [^>]*src="(/sandbox/mail/\d+)"')


@pytest.fixture
def team(
    database_url: str, tmp_path: Path, encryption_key: str
) -> Iterator[tuple[Sandbox, GeneratedOrg, Runtime]]:
    with generated_team(
        NOW,
        database_url=database_url,
        data_dir=tmp_path / "data",
        encryption_key=encryption_key,
        base_url="http://testserver",
    ) as team:
        yield team.sandbox, team.org, team.runtime


def test_the_sandbox_page_runs_a_pass_and_shows_the_mail_it_sent(
    team: tuple[Sandbox, GeneratedOrg, Runtime],
) -> None:
    sandbox, org, runtime = team
    app = create_app(runtime, clock=lambda: NOW, sandbox_world=sandbox.world)
    with TestClient(app, follow_redirects=False) as client:
        sign_up(client, sandbox, org.owner.email)
        assert 'href="/sandbox"' in client.get("/dashboard").text
        assert 'id="no-mail"' in client.get("/sandbox").text

        ran = client.post("/sandbox/run", data={"csrf_token": csrf_of(client, "/sandbox")})
        assert ran.status_code == 303
        page = client.get(ran.headers["location"]).text
        frames = [client.get(src) for src in _FRAME.findall(page)]

    assert 'id="ran"' in page
    assert sandbox.world.sent, "the pass sent nudge emails from the owner's mailbox"
    assert page.count('<section class="mail">') == len(sandbox.world.sent)
    assert len(frames) == len(sandbox.world.sent), "each HTML part is framed"
    assert all(frame.status_code == 200 for frame in frames)
    assert any("/a/snooze/" in f.text for f in frames), "the one-click links are there to click"


@pytest.fixture
def after_a_pass(team: tuple[Sandbox, GeneratedOrg, Runtime]) -> Iterator[TestClient]:
    """The sandbox owner's browser, signed in, once the sandbox page's button ran a pass."""
    sandbox, org, runtime = team
    app = create_app(runtime, clock=lambda: NOW, sandbox_world=sandbox.world)
    with TestClient(app, follow_redirects=False) as client:
        sign_up(client, sandbox, org.owner.email)
        ran = client.post("/sandbox/run", data={"csrf_token": csrf_of(client, "/sandbox")})
        assert ran.status_code == 303
        yield client


def test_a_mail_frame_is_only_for_the_mailbox_that_sent_it(
    team: tuple[Sandbox, GeneratedOrg, Runtime], after_a_pass: TestClient
) -> None:
    sent = team[0].world.sent
    assert after_a_pass.get("/sandbox/mail/0").status_code == 200
    sent[0].mailbox = "someone.else@sandbox.example"
    assert after_a_pass.get("/sandbox/mail/0").status_code == 404
    assert after_a_pass.get(f"/sandbox/mail/{len(sent)}").status_code == 404
    after_a_pass.cookies.clear()
    assert after_a_pass.get("/sandbox/mail/1").status_code == 303


def test_the_pass_button_needs_the_csrf_token(
    team: tuple[Sandbox, GeneratedOrg, Runtime],
) -> None:
    sandbox, org, runtime = team
    app = create_app(runtime, clock=lambda: NOW, sandbox_world=sandbox.world)
    with TestClient(app, follow_redirects=False) as client:
        sign_up(client, sandbox, org.owner.email)
        assert client.post("/sandbox/run", data={}).status_code == 403
    assert sandbox.world.sent == []


def test_without_the_sandbox_there_is_no_sandbox_page(
    team: tuple[Sandbox, GeneratedOrg, Runtime],
) -> None:
    sandbox, org, runtime = team
    with TestClient(create_app(runtime, clock=lambda: NOW), follow_redirects=False) as client:
        sign_up(client, sandbox, org.owner.email)
        assert 'href="/sandbox"' not in client.get("/dashboard").text
        assert client.get("/sandbox").status_code == 404


def test_a_pass_asked_for_at_night_runs_as_of_the_next_waking_hour(
    team: tuple[Sandbox, GeneratedOrg, Runtime],
) -> None:
    sandbox, org, runtime = team
    account_id = Team(sandbox, org, runtime).connect_owner().id
    saturday_night = datetime(2026, 3, 7, 22, 15, tzinfo=UTC)  # London is on UTC in March
    assert next_awake(runtime, account_id, saturday_night) == datetime(2026, 3, 9, 8, 0, tzinfo=UTC)
    assert next_awake(runtime, account_id, NOW) == NOW


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_nudger_serve_sandbox_starts_with_the_sandbox_user_preselected(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "NUDGER_DATA_DIR": str(tmp_path)}
    nudger = Path(sys.executable).with_name("nudger")
    server = subprocess.Popen(
        [str(nudger), "serve", "--sandbox", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        home = wait_for(f"http://127.0.0.1:{port}/")
        assert "Sandbox: Google signs you in as" in home.text
        assert "login_hint=" in home.text
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert b"sign in as" in output


def wait_for(url: str) -> httpx.Response:
    deadline = time.monotonic() + 60
    while True:
        try:
            return httpx.get(url, timeout=5)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def test_the_dashboard_shows_when_each_booked_hold_sits_in_the_calendar(
    team: tuple[Sandbox, GeneratedOrg, Runtime], after_a_pass: TestClient
) -> None:
    sandbox, org, _ = team
    booked = after_a_pass.get("/dashboard").text
    after_a_pass.post("/sandbox/run", data={"csrf_token": csrf_of(after_a_pass, "/sandbox")})
    synced = after_a_pass.get("/dashboard").text

    mailbox = sandbox.world.mailbox(org.owner.email)
    holds = [e for e in mailbox.events.values() if e.private_props and not e.deleted]
    assert holds
    assert booked.count("after the next sync") == len(holds)
    table = synced[synced.index('id="holds"') :]
    assert "after the next sync" not in table
    for hold in holds:
        assert hold.start.astimezone(ZoneInfo("Europe/London")).strftime(DATETIME) in table


def test_the_mail_frames_have_a_policy_of_their_own(after_a_pass: TestClient) -> None:
    """Mail is styled inline, which nudger's own pages never allow: each HTML part is a
    sandboxed document that only the sandbox page (same origin) may frame."""
    page = after_a_pass.get("/sandbox")
    frame = after_a_pass.get(_FRAME.findall(page.text)[0])
    assert directives(page.headers) == STRICT | {"frame-src 'self'"}
    assert page.headers["x-frame-options"] == "DENY"
    assert directives(frame.headers) == {
        "default-src 'none'",
        "style-src 'unsafe-inline'",
        "form-action 'none'",
        "frame-ancestors 'self'",
        "base-uri 'none'",
        "sandbox allow-popups allow-top-navigation-by-user-activation",
    }
    assert frame.headers["x-frame-options"] == "SAMEORIGIN"
    assert frame.headers["cache-control"] == "no-store"
