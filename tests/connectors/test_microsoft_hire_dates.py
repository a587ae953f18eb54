"""Hire dates from Graph for work anniversaries, through the real client against the
emulator. Facts relied on (microsoft-graph-docs ``resources/user.md``, the permissions
reference, Microsoft Q&A 285432):

- ``employeeHireDate`` is a DateTimeOffset "returned only on ``$select``", and null
  where the directory holds none;
- User.ReadBasic.All reads only the basic profile (displayName, givenName, surname,
  mail, userPrincipalName, photo); the full profile needs User.Read.All, which a
  delegated app gets only with an admin's consent: without it, 403
  ``Authorization_RequestDenied``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from nudger.config import Settings, load_settings
from nudger.connectors import microsoft
from nudger.connectors.graph import GraphClient
from nudger.connectors.microsoft_auth import HIRE_DATES_READ, MicrosoftTokens
from nudger.errors import ConnectorError, NotFound
from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import Mailbox, World
from tests.connectors.microsoft_helpers import MS_OWNER, add_owner, sign_in

ADA = "ada@contoso.example"
BO = "bo@contoso.example"


@pytest.fixture
def owner(world: World) -> Mailbox:
    world.people[ADA] = "Ada Lovelace"
    world.people[BO] = "Bo Chen"
    world.hire_dates[ADA] = datetime(2021, 6, 12, tzinfo=UTC)
    return add_owner(world)


@pytest.fixture
def opted_in(provider_settings: Settings) -> Settings:
    return load_settings(**{**provider_settings.model_dump(), "microsoft_hire_dates": True})


def graph(settings: Settings, credentials: str) -> GraphClient:
    tokens = MicrosoftTokens(settings, credentials, lambda _blob: None, account=MS_OWNER)
    return GraphClient(settings, tokens, MS_OWNER)


def test_off_by_default_the_scope_is_not_asked_and_nothing_is_read(
    provider_settings: Settings, sandbox: Sandbox, owner: Mailbox
) -> None:
    grant = sign_in(provider_settings, sandbox)
    assert HIRE_DATES_READ not in grant.scopes
    connector = microsoft.connect(provider_settings, grant.credentials, print, account=MS_OWNER)
    assert connector.hire_dates is None


def test_opted_in_the_hire_date_is_read_as_a_date(
    opted_in: Settings, sandbox: Sandbox, owner: Mailbox
) -> None:
    grant = sign_in(opted_in, sandbox)
    assert HIRE_DATES_READ in grant.scopes
    reader = microsoft.connect(opted_in, grant.credentials, print, account=MS_OWNER).hire_dates
    assert reader is not None
    assert reader.hire_date(ADA) == date(2021, 6, 12)
    assert reader.hire_date(BO) is None  # null: the directory holds none
    with pytest.raises(NotFound):
        reader.hire_date("nobody@contoso.example")


def test_a_hire_date_at_local_midnight_names_that_day(
    opted_in: Settings, sandbox: Sandbox, owner: Mailbox, world: World
) -> None:
    """Midnight in Paris is 22:00 UTC the day before; midnight in New York 04:00 UTC."""
    world.hire_dates[ADA] = datetime(2021, 6, 11, 22, tzinfo=UTC)
    world.hire_dates[BO] = datetime(2019, 3, 4, 5, tzinfo=UTC)
    reader = microsoft.connect(
        opted_in, sign_in(opted_in, sandbox).credentials, print, account=MS_OWNER
    ).hire_dates
    assert reader is not None
    assert (reader.hire_date(ADA), reader.hire_date(BO)) == (date(2021, 6, 12), date(2019, 3, 4))


def test_without_the_consent_nothing_is_read_and_graph_refuses_it(
    opted_in: Settings, sandbox: Sandbox, owner: Mailbox
) -> None:
    """The operator opted in, but the user (or their admin) did not consent."""
    owner.withheld_scopes.add(HIRE_DATES_READ)
    grant = sign_in(opted_in, sandbox)
    assert (
        microsoft.connect(opted_in, grant.credentials, print, account=MS_OWNER).hire_dates is None
    )
    with pytest.raises(ConnectorError, match="403 Authorization_RequestDenied"):
        microsoft.GraphHireDates(graph(opted_in, grant.credentials)).hire_date(ADA)


def test_the_hire_date_is_returned_only_on_select(
    opted_in: Settings, sandbox: Sandbox, owner: Mailbox
) -> None:
    client = graph(opted_in, sign_in(opted_in, sandbox).credentials)
    assert "employeeHireDate" not in client.get(f"/users/{ADA}")
    selected = client.get(f"/users/{ADA}", params={"$select": "employeeHireDate"})
    assert selected == {"employeeHireDate": "2021-06-12T00:00:00Z"}
