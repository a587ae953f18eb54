"""``nudger serve --sandbox``: a person can click through the whole product locally."""

from __future__ import annotations

import html
import re
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
from nudger.sandbox.world import SandboxEvent, SentMessage
from nudger.web.app import create_app
from nudger.web.pages import DATETIME
from nudger.web.sandbox_page import next_awake
from tests.sandbox.sign_in_helpers import choose, continue_as_shown
from tests.team import Team, generated_team
from tests.web.conftest import NOW, csrf_of, sign_up
from tests.web.serving import free_port, serving, wait_for
from tests.web.test_headers import STRICT, directives

_REPORT = re.compile(r'<p class="ok" id="ran">([^<]*)</p>')
_HOSTILE_MAIL = (
    b"From: alex@sandbox.example\r\nTo: alex@sandbox.example\r\nSubject: Hostile\r\n"
    b"MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
    b'<html><head><style>p{}</style></head><body><p style="color:red">Hello &lt;friend&gt;'
    b'<script>alert(1)</script><a href="javascript:alert(1)" onclick="x()">x</a>'
    b'<img src="https://tracker.example/p.gif"></p>'
    b'<p style="background:url(https://tracker.example/b)">b</p>'
    b'<p style="color:blue}body{position:fixed">c</p></body></html>'
)


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


def test_the_sandbox_page_runs_a_pass_and_says_what_it_did(
    team: tuple[Sandbox, GeneratedOrg, Runtime],
) -> None:
    sandbox, org, runtime = team
    app = create_app(runtime, clock=lambda: NOW, sandbox_world=sandbox.world)
    with TestClient(app, follow_redirects=False) as client:
        sign_up(client, sandbox, org.owner.email)
        assert 'href="/sandbox"' in client.get("/dashboard").text
        assert 'id="no-mail"' in client.get("/sandbox").text
        first = run_pass(client)
        emails, holds = len(sandbox.world.sent), len(booked_holds(sandbox, org))
        again = run_pass(client)
        after_reading = client.get("/sandbox").text

    assert emails, "the generated team's pass sends emails"
    assert holds, "and books holds"
    assert f"{emails} emails sent, {holds} hold{'s' if holds > 1 else ''} booked." in first
    assert "nothing to do, no nudge was due." in again
    assert len(sandbox.world.sent) == emails
    assert 'id="ran"' not in after_reading, "the report is shown once"


def run_pass(client: TestClient) -> str:
    """Press the sandbox page's button; the report the page then shows."""
    ran = client.post("/sandbox/run", data={"csrf_token": csrf_of(client, "/sandbox")})
    assert ran.status_code == 303
    assert ran.headers["location"] == "/sandbox"
    page = client.get("/sandbox").text
    found = _REPORT.search(page)
    assert found, "no report of the pass"
    return found.group(1)


def booked_holds(sandbox: Sandbox, org: GeneratedOrg) -> list[SandboxEvent]:
    mailbox = sandbox.world.mailbox(org.owner.email)
    return [e for e in mailbox.events.values() if e.private_props and not e.deleted]


def test_every_mail_is_shown_whole_without_a_frame(
    team: tuple[Sandbox, GeneratedOrg, Runtime], after_a_pass: TestClient
) -> None:
    """The footer is the last line of every HTML mail: no frame height can cut it off."""
    page = after_a_pass.get("/sandbox").text
    sections = page.split('<section class="mail">')[1:]
    assert len(sections) == len(team[0].world.sent)
    assert "<iframe" not in page
    for section in sections:
        body = section[: section.index("</section>")]
        assert '<div class="sandbox-mail">' in body
        assert "Sent by nudger from your own mailbox, to you only." in body
        assert re.search(
            r'<a [^>]*href="http://testserver/a/snooze/[^"]+">Snooze 2 weeks</a>', body
        )


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


def test_the_mail_stylesheet_is_the_signed_in_mailboxs_only(
    team: tuple[Sandbox, GeneratedOrg, Runtime], after_a_pass: TestClient
) -> None:
    page = after_a_pass.get("/sandbox").text
    sheet = after_a_pass.get("/sandbox/mail.css")
    assert sheet.headers["content-type"].startswith("text/css")
    used = set(re.findall(r'class="(m[0-9a-f]{12})"', page))
    assert used
    assert used == set(re.findall(r"\.sandbox-mail \.(m[0-9a-f]{12}) \{", sheet.text))

    for sent in team[0].world.sent:
        sent.mailbox = "someone.else@sandbox.example"
    assert not re.search(r"\.m[0-9a-f]{12}", after_a_pass.get("/sandbox/mail.css").text)
    after_a_pass.cookies.clear()
    assert after_a_pass.get("/sandbox/mail.css").status_code == 303


def test_a_mail_is_shown_with_nothing_that_could_run_or_load(
    team: tuple[Sandbox, GeneratedOrg, Runtime], after_a_pass: TestClient
) -> None:
    sandbox, org, _ = team
    sandbox.world.sent.append(SentMessage(org.owner.email, "google", _HOSTILE_MAIL))
    page = after_a_pass.get("/sandbox").text
    newest = page.split('<section class="mail">')[1]
    assert "Hello &lt;friend&gt;" in newest
    for danger in ("<script", "onclick", "javascript:", "<img", "<style", "url(", "style="):
        assert danger not in newest
    sheet = after_a_pass.get("/sandbox/mail.css").text
    assert "url(" not in sheet
    assert "color: red;" in sheet
    assert "position" not in sheet, "a declaration breaking out of its rule is dropped whole"


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


def test_nudger_serve_sandbox_signs_in_with_either_provider(tmp_path: Path) -> None:
    """Both buttons end on the dashboard; Microsoft's, once signed in as another user of
    the sign-in page's list, as that user."""
    app = f"http://127.0.0.1:{free_port()}"
    with serving(tmp_path, {}, "--sandbox", "--port", app.rsplit(":", 1)[1]) as printed:
        home = wait_for(f"{app}/")
        google = sign_in_through(app, "google", choose_instead=None)
        microsoft = sign_in_through(app, "microsoft", choose_instead="Jonas Berg")
    output = b"".join(printed).decode()

    assert "Sandbox: Google signs you in as alex.morgan@northwind.example" in home.text
    assert "Sandbox: Microsoft 365 signs you in as sam.rivera@northwind.example" in home.text
    assert "alex.morgan@northwind.example" in google
    assert "jonas.berg@northwind.example" in microsoft
    assert "sign in with Google as alex.morgan@northwind.example" in output


def sign_in_through(app: str, provider: str, choose_instead: str | None) -> str:
    """Press Connect, continue on the sandbox's sign-in page (as another user if asked);
    the dashboard reached."""
    home = httpx.get(f"{app}/").text
    link = re.search(rf'href="(/connect/{provider}[^"]*)"', home)
    assert link, home
    with httpx.Client(base_url=app) as browser:
        start = browser.get(html.unescape(link.group(1)))
        assert start.status_code == 302, start.text
        assert start.headers["location"].startswith("http://127.0.0.1:")  # no certificate
        page = httpx.get(start.headers["location"])
        if choose_instead:
            page = choose(page, choose_instead)
        callback = browser.get(f"/oauth/{provider}/callback", params=continue_as_shown(page))
        assert callback.status_code == 303, callback.text
        assert callback.headers["location"] == "/start"  # a first sign-up
        return browser.get("/dashboard").text


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


def test_the_sandbox_page_keeps_nudgers_strict_policy(after_a_pass: TestClient) -> None:
    """Mail is styled inline, which nudger's pages never allow: the page carries classes
    and the same-origin stylesheet their rules instead, under the usual policy."""
    page = after_a_pass.get("/sandbox")
    assert directives(page.headers) == STRICT
    assert page.headers["x-frame-options"] == "DENY"
    assert "style=" not in page.text
    assert '<link rel="stylesheet" href="/sandbox/mail.css">' in page.text
