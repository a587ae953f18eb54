"""Signing keys: derived from secret material, one per purpose; required in production.

``TokenCipher.primary_key_id`` is a fingerprint meant to be logged. A key computed
from it could be computed by anyone who reads the logs: they could forge one-click
links and session cookies. Keys come from HKDF-SHA256 (RFC 5869) over
``NUDGER_SECRET_KEY`` or the encryption key itself, with one ``info`` label per purpose.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from base64 import b64encode
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from itsdangerous import TimestampSigner
from starlette.testclient import TestClient

from nudger import accounts
from nudger.config import load_settings
from nudger.crypto import (
    ACTION_LINK_KEY,
    LINK_FORM_KEY,
    SESSION_COOKIE_KEY,
    TokenCipher,
    derived_key,
    hkdf_sha256,
)
from nudger.delivery.links import ActionLink, make_token, signing_key
from nudger.errors import ConfigError
from nudger.runtime import Runtime
from nudger.sandbox.server import Sandbox
from nudger.store.db import session_scope
from nudger.store.sign_ins import session_stamp
from nudger.web.security import SESSION_COOKIE
from tests.web.conftest import NOW, OWNER, new_client, sign_up

PURPOSES = (SESSION_COOKIE_KEY, ACTION_LINK_KEY, LINK_FORM_KEY)
NUDGER = str(Path(sys.executable).parent / "nudger")


def keys_from_fingerprint(fingerprint: str) -> list[bytes]:
    """What a reader of the logs can compute: the fingerprint itself, the derivation
    nudger used before (a SHA-256 of it), and HKDF over it with nudger's own labels."""
    raw = fingerprint.encode()
    return [
        raw,
        hashlib.sha256(b"nudger-link-signing:" + raw).digest(),
        *(hkdf_sha256(raw, purpose) for purpose in PURPOSES),
    ]


def cookie_keys_from_fingerprint(fingerprint: str) -> list[bytes]:
    """The same, and each as the session key was made from it before."""
    guessed = keys_from_fingerprint(fingerprint)
    return guessed + [hashlib.sha256(b"nudger-session:" + key).digest() for key in guessed]


def session_cookie(key: bytes, payload: dict[str, object]) -> str:
    """A session cookie as Starlette's SessionMiddleware signs it with ``key`` (nudger
    passes its key hex-encoded)."""
    data = b64encode(json.dumps(payload).encode())
    return TimestampSigner(key.hex()).sign(data).decode()


def test_no_key_can_be_computed_from_the_logged_fingerprint(runtime: Runtime) -> None:
    guessable = keys_from_fingerprint(runtime.cipher.primary_key_id())
    for purpose in PURPOSES:
        assert derived_key(runtime.settings, runtime.cipher, purpose) not in guessable


def test_each_purpose_has_its_own_key(runtime: Runtime) -> None:
    keys = {derived_key(runtime.settings, runtime.cipher, purpose) for purpose in PURPOSES}
    assert len(keys) == len(PURPOSES)


def test_with_a_secret_key_rotating_the_encryption_keys_keeps_links_working() -> None:
    first, second = (Fernet.generate_key().decode() for _ in range(2))
    old = load_settings(encryption_keys=first, secret_key="s3cret" * 8)
    new = load_settings(encryption_keys=f"{second},{first}", secret_key="s3cret" * 8)
    assert signing_key(old, TokenCipher([first])) == signing_key(new, TokenCipher([second, first]))


def test_a_link_forged_from_the_fingerprint_is_refused(
    client: TestClient, sandbox: Sandbox, runtime: Runtime
) -> None:
    sign_up(client, sandbox)
    link = ActionLink("mute", accounts.find_account(runtime, OWNER).id, "sam@partner.example")
    genuine = make_token(signing_key(runtime.settings, runtime.cipher), link)
    assert client.get(f"/a/mute/{genuine}").status_code == 200
    for key in keys_from_fingerprint(runtime.cipher.primary_key_id()):
        assert client.get(f"/a/mute/{make_token(key, link)}").status_code == 400


def test_a_session_cookie_forged_from_the_fingerprint_is_refused(
    sandbox: Sandbox, runtime: Runtime
) -> None:
    """The forger knows everything the cookie holds except the key."""
    with new_client(runtime) as owner:
        sign_up(owner, sandbox)
    account_id = accounts.find_account(runtime, OWNER).id
    with session_scope(runtime.db) as session:
        stamp = session_stamp(session, account_id)
    payload = {"account_id": account_id, "stamp": stamp, "signed_in_at": int(NOW.timestamp())}
    genuine = derived_key(runtime.settings, runtime.cipher, SESSION_COOKIE_KEY)
    forged = cookie_keys_from_fingerprint(runtime.cipher.primary_key_id())
    for key, expected in [(genuine, 200), *((k, 303) for k in forged)]:
        with new_client(runtime) as browser:
            browser.cookies.set(SESSION_COOKIE, session_cookie(key, payload))
            assert browser.get("/dashboard").status_code == expected


def test_https_without_a_secret_key_is_refused_in_one_line() -> None:
    with pytest.raises(ConfigError, match="NUDGER_SECRET_KEY is required") as refused:
        load_settings(base_url="https://nudger.example.com")
    assert "\n" not in str(refused.value)
    assert "NUDGER_BASE_URL is https" in str(refused.value)


def test_serve_over_https_without_a_secret_key_stops_at_start(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "NUDGER_BASE_URL": "https://nudger.example.com",
        "NUDGER_DATA_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [NUDGER, "serve", "--port", "0"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "NUDGER_SECRET_KEY is required" in " ".join(done.stderr.split())
    assert not (tmp_path / "nudger.db").exists()
