"""What every command needs: settings, the migrated database and the token cipher.

The data folder is made (or tightened to) owner-only first: see ``nudger.files``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from nudger.config import Settings, load_settings
from nudger.crypto import TokenCipher
from nudger.files import private_folder
from nudger.log_redaction import install_log_redaction
from nudger.store.db import Database, open_database


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    db: Database
    cipher: TokenCipher


def open_runtime(settings: Settings | None = None) -> Runtime:
    """Load settings, open and migrate the database, and check the encryption keys."""
    settings = settings or load_settings()
    private_folder(settings.data_dir)
    logging.getLogger("nudger").setLevel(settings.log_level.upper())
    install_log_redaction()
    cipher = TokenCipher.from_settings(settings)
    return Runtime(settings=settings, db=open_database(settings, cipher), cipher=cipher)
