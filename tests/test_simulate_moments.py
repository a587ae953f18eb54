"""``nudger simulate`` on a Microsoft 365 organisation whose manager joined three years
ago and whose mentor came back from two weeks out of office: each moment shows once,
on its day, with its evidence, from what the passes stored (the hire date, the latest
long absence). The weekly budget holds them as it holds every email: the demo's user
makes room for them, and so does this test."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cryptography.fernet import Fernet

from nudger import accounts, contacts
from nudger.config import load_settings
from nudger.cycle import run_cycle
from nudger.demo import MOMENTS_BUDGET, demo_clock, set_budget
from nudger.runtime import open_runtime
from nudger.sandbox.orggen import generate_org, plant_moments
from nudger.sandbox.run import MICROSOFT_OWNER
from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import World
from nudger.simulate import SimulatedNudge, simulate
from tests.connectors.microsoft_helpers import consent

NOW = demo_clock("Europe/Berlin")
MICROSOFT_OWNER_ZONE = ZoneInfo(MICROSOFT_OWNER.time_zone)


@pytest.fixture
def fired(database_url: str, tmp_path: Path) -> Iterator[tuple[list[SimulatedNudge], str, str]]:
    world = World()
    org = generate_org(world, replace(MICROSOFT_OWNER, now=NOW, seed=8))
    manager, mentor = plant_moments(world, org, NOW)
    with Sandbox(world) as sandbox:
        settings = load_settings(
            **sandbox.settings(),
            database_url=database_url,
            data_dir=tmp_path,
            encryption_keys=Fernet.generate_key().decode(),
            microsoft_hire_dates=True,
        )
        runtime = open_runtime(settings)
        start = accounts.begin_connect(runtime, "microsoft", login_hint=org.owner.email)
        ref = accounts.complete_connect(runtime, "microsoft", consent(sandbox, start.url))
        contacts.set_role(runtime, ref.id, mentor, "mentor")
        set_budget(runtime, ref.id, MOMENTS_BUDGET)  # as the demo: room for both this week
        run_cycle(runtime, account=ref.email, now=NOW, dry_run=True)
        yield simulate(runtime, ref.email, timedelta(days=30), now=NOW), manager, mentor
        runtime.db.dispose()


def test_each_moment_fires_once_on_its_day_with_its_evidence(
    fired: tuple[list[SimulatedNudge], str, str],
) -> None:
    replayed, manager, mentor = fired
    today = NOW.astimezone(MICROSOFT_OWNER_ZONE).date()
    joined = [f for f in replayed if f.decision.rule == "work_anniversary"]
    back = [f for f in replayed if f.decision.rule == "welcome_back"]
    assert [(f.day, f.decision.contact_email) for f in joined] == [(today, manager)]
    assert [(f.day, f.decision.contact_email) for f in back] == [(today, mentor)]
    assert " joined 3 years ago, on " in joined[0].decision.evidence[0]
    assert "out of office for 10 working days" in back[0].decision.evidence[0]
    assert joined[0].to_json()["kind"] == back[0].to_json()["kind"] == "email"
