"""The emulator as ``nudger serve --sandbox`` starts it: its Microsoft teams carry the
demo's moments, so a work anniversary and a welcome back can be clicked through."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console

from nudger.config import load_settings
from nudger.sandbox.run import start_people_sandbox

NOW = datetime(2026, 12, 4, 10, tzinfo=UTC)


def test_each_microsoft_team_has_a_hire_date_today_and_a_mentor_back_from_holiday() -> None:
    sandbox, orgs = start_people_sandbox(now=NOW)
    try:
        world = sandbox.world
        for org in (o for o in orgs if o.owner.provider == "microsoft"):
            manager = next(e for e in org.expectations if e.pattern == "manager")
            mentor = next(e for e in org.expectations if e.pattern == "mentor")
            hired = world.hire_dates[manager.email]
            assert (hired.month, hired.day, NOW.year - hired.year) == (12, 4, 3)
            away = world.mailbox(mentor.email)
            holidays = [e for e in away.events.values() if e.event_type == "outOfOffice"]
            assert len(holidays) == 1
            assert holidays[0].end - holidays[0].start == timedelta(days=14)
        google = [o for o in orgs if o.owner.provider == "google"]
        assert google
        assert not any(e.email in world.hire_dates for o in google for e in o.expectations)
    finally:
        sandbox.stop()


def test_serve_sandbox_turns_on_the_optional_directory_and_hire_dates(tmp_path: Path) -> None:
    """Both opt-in reads need the sandbox's users to consent to their scopes: serve
    --sandbox asks for them, as the README says."""
    from nudger.web.serve import _start_sandbox

    sandbox, _, overrides = _start_sandbox(
        Console(file=io.StringIO()), load_settings(data_dir=tmp_path)
    )
    try:
        settings = load_settings(**overrides)
        assert settings.google_directory
        assert settings.microsoft_hire_dates
    finally:
        sandbox.stop()
