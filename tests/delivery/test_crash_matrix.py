"""The outbox survives a process killed mid-delivery (DESIGN.md, "Non-negotiables").

For every failpoint in delivery and both kinds of nudge, a real ``nudger cycle``
process is SIGKILLed mid-way; a later cycle (clock past the claim TTL) recovers the
way production does. What the emulator received and the outbox rows must then say:
no email went out twice, none vanished unseen, every hold is booked exactly once.
"""

from __future__ import annotations

import email
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from nudger import accounts, contacts
from nudger.config import Settings, load_settings
from nudger.connectors.google import hold_event_id
from nudger.cycle import run_cycle
from nudger.delivery.outbox import CLAIM_TTL
from nudger.runtime import Runtime, open_runtime
from nudger.sandbox.orggen import GeneratedOrg, OrgSpec, generate_org, minimum_people
from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import World
from nudger.store.db import session_scope
from nudger.store.models import Nudge
from tests.connectors.google_helpers import consent

NUDGER = str(Path(sys.executable).parent / "nudger")
SIGKILLED = -9
USER_ROLES = ("direct_report", "manager", "mentor")
FAILPOINTS = ("after_claim", "after_provider_call", "after_finish")

NO_QUIET_TIME = """
policies:
  quiet_hours: {start: "00:00", end: "00:00"}
  quiet_days: []
"""
RULES_FILES = {
    # Emails go out at any hour, so the test does not depend on the wall clock.
    "email": NO_QUIET_TIME
    + """
rules:
  - {name: lapsed_one_on_one, enabled: false}
  - {name: missing_one_on_one, enabled: false}
""",
    "hold": NO_QUIET_TIME
    + """
rules:
  - {name: thanks, enabled: false}
  - {name: thanks_group, enabled: false}
  - {name: neglected_close, enabled: false}
  - {name: neglected, enabled: false}
  - {name: fading, enabled: false}
""",
}


@dataclass(frozen=True)
class Scene:
    sandbox: Sandbox
    org: GeneratedOrg
    settings: Settings
    env: dict[str, str]


@dataclass(frozen=True)
class Row:
    key: str
    kind: str
    status: str


# --- builders ---------------------------------------------------------------------------


@contextmanager
def scene(database_url: str, folder: Path, kind: str) -> Iterator[Scene]:
    """A small generated team in a started emulator, its owner connected through OAuth."""
    world = World()
    spec = OrgSpec(now=datetime.now(UTC), people=minimum_people(), months=6, events_per_week=8)
    org = generate_org(world, spec)
    sandbox = Sandbox(world).start()
    try:
        rules = folder / f"{kind}.yaml"
        rules.write_text(RULES_FILES[kind])
        values = {
            **sandbox.settings(),
            "database_url": database_url,
            "data_dir": str(folder / "data"),
            "encryption_keys": Fernet.generate_key().decode(),
            "rules_file": str(rules),
            "log_level": "WARNING",
        }
        settings = load_settings(**values)
        _connect(settings, sandbox, org)
        env = {f"NUDGER_{key.upper()}": value for key, value in values.items()}
        yield Scene(sandbox, org, settings, env)
    finally:
        sandbox.stop()


def _connect(settings: Settings, sandbox: Sandbox, org: GeneratedOrg) -> None:
    with opened(settings) as runtime:
        start = accounts.begin_connect(runtime, "google", login_hint=org.owner.email)
        ref = accounts.complete_connect(runtime, "google", consent(sandbox, start.url))
        for person in org.expectations:  # Google has no org chart: the user enters roles
            if person.role in USER_ROLES:
                contacts.set_role(runtime, ref.id, person.email, person.role, name=person.name)


@contextmanager
def opened(settings: Settings) -> Iterator[Runtime]:
    runtime = open_runtime(settings)
    try:
        yield runtime
    finally:
        runtime.db.dispose()


def killed_cycle(scene: Scene, failpoint: str) -> subprocess.CompletedProcess[str]:
    """``nudger cycle`` as a separate process, dying by SIGKILL at ``failpoint``."""
    env = {**os.environ, **scene.env, "NUDGER_FAILPOINT": failpoint}
    return subprocess.run(
        [NUDGER, "cycle", "--account", scene.org.owner.email],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def recover(scene: Scene) -> None:
    """The next scheduled cycle, once every claim of the dead process has expired."""
    later = datetime.now(UTC) + CLAIM_TTL + timedelta(minutes=1)
    with opened(scene.settings) as runtime:
        run_cycle(runtime, account=scene.org.owner.email, now=later)


def rows(scene: Scene) -> dict[str, Row]:
    with opened(scene.settings) as runtime, session_scope(runtime.db) as session:
        return {n.key: Row(n.key, n.kind, n.status) for n in session.scalars(select(Nudge))}


def sent_keys(scene: Scene) -> Counter[str]:
    """How many times the emulator accepted a message for each outbox key."""
    return Counter(
        str(email.message_from_bytes(sent.raw)["X-Nudger-Key"]) for sent in scene.sandbox.world.sent
    )


def hold_ids(scene: Scene) -> Counter[str]:
    """Live events nudger booked (tagged with a private property), by event id."""
    mailbox = scene.sandbox.world.mailboxes[scene.org.owner.email]
    return Counter(e.id for e in mailbox.events.values() if e.private_props and not e.deleted)


def crash(scene: Scene, failpoint: str) -> tuple[Row, dict[str, Row]]:
    """Kill a cycle at ``failpoint``: the one row it touched, and all rows at that moment."""
    result = killed_cycle(scene, failpoint)
    assert result.returncode == SIGKILLED, result.stdout + result.stderr
    after = rows(scene)
    touched = [row for row in after.values() if row.status != "pending"]
    assert len(touched) == 1, after
    assert len(after) > 1, "needs rows the dead process never reached"
    return touched[0], after


# --- emails -----------------------------------------------------------------------------

EMAIL_EXPECTED = {
    # failpoint: (state right after the kill, state after recovery, times sent in total)
    "after_claim": ("claimed", "in_doubt", 0),
    "after_provider_call": ("claimed", "in_doubt", 1),
    "after_finish": ("sent", "sent", 1),
}


@pytest.mark.parametrize("failpoint", FAILPOINTS)
def test_email_killed_mid_delivery_is_never_resent_nor_lost(
    database_url: str, tmp_path: Path, failpoint: str
) -> None:
    with scene(database_url, tmp_path, "email") as world:
        victim, at_crash = crash(world, failpoint)
        crashed_state, final_state, times_sent = EMAIL_EXPECTED[failpoint]
        assert victim.kind == "email"
        assert victim.status == crashed_state
        assert sent_keys(world)[victim.key] == times_sent

        recover(world)

        final = rows(world)
        sent = sent_keys(world)
        assert final[victim.key].status == final_state
        assert sent[victim.key] == times_sent
        assert max(sent.values()) == 1, "an email went out twice"
        assert "claimed" not in {row.status for row in final.values()}
        for key, row in at_crash.items():
            if row.status == "pending":  # never reached by the dead process
                assert (final[key].status, sent[key]) == ("sent", 1)


# --- holds ------------------------------------------------------------------------------


@pytest.mark.parametrize("failpoint", FAILPOINTS)
def test_hold_killed_mid_delivery_is_booked_exactly_once(
    database_url: str, tmp_path: Path, failpoint: str
) -> None:
    with scene(database_url, tmp_path, "hold") as world:
        victim, _ = crash(world, failpoint)
        assert victim.kind == "hold"
        booked_before = hold_ids(world)[hold_event_id(victim.key)]
        assert booked_before == (0 if failpoint == "after_claim" else 1)

        recover(world)

        final = rows(world)
        holds = [row for row in final.values() if row.kind == "hold"]
        assert {row.status for row in final.values()} == {"sent"}
        assert hold_ids(world) == Counter(hold_event_id(row.key) for row in holds)
        assert not world.sandbox.world.sent
