"""Credentials at rest: encryption, the local key file, wrong keys and rotation."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from nudger.config import load_settings
from nudger.crypto import TokenCipher
from nudger.errors import ConfigError, CryptoError
from nudger.runtime import Runtime, open_runtime
from nudger.store.db import reencrypt_all, session_scope
from nudger.store.models import Account

SECRET = '{"refresh_token": "1//very-secret-refresh-token"}'


def store_credentials(runtime: Runtime) -> None:
    with session_scope(runtime.db) as session:
        session.add(
            Account(
                provider="google",
                email="owner@example.com",
                credentials=runtime.cipher.encrypt(SECRET),
                settings={},
            )
        )


def test_credentials_are_unreadable_in_the_database(runtime: Runtime) -> None:
    store_credentials(runtime)
    with runtime.db.engine.connect() as conn:
        raw = conn.execute(text("SELECT credentials FROM accounts")).scalar()
    assert "very-secret" not in raw
    assert runtime.cipher.decrypt(raw) == SECRET


def test_tampered_ciphertext_is_an_error() -> None:
    cipher = TokenCipher([Fernet.generate_key().decode()])
    token = cipher.encrypt(SECRET)
    forged = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    with pytest.raises(CryptoError, match="cannot be decrypted"):
        cipher.decrypt(forged)


def test_a_malformed_key_names_the_setting() -> None:
    with pytest.raises(ConfigError, match="NUDGER_ENCRYPTION_KEYS: key 2 is not a Fernet key"):
        TokenCipher([Fernet.generate_key().decode(), "not-a-key"])


def test_without_keys_a_private_key_file_is_made_once(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = load_settings(database_url=database_url, data_dir=tmp_path / "home")
    with caplog.at_level(logging.WARNING):
        first = TokenCipher.from_settings(settings)
    key_file = tmp_path / "home" / "encryption.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "generated a local key file" in caplog.text
    assert key_file.read_text().strip() not in caplog.text
    second = TokenCipher.from_settings(settings)
    assert second.decrypt(first.encrypt("x")) == "x"
    assert second.primary_key_id() == first.primary_key_id()


def test_a_wrong_key_stops_startup(database_url: str, tmp_path: Path, runtime: Runtime) -> None:
    store_credentials(runtime)
    wrong = load_settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        encryption_keys=Fernet.generate_key().decode(),
    )
    with pytest.raises(ConfigError, match="none of the configured keys can decrypt"):
        open_runtime(wrong)


def test_rotation_keeps_old_values_readable_then_drops_the_old_key(
    database_url: str, tmp_path: Path, encryption_key: str, runtime: Runtime
) -> None:
    store_credentials(runtime)
    new_key = Fernet.generate_key().decode()
    both = open_runtime(
        load_settings(
            database_url=database_url,
            data_dir=tmp_path / "data",
            encryption_keys=f"{new_key},{encryption_key}",
        )
    )
    with session_scope(both.db) as session:
        assert reencrypt_all(session, both.cipher) == 1
    only_new = open_runtime(
        load_settings(database_url=database_url, data_dir=tmp_path / "x", encryption_keys=new_key)
    )
    with session_scope(only_new.db) as session:
        account = session.query(Account).one()
        assert only_new.cipher.decrypt(account.credentials) == SECRET
    for opened in (both, only_new):
        opened.db.dispose()
