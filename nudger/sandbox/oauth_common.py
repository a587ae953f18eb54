"""What both emulated identity providers check the same way: client credentials sent
with HTTP Basic (RFC 6749 §2.3.1) and the PKCE S256 transform (RFC 7636 §4.2)."""

from __future__ import annotations

import base64
import binascii
import hashlib
from urllib.parse import unquote_plus


def basic_auth(header: str) -> tuple[str, str]:
    """(client id, secret) from an ``Authorization: Basic`` header; empty when absent."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    client_id, _, secret = decoded.partition(":")
    return unquote_plus(client_id), unquote_plus(secret)


def s256_challenge(verifier: str) -> str:
    """The code challenge a client derives from ``verifier`` with method S256."""
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
