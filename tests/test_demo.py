"""``nudger demo`` end to end: emulator, OAuth, sync, analysis, rules, delivery."""

from __future__ import annotations

import email.message
import email.parser
import email.policy
import io
import warnings
from pathlib import Path

from rich.console import Console

from nudger.demo import run_demo


def parsed(path: Path) -> email.message.EmailMessage:
    message = email.parser.BytesParser(policy=email.policy.default).parsebytes(path.read_bytes())
    assert isinstance(message, email.message.EmailMessage)
    return message


def test_demo_runs_the_whole_product_offline(tmp_path: Path) -> None:
    out = io.StringIO()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run_demo(Console(file=out, width=160), output=tmp_path / "out", seed=7)
    printed = out.getvalue()
    # msal's advice to use response_mode=form_post does not apply to nudger's GET callback.
    assert not [w for w in caught if "response_mode" in str(w.message)]

    assert result.org is not None
    assert result.microsoft_org is not None
    assert result.microsoft_org.owner.provider == "microsoft"
    for org, audit in ((result.org, result.audit), (result.microsoft_org, result.microsoft_audit)):
        statuses = {h.email: str(h.status) for h in audit}
        for expected in org.expectations:
            assert statuses.get(expected.email) == expected.expected_status, expected
    # Microsoft 365 roles come from the org chart, not from settings typed in by the user.
    assert "Settings, direct reports" not in printed.split("Microsoft 365")[1]

    assert result.emails, printed
    senders = {
        str(
            email.parser.BytesParser(policy=email.policy.default).parsebytes(path.read_bytes())[
                "From"
            ]
        )
        for path in result.emails
    }
    assert any(result.org.owner.email in s for s in senders)
    assert any(result.microsoft_org.owner.email in s for s in senders)
    for path in result.emails:
        message = email.parser.BytesParser(policy=email.policy.default).parsebytes(
            path.read_bytes()
        )
        assert message.get_content_type() == "multipart/alternative"
        assert message["Auto-Submitted"] == "auto-generated"
        assert message["To"] == message["From"]
        assert path.with_suffix(".html").exists()
    # Each organisation's project series that ended well gets one thank-you, which names
    # its rhythm, length and span, never its title.
    thanks = [p for p in result.emails if parsed(p)["Subject"].startswith("A thank-you to")]
    assert len(thanks) == 2, [parsed(p)["Subject"] for p in result.emails]
    for path in thanks:
        text = parsed(path).get_body(("plain",)).get_content()
        assert "14 meetings over 3 months" in text
        assert "Larkspur" not in text + path.with_suffix(".html").read_text()
    # Each organisation's project group whose weekly meetings ended well gets one
    # thank-you naming the group, its rhythm, count and span, never the meetings' title.
    groups = [
        p for p in result.emails if parsed(p)["Subject"] == "A thank-you for a project's meetings"
    ]
    assert len(groups) == 2, [parsed(p)["Subject"] for p in result.emails]
    for path in groups:
        text = parsed(path).get_body(("plain",)).get_content()
        assert "12 weekly meetings with " in text
        assert "Heron" not in text + path.with_suffix(".html").read_text()
    # Each organisation's mentor first met a year ago gets one email marking it.
    subjects = [parsed(p)["Subject"] for p in result.emails]
    years = [s for s in subjects if s.startswith("A year since you first met")]
    assert len(years) == 2, subjects
    # On Microsoft 365 the manager joined three years ago today (the directory's hire date,
    # read with the opt-in scope) and the mentor is back from two weeks out of office.
    joined = [s for s in subjects if " joined 3 years ago, on " in s]
    assert len(joined) == 1, subjects
    back = [p for p in result.emails if parsed(p)["Subject"].startswith("Welcome ")]
    assert len(back) == 1, subjects
    assert "out of office for 10 working days" in parsed(back[0]).get_body(("plain",)).get_content()
    joined_paths = [p for p in result.emails if " joined 3 years ago" in parsed(p)["Subject"]]
    for path in (*back, *joined_paths):
        assert result.microsoft_org.owner.email in str(parsed(path)["From"])
    assert result.holds, printed
    booked = printed.split("relationship-time holds booked")[1].splitlines()
    rows = [line for line in booked if "Relationship time:" in line]
    assert len(rows) == len(result.holds)
    owners = (result.org.owner.name, result.microsoft_org.owner.name)
    assert all(any(owner in row for owner in owners) for row in rows), rows
    assert "Relationship audit" in printed
    # The crunch dial, per organisation: a two-week crunch keeps the repairs and the direct
    # reports' one-on-ones and holds back the rest (the thank-yous among them).
    assert printed.count("Crunch dial: busy until") == 2
    for preview in result.crunch:
        assert preview.kept
        assert preview.held
        assert {d.key for d in preview.kept} <= {d.key for d in preview.decided}
        assert all(d.rule != "thanks_group" for d in preview.kept)
        assert any(d.rule == "thanks_group" for d in preview.held)
    # The opt-in daily step, per organisation: the next quiet morning names one key person
    # not nudged this morning, with one small step.
    assert printed.count("One small step a day (opt-in, off here)") == 2
    assert printed.count("one email would name") == 2
    for step, preview in zip(result.daily_steps, result.crunch, strict=True):
        assert step is not None
        assert step.rule == "daily_step"
        assert step.step
        assert step.contact_email not in {d.contact_email for d in preview.decided}
