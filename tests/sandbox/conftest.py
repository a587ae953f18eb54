"""Shared fixtures for the emulator tests: a tiny world and a running sandbox."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import Mailbox, World

GOOGLE_USER = "ada@sandbox-google.test"
MICROSOFT_USER = "grace@sandbox-microsoft.test"


@pytest.fixture
def world() -> World:
    """A world with one Google mailbox and one Microsoft mailbox, no events."""
    world = World()
    world.add_mailbox(Mailbox(GOOGLE_USER, "Ada Lovelace", "google"))
    world.add_mailbox(Mailbox(MICROSOFT_USER, "Grace Hopper", "microsoft"))
    return world


@pytest.fixture
def sandbox(world: World) -> Iterator[Sandbox]:
    """The emulator serving ``world`` over HTTPS on a free port."""
    with Sandbox(world) as running:
        yield running
