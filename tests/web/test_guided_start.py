"""The guided start: a first sign-up lands on /start, which waits for the first sync,
proposes the key people with their evidence, and one form confirms their roles."""

from __future__ import annotations

from datetime import timedelta

import pytest
from httpx import Response
from starlette.testclient import TestClient

from nudger import accounts, contacts
from nudger.cycle import run_cycle
from nudger.runtime import Runtime
from nudger.sandbox.server import Sandbox
from tests.web.conftest import NOW, OWNER, csrf_of, new_client, sign_up, weekly_one_on_ones

REPORT = "dana.lee@sandbox.example"
CLIENT = "sam.ortiz@partner.example"


@pytest.fixture
def signed_up(client: TestClient, sandbox: Sandbox, runtime: Runtime) -> str:
    """A new account whose calendar holds a weekly one-on-one and an external contact;
    where the sign-up sent the browser."""
    weekly_one_on_ones(sandbox, OWNER, REPORT, stopped=timedelta(days=2), weeks=12)
    weekly_one_on_ones(sandbox, OWNER, CLIENT, stopped=timedelta(days=5), weeks=6)
    return sign_up(client, sandbox)


@pytest.fixture
def synced(signed_up: str, runtime: Runtime) -> None:
    reports = run_cycle(runtime, now=NOW, dry_run=True)
    assert [r.error for r in reports] == [None]


def confirm(client: TestClient, **fields: str) -> Response:
    return client.post("/start", data={"csrf_token": csrf_of(client, "/start"), **fields})


def role_of(runtime: Runtime, email: str) -> str | None:
    account = accounts.find_account(runtime, OWNER).id
    known = contacts.find_contact(runtime, account, email)
    return known.role if known else None


def test_a_first_sign_up_lands_on_the_guided_start(signed_up: str, client: TestClient) -> None:
    assert signed_up == "/start"


def test_until_the_first_sync_the_page_says_so_and_reloads(
    signed_up: str, client: TestClient
) -> None:
    html = client.get("/start").text
    assert "reading your calendar for the first time" in html
    assert '<meta http-equiv="refresh" content="10">' in html
    assert 'href="/start"' in html
    assert 'id="start-form"' not in html


def test_a_paused_account_is_told_why_nothing_comes_and_the_page_stops_reloading(
    signed_up: str, client: TestClient
) -> None:
    paused = client.post(
        "/settings",
        data={"csrf_token": csrf_of(client), "section": "status", "action": "pause"},
    )
    assert paused.status_code == 303
    html = client.get("/start").text
    assert "nudger is paused" in html
    assert "http-equiv" not in html


@pytest.mark.usefixtures("synced")
def test_after_the_first_sync_the_page_proposes_people_with_their_evidence(
    client: TestClient,
) -> None:
    html = client.get("/start").text
    assert "http-equiv" not in html
    report = html.split(f'id="person-{REPORT}"')[1].split("</tr>")[0]
    assert "weekly one-on-one series, 12 meetings together" in report
    assert '<option value="direct_report" selected>' in report
    external = html.split(f'id="person-{CLIENT}"')[1].split("</tr>")[0]
    assert "outside sandbox.example" in external
    assert '<option value="external" selected>' in external


@pytest.mark.usefixtures("synced")
def test_confirming_stores_the_roles_as_the_users_and_ends_on_the_dashboard(
    client: TestClient, runtime: Runtime, sandbox: Sandbox
) -> None:
    done = confirm(client, **{f"role:{REPORT}": "direct_report", f"role:{CLIENT}": "mentor"})
    assert done.status_code == 303
    assert done.headers["location"] == "/dashboard"
    assert role_of(runtime, CLIENT) == "mentor"
    assert role_of(runtime, REPORT) == "direct_report"
    later = client.get("/start").text.split(f'id="person-{CLIENT}"')[1].split("</tr>")[0]
    assert '<option value="mentor" selected>' in later, "a later visit shows the roles as set"
    with new_client(runtime) as again:
        assert sign_up(again, sandbox) == "/dashboard", "once done, sign-in skips /start"


def test_signing_in_again_before_confirming_still_leads_to_the_guided_start(
    signed_up: str, runtime: Runtime, sandbox: Sandbox
) -> None:
    with new_client(runtime) as again:
        assert sign_up(again, sandbox) == "/start"


@pytest.mark.usefixtures("synced")
@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({f"role:{REPORT}": "boss"}, "&#39;boss&#39; is not a role nudger knows"),
        (
            {"role:eve@evil.example": "manager"},
            "&#39;eve@evil.example&#39; is not one of the people",
        ),
        ({f"role:{REPORT}": "manager", "role:<b>x</b>": "peer"}, "&lt;b&gt;x&lt;/b&gt;"),
        ({"unrelated": "1"}, "The form carried no roles"),
    ],
)
def test_hostile_input_is_refused_by_name_and_nothing_is_stored(
    client: TestClient, runtime: Runtime, sandbox: Sandbox, fields: dict[str, str], error: str
) -> None:
    refused = confirm(client, **fields)
    assert refused.status_code == 400
    assert "Nothing was saved" in refused.text
    assert error in refused.text
    assert role_of(runtime, REPORT) is None
    assert accounts.guided_start_pending(runtime, accounts.find_account(runtime, OWNER).id)


@pytest.mark.usefixtures("synced")
def test_the_form_needs_its_csrf_token(client: TestClient, runtime: Runtime) -> None:
    forged = client.post("/start", data={f"role:{REPORT}": "manager"})
    assert forged.status_code == 403
    assert accounts.guided_start_pending(runtime, accounts.find_account(runtime, OWNER).id)


def test_signed_out_browsers_are_sent_to_sign_up(client: TestClient) -> None:
    assert client.get("/start").headers["location"] == "/"


def test_an_empty_calendar_proposes_nobody_and_one_click_finishes(
    client: TestClient, sandbox: Sandbox, runtime: Runtime
) -> None:
    sign_up(client, sandbox)
    assert [r.error for r in run_cycle(runtime, now=NOW, dry_run=True)] == [None]
    assert "shows nobody to propose yet" in client.get("/start").text
    done = confirm(client)
    assert (done.status_code, done.headers["location"]) == (303, "/dashboard")
    assert not accounts.guided_start_pending(runtime, accounts.find_account(runtime, OWNER).id)
