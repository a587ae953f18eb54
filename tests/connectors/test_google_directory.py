"""The Workspace directory through google-api-python-client's People API against the
emulator: the optional ``directory.readonly`` scope, paging, and the manager relation."""

from __future__ import annotations

import json
import ssl

import httpx
import pytest

from nudger.config import Settings
from nudger.connectors.base import Person
from nudger.connectors.google_auth import DIRECTORY_READ
from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import Mailbox, World
from tests.connectors.conftest import GOOGLE_OWNER
from tests.connectors.google_helpers import connected, sign_in

BOSS = "sam.lee@sandbox.example"
REPORTS = [f"report{n:04d}@sandbox.example" for n in range(1, 1204)]


@pytest.fixture
def with_directory(provider_settings: Settings) -> Settings:
    return provider_settings.model_copy(update={"google_directory": True})


@pytest.fixture
def org_chart(world: World) -> World:
    """The owner reports to Sam and has 1,203 reports: more than one page of 1,000."""
    owner = world.mailbox(GOOGLE_OWNER)
    owner.manager = BOSS
    owner.direct_reports = list(REPORTS)
    with world.lock:
        world.people[BOSS] = "Sam Lee"
        world.people.update({r: f"Report {r[6:10]}" for r in REPORTS})
        world.people["someone@other.example"] = "Not In The Domain"
    return world


def test_the_scope_is_asked_only_when_the_directory_is_turned_on(
    provider_settings: Settings, with_directory: Settings, sandbox: Sandbox
) -> None:
    assert DIRECTORY_READ not in sign_in(provider_settings, sandbox, GOOGLE_OWNER).scopes
    assert DIRECTORY_READ in sign_in(with_directory, sandbox, GOOGLE_OWNER).scopes


def test_without_the_scope_the_account_has_no_directory(
    provider_settings: Settings, sandbox: Sandbox
) -> None:
    assert connected(provider_settings, sandbox, GOOGLE_OWNER, []).directory is None


def test_a_refused_scope_means_no_directory_and_no_call(
    with_directory: Settings, sandbox: Sandbox, world: World
) -> None:
    """Users can untick an optional scope on Google's consent screen."""
    world.mailbox(GOOGLE_OWNER).withheld_scopes.add(DIRECTORY_READ)
    assert connected(with_directory, sandbox, GOOGLE_OWNER, []).directory is None


def test_manager_and_every_direct_report_come_from_the_directory_across_pages(
    with_directory: Settings, sandbox: Sandbox, org_chart: World
) -> None:
    """listDirectoryPeople serves at most 1,000 profiles a page; the manager is the
    ``relations`` entry of type ``manager`` the Workspace admin recorded."""
    directory = connected(with_directory, sandbox, GOOGLE_OWNER, []).directory
    assert directory is not None
    assert directory.manager() == Person(BOSS, "Sam Lee")
    reports = directory.direct_reports()
    assert sorted(p.email for p in reports) == REPORTS
    assert reports[0].name == "Report 0001"


def test_a_manager_recorded_by_name_is_found_when_the_name_is_unique(
    with_directory: Settings, sandbox: Sandbox, world: World
) -> None:
    """The relation's ``person`` is free text ("The name of the other person")."""
    world.mailbox(GOOGLE_OWNER).manager = "Sam Lee"
    with world.lock:
        world.people[BOSS] = "Sam Lee"
    directory = connected(with_directory, sandbox, GOOGLE_OWNER, []).directory
    assert directory is not None
    assert directory.manager() == Person(BOSS, "Sam Lee")


def test_a_manager_name_two_people_share_names_nobody(
    with_directory: Settings, sandbox: Sandbox, world: World
) -> None:
    world.mailbox(GOOGLE_OWNER).manager = "Sam Lee"
    with world.lock:
        world.people[BOSS] = "Sam Lee"
        world.people["sam.lee2@sandbox.example"] = "Sam Lee"
    directory = connected(with_directory, sandbox, GOOGLE_OWNER, []).directory
    assert directory is not None
    assert directory.manager() is None


def test_a_consumer_account_has_no_directory(
    with_directory: Settings, sandbox: Sandbox, world: World
) -> None:
    """Consumer (gmail.com) accounts cannot grant directory.readonly: there is no domain
    directory to read (reported on the People API's public integrations)."""
    world.add_mailbox(Mailbox("pat@gmail.com", "Pat", "google"))
    assert DIRECTORY_READ not in sign_in(with_directory, sandbox, "pat@gmail.com").scopes
    assert connected(with_directory, sandbox, "pat@gmail.com", []).directory is None


def test_directory_sharing_turned_off_means_no_org_chart(
    with_directory: Settings, sandbox: Sandbox, org_chart: World
) -> None:
    """With the admin's "External Directory Sharing" limited to the user's own profile,
    every People API directory call answers 403: the pass goes on without roles."""
    org_chart.mailbox(GOOGLE_OWNER).directory_forbidden = True
    directory = connected(with_directory, sandbox, GOOGLE_OWNER, []).directory
    assert directory is not None
    assert (directory.manager(), directory.direct_reports()) == (None, [])


def _list(sandbox: Sandbox, token: str, **params: str) -> httpx.Response:
    url = sandbox.settings()["google_people_endpoint"] + "v1/people:listDirectoryPeople"
    return httpx.get(
        url,
        params=params,
        headers={"Authorization": f"Bearer {token}"},
        verify=ssl.create_default_context(cafile=sandbox.certs.ca_cert),
    )


def _access_token(settings: Settings, sandbox: Sandbox) -> str:
    return str(json.loads(sign_in(settings, sandbox, GOOGLE_OWNER).credentials)["token"])


def test_the_emulator_checks_parameters_as_google_does(
    with_directory: Settings, provider_settings: Settings, sandbox: Sandbox, org_chart: World
) -> None:
    token = _access_token(with_directory, sandbox)
    source = "DIRECTORY_SOURCE_TYPE_DOMAIN_PROFILE"
    assert _list(sandbox, token, sources=source).status_code == 400  # readMask required
    assert _list(sandbox, token, readMask="names").status_code == 400  # sources required
    too_big = _list(sandbox, token, readMask="names", sources=source, pageSize="1001")
    assert too_big.status_code == 400
    first = _list(sandbox, token, readMask="names", sources=source, pageSize="10").json()
    assert len(first["people"]) == 10
    assert "emailAddresses" not in first["people"][0]
    other = _list(
        sandbox, token, readMask="names,relations", sources=source, pageToken=first["nextPageToken"]
    )
    assert other.status_code == 400  # a page token needs the first call's parameters
    without_scope = _list(sandbox, _access_token(provider_settings, sandbox), readMask="names")
    assert without_scope.status_code == 403
