"""/settings: preferences, one contact at a time, pause and resume; bad input stores nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from starlette.testclient import TestClient

from nudger import accounts, contacts
from nudger.runtime import Runtime
from nudger.sandbox.server import Sandbox
from nudger.store.db import session_scope
from nudger.store.models import Account
from tests.web.conftest import OWNER, csrf_of, sign_up

CONTACT = "kim.lee@partner.example"


@pytest.fixture
def signed_in(client: TestClient, sandbox: Sandbox) -> TestClient:
    sign_up(client, sandbox)
    return client


def post(client: TestClient, **form: Any) -> Any:
    return client.post("/settings", data={"csrf_token": csrf_of(client), **form})


def stored(runtime: Runtime) -> tuple[str, dict[str, Any]]:
    with session_scope(runtime.db) as session:
        account = session.get_one(Account, accounts.find_account(runtime, OWNER).id)
        return account.status, dict(account.settings or {})


def test_preferences_are_saved_and_shown_again(signed_in: TestClient, runtime: Runtime) -> None:
    response = post(
        signed_in,
        section="account",
        hours_source="custom",
        days=["2", "4"],
        start="10:00",
        end="15:30",
        time_zone="America/Chicago",
        weekly_budget="2",
        delivery="digest",
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/settings?saved=account"
    _, settings = stored(runtime)
    assert settings["working_hours"] == {"days": [2, 4], "start": "10:00", "end": "15:30"}
    assert settings["time_zone"] == "America/Chicago"
    assert settings["weekly_budget"] == 2
    assert settings["delivery"] == "digest"
    page = signed_in.get("/settings?saved=account").text
    assert 'id="saved"' in page
    assert 'value="America/Chicago"' in page
    assert 'value="15:30"' in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("time_zone", "Mars/Olympus", "Time zone: 'Mars/Olympus' is not a known IANA zone"),
        ("weekly_budget", "-1", "Weekly nudge budget: a whole number from 0 to 20"),
        ("weekly_budget", "99", "Weekly nudge budget: a whole number from 0 to 20"),
        # str.isdigit() is true of "²" (then int() fails) and of "٣" (then int() gives 3)
        ("weekly_budget", "²", "Weekly nudge budget: a whole number from 0 to 20"),
        ("weekly_budget", "٣", "Weekly nudge budget: a whole number from 0 to 20"),
        ("weekly_budget", "1" * 5000, "Weekly nudge budget: a whole number from 0 to 20"),
        ("start", "9am", "Start of the working day: 9am is not a time like 09:00."),
        ("end", "10:00", "End of the working day: must be after the start."),
        ("end", "09:00", "End of the working day: must be after the start."),
        ("delivery", "pigeon", "Delivery: choose one of email, digest, holds_only."),
    ],
)
def test_a_bad_preference_names_the_field_and_stores_nothing(
    signed_in: TestClient, runtime: Runtime, field: str, value: str, message: str
) -> None:
    before = stored(runtime)
    form = {
        "section": "account",
        "hours_source": "custom",
        "days": ["1"],
        "start": "10:00",
        "end": "17:00",
        "delivery": "email",
        field: value,
    }
    response = post(signed_in, **form)
    assert response.status_code == 400
    assert 'id="not-saved"' in response.text
    assert f'data-field="{field}"' in response.text
    assert message in response.text.replace("&#39;", "'")
    assert f'value="{value}"' in response.text or field == "delivery", "typed values stay"
    assert stored(runtime) == before


@pytest.mark.parametrize("day", ["²", "٣", "8"])
def test_a_working_day_that_is_not_1_to_7_names_the_field(
    signed_in: TestClient, runtime: Runtime, day: str
) -> None:
    before = stored(runtime)
    form = {"section": "account", "hours_source": "custom", "start": "09:00", "end": "17:00"}
    response = post(signed_in, **form, days=["1", day])
    assert response.status_code == 400
    assert 'data-field="days"' in response.text
    assert stored(runtime) == before


def test_a_contact_is_saved_alone(signed_in: TestClient, runtime: Runtime) -> None:
    account_id = accounts.find_account(runtime, OWNER).id
    contacts.mute(runtime, account_id, "other@partner.example")
    response = post(
        signed_in,
        section="contact",
        email=CONTACT.upper(),
        role="mentor",
        cadence_days="30",
        snooze_until="2026-04-01",
    )
    assert response.status_code == 303
    saved = contacts.find_contact(runtime, account_id, CONTACT)
    assert saved is not None
    assert saved.role == "mentor"
    assert saved.cadence_override_days == 30
    assert saved.snoozed_until is not None
    assert saved.snoozed_until.date().isoformat() in ("2026-03-31", "2026-04-01")
    assert not saved.muted
    other = contacts.find_contact(runtime, account_id, "other@partner.example")
    assert other is not None
    assert other.muted, "saving one contact leaves the others alone"


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"email": "not-an-address"}, "email"),
        ({"email": OWNER}, "email"),
        ({"email": CONTACT, "role": "boss"}, "role"),
        ({"email": CONTACT, "cadence_days": "0"}, "cadence_days"),
        ({"email": CONTACT, "cadence_days": "weekly"}, "cadence_days"),
        ({"email": CONTACT, "cadence_days": "²"}, "cadence_days"),
        ({"email": CONTACT, "cadence_days": "٣"}, "cadence_days"),
        ({"email": CONTACT, "snooze_until": "2026-03-01"}, "snooze_until"),
        ({"email": CONTACT, "snooze_until": "2027-03-05"}, "snooze_until"),
        ({"email": CONTACT, "snooze_until": "9999-12-31"}, "snooze_until"),
        ({"email": CONTACT, "snooze_until": "next week"}, "snooze_until"),
    ],
)
def test_a_bad_contact_form_names_the_field_and_stores_nothing(
    signed_in: TestClient, runtime: Runtime, form: dict[str, str], field: str
) -> None:
    response = post(signed_in, section="contact", **form)
    assert response.status_code == 400
    assert f'data-field="{field}"' in response.text
    account_id = accounts.find_account(runtime, OWNER).id
    assert contacts.list_contacts(runtime, account_id) == []


def test_a_snooze_can_reach_a_year_ahead(signed_in: TestClient, runtime: Runtime) -> None:
    response = post(signed_in, section="contact", email=CONTACT, snooze_until="2027-03-04")
    assert response.status_code == 303
    saved = contacts.find_contact(runtime, accounts.find_account(runtime, OWNER).id, CONTACT)
    assert saved is not None
    assert saved.snoozed_until is not None


def test_a_snooze_stored_near_year_9999_does_not_break_the_page(
    signed_in: TestClient, runtime: Runtime
) -> None:
    """Saved before the cap: in a zone east of UTC it lies past ``datetime.max``."""
    account_id = accounts.find_account(runtime, OWNER).id
    contacts.snooze(runtime, account_id, CONTACT, datetime(9999, 12, 31, 6, tzinfo=UTC))
    moved = post(signed_in, section="account", time_zone="Pacific/Kiritimati", delivery="email")
    assert moved.status_code == 303
    page = signed_in.get("/settings")
    assert page.status_code == 200
    assert 'value="9999-12-31"' in page.text
    kept = post(signed_in, section="contact", email=CONTACT, snooze_until="9999-12-31")
    assert kept.status_code == 303, "an unchanged stored snooze is kept as it is"


def test_pause_and_resume(signed_in: TestClient, runtime: Runtime) -> None:
    assert post(signed_in, section="status", action="pause").status_code == 303
    assert stored(runtime)[0] == "paused"
    assert "nudger is paused" in signed_in.get("/dashboard").text
    assert post(signed_in, section="status", action="resume").status_code == 303
    assert stored(runtime)[0] == "active"


def test_resume_does_not_clear_a_needed_reconnection(
    signed_in: TestClient, runtime: Runtime
) -> None:
    with session_scope(runtime.db) as session:
        session.get_one(Account, accounts.find_account(runtime, OWNER).id).status = "reconnect"
    post(signed_in, section="status", action="resume")
    assert stored(runtime)[0] == "reconnect"


def test_an_unknown_form_is_refused(signed_in: TestClient) -> None:
    assert post(signed_in, section="everything").status_code == 400
