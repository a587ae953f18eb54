"""The anniversary email: a year since the first meeting, and a two-line note to send."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from nudger.analysis.model import Anniversary
from nudger.delivery.email import NudgeContext, render_email, suggestion_for
from nudger.rules.moments import anniversary_reasons

MOMENT = Anniversary(
    first_met=datetime(2025, 12, 4, 10, 0, tzinfo=UTC),
    history_from=datetime(2025, 10, 20, 9, 0, tzinfo=UTC),
)


def anniversary_email(name: str | None = "Ana <b>Lima</b>") -> NudgeContext:
    who = name or "ana@corp.example"
    return NudgeContext(
        owner_name="Alex Morgan",
        contact_name=name,
        contact_email="ana@corp.example",
        status="ok",
        role="peer",
        reasons=anniversary_reasons(MOMENT, who, ZoneInfo("Europe/London")),
        last_interaction=datetime(2026, 11, 30, 10, 0, tzinfo=UTC),
        cadence_days=30,
        links={"snooze": "https://nudger.example/a/snooze?t=abc"},
        time_zone="Europe/London",
    )


def test_it_says_a_year_and_suggests_a_two_line_note_in_both_parts() -> None:
    rendered = render_email("anniversary", anniversary_email(name="Ana Lima"))
    assert rendered.subject == "A year since you first met Ana Lima"
    for part in (rendered.text, rendered.html):
        assert "first met Ana Lima on 4 December 2025, a year ago" in part
        assert "with Ana Lima in the 6 weeks of calendar before that" in part
        assert "Send Ana a two-line note: a year of working together" in part


def test_it_suggests_the_note_not_the_statuses_usual_step() -> None:
    rendered = render_email("anniversary", anniversary_email(name="Ana Lima"))
    assert suggestion_for("ok", "peer") not in rendered.text


def test_the_contacts_name_is_escaped_in_html() -> None:
    rendered = render_email("anniversary", anniversary_email())
    assert "<b>Lima</b>" not in rendered.html
    assert "Ana &lt;b&gt;Lima&lt;/b&gt;" in rendered.html
