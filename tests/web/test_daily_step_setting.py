"""The daily step on the settings page: off by default (the rules' ``daily_step``),
one checkbox turns it on or off, and the user's choice overrides the rules."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from nudger import preferences
from nudger.rules.model import Policies
from nudger.runtime import Runtime
from tests.web.forms import changed
from tests.web.test_settings import signed_in, stored, submit, the_form  # noqa: F401


def ticked(client: TestClient) -> bool:
    return ("daily_step", "on") in the_form(client)


def test_it_is_off_until_the_user_ticks_it(signed_in: TestClient, runtime: Runtime) -> None:  # noqa: F811
    assert not ticked(signed_in)
    assert "daily_step" not in stored(runtime)[1]

    response = submit(signed_in, changed(the_form(signed_in), {"daily_step": True}))

    assert response.status_code == 303
    assert stored(runtime)[1]["daily_step"] is True
    assert ticked(signed_in)


def test_unticking_it_turns_it_off(signed_in: TestClient, runtime: Runtime) -> None:  # noqa: F811
    submit(signed_in, changed(the_form(signed_in), {"daily_step": True}))

    response = submit(signed_in, changed(the_form(signed_in), {"daily_step": False}))

    assert response.status_code == 303
    assert stored(runtime)[1]["daily_step"] is False
    assert not ticked(signed_in)


def test_a_forged_value_names_the_field_and_stores_nothing(
    signed_in: TestClient,  # noqa: F811
    runtime: Runtime,
) -> None:
    before = stored(runtime)
    response = submit(signed_in, changed(the_form(signed_in), {"daily_step": "yes please"}))
    assert response.status_code == 400
    assert 'data-field="daily_step"' in response.text
    assert "One small step a day: tick the box or leave it empty." in response.text
    assert 'href="#daily_step"' in response.text, "the summary links to the box"
    assert stored(runtime) == before


@pytest.mark.parametrize(
    ("rules", "chosen", "on"),
    [(False, None, False), (True, None, True), (False, True, True), (True, False, False)],
)
def test_the_users_choice_overrides_the_rules(rules: bool, chosen: bool | None, on: bool) -> None:
    policies = Policies(daily_step=rules)
    account = preferences.AccountPreferences(daily_step=chosen)
    assert preferences.policies_for(account, policies).daily_step is on
    assert preferences.load(preferences.merged({}, account)).daily_step is chosen


def test_holds_only_means_no_daily_step_either() -> None:
    account = preferences.AccountPreferences(delivery="holds_only", daily_step=True)
    assert preferences.policies_for(account, Policies(daily_step=True)).daily_step is False
