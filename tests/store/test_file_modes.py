"""The data folder and what is in it are the owner's alone (issue 11, item 9).

The database holds encrypted tokens and contacts, the key file the key that decrypts
them: folder 0700, files 0600, whatever the umask. SQLite creates ``-wal`` and
``-shm`` with the database file's permissions (``os_unix.c``, ``findCreateFileMode``).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from nudger.config import load_settings
from nudger.crypto import KEY_FILE_NAME
from nudger.runtime import open_runtime
from nudger.store.db import session_scope
from nudger.store.models import Meta

NUDGER = str(Path(sys.executable).parent / "nudger")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The common default, under which plain file creation gives 0644 and 0755."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.mark.usefixtures("loose_umask")
def test_a_fresh_data_folder_is_owner_only_with_its_wal_files(tmp_path: Path) -> None:
    data = tmp_path / "fresh" / "data"
    runtime = open_runtime(load_settings(data_dir=data))  # the default SQLite database
    try:
        with session_scope(runtime.db) as session:
            session.add(Meta(key="probe", value="x"))
        database = data / "nudger.db"
        assert (data / "nudger.db-wal").exists(), "the pool keeps a WAL connection open"
        assert mode(data) == 0o700
        assert mode(data.parent) == 0o700, "a missing parent is made owner-only too"
        for path in (
            database,
            data / "nudger.db-wal",
            data / "nudger.db-shm",
            data / KEY_FILE_NAME,
        ):
            assert mode(path) == 0o600, path.name
    finally:
        runtime.db.dispose()


def test_the_cli_makes_a_fresh_data_folder_owner_only(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {**os.environ, "NUDGER_DATA_DIR": str(data)}
    result = subprocess.run(
        [NUDGER, "accounts", "list"], env=env, capture_output=True, text=True, umask=0o022
    )
    assert result.returncode == 0, result.stderr
    assert mode(data) == 0o700
    assert sorted(p.name for p in data.iterdir()) == [KEY_FILE_NAME, "nudger.db"]
    assert all(mode(p) == 0o600 for p in data.iterdir())


@pytest.mark.usefixtures("loose_umask")
def test_a_looser_existing_data_folder_is_tightened_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)  # as an older nudger left it
    (data / KEY_FILE_NAME).write_text(Fernet.generate_key().decode())
    sqlite3.connect(data / "nudger.db").close()
    assert mode(data / "nudger.db") == 0o644
    with caplog.at_level(logging.WARNING, logger="nudger.files"):
        open_runtime(load_settings(data_dir=data)).db.dispose()
    assert mode(data) == 0o700
    assert mode(data / "nudger.db") == 0o600
    assert mode(data / KEY_FILE_NAME) == 0o600
    assert f"{data} was open to others (mode 755): tightened to 700" in caplog.text
    assert "nudger.db was open to others (mode 644): tightened to 600" in caplog.text
    assert f"{KEY_FILE_NAME} was open to others (mode 644): tightened to 600" in caplog.text
