"""The other person's time zone, in words, in the email and the hold: once, only when known."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from nudger.delivery.email import render_email, render_hold
from nudger.wording import zone_sentence

from .test_email import a_nudge

WINTER = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
SUMMER = datetime(2026, 7, 6, 12, 0, tzinfo=UTC)
ANA = "Ana is in Singapore (UTC+8), 8 hours ahead of you: their morning is your night."


@pytest.mark.parametrize(
    ("zone", "own", "now", "expected"),
    [
        ("Asia/Singapore", "Europe/London", WINTER, ANA),
        (
            "Asia/Singapore",
            "America/New_York",
            WINTER,
            "Ana is in Singapore (UTC+8), 13 hours ahead of you: their morning is your evening.",
        ),
        (
            "America/Los_Angeles",
            "Europe/London",
            SUMMER,  # both on summer time: still 8 hours
            "Ana is in Los Angeles (UTC-7), 8 hours behind you: their morning is your afternoon.",
        ),
        (
            "Asia/Kolkata",
            "Europe/Paris",
            WINTER,
            "Ana is in Kolkata (UTC+5:30), 4.5 hours ahead of you: their morning is your night.",
        ),
        ("Europe/Paris", "Europe/London", WINTER, "Ana is in Paris (UTC+1), 1 hour ahead of you."),
    ],
)
def test_a_known_zone_that_differs_is_said_in_words(
    zone: str, own: str, now: datetime, expected: str
) -> None:
    assert zone_sentence("Ana", zone, own, now) == expected


def test_no_sentence_without_a_zone_or_for_the_same_offset() -> None:
    assert zone_sentence("Ana", None, "Europe/London", WINTER) is None
    assert zone_sentence("Ana", "Europe/Lisbon", "Europe/London", WINTER) is None


def test_the_sentence_appears_once_in_each_part_and_in_the_hold() -> None:
    context = replace(a_nudge(), zone_note=ANA)
    rendered = render_email("neglected", context)
    assert rendered.text.count(ANA) == 1
    assert rendered.html.count(ANA) == 1
    assert render_hold(context)[1].count(ANA) == 1


def test_without_a_zone_the_email_is_unchanged() -> None:
    assert "is in" not in render_email("neglected", a_nudge()).text
    assert "\n\n\n" not in render_email("neglected", a_nudge()).text
