"""CSRF: every state-changing form needs the session's token; GET never changes state."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from nudger import accounts, contacts
from nudger.runtime import Runtime
from nudger.sandbox.server import Sandbox
from nudger.store.db import session_scope
from nudger.store.models import Account
from tests.web.conftest import OTHER, OWNER, csrf_of, sign_up

FORMS = {
    "preferences": ("/settings", {"section": "account", "delivery": "digest"}),
    "contact": ("/settings", {"section": "contact", "email": "kim@example.com", "role": "mentor"}),
    "pause": ("/settings", {"section": "status", "action": "pause"}),
    "logout": ("/logout", {}),
    "delete": ("/account/delete", {"email": OWNER}),
}


def snapshot(runtime: Runtime) -> tuple[object, ...]:
    """Everything the forms above could change."""
    with session_scope(runtime.db) as session:
        rows = [(a.email, a.status, dict(a.settings or {})) for a in session.query(Account)]
    ref = accounts.find_account(runtime, OWNER)
    return (tuple(rows), tuple(contacts.list_contacts(runtime, ref.id)))


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_a_form_without_the_right_token_is_forbidden_and_changes_nothing(
    client: TestClient, sandbox: Sandbox, runtime: Runtime, form: str, token: str | None
) -> None:
    sign_up(client, sandbox)
    before = snapshot(runtime)
    path, data = FORMS[form]
    sent = {**data, **({"csrf_token": token} if token else {})}
    response = client.post(path, data=sent)
    assert response.status_code == 403
    assert snapshot(runtime) == before
    assert client.get("/dashboard").status_code == 200  # still signed in


def test_another_sessions_token_is_forbidden(
    client: TestClient, other_client: TestClient, sandbox: Sandbox, runtime: Runtime
) -> None:
    sign_up(client, sandbox)
    sign_up(other_client, sandbox, OTHER)
    theirs = csrf_of(other_client)
    before = snapshot(runtime)
    response = client.post("/settings", data={**FORMS["pause"][1], "csrf_token": theirs})
    assert response.status_code == 403
    assert snapshot(runtime) == before


def test_the_right_token_is_accepted(
    client: TestClient, sandbox: Sandbox, runtime: Runtime
) -> None:
    sign_up(client, sandbox)
    response = client.post("/settings", data={**FORMS["pause"][1], "csrf_token": csrf_of(client)})
    assert response.status_code == 303
    assert accounts.find_account(runtime, OWNER).status == "paused"


def test_get_with_form_fields_changes_nothing(
    client: TestClient, sandbox: Sandbox, runtime: Runtime
) -> None:
    sign_up(client, sandbox)
    token = csrf_of(client)
    before = snapshot(runtime)
    for path, data in FORMS.values():
        client.get(path, params={**data, "csrf_token": token})
    assert snapshot(runtime) == before
