"""The thank-you email: names the series by its rhythm, length and span, suggests thanks."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from nudger.analysis.model import EndedRun
from nudger.analysis.status import ended_run_reasons
from nudger.delivery.email import NudgeContext, render_email, suggestion_for

RUN = EndedRun(
    series_id="s-1",
    meetings=14,
    interval_days=7,
    first=datetime(2025, 7, 1, 9, 0, tzinfo=UTC),
    last=datetime(2025, 10, 28, 9, 0, tzinfo=UTC),
)


def thanks_email(name: str | None = "Ana <b>Lima</b>") -> NudgeContext:
    return NudgeContext(
        owner_name="Alex Morgan",
        contact_name=name,
        contact_email="ana@partner.example",
        status="lapsed_one_on_one",
        role=None,
        reasons=ended_run_reasons(RUN, name or "ana@partner.example", ZoneInfo("Europe/London")),
        last_interaction=RUN.last,
        cadence_days=7,
        links={"snooze": "https://nudger.example/a/snooze?t=abc"},
        time_zone="Europe/London",
    )


def test_it_names_the_series_by_rhythm_length_and_span_in_both_parts() -> None:
    rendered = render_email("thanks", thanks_email(name="Ana Lima"))
    assert rendered.subject == "A thank-you to Ana Lima"
    for part in (rendered.text, rendered.html):
        assert "weekly one-on-one series with Ana Lima: 14 meetings over 4 months" in part
        assert "first on 1 Jul, the last on 28 Oct" in part
        assert "Send Ana two lines: thank them for the series" in part


def test_it_suggests_thanks_not_the_statuses_usual_step() -> None:
    rendered = render_email("thanks", thanks_email(name="Ana Lima"))
    assert suggestion_for("lapsed_one_on_one", None) not in rendered.text
    assert suggestion_for("lapsed_one_on_one", None) not in rendered.html


def test_the_contacts_name_is_escaped_in_html() -> None:
    rendered = render_email("thanks", thanks_email())
    assert "<b>Lima</b>" not in rendered.html
    assert "Ana &lt;b&gt;Lima&lt;/b&gt;" in rendered.html
