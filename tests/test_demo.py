"""``nudger demo`` end to end: emulator, OAuth, sync, analysis, rules, delivery."""

from __future__ import annotations

import email.parser
import email.policy
import io
from pathlib import Path

from rich.console import Console

from nudger.delivery.service import Owner, greeting_name
from nudger.demo import run_demo


def test_demo_runs_the_whole_product_offline(tmp_path: Path) -> None:
    out = io.StringIO()
    result = run_demo(Console(file=out, width=160), output=tmp_path / "out", seed=7)
    printed = out.getvalue()

    assert result.org is not None
    statuses = {h.email: str(h.status) for h in result.audit}
    for expected in result.org.expectations:
        assert statuses.get(expected.email) == expected.expected_status, expected

    assert result.emails, printed
    for path in result.emails:
        message = email.parser.BytesParser(policy=email.policy.default).parsebytes(
            path.read_bytes()
        )
        assert message.get_content_type() == "multipart/alternative"
        assert message["Auto-Submitted"] == "auto-generated"
        assert message["To"] == message["From"]
        assert path.with_suffix(".html").exists()
    assert result.holds, printed
    assert "Relationship audit" in printed


def test_greeting_uses_a_first_name_and_never_an_address() -> None:
    def owner(name: str | None) -> Owner:
        return Owner(1, "alex@example.com", name, "UTC", None, True)

    assert greeting_name(owner("Alex Morgan")) == "Alex"
    assert greeting_name(owner(None)) == "there"
    assert greeting_name(owner("alex@example.com")) == "there"
