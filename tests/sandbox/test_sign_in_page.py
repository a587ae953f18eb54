"""The sandbox as people click through it: ``Sandbox(sign_in_page=True)``.

Both providers' authorize step is served on plain HTTP at 127.0.0.1 (a browser needs no
certificate there, and loopback traffic never leaves the machine, RFC 8252 §8.3) and
always asks who signs in, as the real ones do for a person: Google shows its consent
screen on every ``prompt=consent`` request (nudger always sends it), Microsoft's
sign-in page takes ``login_hint`` as the account to pre-fill and, like
``prompt=select_account``, lets the person pick another account. The API and token
endpoints stay HTTPS. Sign-ins go through nudger's own OAuth flows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from nudger.config import Settings, load_settings
from nudger.connectors.google_auth import GoogleOAuth
from nudger.connectors.microsoft_auth import MicrosoftOAuth
from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import Mailbox, World
from tests.sandbox.conftest import GOOGLE_USER, MICROSOFT_USER
from tests.sandbox.google_client import tls
from tests.sandbox.sign_in_helpers import choices, choose, continue_as_shown, signing_in_as

pytestmark = pytest.mark.filterwarnings(
    "ignore:response_mode='form_post' is recommended"  # nudger's msal call, as it stands
)
GOOGLE_CALLBACK = "http://127.0.0.1:8000/oauth/google/callback"
MICROSOFT_CALLBACK = "http://127.0.0.1:8000/oauth/microsoft/callback"
OTHER_GOOGLE = "bob@sandbox-google.test"
OTHER_MICROSOFT = "linus@sandbox-microsoft.test"
ELSEWHERE = "lin@fabrikam.test"
"""A Microsoft user of another tenant: the sandbox tenant's authority never signs her in."""


@pytest.fixture
def people(world: World) -> Iterator[Sandbox]:
    world.add_mailbox(Mailbox(OTHER_GOOGLE, "Bob <Builder>", "google"))
    world.add_mailbox(Mailbox(OTHER_MICROSOFT, "Linus Pauling", "microsoft"))
    world.add_mailbox(Mailbox(ELSEWHERE, "Lin Wu", "microsoft", tenant="fabrikam"))
    with Sandbox(world, sign_in_page=True) as running:
        yield running


@pytest.fixture
def settings(people: Sandbox) -> Settings:
    return load_settings(**people.settings())


def test_only_the_sign_in_step_is_on_plain_http(people: Sandbox, settings: Settings) -> None:
    assert people.sign_in_url is not None
    assert people.sign_in_url.startswith("http://127.0.0.1:")
    assert settings.google_auth_uri.startswith(people.sign_in_url)
    for https in (settings.google_token_uri, settings.microsoft_authority, people.base_url):
        assert https.startswith("https://127.0.0.1:")
    assert httpx.post(people.sign_in_url + "/token").status_code == 404
    discovery = httpx.get(
        settings.microsoft_authority + "/v2.0/.well-known/openid-configuration",
        verify=tls(people),
    ).json()
    assert discovery["authorization_endpoint"].startswith(people.sign_in_url)
    assert discovery["token_endpoint"].startswith(people.base_url)


@dataclass(frozen=True)
class SignedIn:
    page: httpx.Response
    """The sign-in page the person continued on."""
    email: str
    """Whom nudger's flow signed in."""


def through_the_page(
    oauth: GoogleOAuth | MicrosoftOAuth, callback: str, hint: str, instead: str | None = None
) -> SignedIn:
    """nudger's sign-in with ``hint``, continued on the sandbox's page (as the user whose
    label starts with ``instead``, if given)."""
    start = oauth.begin(callback, login_hint=hint)
    page = httpx.get(start.url)
    assert page.status_code == 200
    if instead:
        page = choose(page, instead)
    return SignedIn(page, oauth.complete(start.pending, continue_as_shown(page)).email)


def test_google_asks_who_signs_in_even_when_the_hint_names_someone(settings: Settings) -> None:
    signed_in = through_the_page(GoogleOAuth(settings), GOOGLE_CALLBACK, GOOGLE_USER)
    assert signing_in_as(signed_in.page) == f"Ada Lovelace ({GOOGLE_USER})"
    assert list(choices(signed_in.page)) == [f"Bob <Builder> ({OTHER_GOOGLE})"], "Google's only"
    assert "&lt;Builder&gt;" in signed_in.page.text
    assert signed_in.email == GOOGLE_USER


def test_google_signs_in_the_user_chosen_instead(settings: Settings) -> None:
    signed_in = through_the_page(GoogleOAuth(settings), GOOGLE_CALLBACK, GOOGLE_USER, "Bob")
    assert signing_in_as(signed_in.page) == f"Bob <Builder> ({OTHER_GOOGLE})"
    assert signed_in.email == OTHER_GOOGLE


def test_microsoft_signs_in_the_hinted_user_or_one_chosen_from_the_tenant(
    settings: Settings,
) -> None:
    oauth = MicrosoftOAuth(settings)
    hinted = through_the_page(oauth, MICROSOFT_CALLBACK, MICROSOFT_USER)
    assert signing_in_as(hinted.page) == f"Grace Hopper ({MICROSOFT_USER})"
    assert list(choices(hinted.page)) == [f"Linus Pauling ({OTHER_MICROSOFT})"], "one tenant"
    assert hinted.email == MICROSOFT_USER

    chosen = through_the_page(oauth, MICROSOFT_CALLBACK, MICROSOFT_USER, "Linus")
    assert signing_in_as(chosen.page) == f"Linus Pauling ({OTHER_MICROSOFT})"
    assert chosen.email == OTHER_MICROSOFT


def test_microsoft_without_a_hint_offers_the_users_instead_of_an_error(
    settings: Settings,
) -> None:
    start = MicrosoftOAuth(settings).begin(MICROSOFT_CALLBACK)
    page = httpx.get(start.url)
    assert page.status_code == 200
    assert "AADSTS50034" not in page.text
    assert set(choices(page)) == {
        f"Grace Hopper ({MICROSOFT_USER})",
        f"Linus Pauling ({OTHER_MICROSOFT})",
    }


@pytest.mark.parametrize("account", [MICROSOFT_USER, "nobody@sandbox-google.test", ""])
def test_continuing_as_anyone_but_a_google_user_issues_no_code(
    people: Sandbox, settings: Settings, account: str
) -> None:
    start = GoogleOAuth(settings).begin(GOOGLE_CALLBACK, login_hint=GOOGLE_USER)
    answer = httpx.post(start.url, data={"account": account})
    assert answer.status_code == 400
    assert "location" not in answer.headers


def test_continuing_as_another_tenants_user_is_refused(settings: Settings) -> None:
    start = MicrosoftOAuth(settings).begin(MICROSOFT_CALLBACK, login_hint=MICROSOFT_USER)
    answer = httpx.post(start.url, data={"account": ELSEWHERE})
    assert answer.status_code == 400
    assert "AADSTS50020" in answer.text


def test_the_page_cannot_be_framed_or_cached(settings: Settings) -> None:
    page = httpx.get(GoogleOAuth(settings).begin(GOOGLE_CALLBACK).url)
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"


def test_a_sandbox_for_tests_still_consents_at_once_for_the_hinted_user(
    sandbox: Sandbox,
) -> None:
    assert sandbox.sign_in_url is None
    settings = load_settings(**sandbox.settings())
    start = GoogleOAuth(settings).begin(GOOGLE_CALLBACK, login_hint=GOOGLE_USER)
    answer = httpx.get(start.url, verify=tls(sandbox))
    assert answer.status_code == 302
    assert answer.headers["location"].startswith(GOOGLE_CALLBACK)
