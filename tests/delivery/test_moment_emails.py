"""The work anniversary and welcome back emails: the moment in the subject or intro, its
evidence, and a two-line note to send."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from nudger.analysis.model import WelcomeBack, WorkAnniversary
from nudger.delivery.email import NudgeContext, render_email
from nudger.rules.moments import welcome_back_reasons, work_anniversary_reasons

LONDON = ZoneInfo("Europe/London")


def email(reasons: tuple[str, ...], name: str = "Ana Lima") -> NudgeContext:
    return NudgeContext(
        owner_name="Alex Morgan",
        contact_name=name,
        contact_email="ana@corp.example",
        status="healthy",
        role="peer",
        reasons=reasons,
        last_interaction=datetime(2026, 11, 30, 10, 0, tzinfo=UTC),
        cadence_days=30,
        links={"snooze": "https://nudger.example/a/snooze?t=abc"},
        time_zone="Europe/London",
    )


def test_the_work_anniversary_says_the_years_and_suggests_a_note() -> None:
    reasons = work_anniversary_reasons(WorkAnniversary(date(2023, 12, 4), 3), "Ana Lima", LONDON)
    rendered = render_email("work_anniversary", email(reasons))
    assert rendered.subject == "Ana Lima joined 3 years ago, on 4 December 2023"
    for part in (rendered.text, rendered.html):
        assert "Ana Lima's work anniversary" in part
        assert "Send Ana a two-line note: congratulations" in part


def test_one_year_is_singular() -> None:
    reasons = work_anniversary_reasons(WorkAnniversary(date(2025, 12, 4), 1), "Ana", LONDON)
    assert reasons[0] == "Ana joined 1 year ago, on 4 December 2025"


def test_the_welcome_back_names_the_absence_and_suggests_a_short_welcome() -> None:
    away = WelcomeBack(
        datetime(2026, 11, 16, 0, tzinfo=UTC), datetime(2026, 11, 28, 0, tzinfo=UTC), 10
    )
    rendered = render_email("welcome_back", email(welcome_back_reasons(away, "Ana Lima", LONDON)))
    assert rendered.subject == "Welcome Ana Lima back"
    for part in (rendered.text, rendered.html):
        assert "out of office for 10 working days, 16 November to 27 November" in part
        assert "Send Ana a two-line welcome back" in part


def test_names_are_escaped_in_html() -> None:
    reasons = work_anniversary_reasons(WorkAnniversary(date(2023, 12, 4), 3), "Ana", LONDON)
    rendered = render_email("work_anniversary", email(reasons, name="Ana <b>Lima</b>"))
    assert "<b>Lima</b>" not in rendered.html
