"""Connector fixtures: the emulator over HTTPS and settings pointing nudger at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from nudger.config import Settings, load_settings
from nudger.runtime import Runtime, open_runtime
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


@pytest.fixture
def runtime(provider_settings: Settings, database_url: str) -> Iterator[Runtime]:
    """nudger opened on a real database, with every provider pointed at the emulator."""
    settings = load_settings(
        **{
            **provider_settings.model_dump(),
            "database_url": database_url,
            "encryption_keys": Fernet.generate_key().decode(),
        }
    )
    opened = open_runtime(settings)
    yield opened
    opened.db.dispose()
