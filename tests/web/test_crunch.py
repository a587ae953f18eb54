"""The crunch dial over HTTP: set in the one settings form (validated, each error naming
its field), shown on the dashboard with a way to end it, gone by itself after its date,
and started by the one-click link every nudge email carries."""

from __future__ import annotations

import email
import re
from datetime import timedelta
from email.policy import default
from typing import Any

import pytest
from starlette.testclient import TestClient

from nudger import accounts
from nudger.cycle import run_cycle
from nudger.runtime import Runtime
from nudger.sandbox.server import Sandbox
from nudger.store.db import session_scope
from nudger.store.models import Account
from tests.web.conftest import NOW, OWNER, csrf_of, new_client, proof_of, sign_up
from tests.web.conftest import weekly_one_on_ones as one_on_ones
from tests.web.forms import changed, form_fields
from tests.web.test_links import act, link_url

BANNER = 'id="crunch-banner"'


@pytest.fixture
def signed_in(client: TestClient, sandbox: Sandbox) -> TestClient:
    sign_up(client, sandbox)
    return client


def settings_of(runtime: Runtime) -> dict[str, Any]:
    with session_scope(runtime.db) as session:
        account = session.get_one(Account, accounts.find_account(runtime, OWNER).id)
        return dict(account.settings or {})


def save(client: TestClient, **values: str) -> Any:
    fields = changed(form_fields(client.get("/settings").text, "settings-form"), values)
    data: dict[str, list[str]] = {}
    for name, value in fields:
        data.setdefault(name, []).append(value)
    return client.post("/settings", data=data)


def test_a_crunch_is_saved_from_the_settings_form_and_shown_again(
    signed_in: TestClient, runtime: Runtime
) -> None:
    response = save(signed_in, crunch_until="2026-03-15", crunch_factor="3")

    assert response.status_code == 303
    assert settings_of(runtime)["crunch"] == {"until": "2026-03-15", "factor": 3.0}
    page = signed_in.get("/settings").text
    assert 'value="2026-03-15"' in page
    assert 'name="crunch_factor" value="3"' in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("crunch_until", "2026-03-04", "Busy until: '2026-03-04' is not a date after today"),
        ("crunch_until", "2026-03-01", "Busy until: '2026-03-01' is not a date after today"),
        ("crunch_until", "2026-06-03", "at most 90 days ahead (like 2026-06-02)"),
        ("crunch_until", "15 Jan", "Busy until: '15 Jan' is not a date"),
        ("crunch_until", "\uff12\uff10\uff12\uff16-03-15", "Busy until:"),  # fullwidth digits
        ("crunch_factor", "0.5", "Stretch rhythms by: a number from 1 to 10"),
        ("crunch_factor", "11", "Stretch rhythms by: a number from 1 to 10"),
        ("crunch_factor", "²", "Stretch rhythms by: a number from 1 to 10"),
        ("crunch_factor", "1e1", "Stretch rhythms by: a number from 1 to 10"),
    ],
)
def test_a_bad_crunch_names_the_field_and_stores_nothing(
    signed_in: TestClient, runtime: Runtime, field: str, value: str, message: str
) -> None:
    before = settings_of(runtime)
    values = {"crunch_until": "2026-03-15", field: value}

    response = save(signed_in, **values)

    assert response.status_code == 400
    assert f'data-field="{field}"' in response.text
    assert message in response.text.replace("&#39;", "'")
    assert settings_of(runtime) == before


def test_the_dashboard_says_a_crunch_is_on_and_it_can_be_ended_early(
    signed_in: TestClient, runtime: Runtime
) -> None:
    assert BANNER not in signed_in.get("/dashboard").text
    save(signed_in, crunch_until="2026-03-15")

    board = signed_in.get("/dashboard").text
    token = csrf_of(signed_in, "/dashboard")
    ended = signed_in.post(
        "/settings", data={"csrf_token": token, "section": "crunch", "action": "end"}
    )

    assert BANNER in board
    assert "Crunch until Sun 15 Mar" in board
    assert "stretched 2\u00d7" in board
    assert ended.status_code == 303
    assert "crunch" not in settings_of(runtime)
    assert BANNER not in signed_in.get("/dashboard").text


def test_a_crunch_ends_by_itself_on_its_date(
    signed_in: TestClient, sandbox: Sandbox, runtime: Runtime
) -> None:
    save(signed_in, crunch_until="2026-03-06")
    the_day_after = NOW + timedelta(days=2)  # 6 March, 10:00 UTC

    with new_client(runtime, clock=lambda: the_day_after) as later:
        sign_up(later, sandbox)
        board = later.get("/dashboard").text
        form = later.get("/settings").text

    assert BANNER not in board
    assert 'id="crunch_until" type="date" name="crunch_until" value=""' in form


def received_text(sandbox: Sandbox) -> str:
    [nudge] = [email.message_from_bytes(s.raw, policy=default) for s in sandbox.world.sent]
    body = nudge.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def test_the_crunch_link_of_a_real_nudge_email_starts_a_two_week_crunch(
    client: TestClient, sandbox: Sandbox, runtime: Runtime
) -> None:
    one_on_ones(sandbox, OWNER, "sam.ortiz@partner.example", stopped=timedelta(days=60))
    sign_up(client, sandbox)
    [report] = run_cycle(runtime, now=NOW)
    assert report.error is None
    text = received_text(sandbox)
    found = re.search(r"http://testserver/a/crunch/\S+", text)
    assert found, text
    assert "Busy? Pause the small stuff for 2 weeks" in text

    page = client.get(found.group(0))
    assert page.status_code == 200
    assert "crunch" not in settings_of(runtime), "GET changes nothing"
    for _ in range(2):  # twice is the same as once
        done = client.post(found.group(0), data={"confirm": proof_of(page.text)})
        assert done.status_code == 200

    assert settings_of(runtime)["crunch"] == {"until": "2026-03-18", "factor": None}
    assert "Crunch until Wed 18 Mar" in client.get("/dashboard").text


def test_the_crunch_link_never_shortens_a_longer_crunch(
    signed_in: TestClient, sandbox: Sandbox, runtime: Runtime
) -> None:
    save(signed_in, crunch_until="2026-04-01", crunch_factor="1.5")

    act(signed_in, link_url(runtime, accounts.find_account(runtime, OWNER).id, "crunch"))

    assert settings_of(runtime)["crunch"] == {"until": "2026-04-01", "factor": 1.5}


def test_during_a_crunch_the_dashboard_judges_with_the_stretched_rhythms(
    signed_in: TestClient, sandbox: Sandbox, runtime: Runtime
) -> None:
    """Weekly, last met 20 days ago (14 working days): neglected at 2.5 cadences, not yet
    fading at 3 (1.5 stretched 2x). The dashboard says what the rules act on."""
    one_on_ones(sandbox, OWNER, "sam.ortiz@partner.example", stopped=timedelta(days=20))
    run_cycle(runtime, now=NOW, dry_run=True)
    before = signed_in.get("/dashboard").text
    save(signed_in, crunch_until="2026-03-15")

    during = signed_in.get("/dashboard").text

    assert status_of(before, "sam.ortiz@partner.example") == "neglected"
    assert status_of(during, "sam.ortiz@partner.example") == "healthy"
    assert "the statuses below are read with the stretched rhythms" in during


def status_of(html: str, email: str) -> str:
    """The audit section (``data-status``) whose table lists ``email``."""
    sections = re.findall(
        r'<section class="audit-group" data-status="(\w+)">(.*?)</section>', html, re.S
    )
    [status] = [status for status, body in sections if email in body]
    return status
