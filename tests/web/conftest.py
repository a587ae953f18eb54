"""Web fixtures: the emulator, nudger opened on a real database, and a test client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet
from starlette.testclient import TestClient

from nudger.config import load_settings
from nudger.runtime import Runtime, open_runtime
from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import Mailbox, World
from nudger.web.app import create_app

OWNER = "alex@sandbox.example"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    world = World()
    world.add_mailbox(Mailbox(OWNER, "Alex Morgan", "google"))
    with Sandbox(world) as running:
        yield running


@pytest.fixture
def runtime(sandbox: Sandbox, database_url: str, tmp_path: object) -> Iterator[Runtime]:
    settings = load_settings(
        **sandbox.settings(),
        database_url=database_url,
        encryption_keys=Fernet.generate_key().decode(),
        base_url="http://testserver",
    )
    opened = open_runtime(settings)
    yield opened
    opened.db.dispose()


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime), follow_redirects=False) as test_client:
        yield test_client
