"""Connector fixtures: the emulator over HTTPS and settings pointing nudger at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from nudger.config import Settings, load_settings
from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import Mailbox, World

GOOGLE_OWNER = "alex@sandbox.example"


@pytest.fixture
def world() -> World:
    world = World()
    world.add_mailbox(Mailbox(GOOGLE_OWNER, "Alex Morgan", "google"))
    return world


@pytest.fixture
def sandbox(world: World) -> Iterator[Sandbox]:
    with Sandbox(world) as running:
        yield running


@pytest.fixture
def provider_settings(sandbox: Sandbox, tmp_path: Path) -> Settings:
    return load_settings(**sandbox.settings(), data_dir=tmp_path)
