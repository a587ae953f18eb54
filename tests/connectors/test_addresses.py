"""The address and display-name checks every provider payload passes through."""

from __future__ import annotations

import pytest

from nudger.connectors.addresses import clip, mailbox, plain_name

LONGEST = "ki@" + ".".join(["a" * 60] * 4) + ".example"
"""254 octets: the most RFC 5321 allows."""


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("Kim@Example.com", "kim@example.com"),
        ("first.last+tag@sub.example.co.uk", "first.last+tag@sub.example.co.uk"),
        ("o'neil@example.com", "o'neil@example.com"),
        ("room-1@resource.calendar.google.com", "room-1@resource.calendar.google.com"),
        ("jürgen@bücher.example", "jürgen@bücher.example"),  # RFC 6531, IDNA domain
        ("a@xn--bcher-kva.example", "a@xn--bcher-kva.example"),
        ("x" * 64 + "@example.com", "x" * 64 + "@example.com"),
        (LONGEST, LONGEST),
    ],
)
def test_plausible_mailboxes_are_kept(given: str, kept: str) -> None:
    assert mailbox(given) == kept


@pytest.mark.parametrize(
    "given",
    [
        "evil@example.com\r\nBcc: x@y",
        "evil@example.com\n",
        "a@example.com\x00",
        "two words@example.com",
        "a@example.com, b@example.com",
        "Kim <kim@example.com>",
        "no-at-sign",
        "@example.com",
        "kim@",
        "a@b@example.com",
        '"quoted"@example.com',
        "kim@exa_mple.com",
        "kim@-example.com",
        "kim@example..com",
        "kim@example.com.",
        "kim@[192.0.2.1]",
        "/o=ExchangeLabs/ou=Exchange Administrative Group/cn=Recipients/cn=kim",
        "x" * 65 + "@example.com",  # RFC 5321: 64 octets of local part at most
        "m" + LONGEST,  # 255 octets
        "k@" + "a" * 64 + ".com",  # a DNS label has 63 at most
        "",
        None,
        42,
    ],
)
def test_anything_else_is_refused(given: object) -> None:
    assert mailbox(given) is None


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("Kim Lee", "Kim Lee"),
        ("Kim\r\nBcc: x@y", "Kim Bcc: x@y"),
        ("Kim\x1b[31m Lee", "Kim [31m Lee"),
        ("Kim \u202eeeL", "Kim eeL"),
        ("  \t ", None),
        ("", None),
        (None, None),
        ("Zoë 李", "Zoë 李"),
        ("x" * 500, "x" * 200),
    ],
)
def test_display_names_lose_control_characters(given: object, shown: str | None) -> None:
    assert plain_name(given) == shown


def test_logged_values_are_short_and_escaped() -> None:
    logged = clip("evil@example.com\r\nBcc: " + "x" * 1000)
    assert len(logged) <= 40
    assert "\r" not in logged
    assert "\n" not in logged
