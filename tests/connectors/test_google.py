"""The Google connector through google-auth-oauthlib and google-api-python-client,
against the emulator over HTTPS."""

from __future__ import annotations

import email.parser
import email.policy
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest

from nudger.config import Settings
from nudger.connectors import google
from nudger.connectors.base import HOLD_TAG_KEY, HoldRequest, OutgoingEmail, SyncWindow
from nudger.connectors.google_auth import GMAIL_SEND, GoogleOAuth, GoogleTokens
from nudger.errors import AuthRevoked, ConnectorError, MissingScopes, SyncCursorExpired
from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import Fault, World

from .conftest import GOOGLE_OWNER
from .google_helpers import REDIRECT, add_meeting, connected, consent, sign_in

NOW = datetime.now(UTC).replace(microsecond=0)
WINDOW = SyncWindow(NOW - timedelta(days=60), NOW + timedelta(days=14))


def test_sign_up_returns_the_address_and_granted_scopes(
    provider_settings: Settings, sandbox: Sandbox
) -> None:
    grant = sign_in(provider_settings, sandbox, GOOGLE_OWNER)
    assert grant.email == GOOGLE_OWNER
    assert GMAIL_SEND in grant.scopes
    assert "refresh_token" in grant.credentials
    assert provider_settings.google_client_secret.get_secret_value() not in grant.credentials


def test_sign_up_uses_pkce_and_offline_access(
    provider_settings: Settings, sandbox: Sandbox
) -> None:
    start = GoogleOAuth(provider_settings).begin(REDIRECT)
    assert "code_challenge_method=S256" in start.url
    assert "access_type=offline" in start.url
    assert len(start.pending["code_verifier"]) >= 43
    assert start.pending["code_verifier"] not in start.url


def test_unticked_scope_is_named(
    provider_settings: Settings, sandbox: Sandbox, world: World
) -> None:
    world.mailbox(GOOGLE_OWNER).withheld_scopes.add(GMAIL_SEND)
    with pytest.raises(MissingScopes, match=r"gmail\.send.*send nudges"):
        sign_in(provider_settings, sandbox, GOOGLE_OWNER)


def test_authorization_code_cannot_be_used_twice(
    provider_settings: Settings, sandbox: Sandbox
) -> None:
    oauth = GoogleOAuth(provider_settings)
    start = oauth.begin(REDIRECT, login_hint=GOOGLE_OWNER)
    params = consent(sandbox, start.url)
    oauth.complete(start.pending, params)
    with pytest.raises(ConnectorError, match="invalid_grant"):
        oauth.complete(start.pending, params)


def test_full_sync_pages_to_the_end_then_incremental_sees_changes(
    provider_settings: Settings, sandbox: Sandbox, world: World
) -> None:
    owner = world.mailbox(GOOGLE_OWNER)
    for day in range(40):
        add_meeting(world, owner, f"meet{day:04d}", NOW - timedelta(days=day, hours=1), "bo@x.test")
    connector = connected(provider_settings, sandbox, GOOGLE_OWNER, [])
    pages = list(connector.calendar.sync(GOOGLE_OWNER, None, WINDOW))
    assert sum(len(p.events) for p in pages) == 40
    assert [p.cursor is not None for p in pages][-1] is True
    assert all(p.cursor is None for p in pages[:-1])

    add_meeting(world, owner, "newmeet01", NOW + timedelta(days=2), "cy@x.test")
    world.delete_event(owner, "meet0003")
    changed = owner.events["meet0004"]
    changed.cancelled = True
    world.put_event(owner, changed)
    delta = list(connector.calendar.sync(GOOGLE_OWNER, pages[-1].cursor, WINDOW))
    events = {e.event_id: e for p in delta for e in p.events}
    removed = {r for p in delta for r in p.removed_ids}
    assert set(events) == {"newmeet01", "meet0004"}
    assert events["meet0004"].cancelled
    assert removed == {"meet0003"}


def test_expired_sync_token_raises_cursor_expired(
    provider_settings: Settings, sandbox: Sandbox, world: World
) -> None:
    connector = connected(provider_settings, sandbox, GOOGLE_OWNER, [])
    cursor = list(connector.calendar.sync(GOOGLE_OWNER, None, WINDOW))[-1].cursor
    world.expire_cursors(world.mailbox(GOOGLE_OWNER))
    with pytest.raises(SyncCursorExpired):
        list(connector.calendar.sync(GOOGLE_OWNER, cursor, WINDOW))


def test_rate_limit_is_retried_after_the_advertised_delay(
    provider_settings: Settings, sandbox: Sandbox, world: World
) -> None:
    connector = connected(provider_settings, sandbox, GOOGLE_OWNER, [])
    world.faults.append(Fault(path="/calendar/v3/calendars/", status=429, retry_after=1))
    pages = list(connector.calendar.sync(GOOGLE_OWNER, None, WINDOW))
    assert pages[-1].cursor
    event_lists = [r for r in world.requests if r.path.endswith("/events")]
    assert len(event_lists) == 2


def test_hold_is_created_once_when_retried(
    provider_settings: Settings, sandbox: Sandbox, world: World
) -> None:
    connector = connected(provider_settings, sandbox, GOOGLE_OWNER, [])
    hold = HoldRequest(
        key="acct:lapsed:bo@x.test:2026-W48",
        contact_email="bo@x.test",
        title="Relationship time: Bo",
        description="Catch up with Bo",
        start=NOW + timedelta(days=1),
        end=NOW + timedelta(days=1, minutes=30),
        time_zone="Europe/London",
    )
    first = connector.holds.create_hold(hold)
    second = connector.holds.create_hold(hold)
    assert first.event_id == second.event_id
    created = [e for e in world.mailbox(GOOGLE_OWNER).events.values() if e.private_props]
    assert len(created) == 1
    assert created[0].private_props == {HOLD_TAG_KEY: "bo@x.test"}
    assert created[0].attendees == [] or all(a.email != "bo@x.test" for a in created[0].attendees)

    connector.holds.delete_hold(first.event_id)
    connector.holds.delete_hold(first.event_id)  # already gone is success


def test_holds_come_back_tagged_from_sync(
    provider_settings: Settings, sandbox: Sandbox, world: World
) -> None:
    connector = connected(provider_settings, sandbox, GOOGLE_OWNER, [])
    start = NOW + timedelta(days=3)
    connector.holds.create_hold(
        HoldRequest("k1", "bo@x.test", "t", "d", start, start + timedelta(minutes=30), "UTC")
    )
    synced = [e for p in connector.calendar.sync(GOOGLE_OWNER, None, WINDOW) for e in p.events]
    assert [e.hold_contact for e in synced] == ["bo@x.test"]


def test_mail_is_sent_from_the_owner_as_mime(
    provider_settings: Settings, sandbox: Sandbox, world: World
) -> None:
    connector = connected(provider_settings, sandbox, GOOGLE_OWNER, [])
    message = EmailMessage()
    message["From"] = message["To"] = GOOGLE_OWNER
    message["Subject"] = "Time to catch up with Bo"
    message.set_content("text part")
    message.add_alternative("<p>html part</p>", subtype="html")
    sent = connector.mail.send(
        OutgoingEmail(
            GOOGLE_OWNER, GOOGLE_OWNER, "Time to catch up with Bo", "<m1@x>", message.as_bytes()
        )
    )
    assert sent.provider_message_id
    [stored] = world.sent
    parsed = email.parser.BytesParser(policy=email.policy.default).parsebytes(stored.raw)
    assert parsed["Subject"] == "Time to catch up with Bo"
    assert parsed.get_content_type() == "multipart/alternative"


def test_revoked_grant_raises_auth_revoked_on_refresh(
    provider_settings: Settings, sandbox: Sandbox, world: World
) -> None:
    grant = sign_in(provider_settings, sandbox, GOOGLE_OWNER)
    GoogleOAuth(provider_settings).revoke(grant.credentials)
    from nudger.connectors import google

    saved: list[str] = []
    connector = google.connect(
        provider_settings, _expired(grant.credentials), saved.append, account=GOOGLE_OWNER
    )
    with pytest.raises(AuthRevoked):
        connector.calendar.list_calendars()


def test_refreshed_token_is_saved(provider_settings: Settings, sandbox: Sandbox) -> None:
    grant = sign_in(provider_settings, sandbox, GOOGLE_OWNER)
    saved: list[str] = []
    connector = google.connect(
        provider_settings, _expired(grant.credentials), saved.append, account=GOOGLE_OWNER
    )
    connector.calendar.list_calendars()
    assert len(saved) == 1
    assert json.loads(saved[0])["refresh_token"] == json.loads(grant.credentials)["refresh_token"]


def test_concurrent_callers_share_one_refresh(
    provider_settings: Settings, sandbox: Sandbox, world: World
) -> None:
    grant = sign_in(provider_settings, sandbox, GOOGLE_OWNER)
    saved: list[str] = []
    tokens = GoogleTokens(
        provider_settings, _expired(grant.credentials), saved.append, account=GOOGLE_OWNER
    )
    before = sum(1 for r in world.requests if r.path == "/token")
    with ThreadPoolExecutor(max_workers=6) as pool:
        access = set(pool.map(lambda _: tokens.credentials.token, range(12)))
    assert len(access) == 1
    assert sum(1 for r in world.requests if r.path == "/token") - before == 1
    assert len(saved) == 1


def _expired(blob: str) -> str:
    data = json.loads(blob)
    data["expiry"] = (NOW - timedelta(hours=1)).isoformat()
    return json.dumps(data)
