"""/settings: the one form (preferences and every contact, one Save, all or nothing), the
older one-contact and preferences forms, the filter, pause and resume."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from nudger import accounts, contacts
from nudger.analysis.model import Status
from nudger.cycle import run_cycle
from nudger.runtime import Runtime
from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import SandboxAttendee, SandboxEvent
from nudger.store import contacts as contact_store
from nudger.store.db import session_scope
from nudger.store.models import Account
from nudger.wording import status_words
from tests.web.conftest import NOW, OWNER, csrf_of, new_client, sign_up, weekly_one_on_ones
from tests.web.forms import changed, form_fields

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


# --- the one form -------------------------------------------------------------------------

KIM_NAME = "Kim Lee"
PRIYA = "priya.shah@partner.example"
CROWD = [f"colleague{n}@partner.example" for n in range(10)]
"""Met only in a weekly all-hands of twelve: weak ties."""


def all_hands(sandbox: Sandbox, weeks: int = 12) -> None:
    mailbox = sandbox.world.mailbox(OWNER)
    people = [SandboxAttendee(OWNER, "Alex Morgan")]
    people += [SandboxAttendee(address, address.split("@")[0].title()) for address in CROWD]
    for week in range(weeks):
        start = NOW - timedelta(weeks=week, days=1)
        event = SandboxEvent(
            id=f"allhands{week}",
            start=start,
            end=start + timedelta(hours=1),
            organizer=OWNER,
            attendees=people,
            summary="All hands",
        )
        sandbox.world.put_event(mailbox, event)


@pytest.fixture
def audited(signed_in: TestClient, sandbox: Sandbox, runtime: Runtime) -> TestClient:
    """Signed in after a first sync: Kim and Priya drifting, ten weak ties."""
    weekly_one_on_ones(sandbox, OWNER, CONTACT, stopped=timedelta(days=60), contact_name=KIM_NAME)
    weekly_one_on_ones(sandbox, OWNER, PRIYA, stopped=timedelta(days=50))
    all_hands(sandbox)
    [report] = run_cycle(runtime, now=NOW, dry_run=True)
    assert report.error is None
    return signed_in


def the_form(client: TestClient, query: str = "") -> list[tuple[str, str]]:
    return form_fields(client.get(f"/settings{query}").text, "settings-form")


def submit(client: TestClient, fields: list[tuple[str, str]], query: str = "") -> Any:
    data: dict[str, list[str]] = {}
    for name, value in fields:
        data.setdefault(name, []).append(value)
    return client.post(f"/settings{query}", data=data)


def account_of(runtime: Runtime) -> int:
    return accounts.find_account(runtime, OWNER).id


def role_source(runtime: Runtime, email: str) -> str | None:
    with session_scope(runtime.db) as session:
        row = contact_store.contact_row(session, account_of(runtime), email)
        return row.role_source if row else None


def visible_text(page: str) -> str:
    """What a reader sees: no tags, no attribute values, no stylesheet link."""
    body = page.split("<body>", 1)[1]
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def test_one_save_applies_two_roles_and_a_preference(audited: TestClient, runtime: Runtime) -> None:
    fields = changed(
        the_form(audited),
        {f"role:{CONTACT}": "mentor", f"role:{PRIYA}": "peer", "weekly_budget": "3"},
    )

    response = submit(audited, fields)

    assert response.status_code == 303
    assert response.headers["location"] == "/settings?saved=all"
    saved = {c.email: c for c in contacts.list_contacts(runtime, account_of(runtime))}
    assert (saved[CONTACT].role, saved[PRIYA].role) == ("mentor", "peer")
    assert stored(runtime)[1]["weekly_budget"] == 3
    assert set(saved) == {CONTACT, PRIYA}, "rows nobody changed are not written"
    assert 'id="saved"' in audited.get(response.headers["location"]).text


def test_a_bad_field_stores_nothing_and_names_the_contact_and_the_field(
    audited: TestClient, runtime: Runtime
) -> None:
    before = stored(runtime)
    fields = changed(
        the_form(audited),
        {f"role:{PRIYA}": "peer", f"cadence_days:{CONTACT}": "weekly", "weekly_budget": "3"},
    )

    response = submit(audited, fields)

    assert response.status_code == 400
    assert stored(runtime) == before
    assert contacts.list_contacts(runtime, account_of(runtime)) == []
    summary = response.text.split('id="errors"', 1)[1].split("</ul>", 1)[0]
    assert f'href="#row-{CONTACT}"' in summary
    assert f"{KIM_NAME}</a>: Cadence: a whole number of days" in summary
    row = response.text.split(f'id="row-{CONTACT}"', 1)[1].split("</tr>", 1)[0]
    assert 'data-field="cadence_days"' in row
    assert 'value="weekly"' in row, "typed values stay"
    priya = response.text.split(f'id="row-{PRIYA}"', 1)[1].split("</tr>", 1)[0]
    assert '<option value="peer" selected>' in priya, "so do the other rows' changes"
    assert 'value="3"' in response.text


def test_fixing_a_rejected_form_saves_everything_typed_on_it(
    audited: TestClient, runtime: Runtime
) -> None:
    fields = changed(
        the_form(audited), {f"role:{PRIYA}": "peer", f"cadence_days:{CONTACT}": "weekly"}
    )
    rejected = submit(audited, fields)
    assert rejected.status_code == 400

    again = changed(form_fields(rejected.text, "settings-form"), {f"cadence_days:{CONTACT}": "7"})
    assert submit(audited, again).status_code == 303

    saved = {c.email: c for c in contacts.list_contacts(runtime, account_of(runtime))}
    assert saved[PRIYA].role == "peer"
    assert saved[CONTACT].cadence_override_days == 7


def test_saving_the_page_keeps_what_changed_elsewhere_meanwhile(
    audited: TestClient, runtime: Runtime
) -> None:
    """A snooze clicked in an email, a role from the directory: untouched by a save."""
    fields = the_form(audited)
    snoozed = NOW + timedelta(days=14)
    contacts.snooze(runtime, account_of(runtime), CONTACT, snoozed)
    contacts.set_role(runtime, account_of(runtime), PRIYA, "manager", source="directory")

    response = submit(audited, changed(fields, {"weekly_budget": "4"}))

    assert response.status_code == 303
    kim = contacts.find_contact(runtime, account_of(runtime), CONTACT)
    assert kim is not None
    assert kim.snoozed_until == snoozed
    assert role_source(runtime, PRIYA) == "directory"


def test_a_value_left_as_it_was_is_not_checked_again(audited: TestClient, runtime: Runtime) -> None:
    """A page left open overnight: yesterday's "tomorrow" is no longer after today."""
    tomorrow = (NOW + timedelta(days=1)).date().isoformat()
    first = submit(audited, changed(the_form(audited), {f"snooze_until:{CONTACT}": tomorrow}))
    assert first.status_code == 303
    fields = the_form(audited)
    with new_client(runtime, clock=lambda: NOW + timedelta(days=1)) as next_day:
        next_day.cookies = audited.cookies
        response = submit(next_day, changed(fields, {f"role:{PRIYA}": "peer"}))
    assert response.status_code == 303, response.text
    assert role_source(runtime, PRIYA) == "user"


def test_someone_new_is_added_in_the_same_save(audited: TestClient, runtime: Runtime) -> None:
    newcomer = "sam.new@partner.example"
    fields = changed(
        the_form(audited), {"new_email": newcomer.upper(), "new_role": "direct_report"}
    )

    assert submit(audited, fields).status_code == 303
    added = contacts.find_contact(runtime, account_of(runtime), newcomer)
    assert added is not None
    assert added.role == "direct_report"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"new_email": OWNER}, "email"),
        ({"new_email": "nobody"}, "email"),
        ({"new_email": "sam@partner.example", "new_role": "boss"}, "role"),
        ({f"role:{CONTACT}": "boss"}, "role"),
        ({f"snooze_until:{CONTACT}": "2026-03-01"}, "snooze_until"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
    ],
)
def test_any_bad_field_of_the_one_form_stores_nothing(
    audited: TestClient, runtime: Runtime, changes: dict[str, str], field: str
) -> None:
    before = stored(runtime)
    fields = changed(the_form(audited), {f"role:{PRIYA}": "peer", **changes})

    response = submit(audited, fields)

    assert response.status_code == 400
    assert f'data-field="{field}"' in response.text
    assert stored(runtime) == before
    assert contacts.list_contacts(runtime, account_of(runtime)) == []


def test_contacts_are_grouped_by_role_then_status_with_weak_ties_collapsed(
    audited: TestClient, runtime: Runtime
) -> None:
    contacts.set_role(runtime, account_of(runtime), PRIYA, "peer")

    page = audited.get("/settings").text

    groups = re.findall(r'<details class="contact-group" data-group="([^"]+)"( open)?', page)
    assert groups == [("role:peer", " open"), ("status:neglected", " open"), ("weak_tie", "")]
    weak = page.split('data-group="weak_tie"', 1)[1]
    assert all(f'data-email="{address}"' in weak for address in CROWD)


def test_the_page_reads_statuses_and_roles_in_words(audited: TestClient, runtime: Runtime) -> None:
    contacts.set_role(runtime, account_of(runtime), PRIYA, "direct_report")

    text = visible_text(audited.get("/settings").text)

    assert "Direct reports" in text
    assert "drifting" in text, "the status of someone with a role, under their name"
    assert "Drifting" in text, "the heading over the others with that status"
    assert "direct report" in text
    raw = [*(s.value for s in Status if status_words(s) != s.value), "direct_report"]
    assert [name for name in raw if name in text] == []


@pytest.mark.parametrize(
    ("query", "listed"),
    [
        ("?q=kim", [CONTACT]),
        ("?q=KIM+lee", [CONTACT]),
        ("?q=partner.example&status=neglected", [CONTACT, PRIYA]),
        ("?status=weak_tie", CROWD),
        ("?status=everything", [CONTACT, PRIYA, *CROWD]),
        ("?q=nobody-at-all", []),
    ],
)
def test_the_filter_narrows_the_rows_on_the_server(
    audited: TestClient, query: str, listed: list[str]
) -> None:
    page = audited.get(f"/settings{query}").text

    assert sorted(re.findall(r'<tr id="row-[^"]+" data-email="([^"]+)"', page)) == sorted(listed)
    assert ('id="no-match"' in page) == (not listed)
    if query == "?status=weak_tie":
        assert '<details class="contact-group" data-group="weak_tie" open>' in page


def test_a_save_while_filtered_keeps_the_filter_and_the_rows_not_shown(
    audited: TestClient, runtime: Runtime
) -> None:
    contacts.mute(runtime, account_of(runtime), PRIYA)
    fields = changed(the_form(audited, "?q=kim"), {f"role:{CONTACT}": "mentor"})

    response = submit(audited, fields, "?q=kim")

    assert response.headers["location"] == "/settings?saved=all&q=kim"
    priya = contacts.find_contact(runtime, account_of(runtime), PRIYA)
    assert priya is not None
    assert priya.muted


def test_the_time_zone_placeholder_is_the_zone_an_empty_field_means(
    signed_in: TestClient, runtime: Runtime
) -> None:
    with session_scope(runtime.db) as session:
        session.get_one(Account, account_of(runtime)).time_zone = "Asia/Tokyo"

    page = signed_in.get("/settings").text

    field = re.search(r'<input id="time_zone"[^>]*>', page)
    assert field is not None
    assert 'placeholder="Asia/Tokyo"' in field.group(0)
    assert "Empty: your calendar's zone, Asia/Tokyo." in page
