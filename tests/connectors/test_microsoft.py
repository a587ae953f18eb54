"""The Microsoft 365 connector through real msal and real HTTP, against the emulator."""

from __future__ import annotations

import email.parser
import email.policy
import json
import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr

from nudger.config import Settings
from nudger.connectors import microsoft
from nudger.connectors.base import (
    Connector,
    EventKind,
    HoldRequest,
    OutgoingEmail,
    Person,
    Response,
    SyncWindow,
)
from nudger.connectors.graph import mailbox_slots
from nudger.connectors.microsoft_auth import (
    DIRECTORY_READ,
    MAIL_SEND,
    MicrosoftOAuth,
    application,
    map_msal_error,
)
from nudger.connectors.microsoft_payloads import HOLD_PROPERTY_ID, transaction_id
from nudger.connectors.registry import provider
from nudger.errors import (
    AuthRevoked,
    ConnectorError,
    MissingScopes,
    OAuthStateError,
    OutcomeUnknown,
    RateLimited,
    SyncCursorExpired,
    TransientError,
)
from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import Fault, Mailbox, SandboxAttendee, World
from tests.workers.test_graph_slots import holder

from .microsoft_helpers import (
    MS_OWNER,
    REDIRECT,
    add_meeting,
    add_owner,
    connected,
    consent,
    control,
    graph_requests,
    sign_in,
)

NOW = datetime.now(UTC).replace(microsecond=0)
WINDOW = SyncWindow(NOW - timedelta(days=60), NOW + timedelta(days=14))
DELTA = "/calendarView/delta"


@pytest.fixture
def owner(world: World) -> Mailbox:
    return add_owner(world)


def _hold(key: str = "acct:lapsed:bo@x.test:2026-W48", **fields: object) -> HoldRequest:
    start = NOW + timedelta(days=1)
    values: dict[str, object] = {
        "key": key,
        "contact_email": "bo@x.test",
        "title": "Relationship time: Bo",
        "description": "Catch up with Bo",
        "start": start,
        "end": start + timedelta(minutes=30),
        "time_zone": "Europe/London",
    }
    values.update(fields)
    return HoldRequest(**values)  # type: ignore[arg-type]


def _calendar_id(connector: Connector) -> str:
    [primary] = [c for c in connector.calendar.list_calendars() if c.primary]
    return primary.calendar_id


# --- sign-up ------------------------------------------------------------------------------


def test_sign_up_returns_the_address_and_granted_scopes(
    provider_settings: Settings, sandbox: Sandbox, owner: Mailbox
) -> None:
    grant = sign_in(provider_settings, sandbox)
    assert (grant.email, grant.name) == (MS_OWNER, "Grace Hopper")
    assert MAIL_SEND in grant.scopes
    stored = json.loads(grant.credentials)
    assert "RefreshToken" in json.loads(stored["cache"])
    assert provider_settings.microsoft_client_secret.get_secret_value() not in grant.credentials


def test_sign_up_uses_pkce_state_and_offline_access(
    provider_settings: Settings, sandbox: Sandbox, owner: Mailbox
) -> None:
    start = MicrosoftOAuth(provider_settings).begin(REDIRECT, login_hint=MS_OWNER)
    query = parse_qs(urlparse(start.url).query)
    flow = json.loads(start.pending["flow"])
    assert query["code_challenge_method"] == ["S256"]
    assert query["state"] == [start.state] == [flow["state"]]
    assert "offline_access" in query["scope"][0].split()
    assert len(flow["code_verifier"]) >= 43
    assert flow["code_verifier"] not in start.url


def test_callback_with_a_forged_state_is_refused(
    provider_settings: Settings, sandbox: Sandbox, owner: Mailbox
) -> None:
    oauth = MicrosoftOAuth(provider_settings)
    start = oauth.begin(REDIRECT, login_hint=MS_OWNER)
    params = consent(sandbox, start.url)
    with pytest.raises(OAuthStateError):
        oauth.complete(start.pending, {**params, "state": "forged"})
    other = oauth.begin(REDIRECT, login_hint=MS_OWNER)
    with pytest.raises(OAuthStateError):
        oauth.complete(other.pending, params)  # another sign-in's verifier and state


def test_missing_offline_access_is_named(
    provider_settings: Settings, sandbox: Sandbox, owner: Mailbox
) -> None:
    owner.withheld_scopes.add("offline_access")
    with pytest.raises(MissingScopes, match="offline_access"):
        sign_in(provider_settings, sandbox)


def test_unticked_scope_is_named(
    provider_settings: Settings, sandbox: Sandbox, owner: Mailbox
) -> None:
    owner.withheld_scopes.add(MAIL_SEND)
    with pytest.raises(MissingScopes, match=r"Mail\.Send.*send nudges"):
        sign_in(provider_settings, sandbox)


def test_without_directory_consent_there_is_no_directory(
    provider_settings: Settings, sandbox: Sandbox, owner: Mailbox
) -> None:
    owner.withheld_scopes.add(DIRECTORY_READ)
    grant = sign_in(provider_settings, sandbox)
    assert DIRECTORY_READ not in grant.scopes
    connector = microsoft.connect(provider_settings, grant.credentials, print, account=MS_OWNER)
    assert connector.directory is None
    assert connector.calendar.list_calendars()  # the rest works on the narrower grant


def test_authorization_code_cannot_be_used_twice(
    provider_settings: Settings, sandbox: Sandbox, owner: Mailbox
) -> None:
    oauth = MicrosoftOAuth(provider_settings)
    start = oauth.begin(REDIRECT, login_hint=MS_OWNER)
    params = consent(sandbox, start.url)
    oauth.complete(start.pending, params)
    with pytest.raises(ConnectorError, match="invalid_grant"):
        oauth.complete(start.pending, params)


def test_one_msal_application_keeps_one_cache_per_account(
    provider_settings: Settings, sandbox: Sandbox, owner: Mailbox, world: World
) -> None:
    world.add_mailbox(Mailbox("linus@contoso.example", "Linus T", "microsoft"))
    first = sign_in(provider_settings, sandbox)
    second = sign_in(provider_settings, sandbox, "linus@contoso.example")
    assert application(provider_settings) is application(provider_settings)
    assert "linus@" not in first.credentials
    assert MS_OWNER not in second.credentials


def test_msal_error_dicts_become_nudger_errors() -> None:
    assert isinstance(map_msal_error({"error": "interaction_required"}), AuthRevoked)
    assert isinstance(map_msal_error({"error": "invalid_grant"}), AuthRevoked)
    assert isinstance(map_msal_error({"error": "temporarily_unavailable"}), TransientError)
    assert not isinstance(map_msal_error({"error": "invalid_client"}), AuthRevoked)


def test_refresh_rotates_the_token_and_the_new_cache_is_saved(
    provider_settings: Settings, sandbox: Sandbox, owner: Mailbox
) -> None:
    grant = sign_in(provider_settings, sandbox)
    saved: list[str] = []
    connector = microsoft.connect(
        provider_settings, grant.credentials, saved.append, account=MS_OWNER
    )
    connector.calendar.list_calendars()
    assert saved == []  # the cached access token was still good: nothing changed

    control(sandbox, "expire-access-tokens")
    connector.calendar.list_calendars()  # 401, refresh once, retry
    assert len(saved) == 1
    old_rt = json.loads(json.loads(grant.credentials)["cache"])["RefreshToken"]
    new_rt = json.loads(json.loads(saved[0])["cache"])["RefreshToken"]
    assert [r["secret"] for r in old_rt.values()] != [r["secret"] for r in new_rt.values()]

    control(sandbox, "expire-access-tokens")
    reloaded = microsoft.connect(provider_settings, saved[0], saved.append, account=MS_OWNER)
    assert reloaded.calendar.list_calendars()  # the rotated refresh token is the live one
    stale = microsoft.connect(provider_settings, grant.credentials, saved.append, account=MS_OWNER)
    control(sandbox, "expire-access-tokens")
    with pytest.raises(AuthRevoked):
        stale.calendar.list_calendars()  # the pre-rotation one died when it was used


def test_revoked_grant_raises_auth_revoked(
    provider_settings: Settings, sandbox: Sandbox, owner: Mailbox
) -> None:
    connector = connected(provider_settings, sandbox, [])
    control(sandbox, "revoke-refresh-tokens")
    control(sandbox, "expire-access-tokens")
    with pytest.raises(AuthRevoked, match="invalid_grant"):
        connector.calendar.list_calendars()


def test_a_renamed_user_keeps_refreshing(
    provider_settings: Settings, sandbox: Sandbox, world: World, owner: Mailbox
) -> None:
    """``preferred_username`` is mutable: a rename at Microsoft must not break the stored
    grant (msal's silent refresh keeps the cached account as it was at sign-in)."""
    connector = connected(provider_settings, sandbox, [])
    world.rename_mailbox(MS_OWNER, "grace.hopper@contoso.example")
    for _ in range(2):
        control(sandbox, "expire-access-tokens", "grace.hopper@contoso.example")
        assert connector.calendar.list_calendars()


# --- the user's time and the org chart ----------------------------------------------------


def test_profile_maps_windows_zone_and_working_hours(
    provider_settings: Settings, sandbox: Sandbox, world: World
) -> None:
    add_owner(
        world,
        windows_time_zone="Pacific Standard Time",
        working_days=(1, 2, 3, 4),
        work_start=datetime(2000, 1, 1, 8, 30).time(),
        work_end=datetime(2000, 1, 1, 16, 0).time(),
    )
    profile = connected(provider_settings, sandbox, []).calendar.profile()
    assert (profile.email, profile.name) == (MS_OWNER, "Grace Hopper")
    assert profile.time_zone == "America/Los_Angeles"
    hours = profile.working_hours
    assert hours is not None
    assert hours.time_zone == "America/Los_Angeles"
    assert hours.days == (1, 2, 3, 4)
    assert (hours.start.isoformat(), hours.end.isoformat()) == ("08:30:00", "16:00:00")


def test_unknown_windows_zone_is_logged_and_read_as_utc(
    provider_settings: Settings, sandbox: Sandbox, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    add_owner(world, windows_time_zone="Olympus Mons Standard Time")
    with caplog.at_level(logging.WARNING):
        profile = connected(provider_settings, sandbox, []).calendar.profile()
    assert profile.time_zone == "UTC"
    assert "Olympus Mons Standard Time" in caplog.text


def test_org_chart_gives_direct_reports_and_manager(
    provider_settings: Settings, sandbox: Sandbox, world: World
) -> None:
    add_owner(world, direct_reports=["ada@contoso.example"], manager="boss@contoso.example")
    world.people["ada@contoso.example"] = "Ada Lovelace"
    directory = connected(provider_settings, sandbox, []).directory
    assert isinstance(directory, microsoft.GraphDirectory)
    assert directory.direct_reports() == [Person("ada@contoso.example", "Ada Lovelace")]
    manager = directory.manager()
    assert manager is not None
    assert manager.email == "boss@contoso.example"


def test_a_403_on_the_directory_means_no_directory(
    provider_settings: Settings, sandbox: Sandbox, world: World
) -> None:
    add_owner(world, direct_reports=["ada@contoso.example"], directory_forbidden=True)
    directory = connected(provider_settings, sandbox, []).directory
    assert isinstance(directory, microsoft.GraphDirectory)
    assert directory.direct_reports() == []
    assert directory.manager() is None


# --- sync -----------------------------------------------------------------------------------


def test_multi_page_delta_round_then_incremental_changes(
    provider_settings: Settings, sandbox: Sandbox, world: World, owner: Mailbox
) -> None:
    for i in range(250):
        add_meeting(
            world, owner, f"meet{i:04d}", NOW - timedelta(days=50, hours=-3 * i), "bo@x.test"
        )
    connector = connected(provider_settings, sandbox, [])
    calendar_id = _calendar_id(connector)
    pages = list(connector.calendar.sync(calendar_id, None, WINDOW))
    assert len(pages) == 3  # 100 a page, from the Prefer header
    assert sum(len(p.events) for p in pages) == 250
    assert [p.cursor is not None for p in pages] == [False, False, True]
    assert all(p.full for p in pages)
    windowed = [r for r in world.requests if r.path.endswith(DELTA) and "startDateTime" in r.query]
    assert len(windowed) == 1  # later pages follow the links, which carry the window

    add_meeting(world, owner, "added0001", NOW + timedelta(days=2), "cy@x.test")
    world.delete_event(owner, "meet0003")
    changed = owner.events["meet0004"]
    changed.start, changed.end = (
        changed.start + timedelta(hours=1),
        changed.end + timedelta(hours=1),
    )
    world.put_event(owner, changed)
    delta = list(connector.calendar.sync(calendar_id, pages[-1].cursor, WINDOW))
    events = {e.event_id: e for p in delta for e in p.events}
    removed = {r for p in delta for r in p.removed_ids}
    by_start = {e.start: e for e in events.values()}
    assert len(events) == 2
    assert changed.start in by_start
    assert NOW + timedelta(days=2) in by_start
    assert len(removed) == 1
    assert not delta[-1].full
    assert delta[-1].cursor


def test_a_delta_round_with_nothing_new_makes_one_request(
    provider_settings: Settings, sandbox: Sandbox, world: World, owner: Mailbox
) -> None:
    """Not even the mailbox's settings: nothing needs the owner's zone."""
    add_meeting(world, owner, "meet0001", NOW - timedelta(days=5), "bo@x.test")
    first = connected(provider_settings, sandbox, [])
    calendar_id = _calendar_id(first)
    cursor = list(first.calendar.sync(calendar_id, None, WINDOW))[-1].cursor
    later = connected(provider_settings, sandbox, [])  # the next pass's own connector
    before = len(world.requests)

    again = list(later.calendar.sync(calendar_id, cursor, WINDOW))

    assert [len(p.events) for p in again] == [0]
    assert [r.path.endswith(DELTA) for r in world.requests[before:]] == [True]


def test_occurrences_responses_and_show_as_are_mapped(
    provider_settings: Settings, sandbox: Sandbox, world: World, owner: Mailbox
) -> None:
    day = NOW.replace(hour=10, minute=0, second=0) - timedelta(days=7)
    add_meeting(world, owner, "occ1", day, "bo@x.test", series_id="weekly1")
    add_meeting(world, owner, "occ2", day + timedelta(days=7), "bo@x.test", series_id="weekly1")
    owner.events["occ2"].cancelled = True
    world.put_event(owner, owner.events["occ2"])
    declined = add_meeting(world, owner, "declined", day, "cy@x.test", organizer="cy@x.test")
    declined.attendees[0].response = "declined"
    world.put_event(owner, declined)
    room = add_meeting(world, owner, "room", day + timedelta(hours=2), "di@x.test")
    room.attendees.append(SandboxAttendee("room1@contoso.example", "Room 1", resource=True))
    world.put_event(owner, room)
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    add_meeting(world, owner, "allday", midnight, all_day=True, end=midnight + timedelta(days=1))
    add_meeting(world, owner, "oof", day + timedelta(days=1), event_type="outOfOffice")
    add_meeting(world, owner, "remote", day + timedelta(days=2), event_type="workingLocation")
    add_meeting(world, owner, "free", day + timedelta(days=3), transparent=True)

    connector = connected(provider_settings, sandbox, [])
    pages = connector.calendar.sync(_calendar_id(connector), None, WINDOW)
    found = [e for p in pages for e in p.events]

    [occ1, occ2] = sorted((e for e in found if e.series_id), key=lambda e: e.start)
    assert occ1.series_id == occ2.series_id
    assert occ1.event_id != occ2.event_id
    assert occ2.cancelled
    assert not occ1.cancelled
    assert occ1.ical_uid
    [declined_event] = [e for e in found if e.organizer_email == "cy@x.test"]
    [me] = [a for a in declined_event.attendees if a.is_self]
    assert me.response is Response.DECLINED
    assert not declined_event.busy
    [room_event] = [e for e in found if any(a.is_resource for a in e.attendees)]
    assert [a.email for a in room_event.attendees if a.is_resource] == ["room1@contoso.example"]
    [own] = [a for a in room_event.attendees if a.is_self]
    assert own.response is Response.ORGANIZER
    assert own.is_organizer
    [all_day] = [e for e in found if e.all_day]
    assert all_day.start.astimezone(ZoneInfo("Europe/London")).time().isoformat() == "00:00:00"
    assert all_day.end - all_day.start == timedelta(days=1)
    kinds = {e.kind for e in found}
    assert {EventKind.OUT_OF_OFFICE, EventKind.WORKING_LOCATION} <= kinds
    [free] = [e for e in found if e.start == day + timedelta(days=3)]
    assert not free.busy
    assert free.kind is EventKind.MEETING


def test_expired_delta_link_raises_cursor_expired(
    provider_settings: Settings, sandbox: Sandbox, world: World, owner: Mailbox
) -> None:
    connector = connected(provider_settings, sandbox, [])
    calendar_id = _calendar_id(connector)
    cursor = list(connector.calendar.sync(calendar_id, None, WINDOW))[-1].cursor
    world.expire_cursors(owner)
    with pytest.raises(SyncCursorExpired):
        list(connector.calendar.sync(calendar_id, cursor, WINDOW))


@pytest.mark.parametrize("status", [429, 503])
def test_throttling_waits_for_retry_after(
    provider_settings: Settings, sandbox: Sandbox, world: World, owner: Mailbox, status: int
) -> None:
    connector = connected(provider_settings, sandbox, [])
    calendar_id = _calendar_id(connector)
    world.faults.append(Fault(path=DELTA, status=status, retry_after=1))
    started = time.monotonic()
    pages = list(connector.calendar.sync(calendar_id, None, WINDOW))
    assert time.monotonic() - started >= 1.0
    assert pages[-1].cursor
    assert graph_requests(world, DELTA) == 2


def test_at_most_four_requests_per_mailbox(
    provider_settings: Settings, sandbox: Sandbox, world: World, owner: Mailbox
) -> None:
    connector = connected(provider_settings, sandbox, [])
    slots = mailbox_slots(MS_OWNER, provider_settings)
    held = [slots.acquire() for _ in range(4)]  # four requests in flight elsewhere
    done = threading.Event()

    def list_calendars() -> None:
        connector.calendar.list_calendars()
        done.set()

    worker = threading.Thread(target=list_calendars)
    before = graph_requests(world, "/me/calendars")
    worker.start()
    try:
        assert not done.wait(0.5)
        assert graph_requests(world, "/me/calendars") == before
    finally:
        slots.release(held.pop())
    assert done.wait(10)
    for token in held:
        slots.release(token)


def test_with_a_broker_the_four_requests_count_across_processes(
    provider_settings: Settings, sandbox: Sandbox, world: World, owner: Mailbox, redis_url: str
) -> None:
    settings = provider_settings.model_copy(update={"broker_url": SecretStr(redis_url)})
    connector = connected(settings, sandbox, [])
    done = threading.Event()
    before = graph_requests(world, "/me/calendars")
    with holder(redis_url, 4, mailbox=MS_OWNER):  # four requests in flight in another process
        worker = threading.Thread(target=lambda: (connector.calendar.list_calendars(), done.set()))
        worker.start()
        assert not done.wait(0.5)
        assert graph_requests(world, "/me/calendars") == before
    assert done.wait(10)
    worker.join()


# --- free/busy and holds ----------------------------------------------------------------------


def test_busy_time_comes_from_get_schedule(
    provider_settings: Settings, sandbox: Sandbox, world: World, owner: Mailbox
) -> None:
    day = NOW + timedelta(days=2)
    add_meeting(world, owner, "busy", day, "bo@x.test")
    add_meeting(world, owner, "free", day + timedelta(hours=2), transparent=True)
    add_meeting(world, owner, "away", day + timedelta(hours=4), event_type="outOfOffice")
    busy = connected(provider_settings, sandbox, []).free_busy.busy(WINDOW)
    assert [(b.start, b.out_of_office) for b in busy] == [
        (day, False),
        (day + timedelta(hours=4), True),
    ]


def test_a_retried_hold_keeps_its_transaction_id_and_is_created_once(
    provider_settings: Settings, sandbox: Sandbox, world: World, owner: Mailbox
) -> None:
    connector = connected(provider_settings, sandbox, [])
    hold = _hold()
    first = connector.holds.create_hold(hold)
    second = connector.holds.create_hold(hold)
    assert first.event_id == second.event_id
    [created] = [e for e in owner.events.values() if e.private_props]
    assert created.transaction_id == transaction_id(hold.key)
    assert created.private_props == {HOLD_PROPERTY_ID: "bo@x.test"}
    assert created.attendees == []
    assert created.start == hold.start

    connector.holds.delete_hold(first.event_id)
    connector.holds.delete_hold(first.event_id)  # already gone is success
    assert created.deleted


def test_a_hold_survives_a_server_error_on_create(
    provider_settings: Settings, sandbox: Sandbox, world: World, owner: Mailbox
) -> None:
    connector = connected(provider_settings, sandbox, [])
    world.faults.append(Fault(path="/me/events", status=503, method="POST"))
    connector.holds.create_hold(_hold())
    assert graph_requests(world, "/me/events", "POST") == 2
    assert len([e for e in owner.events.values() if e.private_props]) == 1


def test_holds_come_back_tagged_from_sync(
    provider_settings: Settings, sandbox: Sandbox, world: World, owner: Mailbox
) -> None:
    connector = connected(provider_settings, sandbox, [])
    add_meeting(world, owner, "plain", NOW + timedelta(days=4), "cy@x.test")
    connector.holds.create_hold(_hold(invite_contact=True))
    pages = connector.calendar.sync(_calendar_id(connector), None, WINDOW)
    tags = sorted((e.hold_contact or "-") for p in pages for e in p.events)
    assert tags == ["-", "bo@x.test"]
    [invited] = [e for e in owner.events.values() if e.private_props]
    assert [a.email for a in invited.attendees] == ["bo@x.test"]


# --- mail --------------------------------------------------------------------------------


def _email() -> OutgoingEmail:
    message = EmailMessage()
    message["From"] = message["To"] = MS_OWNER
    message["Subject"] = "Time to catch up with Bo"
    message.set_content("text part")
    message.add_alternative("<p>html part</p>", subtype="html")
    return OutgoingEmail(
        MS_OWNER, MS_OWNER, "Time to catch up with Bo", "<m1@x>", message.as_bytes()
    )


def test_mail_is_sent_from_the_owner_as_mime(
    provider_settings: Settings, sandbox: Sandbox, world: World, owner: Mailbox
) -> None:
    sent = connected(provider_settings, sandbox, []).mail.send(_email())
    assert sent.provider_message_id is None  # 202, empty body
    [stored] = world.sent
    parsed = email.parser.BytesParser(policy=email.policy.default).parsebytes(stored.raw)
    assert parsed["Subject"] == "Time to catch up with Bo"
    assert parsed.get_content_type() == "multipart/alternative"


def test_send_with_unknown_outcome_is_never_retried(
    provider_settings: Settings, sandbox: Sandbox, world: World, owner: Mailbox
) -> None:
    connector = connected(provider_settings, sandbox, [])
    world.faults.append(Fault(path="/sendMail", status=504, retry_after=1))
    with pytest.raises(OutcomeUnknown):
        connector.mail.send(_email())
    assert graph_requests(world, "/sendMail", "POST") == 1


def test_throttled_send_is_rate_limited_and_not_retried(
    provider_settings: Settings, sandbox: Sandbox, world: World, owner: Mailbox
) -> None:
    connector = connected(provider_settings, sandbox, [])
    world.faults.append(Fault(path="/sendMail", status=429, retry_after=30))
    with pytest.raises(RateLimited) as raised:
        connector.mail.send(_email())
    assert raised.value.retry_after == 30
    assert graph_requests(world, "/sendMail", "POST") == 1
    assert world.sent == []


def test_registry_builds_the_microsoft_provider(provider_settings: Settings) -> None:
    microsoft_provider = provider("microsoft")
    assert microsoft_provider.configured(provider_settings)
    assert isinstance(microsoft_provider.oauth(provider_settings), MicrosoftOAuth)
