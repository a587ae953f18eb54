"""Credentials at rest: authenticated encryption (Fernet: AES-128-CBC + HMAC-SHA256).

Keys come from ``NUDGER_ENCRYPTION_KEYS`` (comma-separated, newest first): the
newest encrypts, every key decrypts, so keys rotate without downtime (``nudger
keys rotate`` re-encrypts stored values under the newest). Without that setting a
key file is generated once in the data folder, readable by its owner only.
A wrong key is refused at startup, and ``nudger keys rotate`` re-encrypts what is
stored (both in ``nudger.store.db``: crypto knows nothing of the database).

Signing keys (session cookies, one-click links, link-form proofs) are derived with
HKDF-SHA256 (RFC 5869), one ``info`` label per purpose, from secret material:
``NUDGER_SECRET_KEY``, or without it the newest encryption key. Never from
``primary_key_id``: that fingerprint may be logged, and a key computed from it could
be computed by anyone who reads the logs.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from nudger.config import Settings
from nudger.errors import ConfigError, CryptoError
from nudger.files import FILE_MODE, private_folder, tighten

log = logging.getLogger(__name__)

KEY_FILE_NAME = "encryption.key"
SESSION_COOKIE_KEY = b"nudger session cookie v1"
ACTION_LINK_KEY = b"nudger action links v1"
LINK_FORM_KEY = b"nudger link form proof v1"
"""HKDF ``info`` labels: a key made for one purpose is useless for another."""


class TokenCipher:
    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ConfigError("NUDGER_ENCRYPTION_KEYS: no key given")
        fernets = []
        for position, key in enumerate(keys, 1):
            try:
                fernets.append(Fernet(key.strip().encode()))
            except (ValueError, TypeError):
                raise ConfigError(
                    f"NUDGER_ENCRYPTION_KEYS: key {position} is not a Fernet key "
                    "(32 url-safe base64-encoded bytes; make one with "
                    "`python -c 'from cryptography.fernet import Fernet; "
                    "print(Fernet.generate_key().decode())'`)"
                ) from None
        self._primary_key = keys[0].strip()
        self._fernet = MultiFernet(fernets)

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenCipher:
        configured = settings.encryption_keys.get_secret_value()
        if configured.strip():
            return cls([k for k in configured.split(",") if k.strip()])
        return cls([_local_key(settings.data_dir)])

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise CryptoError(
                "stored value cannot be decrypted: tampered, or encrypted with a key that is "
                "no longer in NUDGER_ENCRYPTION_KEYS"
            ) from None

    def rotate(self, token: str) -> str:
        """Re-encrypt under the newest key (fails like ``decrypt`` on a foreign token)."""
        try:
            return self._fernet.rotate(token.encode()).decode()
        except InvalidToken:
            raise CryptoError("stored value cannot be decrypted with any configured key") from None

    def primary_key_id(self) -> str:
        """A fingerprint of the newest key, safe to log; never derive a key from it."""
        return hashlib.sha256(b"nudger-key-id:" + self._primary_key.encode()).hexdigest()[:32]

    def derive_key(self, purpose: bytes) -> bytes:
        """A key for ``purpose``, from the newest key's secret bytes."""
        return hkdf_sha256(base64.urlsafe_b64decode(self._primary_key), purpose)


def hkdf_sha256(material: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(material)


def derived_key(settings: Settings, cipher: TokenCipher, purpose: bytes) -> bytes:
    """The key for ``purpose``: from NUDGER_SECRET_KEY, else from the newest encryption key."""
    secret = settings.secret_key.get_secret_value()
    if secret:
        return hkdf_sha256(secret.encode(), purpose)
    return cipher.derive_key(purpose)


def _local_key(data_dir: Path) -> str:
    path = data_dir / KEY_FILE_NAME
    private_folder(data_dir)
    if path.exists():
        tighten(path, FILE_MODE)
        return path.read_text().strip()
    key = Fernet.generate_key().decode()
    # O_EXCL: two processes starting at once must not each write a different key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    log.warning(
        "no NUDGER_ENCRYPTION_KEYS set: generated a local key file %s (owner-only). Back it "
        "up: without it stored credentials cannot be read. Production should set the keys.",
        path,
    )
    return key
