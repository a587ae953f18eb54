"""The daily step's email: one person, the step in two lines, why now, snooze and mute."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from nudger.analysis.model import Status
from nudger.delivery.email import NudgeContext, render_email, suggestion_for
from nudger.delivery.payload import NudgePayload
from nudger.rules.daily_steps import step_for
from tests.rules.test_engine import health

MENTOR = health("cy@corp.example", Status.HEALTHY, role="mentor", name="Cy Diaz")
STEP = step_for(MENTOR, ZoneInfo("Europe/London"))
LINKS = {
    "snooze": "https://nudger.example/a/snooze?t=abc",
    "mute": "https://nudger.example/a/mute?t=def",
}


def daily_email(step: str = STEP.text) -> NudgeContext:
    return NudgeContext(
        owner_name="Alex Morgan",
        contact_name="Cy Diaz",
        contact_email="cy@corp.example",
        status="healthy",
        role="mentor",
        reasons=(STEP.reason, "Cy Diaz has not been your daily step yet"),
        last_interaction=datetime(2024, 5, 3, 10, 0, tzinfo=UTC),
        cadence_days=30,
        links=LINKS,
        time_zone="Europe/London",
        step=step,
    )


def test_it_names_the_person_the_step_and_why_in_both_parts() -> None:
    rendered = render_email("daily_step", daily_email())

    assert rendered.subject == "Today's small step: Cy Diaz"
    for part in (rendered.text, rendered.html):
        assert "Ask Cy one question you are chewing on" in part
        assert "Cy Diaz is your mentor" in part
        assert "has not been your daily step yet" in part
        assert suggestion_for("healthy", "mentor") not in part, "the step, not the status's"


def test_it_carries_snooze_and_mute_links() -> None:
    rendered = render_email("daily_step", daily_email())

    assert "Snooze 2 weeks: https://nudger.example/a/snooze?t=abc" in rendered.text
    assert "Mute: https://nudger.example/a/mute?t=def" in rendered.text
    assert 'href="https://nudger.example/a/mute?t=def"' in rendered.html


def test_it_is_short_the_step_in_two_lines() -> None:
    text = render_email("daily_step", daily_email()).text
    body = text.split("\n--\n")[0]
    assert len([line for line in body.splitlines() if line.strip()]) <= 10
    assert len(STEP.text) <= 160


def test_the_step_survives_the_outbox_payload() -> None:
    payload = NudgePayload(template="daily_step", step=STEP.text)
    read = NudgePayload.from_json(payload.to_json(), where="test")
    assert read.step == STEP.text
    assert NudgePayload.from_json({}, where="old row").step == ""


def test_names_in_the_step_are_escaped_in_html() -> None:
    rendered = render_email("daily_step", daily_email(step="Ask Cy <b>now</b>"))
    assert "<b>now</b>" not in rendered.html
    assert "Ask Cy &lt;b&gt;now&lt;/b&gt;" in rendered.html
