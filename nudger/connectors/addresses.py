"""Addresses and display names from provider payloads, checked at the connector boundary.

Attendee lists are typed by other people, so an address may be anything: a header
injection (``a@b.example\\r\\nBcc: ...``), a list, a phrase, a megabyte of text.
Above the boundary an address is one plausible mailbox, lower-cased:

- one ``@``; a local part of RFC 5322 ``atext`` and dots, or UTF-8 beyond ASCII
  (RFC 6531), at most 64 octets (RFC 5321 section 4.5.3.1.1);
- a domain whose IDNA (ASCII) form is letters, digits and hyphens in labels of at
  most 63 characters (RFC 5321 section 4.1.2, RFC 1035);
- at most 254 octets in all (a 256-octet path less its angle brackets, section
  4.5.3.1.3).

A display name keeps no control or bidi-override characters and fits the store.
Anything unusable is left out, and logged only by a short repr.
"""

from __future__ import annotations

import logging
import re
import string
import unicodedata
from functools import lru_cache

log = logging.getLogger(__name__)

LOCAL_MAX = 64
ADDRESS_MAX = 254
NAME_MAX = 200
"""The store's name columns."""
LOGGED_MAX = 40

_ATEXT = frozenset(string.ascii_letters + string.digits + "!#$%&'*+-/=?^_`{|}~.")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_INVISIBLE = frozenset("\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
"""Line and paragraph separators and the bidi overrides that disguise a name."""


def mailbox(value: object) -> str | None:
    """``value`` as one plausible mailbox address, lower-cased; None when it is not one."""
    if not isinstance(value, str):
        return None
    address = value.lower()
    local, at, domain = address.rpartition("@")
    if not at or not local or len(address.encode()) > ADDRESS_MAX:
        return None
    if len(local.encode()) > LOCAL_MAX or not all(_local_char(c) for c in local):
        return None
    return address if _domain_ok(domain) else None


def _local_char(char: str) -> bool:
    if char in _ATEXT:
        return True
    return ord(char) > 127 and unicodedata.category(char)[0] not in "CZ"


@lru_cache(maxsize=4096)  # a calendar names few domains, many times over
def _domain_ok(domain: str) -> bool:
    try:
        ascii_form = domain.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    return len(ascii_form) <= 253 and all(_LABEL.fullmatch(x) for x in ascii_form.split("."))


def plain_name(value: object) -> str | None:
    """A name without control characters, whitespace folded, cut to fit; None if empty."""
    if not isinstance(value, str):
        return None
    shown = "".join(" " if _hidden(c) else c for c in value)
    return " ".join(shown.split())[:NAME_MAX] or None


def _hidden(char: str) -> bool:
    return char in _INVISIBLE or unicodedata.category(char) == "Cc"


def checked_mailbox(value: object, where: str) -> str | None:
    """``mailbox(value)``, logging a value that was given but is unusable (``where``:
    which payload, e.g. an event id)."""
    address = mailbox(value)
    if address is None and value:
        log.warning("%s: skipped an unusable email address %s", where, clip(value))
    return address


def clip(value: object) -> str:
    """A short, escaped repr for logs: never a hostile value in full or raw."""
    text = repr(value)
    return text if len(text) <= LOGGED_MAX else f"{text[: LOGGED_MAX - 1]}…"


def same_address(value: object, address: str) -> bool:
    """Whether a payload's address field names ``address`` (case does not matter)."""
    return mailbox(value) == address.lower()
